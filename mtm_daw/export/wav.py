"""24-bit WAV writing through pedalboard.io, plus the tags DAWs read from WAV files.

After the audio, two RIFF chunks are appended: LIST/INFO (title, genre, comment, software) and
`acid` (tempo, meter, beat count, root note), which DAWs and sample browsers use to place a file
at the right tempo.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile


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


def write_wav(path: Path, audio: np.ndarray, sample_rate: int, bit_depth: int = 24,
              tags: WavTags | None = None) -> None:
    """audio: float (channels, samples) in -1..1; values beyond are clipped, not wrapped."""
    audio = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    with AudioFile(str(path), "w", samplerate=sample_rate, num_channels=audio.shape[0],
                   bit_depth=bit_depth) as handle:
        handle.write(audio)
    if tags is not None:
        append_chunks(path, [info_chunk(tags)] + ([acid_chunk(tags)] if tags.tempo else []))


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
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path} is not a RIFF/WAVE file")
    chunks, position = {}, 12
    while position + 8 <= len(data):
        chunk_id = data[position:position + 4]
        size = struct.unpack("<I", data[position + 4:position + 8])[0]
        chunks[chunk_id] = data[position + 8:position + 8 + size]
        position += 8 + size + (size & 1)
    return chunks
