"""Path checks shared by the media readers: one place for the 'missing / folder / empty' messages."""
from __future__ import annotations

import os
from pathlib import Path

from mtm_daw.errors import MtmError

# The reader policy's length limit, the same for every command that reads a file (some then read only a
# window of it): audio by its frames, MIDI by its last note. Longer is a damaged header or not a cue's input.
MAX_INPUT_SECONDS = 20 * 60.0
MAX_MIDI_SECONDS = 60 * 60.0  # a MIDI file is small whatever its length: as long as the longest cue it can become


def check_input_file(path: str | os.PathLike, what: str = "file") -> Path:
    """Return `path` as a Path, or raise MtmError if it is missing, a folder, unreadable or empty."""
    if not isinstance(path, (str, os.PathLike)):
        raise MtmError(f"expected a file path for the {what}, got {type(path).__name__}")
    p = Path(path).expanduser()
    try:
        found = p.exists()
    except OSError as error:  # e.g. a name longer than the file system allows (ENAMETOOLONG)
        raise MtmError(f"{p.name}: cannot open this path ({error.strerror or error})") from None
    if not found:
        raise MtmError(f"{p.name}: file not found ({p})")
    if p.is_dir():
        raise MtmError(f"{p.name}: is a folder, not {'an' if what[:1] in 'aeiou' else 'a'} {what}")
    if not p.is_file():
        raise MtmError(f"{p.name}: is not a regular file")
    if not os.access(p, os.R_OK):
        raise MtmError(f"{p.name}: permission denied (cannot read {p})")
    if p.stat().st_size == 0:
        raise MtmError(f"{p.name}: the file is empty (0 bytes)")
    return p
