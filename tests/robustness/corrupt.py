"""Damaged inputs for the robustness suite, and the checks every reader must pass.

    data = damage_of(sample, label="flipped", seed=3)     # or draw them with the `damaged(...)` strategy
    path = write_case(folder, ".wav", data)
    outcome = expect_only_mtm_error(lambda: load_audio(path), path)   # "ok" or the MtmError's message

Damage kinds: truncated (a prefix, often cut inside the header), flipped (a few bytes XOR-ed, often
in the header), random (noise, sometimes behind the right magic number so the sniffers let it
through), empty, mislabelled (a file of another kind under this reader's extension).
Sample files are tiny real files written here (WAV, FLAC, MIDI, PNG, JPEG, MP4, description JSON).
MTM_FUZZ_SCALE=10 multiplies every fuzz test's number of examples (the suite's default pass is quick).
"""
from __future__ import annotations

import itertools
import os
import struct
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtm_daw.errors import MtmError

DAMAGE_KINDS = ("truncated", "flipped", "random", "empty", "mislabelled")
CALL_SECONDS = 20.0  # one reader call on a tiny damaged file; generous for a loaded 2-core machine
SCALE = float(os.environ.get("MTM_FUZZ_SCALE", "1"))  # e.g. 10 for a longer hunt than the suite's quick pass
# The suite draws the same examples every run (CI must not turn red by chance); MTM_FUZZ_RANDOM=1 draws new ones.
RANDOM = os.environ.get("MTM_FUZZ_RANDOM", "") not in ("", "0")
FUZZ = settings(max_examples=max(1, round(30 * SCALE)), deadline=None, database=None, print_blob=True,
                derandomize=not RANDOM,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
MAGIC = {".wav": b"RIFF\x00\x10\x00\x00WAVEfmt ", ".flac": b"fLaC", ".mid": b"MThd\x00\x00\x00\x06",
         ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".gif": b"GIF89a", ".mp4": b"\x00\x00\x00\x18ftypisom",
         ".json": b"{", ".sqlite": b"SQLite format 3\x00", ".onnx": b"\x08\x07\x12"}


# --- damage -------------------------------------------------------------------------------------
def truncate(data: bytes, keep: int) -> bytes:
    """The first `keep` bytes (a download or copy cut short)."""
    return data[:max(0, min(keep, len(data) - 1))]


def flip(data: bytes, positions: list[int], masks: list[int]) -> bytes:
    """XOR the byte at each position (taken modulo the length) with its mask (1..255)."""
    out = bytearray(data)
    for position, mask in zip(positions, masks):
        if out:
            out[position % len(out)] ^= (mask % 255) + 1
    return bytes(out)


def copy_with_middle_flipped(source: Path, folder: Path, count: int = 1) -> Path:
    """A copy of `source` in `folder`, under its name, with `count` bytes in its middle inverted (a model
    file damaged in place: the same size, another checksum)."""
    data = source.read_bytes()
    middle = len(data) // 2
    copy = folder / source.name
    copy.write_bytes(flip(data, list(range(middle, middle + count)), [254] * count))  # mask 254 + 1 = 0xFF
    return copy


def noise(size: int, seed: int, magic: bytes = b"") -> bytes:
    """Random bytes, optionally behind a magic number so that a sniffer passes them to the decoder."""
    return (magic + np.random.default_rng(seed).bytes(size))[:max(size, len(magic))]


@dataclass(frozen=True)
class Damaged:
    label: str  # one of DAMAGE_KINDS, with detail, e.g. "truncated to 43 bytes"
    data: bytes

    def __repr__(self) -> str:  # hypothesis prints this for a failing example
        return f"Damaged({self.label!r}, {len(self.data)} bytes, head={self.data[:24]!r})"


def damage_of(sample: bytes, label: str, seed: int, others: tuple[bytes, ...] = (), magic: bytes = b"") -> Damaged:
    """One damaged version of `sample`, reproducible from (label, seed) without hypothesis."""
    rng = np.random.default_rng(seed)
    if label == "truncated":
        keep = int(rng.integers(0, min(len(sample), 600))) if rng.random() < 0.6 else int(rng.integers(0, len(sample)))
        return Damaged(f"truncated to {keep} bytes", truncate(sample, keep))
    if label == "flipped":
        count = int(rng.integers(1, 9))
        span = min(len(sample), 300) if rng.random() < 0.5 else len(sample)
        positions = [int(p) for p in rng.integers(0, span, count)]
        return Damaged(f"{count} byte(s) flipped", flip(sample, positions, [int(m) for m in rng.integers(0, 255, count)]))
    if label == "random":
        size = int(rng.integers(1, 4096))
        return Damaged(f"{size} random bytes", noise(size, seed, magic if rng.random() < 0.5 else b""))
    if label == "empty":
        return Damaged("empty", b"")
    if label == "mislabelled":
        if not others:
            return Damaged("empty", b"")
        return Damaged("another kind of file", others[int(rng.integers(0, len(others)))])
    raise ValueError(f"unknown damage {label!r}")


@st.composite
def damaged(draw, sample: bytes, others: tuple[bytes, ...] = (), magic: bytes = b"") -> Damaged:
    """Hypothesis strategy: `sample` truncated, flipped, replaced by noise, emptied or swapped for another kind."""
    label = draw(st.sampled_from(DAMAGE_KINDS))
    if label == "truncated":
        keep = draw(st.one_of(st.integers(0, min(len(sample), 600)), st.integers(0, len(sample) - 1)))
        return Damaged(f"truncated to {keep} bytes", truncate(sample, keep))
    if label == "flipped":
        span = draw(st.sampled_from([min(len(sample), 300), len(sample)]))
        positions = draw(st.lists(st.integers(0, span - 1), min_size=1, max_size=8))
        masks = draw(st.lists(st.integers(0, 254), min_size=len(positions), max_size=len(positions)))
        return Damaged(f"{len(positions)} byte(s) flipped at {positions[:4]}", flip(sample, positions, masks))
    if label == "random":
        body = draw(st.binary(min_size=1, max_size=2048))
        prefix = draw(st.sampled_from([b"", magic]))
        return Damaged(f"{len(body)} random bytes" + (" behind the magic number" if prefix else ""), prefix + body)
    if label == "mislabelled" and others:
        return Damaged("another kind of file", draw(st.sampled_from(others)))
    return Damaged("empty", b"")


def fuzz(strategy, check: Callable[["Damaged"], object], examples: int | None = None) -> None:
    """Run `check` on `examples` damaged inputs drawn from `strategy` (FUZZ settings otherwise)."""
    chosen = settings(FUZZ, max_examples=max(1, round(examples * SCALE))) if examples else FUZZ

    @chosen
    @given(case=strategy)
    def run(case: Damaged) -> None:
        check(case)

    run()


# --- running a reader ---------------------------------------------------------------------------
_names = itertools.count()


def write_case(folder: Path, suffix: str, data: bytes, stem: str = "case") -> Path:
    """A fresh file in `folder` holding `data` (hypothesis examples share one folder)."""
    path = Path(folder) / f"{stem}{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def bounded(call: Callable[[], object], seconds: float = CALL_SECONDS, what: str = "the call"):
    """Run `call` on a worker thread; fail the test if it takes longer than `seconds` (a hang)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test's thread below
            box["error"] = exc

    worker = threading.Thread(target=run, name="bounded-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{what} did not finish within {seconds:g} s (a hang?)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


def expect_only_mtm_error(call: Callable[[], object], named: Path | str | None = None,
                          seconds: float = CALL_SECONDS, what: str = "the reader") -> str:
    """Run a reader on bad input: it may succeed ("ok") or raise MtmError (its message is returned).

    Any other exception, or a hang, fails the test. A message must be one non-empty line and,
    when `named` is given, name the file (its name, or the path for readers that print it whole).
    """
    try:
        bounded(call, seconds, what)
    except MtmError as error:
        message = str(error)
        assert message.strip(), f"{what}: an MtmError without a message"
        if named is not None:
            name = Path(named).name
            assert name in message, f"{what}: the error does not name the file {name!r}: {message}"
        return message
    except Exception as error:
        pytest.fail(f"{what}: {type(error).__name__} escaped instead of MtmError: {error}")
    return "ok"


# --- small real files ---------------------------------------------------------------------------
def wav_bytes(seconds: float = 0.5, rate: int = 22050, channels: int = 1) -> bytes:
    """16-bit PCM: a decaying A4 with clicks every 0.25 s (enough for tempo and key to say something)."""
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.4 * np.sin(2 * np.pi * 440 * t) * np.exp(-3 * (t % 0.25))
    pcm = (np.repeat(tone[:, None], channels, axis=1) * 32767).astype("<i2")
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def wav_header(channels: int, rate: int, bits: int, data_bytes: int, body: bytes = b"") -> bytes:
    """A PCM WAV header that claims what it is told to (sizes, channels), followed by `body`."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, min(rate * block, 0xFFFFFFFF), min(block, 0xFFFF), bits)
    return (b"RIFF" + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF)) + b"WAVE" + b"fmt "
            + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", min(data_bytes, 0xFFFFFFFF)) + body)


def flac_bytes(folder: Path) -> bytes:
    from pedalboard.io import AudioFile

    path = Path(folder) / "sample.flac"
    t = np.arange(11025) / 22050
    with AudioFile(str(path), "w", samplerate=22050, num_channels=1) as handle:
        handle.write((0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None])
    return path.read_bytes()


def midi_bytes() -> bytes:
    """A type-1 file: tempo, meter, key, a melody and a bass line."""
    import io

    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000),
                                       mido.MetaMessage("time_signature", numerator=4, denominator=4),
                                       mido.MetaMessage("key_signature", key="Am")]))
    for name, channel, pitches in (("Melody", 0, (69, 72, 76, 74)), ("Bass", 1, (45, 41, 43, 40))):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name),
                                mido.Message("program_change", channel=channel, program=0)])
        for pitch in pitches:
            track.append(mido.Message("note_on", channel=channel, note=pitch, velocity=90, time=0))
            track.append(mido.Message("note_off", channel=channel, note=pitch, velocity=0, time=480))
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (48, 32)) -> bytes:
    import io

    from PIL import Image

    y, x = np.mgrid[0:size[1], 0:size[0]]
    pixels = np.stack([x * 255 // size[0], y * 255 // size[1], np.full_like(x, 90)], axis=2).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format=fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a tiny (wrong) image body: a decompression bomb."""
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def video_bytes(folder: Path, seconds: float = 1.0, with_audio: bool = False) -> bytes:
    """A tiny H.264 (or MPEG-4) MP4: 160 x 90, 24 fps, two coloured shots."""
    from tests.visual_media import write_cut_video

    path, _ = write_cut_video(Path(folder) / "sample.mp4", cut_times=[seconds / 2], seconds=seconds)
    if with_audio:
        from tests.visual_media import write_colour_video

        path = write_colour_video(Path(folder) / "sample_sound.mp4", (200, 60, 50), seconds=seconds,
                                  with_audio=True)
    return path.read_bytes()


def description_bytes() -> bytes:
    from mtm_daw.description import HitPoint, MusicDescription, Section

    description = MusicDescription(genre="jazz", mood="calm", tempo=96, key="Bb major", duration=20,
                                    sections=[Section("intro", 0, 8), Section("verse", 8, 20, 0.7)],
                                    hit_points=[HitPoint(12.0)], energy=[(0.0, 0.3), (20.0, 0.8)],
                                    instruments={"melody": 73}, sentence="a calm jazz cue")
    return description.to_json().encode("utf-8")


# --- memory ---------------------------------------------------------------------------------------
def peak_memory_mb() -> float:
    """This process's peak resident memory since it started its program: VmHWM, which exec resets. A child
    started from a big process (pytest after loading models: ~1 GB) inherits that process's ru_maxrss, so
    ru_maxrss in the child measured the parent."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- output folders -----------------------------------------------------------------------------
def listing(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` (names, hidden ones too) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


def temp_names(folder: Path) -> list[str]:
    """FileSet's temporary names: `.<name>.<pid>.<random>.part<suffix>` and `.<name>.<pid>.old` backups."""
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".") and (".part" in p.name
                                                                                  or p.name.endswith(".old"))]
