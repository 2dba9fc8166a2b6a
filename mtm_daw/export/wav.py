"""24-bit WAV writing through pedalboard.io, plus the tags DAWs read from WAV files.

After the audio, RIFF chunks are appended: LIST/INFO (title, genre, comment, software) and
`acid` (tempo, meter, beat count, root note), which DAWs and sample browsers use to place a file
at the right tempo; for a loop also `smpl` (the loop points samplers read) and `cue ` with a
LIST/adtl of labels (markers at the loop's start and end that editors show).
"""
from __future__ import annotations

import errno
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from mtm_daw.spool import blocks

MAX_DATA_BYTES = 0xFFFFFFFF - (1 << 20)  # a RIFF WAV counts its bytes in 32 bits (room kept for the tag chunks)


@dataclass
class WavTags:
    title: str
    genre: str = ""
    comment: str = ""
    software: str = ""
    tempo: float | None = None  # BPM for the acid chunk
    beats: int = 0
    meter: tuple[int, int] = (4, 4)
    root_note: int | None = None  # MIDI note of the key's tonic; None for unpitched stems
    loop: tuple[int, int] | None = None  # (first sample, end sample exclusive) of a loop; None = not a loop


def write_wav(path: Path, audio: np.ndarray, sample_rate: int, bit_depth: int = 24,
              tags: WavTags | None = None) -> None:
    """audio: float (channels, samples) in -1..1; values beyond are clipped, not wrapped."""
    audio = np.asarray(audio)
    # Through a Python file: pedalboard takes only UTF-8 path strings (not a Linux bytes name); same bytes.
    with open(path, "wb") as raw:
        try:
            with AudioFile(raw, "w", samplerate=sample_rate, num_channels=audio.shape[0], bit_depth=bit_depth,
                           format="wav") as handle:
                for start, stop in blocks(audio.shape[1], audio):  # a long cue's file is written as it is read
                    handle.write(np.clip(audio[:, start:stop].astype(np.float32), -1.0, 1.0))
        except RuntimeError as error:  # pedalboard's word for a failed write; FileSet undoes OSErrors
            full = shutil.disk_usage(Path(path).parent).free < audio.size * bit_depth // 8
            raise (OSError(errno.ENOSPC, "No space left on device") if full else
                   OSError(errno.EIO, f"cannot write {Path(path).name} ({error})")) from error
    if tags is not None:
        chunks = [info_chunk(tags)] + ([acid_chunk(tags)] if tags.tempo else [])
        if tags.loop is not None:
            chunks = [labels_chunk(["Loop start", "Loop end"])] + chunks + [
                smpl_chunk(tags.loop, sample_rate, tags.root_note), cue_chunk([tags.loop[0], tags.loop[1]])]
        append_chunks(path, chunks)


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def info_chunk(tags: WavTags) -> bytes:
    fields = {b"INAM": tags.title, b"IGNR": tags.genre, b"ICMT": tags.comment, b"ISFT": tags.software}
    payload = b"INFO" + b"".join(_chunk(key, value.encode("utf-8") + b"\x00") for key, value in fields.items()
                                 if value)
    return _chunk(b"LIST", payload)


def acid_chunk(tags: WavTags) -> bytes:
    flags = 0x02 if tags.root_note is not None else 0x00  # 0x02: root note is set; not a one-shot
    numerator, denominator = tags.meter
    payload = struct.pack("<IHHfIHHf", flags, tags.root_note or 60, 0x8000, 0.0, tags.beats, denominator,
                          numerator, float(tags.tempo))
    return _chunk(b"acid", payload)


def smpl_chunk(loop: tuple[int, int], sample_rate: int, root_note: int | None = None) -> bytes:
    """One forward loop over samples [start, end): the `smpl` chunk's end is the last sample played."""
    start, end = loop
    if not 0 <= start < end:
        raise ValueError(f"a loop needs 0 <= start < end, got {loop}")
    header = struct.pack("<9I", 0, 0, round(1e9 / sample_rate), root_note if root_note is not None else 60,
                         0, 0, 0, 1, 0)
    #               id, type (0 = forward), start, end (inclusive), fraction, play count (0 = forever)
    loops = struct.pack("<6I", 1, 0, start, end - 1, 0, 0)
    return _chunk(b"smpl", header + loops)


def cue_chunk(positions: list[int]) -> bytes:
    """Cue points at sample positions, ids 1, 2, ... (labelled by `labels_chunk` in the same order)."""
    points = b"".join(struct.pack("<II4sIII", index + 1, position, b"data", 0, 0, position)
                      for index, position in enumerate(positions))
    return _chunk(b"cue ", struct.pack("<I", len(positions)) + points)


def labels_chunk(labels: list[str]) -> bytes:
    """LIST/adtl with a `labl` per cue point (ids 1, 2, ...)."""
    payload = b"adtl" + b"".join(_chunk(b"labl", struct.pack("<I", index + 1) + label.encode("utf-8") + b"\x00")
                                 for index, label in enumerate(labels))
    return _chunk(b"LIST", payload)


@dataclass
class LoopPoints:
    """What a WAV's smpl and cue chunks say about its loop."""

    start: int  # first sample of the loop
    end: int  # one past its last sample
    cues: list[int]  # cue point positions
    labels: list[str]  # their labels


def read_loop_points(path: Path) -> LoopPoints | None:
    """The loop a WAV file's `smpl` chunk declares (None without one), with its cue points and labels."""
    chunks = list(iter_chunks(path))
    smpl = next((payload for chunk_id, payload in chunks if chunk_id == b"smpl"), None)
    if smpl is None or struct.unpack("<I", smpl[28:32])[0] == 0:
        return None
    _, _, start, last, _, _ = struct.unpack("<6I", smpl[36:60])
    cues, labels = [], []
    for chunk_id, payload in chunks:
        if chunk_id == b"cue ":
            count = struct.unpack("<I", payload[:4])[0]
            cues = [struct.unpack("<II4sIII", payload[4 + 24 * i:28 + 24 * i])[5] for i in range(count)]
        elif chunk_id == b"LIST" and payload[:4] == b"adtl":
            position = 4
            while position + 8 <= len(payload):
                size = struct.unpack("<I", payload[position + 4:position + 8])[0]
                if payload[position:position + 4] == b"labl":
                    labels.append(payload[position + 12:position + 8 + size].rstrip(b"\x00").decode("utf-8"))
                position += 8 + size + (size & 1)
    return LoopPoints(start, last + 1, cues, labels)


def append_chunks(path: Path, chunks: list[bytes]) -> None:
    """Append RIFF chunks to a finished WAV and fix the RIFF size field."""
    with open(path, "r+b") as handle:
        header = handle.read(12)
        if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            raise ValueError(f"{path} is not a RIFF/WAVE file")
        handle.seek(0, 2)
        if handle.tell() % 2:
            handle.write(b"\x00")
        for chunk in chunks:
            handle.write(chunk)
        size = handle.tell() - 8
        handle.seek(4)
        handle.write(struct.pack("<I", size))


def read_chunks(path: Path) -> dict[bytes, bytes]:
    """Top-level RIFF chunks of a WAV file by id (the last of each id wins)."""
    return dict(iter_chunks(path))


def iter_chunks(path: Path):
    """Every top-level RIFF chunk of a WAV file as (id, payload), in file order."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path} is not a RIFF/WAVE file")
    position = 12
    while position + 8 <= len(data):
        chunk_id = data[position:position + 4]
        size = struct.unpack("<I", data[position + 4:position + 8])[0]
        yield chunk_id, data[position + 8:position + 8 + size]
        position += 8 + size + (size & 1)
