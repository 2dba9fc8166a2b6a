"""Files that ship with the package: demo media made by scripts/make_demo_media.py."""
from pathlib import Path

DATA_FOLDER = Path(__file__).resolve().parent
DEMO_VIDEO = DATA_FOLDER / "demo" / "demo_video.mp4"  # 9 s, cuts at 3 s and 6 s (night / day / grey)
DEMO_IMAGE = DATA_FOLDER / "demo" / "demo_image.png"  # a warm sunset
