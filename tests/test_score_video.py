"""`mtm score`: a picture in, a cue as long as the picture with accents on its cuts, and a muxed copy."""
import json
import subprocess
import sys
from pathlib import Path

import av
import mido
import numpy as np
import pytest
from pedalboard.io import AudioFile

from mtm_daw.cli import main
from mtm_daw.data import DEMO_VIDEO
from mtm_daw.description import HitPoint, MusicDescription, fit_tempo_to_duration


def test_tempo_fit_makes_whole_bars_and_puts_hits_on_beats():
    description = MusicDescription(tempo=118, duration=12.0, hit_points=[HitPoint(3.0), HitPoint(9.0)])
    fitted = fit_tempo_to_duration(description)
    assert fitted.tempo == 120.0
    assert fitted.seconds_to_beats(fitted.duration) % 4 == 0
    assert [fitted.seconds_to_beats(h.time) for h in fitted.hit_points] == [6.0, 18.0]
    unchanged = fit_tempo_to_duration(MusicDescription(tempo=60, duration=1.0))  # no whole bar within 12 %
    assert unchanged.tempo == 60


def test_when_no_whole_bar_tempo_puts_the_hits_on_beats_the_music_starts_a_little_into_the_picture():
    """Motion every 2 s from 1.56 s in a 9 s clip asked at 93 BPM: the whole-bar tempi (80, 106.7) lie
    past 12 %; 90 BPM with its first beat 0.229 s in puts all four on beats."""
    hits = [HitPoint(t, 0.5) for t in (1.5625, 3.5625, 5.5625, 7.5625)]
    fitted = fit_tempo_to_duration(MusicDescription(tempo=93, duration=9.0, hit_points=hits))
    assert (fitted.tempo, fitted.start) == (90.0, 0.229)
    assert [round(beat, 2) for beat in fitted.hit_point_beats()] == [2.0, 5.0, 8.0, 11.0]
    music = fitted.from_first_beat()  # what the composer follows: its first beat at 0
    assert (music.start, music.duration, [h.time for h in music.hit_points]) == (0.0, 8.771, [1.333, 3.333, 5.333, 7.333])
    # a whole-bar tempo near the request that puts the hits on beats is still preferred: no start
    whole = fit_tempo_to_duration(MusicDescription(tempo=118, duration=12.0, hit_points=[HitPoint(3.0), HitPoint(9.0)]))
    assert (whole.tempo, whole.start) == (120.0, 0.0)


def test_the_cue_of_a_clip_starting_off_the_bar_lands_its_beats_on_the_motion(tmp_path):
    """End to end: the clip above, scored; stems, mix and MIDI on the picture's clock (the notes start at the
    fitted start), and the beats heard in the mix fall on the bursts (BeatMSE ~36,000 ms^2 at a start of 0)."""
    import visual_media as vm
    from mtm_daw.evaluation.rhythm import beat_mse, music_beats

    bursts = [1.5, 3.5, 5.5, 7.5]
    video, _ = vm.write_burst_video(tmp_path / "bursts.mp4", bursts, seconds=9.0)
    assert main(["score", str(video), "--engine", "baseline", "--quiet", "-o", str(tmp_path / "cue")]) == 0
    sidecar = json.loads(next((tmp_path / "cue").glob("*_description.json")).read_text())
    start, tempo = sidecar["description"]["start"], sidecar["description"]["tempo"]
    assert 0.1 < start < 60.0 / tempo
    midi = mido.MidiFile(next((tmp_path / "cue").glob("*.mid")))
    first = min(sum(m.time for m in track[:i + 1]) for track in midi.tracks[1:]
                for i, m in enumerate(track) if m.type == "note_on")
    assert first / midi.ticks_per_beat * 60.0 / tempo == pytest.approx(start, abs=0.002)
    with AudioFile(str(next((tmp_path / "cue").glob("*_mix.wav")))) as handle:
        mix, rate = handle.read(handle.frames), handle.samplerate
    assert mix.shape[1] == round(9.0 * rate)
    before, after = np.abs(mix[:, :int(0.9 * start * rate)]).max(), np.abs(mix[:, int(start * rate):rate]).max()
    assert before < 0.01 * after  # silent (40 dB down) until the music's first beat
    assert beat_mse(music_beats(mix, rate), bursts) < 15_000


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
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 2  # the cue, the clip's own
        audio = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])
    with av.open(str(muxed)) as container:
        video_frames = sum(1 for _ in container.decode(video=0))
    assert video_frames == 216  # every picture frame copied
    assert np.sqrt(np.mean(audio ** 2)) > 0.01  # the new soundtrack is there
    assert len(audio) / 2 / 48000 == pytest.approx(9.0, abs=0.1)


def test_score_refuses_what_is_not_a_picture(tmp_path):
    sound = tmp_path / "take.wav"
    with AudioFile(str(sound), "w", 22050, 1) as handle:
        handle.write(np.zeros((1, 22050), np.float32))
    result = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "score", str(sound), "-o", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "not a picture" in result.stderr


def _wav_seconds(folder: Path) -> dict[str, float]:
    lengths = {}
    for path in sorted(folder.glob("*.wav")):
        with AudioFile(str(path)) as handle:
            lengths[path.name.rsplit("_", 1)[-1]] = handle.frames / handle.samplerate
    return lengths


def test_a_still_image_is_scored_in_one_step_for_exactly_the_duration(tmp_path, capsys):
    """`mtm score still.png --duration 12.5` (refused before: "not a video"): every stem and the mix are
    12.5 s to the sample, the cue whole bars at a tempo fitted to that length."""
    image = tmp_path / "still.png"
    from PIL import Image
    Image.new("RGB", (64, 48), (30, 40, 120)).save(image)
    assert main(["score", str(image), "--duration", "12.5", "--engine", "baseline", "--quiet",
                 "-o", str(tmp_path / "cue")]) == 0
    assert set(_wav_seconds(tmp_path / "cue").values()) == {12.5}
    assert len(_wav_seconds(tmp_path / "cue")) == 5  # four stems and the mix
    sidecar = json.loads(next((tmp_path / "cue").glob("*_description.json")).read_text())
    assert sidecar["score"]["length_beats"] * 60 / sidecar["score"]["tempo"] == pytest.approx(12.5, abs=1e-3)
    capsys.readouterr()
    assert main(["score", str(image), "--mux", "-o", str(tmp_path / "muxed")]) == 2
    assert "a still image has no video" in capsys.readouterr().err
    assert main(["score", str(DEMO_VIDEO), "--duration", "5", "-o", str(tmp_path / "video")]) == 2
    assert "--duration is for a still image" in capsys.readouterr().err


def test_one_tempo_from_describe_to_score_and_the_cue_ends_with_the_picture(tmp_path, capsys):
    """describe shows the tempo that score plays (98 vs 100, 126 vs 120 before); stems and mix end at the
    picture's end with a short fade (a bar past it before), and --tail keeps the release."""
    assert main(["describe", str(DEMO_VIDEO), "--json", "--quiet"]) == 0
    described = MusicDescription.from_dict(json.loads(capsys.readouterr().out))
    assert main(["score", str(DEMO_VIDEO), "--engine", "baseline", "--quiet", "-o", str(tmp_path / "cue")]) == 0
    sidecar = json.loads(next((tmp_path / "cue").glob("*_description.json")).read_text())
    assert sidecar["score"]["tempo"] == described.tempo
    picture = described.duration
    lengths = _wav_seconds(tmp_path / "cue")
    assert len(lengths) == 5 and all(abs(seconds - picture) <= 1 / 48000 for seconds in lengths.values()), lengths
    with AudioFile(str(next((tmp_path / "cue").glob("*_mix.wav")))) as handle:
        mix = handle.read(handle.frames)
    assert np.abs(mix[:, -48:]).max() < 0.02 < np.abs(mix[:, -4800:-2400]).max()  # faded, not cut off
    assert main(["score", str(DEMO_VIDEO), "--engine", "baseline", "--tail", "--quiet", "-o", str(tmp_path / "tail")]) == 0
    assert min(_wav_seconds(tmp_path / "tail").values()) > picture + 1.0


def _voice(times: np.ndarray) -> np.ndarray:
    """A 300 Hz 'voice' talking from 1.0 to 2.5 s, silent otherwise."""
    return np.where((times >= 1.0) & (times < 2.5), 0.5 * np.sin(2 * np.pi * 300 * times), 0.0)


def _tracks(muxed: Path) -> dict[str, np.ndarray]:
    """Each audio track's samples (mono mean), by its name."""
    tracks = {}
    with av.open(str(muxed)) as container:
        names = [stream.metadata.get("handler_name") or stream.metadata.get("title") for stream in container.streams.audio]
    for index, name in enumerate(names):
        with av.open(str(muxed)) as container:
            tracks[name] = np.concatenate([frame.to_ndarray().mean(axis=0) for frame in container.decode(audio=index)])
    return tracks


def _band(samples: np.ndarray, start: float, stop: float, rate: int = 48000) -> float:
    """The 300 Hz level between start and stop seconds."""
    part = samples[int(start * rate):int(stop * rate)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(spectrum[int(300 * len(part) / rate)] / len(part))


def test_mux_keeps_the_clips_own_sound_and_can_mix_it_under_the_cue(tmp_path):
    """--mux replaced the clip's audio silently before. Now the copy holds the cue and, as a second named
    track, the clip's own sound; --mix-original -6 also mixes it into the first track, the cue ducked while
    the clip is loud."""
    from tests.visual_media import write_colour_video

    clip = write_colour_video(tmp_path / "talk.mp4", (200, 60, 50), seconds=4.0, with_audio=True, sound=_voice)
    assert main(["score", str(clip), "--engine", "baseline", "--mux", "--quiet", "-o", str(tmp_path / "kept")]) == 0
    kept = _tracks(next((tmp_path / "kept").glob("*_scored.mp4")))
    assert list(kept) == ["mtm cue", "original sound"]
    assert _band(kept["original sound"], 1.2, 2.3) > 20 * _band(kept["original sound"], 2.8, 3.8)  # the voice, kept
    assert main(["score", str(clip), "--engine", "baseline", "--mux", "--mix-original", "-6", "--quiet",
                 "-o", str(tmp_path / "mixed")]) == 0
    mixed = _tracks(next((tmp_path / "mixed").glob("*_scored.mp4")))
    assert _band(mixed["mtm cue"], 1.2, 2.3) > 0.3 * _band(kept["original sound"], 1.2, 2.3)  # the voice is in the mix
    from mtm_daw.export.mux import duck_under

    cue = np.ones((2, 48000 * 4), np.float32)
    voice = np.tile(_voice(np.arange(48000 * 4) / 48000).astype(np.float32), (2, 1))
    ducked = duck_under(cue, voice, 48000)
    assert ducked[0, int(2.0 * 48000)] < 10 ** (-8 / 20) and ducked[0, int(0.5 * 48000)] > 0.99  # down under the voice only
    assert ducked[0, int(2.6 * 48000)] > ducked[0, int(2.0 * 48000)]  # and back up after it


def test_mix_original_needs_mux_and_a_clip_with_sound(tmp_path, capsys):
    assert main(["score", str(DEMO_VIDEO), "--mix-original", "-6", "-o", str(tmp_path / "a")]) == 2
    assert "--mix-original DB goes with --mux" in capsys.readouterr().err
    from tests.visual_media import write_colour_video

    silent = write_colour_video(tmp_path / "mute.mp4", (20, 60, 150), seconds=2.0)
    assert main(["score", str(silent), "--engine", "baseline", "--mux", "--mix-original", "-6", "--quiet",
                 "-o", str(tmp_path / "b")]) == 2
    assert "the clip has no sound of its own to mix" in capsys.readouterr().err
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
