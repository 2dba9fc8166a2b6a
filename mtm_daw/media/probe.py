"""What kind of input is this file: audio, MIDI, image, video or a text idea?

The extension decides first; files without a known extension are recognised by their first
bytes (magic numbers), and plain UTF-8 text counts as a text idea.
"""
from __future__ import annotations

import os

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import check_input_file

KINDS = ("audio", "midi", "image", "video", "text")
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".aif", ".aiff", ".aifc")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".gif", ".webp", ".bmp", ".tif", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".wmv",
                    ".flv", ".3gp", ".ts", ".mts", ".m2ts", ".ogv")

_EXTENSION_KINDS: dict[str, str] = {
    **{ext: "audio" for ext in AUDIO_EXTENSIONS + (".m4a", ".aac", ".opus", ".wma")},
    **{ext: "midi" for ext in (".mid", ".midi", ".smf", ".kar", ".rmi")},
    **{ext: "image" for ext in IMAGE_EXTENSIONS},
    **{ext: "video" for ext in VIDEO_EXTENSIONS},
    **{ext: "text" for ext in (".txt", ".text", ".md", ".prompt")},
}
_SNIFF_BYTES = 4096
_AUDIO_ONLY_MP4_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
_IMAGE_MP4_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1")


def detect_kind(path: str | os.PathLike) -> str:
    """Return one of KINDS for an input file; MtmError (naming the file) if it is none of them."""
    p = check_input_file(path, "file")
    kind = _EXTENSION_KINDS.get(p.suffix.lower())
    if kind is not None:
        return kind
    with open(p, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    kind = sniff_kind(head)
    if kind is None:
        shown = f"'{p.suffix}' files" if p.suffix else "files without an extension"
        raise MtmError(f"{p.name}: unknown kind of file ({shown} are not audio, MIDI, image, "
                       "video or text, and its contents were not recognised)")
    return kind


def sniff_kind(head: bytes) -> str | None:
    """Guess the kind from a file's first bytes; None when nothing matches."""
    if head.startswith(b"MThd"):
        return "midi"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": "audio", b"AVI ": "video", b"WEBP": "image", b"RMID": "midi"}.get(head[8:12])
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio"
    if head.startswith((b"fLaC", b"ID3")):
        return "audio"
    if head.startswith(b"OggS"):
        return "video" if b"\x80theora" in head else "audio"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a",
                        b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "image"  # BMP: 'BM', file size, two reserved zero words
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_ONLY_MP4_BRANDS:
            return "audio"
        if brand in _IMAGE_MP4_BRANDS:
            return "image"
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska / WebM
        return "video"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):  # MPEG program / video stream
        return "video"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):  # ASF (WMV/WMA): call it video
        return "video"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:  # MPEG-TS sync bytes
        return "video"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:  # MPEG audio / ADTS sync
        return "audio"
    if _looks_like_text(head):
        return "text"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head.strip():
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # a multi-byte character cut at the end of the sniff is fine
            return False
    return True
