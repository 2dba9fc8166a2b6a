"""`mtm score`: a picture in, a cue as long as the picture with accents on its cuts, and a muxed copy."""
import json
import subprocess
import sys

import av
import mido
import numpy as np
import pytest

from mtm_daw.data import DEMO_VIDEO
from mtm_daw.description import HitPoint, MusicDescription
from mtm_daw.pipeline import fit_tempo_to_duration


def test_tempo_fit_makes_whole_bars_and_puts_hits_on_beats():
    description = MusicDescription(tempo=118, duration=12.0, hit_points=[HitPoint(3.0), HitPoint(9.0)])
    fitted = fit_tempo_to_duration(description)
    assert fitted.tempo == 120.0
    assert fitted.seconds_to_beats(fitted.duration) % 4 == 0
    assert [fitted.seconds_to_beats(h.time) for h in fitted.hit_points] == [6.0, 18.0]
    unchanged = fit_tempo_to_duration(MusicDescription(tempo=60, duration=1.0))  # no whole bar within 12 %
    assert unchanged.tempo == 60


def test_score_the_demo_video_with_mux(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "score", str(DEMO_VIDEO), "--mux", "--quiet",
                             "-o", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    sidecar = json.loads(next(tmp_path.glob("*_description.json")).read_text())
    description = MusicDescription.from_dict(sidecar["description"])
    assert description.duration == pytest.approx(9.0, abs=0.05)
    tempo = sidecar["score"]["tempo"]
    assert sidecar["score"]["length_beats"] * 60 / tempo == pytest.approx(9.0, abs=0.01), "as long as the picture"

    midi = mido.MidiFile(next(tmp_path.glob("*.mid")))
    ticks = midi.ticks_per_beat
    drums, tick = [], 0
    for message in midi.tracks[1]:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            drums.append((tick / ticks, message.note, message.velocity))
    for hit in description.hit_points:
        beat = hit.time * tempo / 60
        accents = [d for d in drums if abs(d[0] - beat) <= 0.125 and d[2] >= 115]
        assert accents, f"an accent within a sixteenth of the hit at {hit.time:.2f} s"

    muxed = next(tmp_path.glob("*_scored.mp4"))
    with av.open(str(muxed)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        audio = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])
    with av.open(str(muxed)) as container:
        video_frames = sum(1 for _ in container.decode(video=0))
    assert video_frames == 216  # every picture frame copied
    assert np.sqrt(np.mean(audio ** 2)) > 0.01  # the new soundtrack is there
    assert len(audio) / 2 / 48000 == pytest.approx(9.0, abs=0.1)


def test_score_refuses_a_non_video(tmp_path):
    image = tmp_path / "still.png"
    from PIL import Image
    Image.new("RGB", (8, 8)).save(image)
    result = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "score", str(image), "-o", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "not a video" in result.stderr
