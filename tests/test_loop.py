"""Bar-exact seamless loops: every file exactly N bars of samples, no click where the loop comes round,
loop points in the WAV (smpl, cue) and the MIDI (markers, CC111)."""
import mido
import numpy as np
import pytest

from audio_files import read_audio
from mtm_daw.cli import main
from mtm_daw.description import MusicDescription
from mtm_daw.generation import GenerationSettings
from mtm_daw.errors import MtmError
from mtm_daw.export.wav import read_chunks, read_loop_points
from mtm_daw.pipeline import RenderSettings, compose_cue, cue_from_score
from mtm_daw.pipeline.loop import cut_to_bars, loop_samples, seam_discontinuity, wrap_tail
from mtm_daw.pipeline.remake import reproduce_cue
from mtm_daw.progress import Steps
from mtm_daw.score.score import Note, Score, Track

SR = 48000


@pytest.fixture(scope="module")
def loop_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loop")
    assert main(["compose", "--loop", "2", "--genre", "ambient", "--tempo", "117", "--key", "D minor", "--seed", "2",
                 "--quiet", "-o", str(folder)]) == 0
    return folder


def test_every_file_is_exactly_the_loops_bars_long(loop_folder):
    samples = round(2 * 4 * 60 / 117 * SR)  # 2 bars of 4/4 at 117 BPM = 196923.08 samples
    wavs = sorted(loop_folder.glob("*.wav"))
    assert len(wavs) == 5
    for path in wavs:
        assert read_audio(path).shape == (2, samples), path.name
    midi = mido.MidiFile(loop_folder / "cue_117bpm_Dmin.mid")
    assert midi.length == pytest.approx(2 * 4 * 60 / 117, abs=1e-5)  # the tempo in whole microseconds a beat


def test_the_seam_is_no_louder_than_any_step_in_the_loop(loop_folder):
    sounding = []
    for path in sorted(loop_folder.glob("*.wav")):
        seam, typical = seam_discontinuity(read_audio(path))
        print(f"{path.name}: seam step {seam:.5f}, 99th percentile step {typical:.5f}")
        if typical == 0.0:  # a stem the model left silent in these two bars: nothing to click
            assert seam == 0.0, f"{path.name}: a click in a silent stem"
            continue
        sounding.append(path.name)
        assert seam < typical, f"{path.name}: a click where the loop comes round"
    assert "cue_117bpm_Dmin_mix.wav" in sounding and len(sounding) >= 3, sounding


def test_without_wrapping_the_same_loop_clicks(loop_folder):
    """The check has teeth: the loop's score rendered as a plain cue and cut at the loop's length."""
    cue = reproduce_cue(loop_folder / "cue_117bpm_Dmin_description.json", warn=lambda m: None)
    assert cue.loop_bars == 2
    plain = cue_from_score(cue.score, cue.description, 2, "baseline", RenderSettings(),
                           Steps(lambda stage, fraction: None, ["render", "mix"]), warn=lambda m: None)
    period = loop_samples(cue.score, SR)
    seam, typical = seam_discontinuity(plain.stems["harmony"].audio[:, :period])
    assert seam > 3 * typical


def test_loop_points_parse_back_from_wav_and_midi(loop_folder):
    samples = round(2 * 4 * 60 / 117 * SR)
    for path in sorted(loop_folder.glob("*.wav")):
        points = read_loop_points(path)
        assert (points.start, points.end) == (0, samples)
        assert points.cues == [0, samples] and points.labels == ["Loop start", "Loop end"]
        assert b"INFO" in read_chunks(path)[b"LIST"], "the tags are still there"
    midi = mido.MidiFile(loop_folder / "cue_117bpm_Dmin.mid")
    markers, tick = {}, 0
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "marker":
            markers[message.text] = tick
    assert markers == {"loopStart": 0, "loopEnd": 2 * 4 * midi.ticks_per_beat}
    for track in midi.tracks[1:]:
        first = next(m for m in track if m.type == "control_change")
        assert (first.control, first.value) == (111, 0)


def test_an_odd_meter_loop_from_the_trained_model(tmp_path):
    description = MusicDescription(genre="jazz", tempo=93, key="F major", time_signature=(7, 8))
    cue = compose_cue(description, seed=1, engine="dit", loop_bars=3, warn=lambda m: None,
                      generation=GenerationSettings(steps=4))
    samples = round(3 * 3.5 * 60 / 93 * SR)
    assert cue.mix.shape[1] == samples and {s.audio.shape[1] for s in cue.stems.values()} == {samples}
    assert cue.score.length_beats == 10.5 and cue.score.bars == 3
    assert all(note.end <= 10.5 + 1e-9 for track in cue.score.tracks.values() for note in track.notes)
    for audio in [cue.mix] + [stem.audio for stem in cue.stems.values()]:
        seam, typical = seam_discontinuity(audio)
        assert seam <= typical


def test_wrapping_adds_the_tail_onto_the_start():
    audio = np.zeros((2, 25), dtype=np.float32)
    audio[:, :10] = 1.0
    audio[:, 10:] = np.arange(15, dtype=np.float32)  # a tail one and a half loops long
    wrapped = wrap_tail(audio, 10, fade_seconds=0.0)
    assert wrapped.shape == (2, 10)
    assert wrapped[0].tolist() == [1 + 0 + 10, 1 + 1 + 11, 1 + 2 + 12, 1 + 3 + 13, 1 + 4 + 14] + [1 + k for k in
                                                                                                  range(5, 10)]


def test_cut_to_bars_keeps_the_first_bars_and_ends_held_notes_there():
    score = Score(120, (3, 4), "C major", {"melody": Track("melody", 0, [
        Note(0, 1, 60, 90), Note(5, 2, 62, 90), Note(6, 1, 64, 90)])}, 9.0)
    cut = cut_to_bars(score, 2)
    assert cut.length_beats == 6 and [(n.onset, n.duration) for n in cut.tracks["melody"].notes] == [(0, 1), (5, 1)]


@pytest.mark.parametrize("args,message", [(["--loop", "0"], "--loop needs a whole number of bars"),
                                          (["--loop", "4", "--duration", "8"], "either --loop BARS or --duration")])
def test_bad_loop_requests_are_refused(args, message, capsys):
    assert main(["compose", *args, "-o", "/nonexistent/never"]) == 2
    assert message in capsys.readouterr().err
    with pytest.raises(MtmError, match="above the 600 s maximum"):
        compose_cue(MusicDescription(tempo=20), loop_bars=100)
