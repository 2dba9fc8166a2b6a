"""The built-in synthesiser: audible where notes play, silent in gaps, in tune, on time, deterministic."""
from __future__ import annotations

import numpy as np
import pytest

from mtm_daw.errors import MtmError
from mtm_daw.render.synth import render_track
from mtm_daw.score import gm
from mtm_daw.score.score import Note, Track

SR = 24000
TEMPO = 120.0  # two beats per second


def dbfs_rms(audio: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))) + 1e-12)


def window(audio: np.ndarray, start_beat: float, end_beat: float, sr: int = SR) -> np.ndarray:
    return audio[:, int(start_beat * 0.5 * sr):int(end_beat * 0.5 * sr)]


def two_phrases(notes_in_bar: list[Note]) -> list[Note]:
    """The same bar at beats 0-4 and again at beats 12-16, leaving beats 4-12 without notes."""
    return notes_in_bar + [Note(n.onset + 12, n.duration, n.pitch, n.velocity) for n in notes_in_bar]


DRUMS = Track("drums", 0, two_phrases(
    [Note(b, 0.25, gm.KICK, 110) for b in (0, 2)]
    + [Note(b, 0.25, gm.SNARE, 100) for b in (1, 3)]
    + [Note(b * 0.5, 0.25, gm.CLOSED_HAT, 80) for b in range(8)]), is_drum=True)
BASS = Track("bass", 33, two_phrases([Note(b, 0.9, p, 100) for b, p in enumerate((38, 38, 41, 43))]))
HARMONY = Track("harmony", 48, two_phrases([Note(b, 2, p, 90) for b in (0, 2) for p in (62, 65, 69, 72)]))
MELODY = Track("melody", 73, two_phrases([Note(b * 0.5, 0.5, 74 + b % 5, 100) for b in range(8)]))


@pytest.mark.parametrize("track", [DRUMS, BASS, HARMONY, MELODY], ids=lambda t: t.role)
def test_each_role_is_audible_where_notes_play_and_silent_in_the_gap(track: Track):
    audio = render_track(track, TEMPO, SR, n_samples=int(8.0 * SR))  # 16 beats
    assert dbfs_rms(window(audio, 0, 4)) > -35
    assert dbfs_rms(window(audio, 12, 16)) > -35
    assert dbfs_rms(window(audio, 6, 12)) < -60  # two beats (1 s) allowed for the release tail


@pytest.mark.parametrize("program", range(0, 128, 8), ids=lambda p: gm.program_name(p))
def test_every_program_family_sounds_and_stops(program: int):
    track = Track("harmony", program, [Note(0, 1, 60, 100), Note(0, 1, 64, 100)])
    audio = render_track(track, TEMPO, SR, n_samples=int(3.0 * SR))
    assert dbfs_rms(window(audio, 0, 1)) > -35
    assert dbfs_rms(window(audio, 3, 6)) < -60


@pytest.mark.parametrize("key", sorted(gm.DRUM_NAMES) + [60, 81])  # 60 hi bongo, 81 open triangle: not in the map
def test_every_drum_key_is_a_hit(key: int):
    audio = render_track(Track("drums", 0, [Note(0, 0.25, key, 100)], is_drum=True), TEMPO, SR, SR)
    assert dbfs_rms(audio[:, :int(0.05 * SR)]) > -40


@pytest.mark.parametrize("program", [16, 48, 73])  # organ, strings, flute
def test_sustained_a3_is_in_tune(program: int):
    sr = 48000
    audio = render_track(Track("melody", program, [Note(0, 4, 57, 100)]), TEMPO, sr, 2 * sr)
    steady = audio[0, int(0.5 * sr):int(1.9 * sr)]
    spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady))))
    peak_hz = np.argmax(spectrum) * sr / len(steady)
    harmonic = max(1, round(peak_hz / 220.0))
    assert harmonic <= 4, peak_hz  # the low harmonics carry the energy of these timbres
    assert abs(peak_hz - 220.0 * harmonic) / (220.0 * harmonic) < 0.02, peak_hz


def test_note_starts_exactly_at_its_onset():
    sr = 48000
    audio = render_track(Track("melody", 0, [Note(2, 1, 60, 100)]), 120.0, sr, 2 * sr)
    assert np.max(np.abs(audio[:, :47900])) < 1e-7
    assert np.max(np.abs(audio[:, 48000:48000 + int(0.02 * sr)])) > 0.01


def test_output_is_deterministic_float32_stereo_without_nan():
    n = 5 * SR
    first = render_track(DRUMS, TEMPO, SR, n)
    second = render_track(DRUMS, TEMPO, SR, n)
    assert first.shape == (2, n) and first.dtype == np.float32
    assert np.array_equal(first, second)
    assert np.all(np.isfinite(render_track(HARMONY, TEMPO, SR, n)))


@pytest.mark.parametrize("program", [0, 16, 24, 48, 61, 80, 89])
def test_four_voice_chord_at_velocity_100_does_not_clip(program: int):
    chord = Track("harmony", program, [Note(0, 2, p, 100) for p in (48, 55, 60, 64)])
    assert np.max(np.abs(render_track(chord, TEMPO, SR, 2 * SR))) < 1.0


def test_velocity_survives_rendering():
    loud = render_track(Track("melody", 80, [Note(0, 1, 69, 120)]), TEMPO, SR, SR)
    soft = render_track(Track("melody", 80, [Note(0, 1, 69, 40)]), TEMPO, SR, SR)
    assert dbfs_rms(loud) - dbfs_rms(soft) > 6


def test_notes_past_the_end_are_clipped_not_an_error():
    track = Track("bass", 33, [Note(1.9, 4, 40, 100), Note(10, 1, 40, 100)])
    audio = render_track(track, TEMPO, SR, SR)
    assert audio.shape == (2, SR) and np.max(np.abs(audio)) > 0.01


def test_bad_tempo_is_refused():
    with pytest.raises(MtmError, match="tempo"):
        render_track(MELODY, 0.0, SR, SR)
