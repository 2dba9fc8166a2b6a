"""Reading the inputs: audio, still images, video, and telling them apart."""
from mtm_daw.media.audio import Audio, load_audio
from mtm_daw.media.image import Image, load_image
from mtm_daw.media.probe import detect_kind
from mtm_daw.media.video import VideoFrame, VideoInfo, iter_frames, probe_video

__all__ = ["Audio", "load_audio", "Image", "load_image", "detect_kind",
           "VideoFrame", "VideoInfo", "iter_frames", "probe_video"]
