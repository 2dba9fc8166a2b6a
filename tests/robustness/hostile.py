"""A corpus of hostile files, built by code and small: headers that lie, sizes at and past every limit,
formats cut short, names and file types that trick. `build_corpus(folder)` writes them all and returns
one Case per file; test_robust_corpus.py runs each through the commands a user would try on it.

Every file is a few kilobytes at most (sparse where a size is the point), so the corpus builds in a second.
"""
from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.robustness.corrupt import description_bytes, flac_bytes, image_bytes, midi_bytes, noise, video_bytes, wav_bytes


@dataclass(frozen=True)
class Case:
    name: str  # what is hostile about it
    path: Path
    kind: str  # the commands it goes through: audio, midi, image, video, description, text or other


# --- audio ---------------------------------------------------------------------------------------
def _wav(fmt_code: int = 1, channels: int = 1, rate: int = 22050, bits: int = 16, frames: int = 2205,
         claim_bytes: int | None = None, riff_size: int | None = None, body: bytes | None = None,
         extra_chunks: bytes = b"", fmt_size: int = 16) -> bytes:
    block = max(channels * bits // 8, 0)
    if body is None:
        t = np.arange(frames) / max(rate, 1)
        tone = (0.3 * np.sin(2 * np.pi * 440 * t))
        body = np.repeat((tone * 32767).astype("<i2")[:, None], max(channels, 1), axis=1).tobytes() if bits == 16 \
            else bytes(frames * max(block, 1))
    fmt = struct.pack("<HHIIHH", fmt_code, channels % 65536, rate % 2**32, (rate * block) % 2**32, block % 65536,
                      bits % 65536) + bytes(max(fmt_size - 16, 0))
    data_size = len(body) if claim_bytes is None else claim_bytes
    chunks = b"fmt " + struct.pack("<I", fmt_size) + fmt[:fmt_size] + extra_chunks + b"data" + \
        struct.pack("<I", min(data_size, 0xFFFFFFFF)) + body
    size = 4 + len(chunks) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", min(size, 0xFFFFFFFF)) + b"WAVE" + chunks


def _float_wav(values: np.ndarray, rate: int = 22050) -> bytes:
    return _wav(fmt_code=3, bits=32, rate=rate, body=values.astype("<f4").tobytes())


def _aiff(channels: int = 1, rate_bytes: bytes | None = None, frames: int = 2205, claim_frames: int | None = None,
          compressed: bytes | None = None) -> bytes:
    """AIFF (or AIFC) 16-bit, a decaying tone struck every 0.25 s; the rate is an 80-bit extended float
    (44100 Hz unless `rate_bytes`)."""
    rate = rate_bytes or b"\x40\x0e\xac\x44" + bytes(6)  # 44100.0
    t = np.arange(frames) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-8 * (t % 0.25))
    pcm = (np.repeat(tone[:, None], channels, axis=1) * 32767).astype(">i2").tobytes()
    comm = struct.pack(">hIh", channels, frames if claim_frames is None else claim_frames, 16) + rate
    form = b"AIFF"
    if compressed is not None:
        form, comm = b"AIFC", comm + compressed + b"\x00"
    chunks = b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(pcm) + 8) + bytes(8) + pcm
    return b"FORM" + struct.pack(">I", 4 + len(chunks)) + form + chunks


def _flac_header(rate: int = 44100, channels: int = 2, bits: int = 16, total: int = 44100) -> bytes:
    """fLaC and a STREAMINFO block, no audio frames."""
    packed = (rate << 44) | ((channels - 1) % 8 << 41) | ((bits - 1) % 32 << 36) | (total % 2**36)
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + packed.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + b"\x80" + len(info).to_bytes(3, "big") + info


def _id3(size: int, body: bytes = b"") -> bytes:
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + synchsafe + body


def _mp3_frames(count: int, garbage: bool = False) -> bytes:
    """MPEG-1 layer III frames at 128 kbit/s, 44.1 kHz: headers with silent (or random) bodies."""
    frame = b"\xff\xfb\x90\x64" + (noise(413, count) if garbage else bytes(413))
    return frame * count


def _ogg_page(payload: bytes, serial: int = 1, sequence: int = 0, header_type: int = 2) -> bytes:
    segments = [255] * (len(payload) // 255) + [len(payload) % 255]
    return (b"OggS\x00" + bytes([header_type]) + bytes(8) + struct.pack("<II", serial, sequence) + bytes(4)
            + bytes([len(segments)]) + bytes(segments) + payload)


def audio_cases(folder: Path) -> dict[str, bytes]:
    good = wav_bytes(4.0)  # clicks every 0.25 s: long enough to guide a cue's rhythm
    rng = np.random.default_rng(7)
    cases = {
        "wav, valid": good,
        "wav, 1 Hz (a segfault in numba before)": _wav(rate=1, frames=1000),
        "wav, 0 Hz": _wav(rate=0),
        "wav, 7999 Hz": _wav(rate=7999),
        "wav, 8000 Hz": _wav(rate=8000, frames=800),
        "wav, 384000 Hz": _wav(rate=384000, frames=4000),
        "wav, 384001 Hz": _wav(rate=384001, frames=4000),
        "wav, 4294967295 Hz": _wav(rate=0xFFFFFFFF),
        "wav, 0 channels": _wav(channels=0),
        "wav, 32 channels": _wav(channels=32, frames=220),
        "wav, 33 channels": _wav(channels=33, frames=100),
        "wav, 64 channels": _wav(channels=64, frames=100),
        "wav, 65535 channels": _wav(channels=65535, frames=2),
        "wav, 0 bits": _wav(bits=0),
        "wav, 12 bits": _wav(bits=12),
        "wav, 8 bits": _wav(bits=8),
        "wav, 24 bits": _wav(bits=24, body=bytes(3 * 2205)),
        "wav, 64-bit float": _wav(fmt_code=3, bits=64, body=np.zeros(2205).astype("<f8").tobytes()),
        "wav, ADPCM code with PCM data": _wav(fmt_code=2),
        "wav, MP3 code with PCM data": _wav(fmt_code=0x55),
        "wav, unknown format 999": _wav(fmt_code=999),
        "wav, extensible with a short fmt": _wav(fmt_code=0xFFFE, fmt_size=18),
        "wav, data claims 4 GB": _wav(claim_bytes=0xFFFFFFFF),
        "wav, data claims 2^31 frames over 1000 samples": _wav(frames=1000, claim_bytes=2**31),
        "wav, data claims 0 bytes": _wav(claim_bytes=0),
        "wav, odd data size": _wav(claim_bytes=4411),
        "wav, RIFF size 0": _wav(riff_size=0),
        "wav, RIFF size 4 GB": _wav(riff_size=0xFFFFFFFF),
        "wav, no fmt chunk": b"RIFF" + struct.pack("<I", 4 + 8 + 100) + b"WAVE" + b"data" + struct.pack("<I", 100) + bytes(100),
        "wav, no data chunk": _wav()[:36],
        "wav, header only (44 bytes)": _wav()[:44],
        "wav, a LIST chunk of garbage": _wav(extra_chunks=b"LIST" + struct.pack("<I", 64) + noise(64, 3)),
        "wav, a chunk claiming 4 GB": _wav(extra_chunks=b"junk" + struct.pack("<I", 0xFFFFFFF0)),
        "wav, NaN samples": _float_wav(np.full(2205, np.nan)),
        "wav, infinite samples": _float_wav(np.full(2205, np.inf)),
        "wav, samples at 1e30": _float_wav(np.full(2205, 1e30)),
        "wav, denormal samples": _float_wav(np.full(2205, 1e-42)),
        "wav, silence": _wav(body=bytes(2 * 22050)),
        "wav, full-scale noise": _wav(body=rng.integers(-32768, 32767, 22050).astype("<i2").tobytes()),
        "wav, one frame": _wav(frames=1),
        "wav, 64 frames stereo": _wav(channels=2, frames=64),
        "wav, RF64 without ds64": b"RF64" + _wav()[4:],
        "wav, mu-law 1 s (valid)": _wav(fmt_code=7, bits=8, rate=8000, body=noise(8000, 21)),
        "wav, A-law 1 s (valid)": _wav(fmt_code=6, bits=8, rate=8000, body=noise(8000, 22)),
        "aiff, valid": _aiff(frames=4 * 44100),
        "aiff, stereo": _aiff(channels=2),
        "aiff, rate 0": _aiff(rate_bytes=bytes(10)),
        "aiff, rate NaN": _aiff(rate_bytes=b"\x7f\xff\xc0" + bytes(7)),
        "aiff, rate 1e4000": _aiff(rate_bytes=b"\x7f\xfe\x80" + bytes(7)),
        "aiff, claims 2^31 frames": _aiff(claim_frames=2**31 - 1),
        "aiff, sowt compression": _aiff(compressed=b"sowt"),
        "aiff, unknown compression": _aiff(compressed=b"zzzz"),
        "aiff, cut short": _aiff()[:60],
        "flac, header only": _flac_header(),
        "flac, STREAMINFO rate 0": _flac_header(rate=0),
        "flac, claims 2^36 samples": _flac_header(total=2**36 - 1),
        "flac, 8 channels 32 bits no frames": _flac_header(channels=8, bits=32),
        "flac, frames of noise": _flac_header() + noise(3000, 5, b"\xff\xf8"),
        "mp3, ID3 tag only": _id3(10, bytes(10)),
        "mp3, ID3 claiming 256 MB": _id3(0x0FFFFFFF, bytes(100)),
        "mp3, one silent frame": _mp3_frames(1),
        "mp3, frames of noise": _mp3_frames(40, garbage=True),
        "mp3, a Xing header claiming 2^31 frames": b"\xff\xfb\x90\x64" + bytes(32) + b"Xing" + struct.pack(">II", 1, 2**31)
                                                      + bytes(373) + _mp3_frames(3),
        "mp3, sync bytes only": b"\xff\xfb" * 2000,
        "ogg, capture pattern only": b"OggS",
        "ogg, one empty page": _ogg_page(b""),
        "ogg, a vorbis header cut short": _ogg_page(b"\x01vorbis" + bytes(10), header_type=2),
        "ogg, pages of noise": b"".join(_ogg_page(noise(200, seq), sequence=seq, header_type=0) for seq in range(5)),
        "ogg, a page claiming 255 segments of 255": b"OggS\x00\x02" + bytes(8) + struct.pack("<II", 1, 0) + bytes(4)
                                                     + b"\xff" + b"\xff" * 255 + bytes(100),
    }
    return cases


def audio_suffix(name: str) -> str:
    return "." + name.split(",")[0]


# --- MIDI ----------------------------------------------------------------------------------------
def _chunk(kind: bytes, payload: bytes, claimed: int | None = None) -> bytes:
    return kind + struct.pack(">I", len(payload) if claimed is None else claimed) + payload


def _smf(tracks: list[bytes], file_type: int = 1, division: int = 480, claimed_tracks: int | None = None) -> bytes:
    header = struct.pack(">HHH", file_type, len(tracks) if claimed_tracks is None else claimed_tracks, division)
    return _chunk(b"MThd", header) + b"".join(tracks)


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _track(events: bytes, end: bool = True) -> bytes:
    return _chunk(b"MTrk", events + (b"\x00\xff\x2f\x00" if end else b""))


def _notes(pitches, channel: int = 0, length: int = 480, velocity: int = 90) -> bytes:
    out = b""
    for pitch in pitches:
        out += b"\x00" + bytes([0x90 | channel, pitch, velocity]) + _vlq(length) + bytes([0x80 | channel, pitch, 0])
    return out


def _mido_bytes(build) -> bytes:
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    build(midi, mido)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _many_tracks(midi, mido, count: int = 1000) -> None:
    for index in range(count):
        channel = 9 if index % 10 == 0 else index % 9
        midi.tracks.append(mido.MidiTrack([
            mido.Message("note_on", note=30 + index % 60, velocity=80, channel=channel, time=(index % 16) * 120),
            mido.Message("note_off", note=30 + index % 60, velocity=0, channel=channel, time=240)]))


def _dense_chord(midi, mido) -> None:
    track = mido.MidiTrack()
    for copy in range(24):  # 3,072 note-ons at one instant: every key, 24 times over
        for pitch in range(128):
            track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=960))
    for pitch in range(128):
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=0))
    midi.tracks.append(track)


def midi_cases() -> dict[str, bytes]:
    melody = _track(_notes([60, 62, 64, 65, 67]))
    good = midi_bytes()
    return {
        "mid, valid": good,
        "mid, type 0": _smf([melody], file_type=0),
        "mid, type 2": _smf([melody, melody], file_type=2),
        "mid, type 7": _smf([melody], file_type=7),
        "mid, SMPTE division (25 fps)": _smf([melody], division=0xE728),
        "mid, 0 ticks per beat": _smf([melody], division=0),
        "mid, 1 tick per beat": _smf([melody], division=1),
        "mid, 32767 ticks per beat": _smf([melody], division=0x7FFF),
        "mid, claims 65535 tracks, holds 1": _smf([melody], claimed_tracks=65535),
        "mid, claims 0 tracks": _smf([melody], claimed_tracks=0),
        "mid, 1000 tracks": _mido_bytes(_many_tracks),
        "mid, 3072 notes at one instant": _mido_bytes(_dense_chord),
        "mid, header only": _chunk(b"MThd", struct.pack(">HHH", 1, 1, 480)),
        "mid, header length 0": _chunk(b"MThd", b"") + melody,
        "mid, header length 4 GB": _chunk(b"MThd", struct.pack(">HHH", 1, 1, 480), claimed=0xFFFFFFFF) + melody,
        "mid, track length past the end": _smf([_chunk(b"MTrk", _notes([60]), claimed=1 << 30)]),
        "mid, track length 0": _smf([_chunk(b"MTrk", b""), melody]),
        "mid, no end-of-track": _smf([_track(_notes([60, 64]), end=False)]),
        "mid, running status garbage": _smf([_track(b"\x00\x90\x3c\x40" + bytes(range(0, 120)) + _notes([60]))]),
        "mid, running status with no status": _smf([_track(b"\x00\x3c\x40\x10\x3c\x00")]),
        "mid, data bytes over 127": _smf([_track(b"\x00\x90\xff\xff\x10\x80\xff\x00")]),
        "mid, delta time 0x0FFFFFFF": _smf([_track(b"\xff\xff\xff\x7f\x90\x3c\x40\x10\x80\x3c\x00")]),
        "mid, delta time of 5 bytes": _smf([_track(b"\xff\xff\xff\xff\x7f\x90\x3c\x40")]),
        "mid, tempo 0": _smf([_track(b"\x00\xff\x51\x03\x00\x00\x00" + _notes([60]))]),
        "mid, tempo 16777215 us": _smf([_track(b"\x00\xff\x51\x03\xff\xff\xff" + _notes([60]))]),
        "mid, tempo meta too short": _smf([_track(b"\x00\xff\x51\x01\x07" + _notes([60]))]),
        "mid, meter 0/0": _smf([_track(b"\x00\xff\x58\x04\x00\x00\x18\x08" + _notes([60]))]),
        "mid, meter 255/2^255": _smf([_track(b"\x00\xff\x58\x04\xff\xff\x18\x08" + _notes([60]))]),
        "mid, key signature 200 sharps": _smf([_track(b"\x00\xff\x59\x02\xc8\x00" + _notes([60]))]),
        "mid, meta claiming 256 MB": _smf([_track(b"\x00\xff\x01\xff\xff\xff\x7f" + b"text")]),
        "mid, unterminated sysex": _smf([_track(b"\x00\xf0\x05\x7e\x7f", end=False)]),
        "mid, sysex claiming 256 MB": _smf([_track(b"\x00\xf0\xff\xff\xff\x7fabc")]),
        "mid, note-ons without offs": _smf([_track(b"".join(b"\x00\x90" + bytes([p, 90]) for p in range(40, 80)))]),
        "mid, note-offs without ons": _smf([_track(b"".join(b"\x10\x80" + bytes([p, 0]) for p in range(40, 80)))]),
        "mid, zero-length notes": _smf([_track(b"".join(b"\x00\x90" + bytes([p, 90]) + b"\x00\x80" + bytes([p, 0])
                                                      for p in range(40, 80)))]),
        "mid, velocity 0 everywhere": _smf([_track(_notes([60, 62, 64], velocity=0))]),
        "mid, only meta events": _smf([_track(b"\x00\xff\x03\x04name\x00\xff\x51\x03\x07\xa1\x20")]),
        "mid, drums only": _smf([_track(_notes([36, 38, 42, 36], channel=9, length=120))]),
        "mid, all 16 channels": _smf([_track(b"".join(_notes([40 + c], channel=c) for c in range(16)))]),
        "mid, track name of 64 KB": _smf([_track(b"\x00\xff\x03" + _vlq(65536) + b"x" * 65536 + _notes([60]))]),
        "mid, track name not UTF-8": _smf([_track(b"\x00\xff\x03\x04\xff\xfe\xc0\x80" + _notes([60]))]),
        "mid, a note 37000 hours in": _smf([_track(b"\xff\xff\xff\x70\x90\x3c\x40\x01\x80\x3c\x00")], division=1),
        "mid, garbage after the last track": good + noise(500, 9),
        "mid, MTrk missing": _chunk(b"MThd", struct.pack(">HHH", 1, 1, 480)) + b"XXXX" + melody[4:],
        "mid, RIFF RMID wrapper": b"RIFF" + struct.pack("<I", len(good) + 12) + b"RMIDdata" + struct.pack("<I", len(good)) + good,
        "mid, cut in the middle": good[:len(good) // 2],
        "mid, 10000 notes": _smf([_track(b"".join(_notes([40 + i % 40], length=1 + i % 7) for i in range(10_000)))]),
    }


# --- pictures, video, descriptions, text ---------------------------------------------------------
def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(width: int, height: int, bit_depth: int = 8, colour: int = 2, body: bytes | None = None) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    if body is None:
        body = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def image_cases() -> dict[str, bytes]:
    from PIL import Image

    def saved(image, fmt: str, **options) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        return buffer.getvalue()

    frames = [Image.new("P", (32, 32), colour) for colour in range(200)]
    return {
        "png, valid": image_bytes("PNG"),
        "png, 0 x 0": _png(0, 0),
        "png, 1 x 1": saved(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"),
        "png, 1 x 100000": _png(1, 100_000),
        "png, claims 100000 x 100000": _png(100_000, 100_000),
        "png, 16-bit grey": saved(Image.new("I;16", (40, 30)), "PNG"),
        "png, bit depth 3": _png(8, 8, bit_depth=3),
        "png, IDAT of noise": _png(16, 16, body=noise(200, 4)),
        "png, cut short": image_bytes("PNG")[:40],
        "jpg, CMYK": saved(Image.new("CMYK", (40, 30), (0, 200, 0, 30)), "JPEG"),
        "jpg, cut short": image_bytes("JPEG")[:200],
        "gif, 200 frames": saved(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "bmp, negative height": image_bytes("BMP")[:22] + struct.pack("<i", -32) + image_bytes("BMP")[26:],
        "tiff, two pages": saved(Image.new("RGB", (20, 20)), "TIFF", save_all=True,
                                 append_images=[Image.new("RGB", (20, 20), (9, 9, 9))]),
        "webp, valid": image_bytes("WEBP"),
    }


def video_cases(folder: Path) -> dict[str, bytes]:
    good = video_bytes(folder, seconds=1.0)
    timescale_zero = bytearray(good)
    for box in (b"mvhd", b"mdhd"):
        at = timescale_zero.find(box)
        while at != -1:
            version = timescale_zero[at + 4]
            offset = at + 4 + 4 + (16 if version == 1 else 8)
            timescale_zero[offset:offset + 4] = bytes(4)
            at = timescale_zero.find(box, at + 4)
    rotated = bytearray(good)
    at = rotated.find(b"tkhd")
    if at != -1:  # the display matrix turned 90 degrees
        matrix = at + 4 + 4 + 8 + 4 + 4 + 4 + 8 + 2 + 2 + 2 + 2
        rotated[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    moov = good.find(b"moov")
    return {
        "mp4, valid": good,
        "mp4, timescale 0": bytes(timescale_zero),
        "mp4, rotated 90 degrees": bytes(rotated),
        "mp4, cut in half": good[:len(good) // 2],
        "mp4, no moov": good[:moov - 4] if moov > 4 else good[:100],
        "mp4, ftyp only": good[:32],
        "mp4, mdat of noise": good[:moov - 4] + noise(2000, 11) if moov > 4 else noise(2000, 11),
        "mkv, EBML magic and noise": b"\x1a\x45\xdf\xa3" + noise(3000, 12),
        "avi, RIFF AVI and noise": b"RIFF" + struct.pack("<I", 3000) + b"AVI " + noise(3000, 13),
    }


def description_cases() -> dict[str, bytes]:
    good = json.loads(description_bytes())

    def variant(**changes) -> bytes:
        return json.dumps({**good, **changes}).encode()

    return {
        "json, valid": description_bytes(),
        "json, tempo NaN": variant(tempo=float("nan")),
        "json, duration Infinity": variant(duration=float("inf")),
        "json, duration 1e308": variant(duration=1e308),
        "json, negative tempo": variant(tempo=-120),
        "json, tempo as text": variant(tempo="fast"),
        "json, key H major": variant(key="H major"),
        "json, meter 0/0": variant(time_signature=[0, 0]),
        "json, 100000 hit points": variant(hit_points=[{"time": i * 0.001} for i in range(100_000)]),
        "json, a list, not an object": b"[1, 2, 3]",
        "json, nested 100000 deep": b"[" * 100_000,
        "json, a 1 MB sentence": variant(sentence="la " * 350_000),
        "json, byte-order mark": b"\xef\xbb\xbf" + description_bytes(),
        "json, UTF-16": description_bytes().decode().encode("utf-16"),
        "json, sample rate 0 in a sidecar": variant(sample_rate=0),
    }


def text_cases() -> dict[str, bytes]:
    return {
        "txt, valid": b"calm piano for a rainy evening",
        "txt, only whitespace": b" \n\t \n",
        "txt, NUL bytes": b"calm\x00piano",
        "txt, 1 MB": b"calm piano " * 100_000,
        "txt, one 500 KB word": b"a" * 500_000,
        "txt, right-to-left and emoji": "موسيقى هادئة 🎹🌧️".encode(),
        "txt, not UTF-8": b"\xff\xfe\xfa calm \xc0\x80",
    }


# --- the corpus ----------------------------------------------------------------------------------
def build_corpus(folder: Path) -> list[Case]:
    """Write every hostile file into `folder` (created) and return the cases, in a stable order."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / ".work"
    work.mkdir(exist_ok=True)
    groups = [("audio", audio_cases(work)), ("midi", midi_cases()), ("image", image_cases()),
              ("video", video_cases(work)), ("description", description_cases()), ("text", text_cases())]
    cases: list[Case] = []
    for kind, named in groups:
        for name, data in named.items():
            suffix = "." + name.split(",")[0]
            path = folder / f"{len(cases):03d}{suffix}"  # numbered: what is hostile is in the content
            path.write_bytes(data)
            cases.append(Case(name, path, kind))
    cases += special_cases(folder, start=len(cases))
    return cases


def special_cases(folder: Path, start: int) -> list[Case]:
    """Things that are not plain files, and names that trick."""
    cases = []

    def add(name: str, path: Path, kind: str = "other") -> None:
        cases.append(Case(name, path, kind))

    fifo = folder / f"{start:03d}.wav"
    os.mkfifo(fifo)
    add("a FIFO named .wav", fifo, "audio")
    directory = folder / f"{start + 1:03d}.mid"
    directory.mkdir()
    add("a folder named .mid", directory, "midi")
    loop = folder / f"{start + 2:03d}.wav"
    loop.symlink_to(loop.name)
    add("a symlink to itself", loop, "audio")
    broken = folder / f"{start + 3:03d}.png"
    broken.symlink_to(folder / "nowhere.png")
    add("a broken symlink", broken, "image")
    newline = folder / f"{start + 4:03d} line\nbreak.wav"
    newline.write_bytes(wav_bytes(0.3))
    add("a name with a newline", newline, "audio")
    quotes = folder / f"{start + 5:03d} \"quoted\" 'name'.mid"
    quotes.write_bytes(midi_bytes())
    add("a name with quotes", quotes, "midi")
    dash = folder / f"-{start + 6:03d}.wav"
    dash.write_bytes(wav_bytes(0.3))
    add("a name starting with a dash (given as a full path)", dash, "audio")
    device = Path("/dev/zero")
    add("a device (/dev/zero) as input", device, "audio")
    flac = folder / f"{start + 7:03d}.flac"
    flac.write_bytes(flac_bytes(folder / ".work")[:-300])
    add("flac, cut short", flac, "audio")
    return cases
