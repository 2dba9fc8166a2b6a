"""Finding a General MIDI SoundFont: a configured path, $MTM_SOUNDFONT, or the system's sound folders."""
from __future__ import annotations

import os
from pathlib import Path

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import check_input_file

SEARCH_FOLDERS = (
    "/usr/share/sounds/sf2",
    "/usr/share/soundfonts",
    "/usr/local/share/soundfonts",
    "~/.local/share/soundfonts",
    "~/Library/Audio/Sounds/Banks",
    "C:/soundfonts",
)
PREFERRED = ("FluidR3_GM.sf2", "default-GM.sf2", "GeneralUser GS.sf2", "TimGM6mb.sf2")


def validate_soundfont(path: str | Path) -> Path:
    path = check_input_file(path, "SoundFont")
    with path.open("rb") as handle:
        header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise MtmError(f"{path}: not a SoundFont 2 file (.sf2)")
    return path


def find_soundfont(configured: str | Path | None = None) -> Path | None:
    """The SoundFont to use, or None when there is none (the built-in synthesiser takes over).

    An explicitly configured path (argument or $MTM_SOUNDFONT) must be valid; it is never skipped.
    """
    explicit = configured or os.environ.get("MTM_SOUNDFONT")
    if explicit:
        return validate_soundfont(explicit)
    for folder in SEARCH_FOLDERS:
        folder_path = Path(folder).expanduser()
        if not folder_path.is_dir():
            continue
        candidates = sorted(folder_path.glob("*.sf2"), key=lambda p: (p.name not in PREFERRED, p.name))
        for candidate in candidates:
            try:
                return validate_soundfont(candidate.resolve())
            except (MtmError, OSError):
                continue
    return None
