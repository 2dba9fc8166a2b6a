"""A copy of the picture with the new soundtrack: video packets copied as they are, the mix as AAC."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.media.video import stream_duration
from mtm_daw.mix import fit_to_length

KEEPS_CONTAINER = {".mp4", ".mov", ".m4v", ".mkv"}  # formats that take AAC next to most video codecs
AAC_FRAME = 1024


def muxed_suffix(video: Path) -> str:
    return video.suffix.lower() if video.suffix.lower() in KEEPS_CONTAINER else ".mkv"


def mux_soundtrack(video: Path, audio: np.ndarray, sample_rate: int, out_path: Path) -> None:
    """Write out_path: video's picture + audio (2, n) trimmed (with a short fade) to the picture's length."""
    try:
        source = av.open(str(video))
    except av.FFmpegError as error:
        raise MtmError(f"{video}: cannot open the video to add the soundtrack ({error})") from None
    try:
        with source, av.open(str(out_path), "w") as target:
            _copy_with_soundtrack(source, target, video, audio, sample_rate)
    except av.FFmpegError as error:
        raise MtmError(f"{video}: could not write the copy with the new soundtrack ({error})") from None


def _copy_with_soundtrack(source, target, video: Path, audio: np.ndarray, sample_rate: int) -> None:
    if not source.streams.video:
        raise MtmError(f"{video}: has no video stream")
    video_in = source.streams.video[0]
    video_out = target.add_stream_from_template(video_in)
    audio_out = target.add_stream("aac", rate=sample_rate)
    audio_out.layout = "stereo"
    duration = stream_duration(source, video_in) or audio.shape[1] / sample_rate
    for packet in source.demux(video_in):
        if packet.dts is None:
            continue
        packet.stream = video_out
        target.mux(packet)
    soundtrack = fit_to_length(audio[:2], sample_rate, duration)
    for start in range(0, soundtrack.shape[1], AAC_FRAME):
        block = np.ascontiguousarray(soundtrack[:, start:start + AAC_FRAME])
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = start
        for packet in audio_out.encode(frame):
            target.mux(packet)
    for packet in audio_out.encode():
        target.mux(packet)
