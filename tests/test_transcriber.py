"""Audio -> notes with the shipped basic-pitch model, on real renders of a known tune; and the
control signal an audio reference gives (melody contour, tempo-warped onto the beat grid)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from mtm_daw.engine.control import CONTROL_FEATURES, control_from_score
from mtm_daw.engine.reference import control_from_audio
from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry
from mtm_daw.engine.transcriber import (FRAME_HOP, SAMPLE_RATE, TranscribedNote, Transcriber,
                                        NoteSettings)
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.export.wav import write_wav
from mtm_daw.progress import CancelToken
from mtm_daw.render import make_renderer, render_score
from mtm_daw.score.roll import STEPS_PER_BEAT, quantize_score
from mtm_daw.score.score import Note, Score, Track
from mtm_daw.score.transcription import notes_to_score, seconds_to_beats, skyline

RATE = 44100
# Eight bars of a tune in G major: (beats, MIDI pitch).
TUNE = [
    [(1, 67), (0.5, 71), (0.5, 74), (1, 72), (1, 71)],
    [(0.5, 69), (0.5, 71), (0.5, 72), (0.5, 74), (2, 67)],
    [(1, 64), (0.5, 66), (0.5, 67), (1, 69), (1, 71)],
    [(1.5, 72), (0.5, 71), (2, 69)],
    [(1, 74), (0.5, 76), (0.5, 74), (1, 72), (1, 71)],
    [(0.5, 69), (0.5, 67), (0.5, 66), (0.5, 64), (2, 62)],
    [(1, 66), (1, 69), (1, 72), (1, 71)],
    [(2, 69), (2, 67)],
]


def tune_score(bpm: float, program: int = 0) -> Score:
    notes, beat = [], 0.0
    for bar in TUNE:
        for beats, pitch in bar:
            notes.append(Note(beat, beats * 0.9, pitch, 96))
            beat += beats
    return Score(bpm, (4, 4), "G major", {"melody": Track("melody", program, notes)}, 32.0)


@pytest.fixture(scope="module")
def renderer():
    # FluidSynth with the GM SoundFont when installed, else the built-in synth (it transcribes as well)
    return make_renderer(sample_rate=RATE, warn=lambda message: None)


def render(renderer, score: Score) -> np.ndarray:
    return render_score(score, renderer)["melody"].audio  # (2, n)


@pytest.fixture(scope="module")
def references(renderer, tmp_path_factory):
    """The piano tune at 90 and 120 BPM as WAV files: {bpm: path}."""
    folder = tmp_path_factory.mktemp("references")
    paths = {}
    for bpm in (90, 120):
        paths[bpm] = folder / f"tune_{bpm}.wav"
        write_wav(paths[bpm], render(renderer, tune_score(bpm)), RATE)
    return paths


@pytest.fixture(scope="module")
def controls(references):
    return {bpm: control_from_audio(path) for bpm, path in references.items()}


def onset_matches(found: list[TranscribedNote], score: Score, tolerance: float = 0.05) -> tuple[float, float]:
    """(recall, precision): score notes found with the right pitch and onset within `tolerance` s."""
    wanted = [(score.beats_to_seconds(n.onset), n.pitch) for n in score.tracks["melody"].notes]
    def near(t, p, f):
        return f.pitch == p and abs(f.start_s - t) <= tolerance
    recall = np.mean([any(near(t, p, f) for f in found) for t, p in wanted])
    precision = np.mean([any(near(t, p, f) for t, p in wanted) for f in found]) if found else 0.0
    return float(recall), float(precision)


@pytest.mark.parametrize("program", [0, 73], ids=["piano", "flute"])
def test_a_rendered_melody_is_transcribed_note_for_note(renderer, program):
    score = tune_score(120, program)
    stereo = render(renderer, score)
    notes = Transcriber.default().transcribe(stereo.mean(axis=0), RATE)
    recall, precision = onset_matches(notes, score)
    assert recall >= 0.9, f"only {recall:.0%} of the tune's notes found (pitch right, onset within 50 ms)"
    assert precision >= 0.8, f"{1 - precision:.0%} of the transcribed notes are not in the tune"
    for note in notes:
        assert 0 <= note.start_s < note.end_s <= stereo.shape[1] / RATE + 0.02
        assert 1 <= note.velocity <= 127 and 0 < note.confidence <= 1 and isinstance(note.pitch, int)


def test_transcribe_file_reads_and_resamples(references):
    notes = Transcriber.default().transcribe_file(references[90])
    recall, _ = onset_matches(notes, tune_score(90))
    assert recall >= 0.9
    with pytest.raises(MtmError, match="missing.wav"):
        Transcriber.default().transcribe_file(references[90].parent / "missing.wav")


def test_silence_short_and_stereo_input():
    transcriber = Transcriber.default()
    assert transcriber.transcribe(np.zeros(3 * RATE, np.float32), RATE) == []
    faint = np.random.default_rng(0).standard_normal(3 * RATE).astype(np.float32) * 10 ** (-75 / 20)
    assert transcriber.transcribe(faint, RATE) == [], "noise at -75 dBFS is silence"
    assert transcriber.transcribe(np.zeros(0, np.float32), RATE) == []
    # shorter than one model window (2 s): padded; a 0.4 s A4 is one note
    t = np.arange(int(0.4 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t) * np.minimum(1.0, (0.4 - t) * 20)
    notes = transcriber.transcribe(tone.astype(np.float32), SAMPLE_RATE)
    assert [n.pitch for n in notes] == [69] and notes[0].start_s < 0.05
    with pytest.raises(MtmError, match="mono"):
        transcriber.transcribe(np.zeros((2, RATE), np.float32), RATE)
    with pytest.raises(MtmError, match="NaN"):
        transcriber.transcribe(np.full(RATE, np.nan, np.float32), RATE)


def test_long_audio_streams_with_progress_and_cancel(renderer):
    transcriber = Transcriber.default()
    y = render(renderer, tune_score(120)).mean(axis=0)
    seen = []
    maps = transcriber.activations(y, RATE, progress=seen.append)
    assert maps.note.shape == maps.onset.shape == (-(-int(round(len(y) * SAMPLE_RATE / RATE)) // FRAME_HOP), 88)
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        transcriber.transcribe(y, RATE, cancel=token)


def test_a_damaged_model_file_is_named(tmp_path):
    entry = model_entry("transcriber")
    damaged = tmp_path / entry["file"]
    shutil.copy(WEIGHTS_DIR / entry["file"], damaged)
    with damaged.open("r+b") as handle:
        handle.truncate(entry["bytes"] // 2)
    with pytest.raises(MtmError, match=entry["file"]) as checked:
        Transcriber(damaged, sha256=entry["sha256"])
    assert "checksum" in str(checked.value)
    with pytest.raises(MtmError, match=entry["file"]) as loaded:
        Transcriber(damaged)
    assert "not a usable ONNX model" in str(loaded.value)
    with pytest.raises(MtmError, match="between 0 and 1"):
        NoteSettings(onset_threshold=1.5)


def test_skyline_keeps_the_top_line():
    # a melody (72, 74, 76) over a held C major triad, then a block chord alone
    notes = [(0.0, 2.0, 60), (0.0, 2.0, 64), (0.0, 2.0, 67), (0.0, 0.7, 72), (0.7, 1.4, 74), (1.4, 2.0, 76),
             (2.0, 3.0, 62), (2.0, 3.0, 65), (2.0, 3.0, 69)]
    top = skyline(*zip(*notes))
    assert [p for (_, _, p), is_top in zip(notes, top) if is_top] == [72, 74, 76, 69]


def test_notes_to_score_puts_transcribed_notes_on_the_beat_grid(renderer):
    score = tune_score(100)
    y = render(renderer, score).mean(axis=0)
    notes = Transcriber.default().transcribe(y, RATE)
    beat_times = np.arange(0, 40) * 0.6  # 100 BPM, first beat at 0
    back = notes_to_score(notes, 100.0, beat_times[1:])  # the tracker missed the first beat
    assert back.tempo == 100.0 and back.key == "G major" and back.length_beats % 4 == 0
    wanted = {(n.onset, n.pitch) for n in quantize_score(score).tracks["melody"].notes}
    got = {(n.onset, n.pitch) for n in back.tracks["melody"].notes}
    assert len(wanted & got) >= 0.9 * len(wanted), "the transcribed melody lands on its beats"
    assert all(n.onset * STEPS_PER_BEAT == int(n.onset * STEPS_PER_BEAT) for n in back.tracks["melody"].notes)
    # a chord under the tune goes to the harmony track
    chord = [TranscribedNote(0.0, 2.4, p, 80, 0.5) for p in (48, 52, 55)]
    split = notes_to_score(notes + chord, 100.0)
    assert sorted(n.pitch for n in split.tracks["harmony"].notes) == [48, 52, 55]
    assert notes_to_score([], 120.0).tracks["melody"].notes == []
    with pytest.raises(MtmError, match="tempo"):
        notes_to_score(notes, 0.0)


def test_seconds_to_beats_follows_tracked_beats():
    beats = np.array([0.5, 1.0, 1.6, 2.1])  # a little rubato at 120 BPM
    at = seconds_to_beats([0.0, 0.5, 1.3, 2.1, 2.35], 120.0, beats)
    assert np.allclose(at, [0.0, 1.0, 2.5, 4.0, 4.5])
    assert np.allclose(seconds_to_beats([1.5], 90.0), [2.25])


def test_audio_reference_has_the_melody_contour(controls):
    features = controls[90]
    expected = control_from_score(quantize_score(tune_score(90)))  # the tune's own signal
    assert features.shape[1] == CONTROL_FEATURES and features[:, 16].sum() > 0.8 * expected[:, 16].sum()
    steps = min(len(features), len(expected))
    both = (features[:steps, 16] > 0) & (expected[:steps, 16] > 0)
    pitch = np.round(features[:steps, 17] * 18 + 66)
    wanted = np.round(expected[:steps, 17] * 18 + 66)
    assert np.mean((pitch[both] - wanted[both]) % 12 == 0) >= 0.9, "the contour's pitch classes are the tune's"
    melody_onsets = set(np.flatnonzero(features[:steps, 3]))
    assert len(melody_onsets & set(np.flatnonzero(expected[:steps, 3]))) >= 0.9 * expected[:steps, 3].sum()
    chroma_agrees = (features[:steps, 4:16] == expected[:steps, 4:16]).all(axis=1).mean()
    assert chroma_agrees >= 0.9, "the transcribed pitches give the tune's own chroma"


def test_a_90_bpm_reference_lines_up_beat_for_beat_with_a_120_bpm_one(controls):
    slow, fast = controls[90], controls[120]
    steps = 32 * STEPS_PER_BEAT  # the tune's eight bars
    for features in (slow, fast):
        assert len(features) >= steps
    assert np.array_equal(slow[:steps, 3], fast[:steps, 3]), "melody onsets on the same sixteenths"
    same_contour = np.all(slow[:steps, 16:] == fast[:steps, 16:], axis=1).mean()
    assert same_contour >= 0.95
    # and the beats land where the tune's beats are: step 4k is beat k
    expected = control_from_score(quantize_score(tune_score(120)))
    assert np.array_equal(fast[:steps, 3], expected[:steps, 3])
