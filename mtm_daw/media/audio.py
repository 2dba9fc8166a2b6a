"""Reading audio files (WAV, FLAC, MP3, OGG, AIFF) into float32 arrays through pedalboard.io.

Writing is not here: stems and mixes are written by `mtm_daw.export`.
Known quirk: pedalboard 0.9.26 does not trim the MP3 encoder delay (about 1100 samples,
~25 ms at 44.1 kHz, whatever the LAME tag says), so MP3 audio starts that much late.
"""
from __future__ import annotations

import contextlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from pedalboard.io import AudioFile

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import MAX_INPUT_SECONDS, check_input_file

# The reader policy every command shares (analyze, describe, render, compose/score --reference, --sync-from,
# library add all read audio through load_audio): rates and channel counts outside these are a damaged
# header or not music, and would reach native code (numba, the resampler) with absurd sizes.
SAMPLE_RATES = (8_000, 384_000)
MAX_CHANNELS = 32
MAX_SAMPLE_LEVEL = 1000.0  # +60 dB over full scale: float files may go past 1.0, never this far
# Uncompressed containers declare their length; bytes a frame takes per sample format, to check the claim.
_PCM_BYTES = {"int8": 1, "uint8": 1, "int16": 2, "int24": 3, "int32": 4, "float32": 4, "float64": 8}
_WAVE_PCM_CODES = (1, 3)  # PCM and IEEE float (also as the subformat of WAVE_FORMAT_EXTENSIBLE)
_AIFC_PCM_TYPES = (b"NONE", b"sowt", b"twos", b"raw ", b"in24", b"in32", b"fl32", b"FL32", b"fl64", b"FL64")
_HEADER_BYTES = 4096
_CHUNK_FRAMES = 1 << 18  # ~6 s at 44.1 kHz per read


@dataclass
class Audio:
    samples: np.ndarray  # (channels, n) float32, nominally in [-1, 1]
    sample_rate: int
    path: Path | None = None

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / float(self.sample_rate)

    def to_mono(self) -> np.ndarray:
        """(n,) float32, the mean of the channels."""
        return self.samples.mean(axis=0, dtype=np.float32)


def load_audio(path: str | os.PathLike, sample_rate: int | None = None, mono: bool = False,
               max_seconds: float | None = None) -> Audio:
    """Read an audio file as float32 (channels, n), resampling on the way in if `sample_rate` is set.

    `max_seconds` reads only the start of the file. Files longer than MAX_INPUT_SECONDS (20 min) are
    refused whatever the window, so every command gives a lying header the same verdict.
    Raises MtmError naming the file for missing, empty, corrupt, unsupported or frame-less files.
    """
    with open_audio(path, sample_rate, max_seconds) as source:
        samples = np.empty((source.channels, source.frames), dtype=np.float32)  # no second copy of the file
        got = 0
        for chunk in source.chunks():
            samples[:, got:got + chunk.shape[1]] = chunk
            got += chunk.shape[1]
        p, out_rate = source.path, source.sample_rate
    samples = samples if got == samples.shape[1] else samples[:, :got]
    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return Audio(samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate=out_rate, path=p)


@dataclass
class AudioReader:
    """An audio file opened under the reader policy, to be read a chunk at a time (see open_audio)."""
    path: Path
    sample_rate: int  # of the chunks
    channels: int
    frames: int  # how many the chunks hold at most (MP3 and resampled lengths are estimates)
    reader: AudioFile

    def chunks(self) -> Iterator[np.ndarray]:
        """(channels, n) float32 chunks of about 6 s; MtmError naming the file for a decoder error, NaN or
        infinite samples, samples far past full scale, or no samples at all."""
        got = 0
        while got < self.frames:
            try:
                chunk = self.reader.read(min(_CHUNK_FRAMES, self.frames - got))
            except Exception as exc:
                raise MtmError(f"{self.path.name}: the audio file is damaged (decoding failed after "
                               f"{got} samples)") from exc
            if chunk.shape[1] == 0:  # the frame count was an estimate (MP3, resampling)
                break
            if not np.all(np.isfinite(chunk)):
                raise MtmError(f"{self.path.name}: the audio contains invalid (NaN or infinite) samples")
            level = max(float(chunk.max()), -float(chunk.min()))
            if level > MAX_SAMPLE_LEVEL:
                raise MtmError(f"{self.path.name}: the samples reach {level:.3g}, far past full scale "
                               "(the file is damaged)")
            got += chunk.shape[1]
            yield chunk
        if got == 0:
            raise MtmError(f"{self.path.name}: the audio file contains no samples")


@contextlib.contextmanager
def open_audio(path: str | os.PathLike, sample_rate: int | None = None,
               max_seconds: float | None = None) -> Iterator[AudioReader]:
    """Open an audio file for reading in chunks, under the reader policy every command shares (see
    load_audio), resampled to `sample_rate` if set. Long files are read without holding them whole."""
    p = check_input_file(path, "audio file")
    low, high = SAMPLE_RATES
    if sample_rate is not None and (not isinstance(sample_rate, (int, np.integer)) or not low <= sample_rate <= high):
        raise MtmError(f"sample rate {sample_rate!r} is out of range (expected {low}..{high} Hz)")
    if max_seconds is not None and not max_seconds > 0:
        raise MtmError(f"max_seconds must be positive, got {max_seconds!r}")

    try:
        str(p).encode("utf-8")
        opened = None
    except UnicodeEncodeError:  # a Linux bytes name: pedalboard takes UTF-8 paths only, so hand it the open file
        opened = open(p, "rb")
    try:
        source = AudioFile(str(p) if opened is None else opened)
    except Exception as exc:  # pedalboard raises ValueError/RuntimeError with a C++ message
        if opened is not None:
            opened.close()
        raise MtmError(f"{p.name}: not a readable audio file (corrupt or unsupported format)") from exc
    with source, (opened or contextlib.nullcontext()):
        frames = checked_frames(source, p)
        duration = frames / source.samplerate
        if duration > MAX_INPUT_SECONDS:
            raise MtmError(f"{p.name}: {duration / 60:.0f} minutes is too long "
                           f"(limit {MAX_INPUT_SECONDS / 60:.0f} min); trim it or use a shorter excerpt")
        out_rate = int(sample_rate) if sample_rate is not None else int(round(source.samplerate))
        reader = source.resampled_to(out_rate) if out_rate != source.samplerate else source
        with reader:
            seconds = duration if max_seconds is None else min(duration, max_seconds)
            wanted = min(reader.frames, int(round(seconds * out_rate)))
            yield AudioReader(p, out_rate, reader.num_channels, wanted, reader)


def checked_frames(source: AudioFile, p: Path) -> int:
    """The frames an open file really holds, after the reader policy: MtmError naming the file for a rate
    outside SAMPLE_RATES, channels outside 1..MAX_CHANNELS or no frames. An uncompressed file whose header
    claims more frames than its size can hold (cut short, or a lying header) counts only the frames held."""
    low, high = SAMPLE_RATES
    if source.frames <= 0:
        raise MtmError(f"{p.name}: the audio file contains no samples")
    if not low <= source.samplerate <= high:
        raise MtmError(f"{p.name}: a sample rate of {source.samplerate:g} Hz is outside {low}..{high} Hz "
                       "(the header may be damaged)")
    if not 1 <= source.num_channels <= MAX_CHANNELS:
        raise MtmError(f"{p.name}: {source.num_channels} channels is outside 1..{MAX_CHANNELS} "
                       "(the header may be damaged)")
    frame_bytes = _PCM_BYTES.get(source.file_dtype, 0) * source.num_channels
    if frame_bytes and _is_pcm_container(p):
        held = max(0, p.stat().st_size - 44) // frame_bytes  # at least a minimal header precedes the data
        if held == 0:
            raise MtmError(f"{p.name}: the audio file contains no samples")
        return min(source.frames, held)
    return source.frames


def _is_pcm_container(p: Path) -> bool:
    """Whether the file's samples are stored plainly (so its size bounds its length): a WAV whose format
    is PCM or float, or an AIFF (an AIFC only without compression). mu-law, A-law and ADPCM are not."""
    with open(p, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        fmt = _chunk(head, 12, b"fmt ", "<I")
        if fmt is None or len(fmt) < 2:
            return False
        code = int.from_bytes(fmt[:2], "little")
        if code == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat GUID starts with the code
            code = int.from_bytes(fmt[24:26], "little")
        return code in _WAVE_PCM_CODES
    if head[:4] == b"FORM" and head[8:12] == b"AIFF":
        return True
    if head[:4] == b"FORM" and head[8:12] == b"AIFC":
        comm = _chunk(head, 12, b"COMM", ">I")
        return comm is not None and comm[18:22] in _AIFC_PCM_TYPES
    return False


def _chunk(head: bytes, at: int, wanted: bytes, size_format: str) -> bytes | None:
    """The body of the first chunk named `wanted` among those starting at `at` (within the header read)."""
    while at + 8 <= len(head):
        name, size = head[at:at + 4], struct.unpack(size_format, head[at + 4:at + 8])[0]
        if name == wanted:
            return head[at + 8:at + 8 + size]
        at += 8 + size + (size & 1)
    return None
