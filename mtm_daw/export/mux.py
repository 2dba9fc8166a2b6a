"""A copy of the picture with the new soundtrack: video packets copied as they are, the cue as AAC, and the
clip's own sound kept: as a second, named track, or mixed under the cue (ducked where the clip is loud)."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.media.video import stream_duration
from mtm_daw.mix import fit_to_length

KEEPS_CONTAINER = {".mp4", ".mov", ".m4v", ".mkv"}  # formats that take AAC next to most video codecs
AAC_FRAME = 1024
CUE_TRACK, ORIGINAL_TRACK = "mtm cue", "original sound"
DUCK_DB = 9.0  # how far the cue dips under the clip's own sound at its loudest
DUCK_HOP_SECONDS = 0.02
DUCK_ATTACK_SECONDS, DUCK_RELEASE_SECONDS = 0.01, 0.3


def muxed_suffix(video: Path) -> str:
    return video.suffix.lower() if video.suffix.lower() in KEEPS_CONTAINER else ".mkv"


def mux_soundtrack(video: Path, audio: np.ndarray, sample_rate: int, out_path: Path,
                   mix_original_db: float | None = None) -> None:
    """Write out_path: video's picture + audio (2, n) fitted (a short fade) to the picture's length. The
    clip's own sound, if it has any, is kept as a second track; with mix_original_db it is also mixed under
    the cue at that gain, the cue ducked where the clip is loud."""
    try:
        source = av.open(str(video))
    except av.FFmpegError as error:
        raise MtmError(f"{video}: cannot open the video to add the soundtrack ({error})") from None
    try:
        with source:
            if not source.streams.video:
                raise MtmError(f"{video}: has no video stream")
            duration = stream_duration(source, source.streams.video[0]) or audio.shape[1] / sample_rate
            cue = fit_to_length(audio[:2], sample_rate, duration)
            original = _original_sound(source, sample_rate, cue.shape[1])
        if mix_original_db is not None:
            if original is None:
                raise MtmError(f"{video}: --mix-original: the clip has no sound of its own to mix")
            cue = duck_under(cue, original, sample_rate) + original * np.float32(10 ** (mix_original_db / 20))
        with av.open(str(video)) as source, av.open(str(out_path), "w") as target:
            _write(source, target, sample_rate, [(CUE_TRACK, cue), (ORIGINAL_TRACK, original)])
    except av.FFmpegError as error:
        raise MtmError(f"{video}: could not write the copy with the new soundtrack ({error})") from None


def _original_sound(source, sample_rate: int, samples: int) -> np.ndarray | None:
    """The clip's first audio stream as (2, samples) float32 at sample_rate (cut or padded), or None."""
    if not source.streams.audio:
        return None
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
    out = np.zeros((2, samples), dtype=np.float32)
    at = 0
    for frame in source.decode(source.streams.audio[0]):
        for converted in resampler.resample(frame):
            block = converted.to_ndarray()[:, :samples - at]
            out[:, at:at + block.shape[1]] = block
            at += block.shape[1]
        if at >= samples:
            break
    return out


def duck_under(cue: np.ndarray, original: np.ndarray, sample_rate: int) -> np.ndarray:
    """The cue turned down by up to DUCK_DB where the original is loud (its level against its own loudest
    moments), with a fast attack and a slow release, so dialogue stays clear."""
    hop = max(1, int(DUCK_HOP_SECONDS * sample_rate))
    frames = original.shape[1] // hop
    if frames == 0:
        return cue
    level = np.sqrt(np.mean(np.square(original[:, :frames * hop].reshape(2, frames, hop)), axis=(0, 2)))
    loud = np.percentile(level, 95)
    if loud <= 1e-6:
        return cue
    target = np.clip(level / loud, 0.0, 1.0)
    attack, release = (np.exp(-DUCK_HOP_SECONDS / seconds) for seconds in (DUCK_ATTACK_SECONDS, DUCK_RELEASE_SECONDS))
    envelope, value = np.empty(frames), 0.0
    for index, wanted in enumerate(target):
        coefficient = attack if wanted > value else release
        value = coefficient * value + (1.0 - coefficient) * wanted
        envelope[index] = value
    gain_db = -DUCK_DB * envelope
    hops = (np.arange(frames) + 0.5) * hop
    gain = 10 ** (np.interp(np.arange(cue.shape[1]), hops, gain_db) / 20)
    return (cue * gain.astype(np.float32)).astype(np.float32)


def _write(source, target, sample_rate: int, tracks: list[tuple[str, np.ndarray | None]]) -> None:
    video_in = source.streams.video[0]
    video_out = target.add_stream_from_template(video_in)
    outputs = []
    for title, audio in tracks:
        if audio is None:
            continue
        stream = target.add_stream("aac", rate=sample_rate)
        stream.layout = "stereo"
        stream.metadata["title"] = stream.metadata["handler_name"] = title
        outputs.append((stream, audio))
    for packet in source.demux(video_in):
        if packet.dts is None:
            continue
        packet.stream = video_out
        target.mux(packet)
    for stream, audio in outputs:
        for start in range(0, audio.shape[1], AAC_FRAME):
            block = np.ascontiguousarray(audio[:, start:start + AAC_FRAME])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate = sample_rate
            frame.pts = start
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)
