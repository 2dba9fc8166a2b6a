"""Tempo, key and loudness on synthetic music whose answers are known."""
from __future__ import annotations

import json

import librosa
import numpy as np
import pytest
from pedalboard.io import AudioFile

from mtm_daw.analysis import (analyze_audio, estimate_key, estimate_tempo, integrated_loudness,
                              key_from_pitch_class_histogram, peak_dbfs)
from mtm_daw.analysis.audio import listen_to_file
from mtm_daw.analysis.loudness import LoudnessMeter
from mtm_daw.analysis.tempo import fit_beat_period
from mtm_daw.errors import MtmError
from mtm_daw.media import load_audio
from mtm_daw.score.theory import SCALE_STEPS, parse_key

SR = 22050


# ---------------------------------------------------------------- synthetic music

def drum_track(bpm: float, seconds: float = 10.0, sr: int = SR) -> np.ndarray:
    """Kick-like pitch-dropping sine bursts on each beat, softer noisy hats on the off-beats."""
    rng = np.random.default_rng(int(bpm))
    y = np.zeros(int(seconds * sr), np.float32)
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * np.cumsum(55 * (1 + 2 * np.exp(-40 * t))) / sr) * np.exp(-18 * t)
    hat = (np.sin(2 * np.pi * 300 * t) + 0.5 * rng.standard_normal(len(t))) * np.exp(-40 * t)
    period = 60.0 / bpm
    for beat in np.arange(0.0, seconds, period):
        for start, sound, gain in ((beat, kick, 0.8), (beat + period / 2, hat, 0.25)):
            i = int(start * sr)
            n = min(len(sound), len(y) - i)
            if n > 0:
                y[i:i + n] += gain * sound[:n]
    return y


def cadence(key_name: str, chord_seconds: float = 1.0, repeats: int = 2, sr: int = SR) -> np.ndarray:
    """I-IV-V-I (major) or i-iv-V-i (minor, raised leading tone) as tones with 6 harmonics."""
    key = parse_key(key_name)
    steps = SCALE_STEPS[key.mode]

    def triad(degree: int) -> list[int]:
        notes = []
        for d in (degree, degree + 2, degree + 4):
            semitones = steps[d % 7] + 12 * (d // 7)
            if key.mode == "minor" and degree == 4 and d % 7 == 6:
                semitones += 1  # harmonic minor V
            notes.append(semitones)
        return notes

    t = np.arange(int(chord_seconds * sr)) / sr
    envelope = np.minimum(1.0, t * 50) * np.exp(-1.5 * t)
    chords = []
    for degrees in [(0, 3, 4, 0)] * repeats:
        for degree in degrees:
            x = np.zeros_like(t)
            for i, semitones in enumerate(triad(degree)):
                midi = 48 + key.tonic + semitones - (12 if i == 0 else 0)  # root doubled low
                freq = 440.0 * 2 ** ((midi - 69) / 12)
                for h in range(1, 7):
                    if freq * h < sr / 2:
                        x += np.sin(2 * np.pi * freq * h * t) / h ** 1.2
            chords.append(x * envelope)
    y = np.concatenate(chords)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def sine(amplitude: float, seconds: float, sr: int = 48000, freq: float = 1000.0) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


# ---------------------------------------------------------------- tempo

@pytest.mark.parametrize("bpm", [85, 100, 120, 140])
def test_tempo_within_two_bpm(bpm):
    estimate = estimate_tempo(drum_track(bpm), SR)
    assert estimate.bpm == pytest.approx(bpm, abs=2.0)
    assert len(estimate.beat_times) >= 10
    assert np.all(np.diff(estimate.beat_times) > 0)
    assert estimate.confidence > 0.5


def test_tempo_at_other_sample_rates():
    y = drum_track(128, seconds=8.0, sr=44100)
    assert estimate_tempo(y, 44100).bpm == pytest.approx(128, abs=2.0)


def test_tempo_without_pulse():
    silence = estimate_tempo(np.zeros(SR * 4, np.float32), SR)
    assert silence.bpm == 0.0 and silence.confidence == 0.0 and len(silence.beat_times) == 0
    assert estimate_tempo(drum_track(120)[: SR], SR).bpm == 0.0  # one second is too short
    with pytest.raises(MtmError, match="mono"):
        estimate_tempo(np.zeros((2, SR * 4)), SR)


def test_fit_beat_period_ignores_a_missed_beat():
    times = 0.1 + 0.5 * np.array([0, 1, 2, 4, 5, 6, 7])  # beat 3 missing
    period, residual = fit_beat_period(times + np.array([0, 0.01, -0.01, 0, 0.01, -0.01, 0]))
    assert period == pytest.approx(0.5, abs=0.003) and residual < 0.02


# ---------------------------------------------------------------- key

@pytest.mark.parametrize("key_name", ["C major", "D major", "F# major", "Bb major",
                                      "A minor", "D minor", "F# minor", "Eb minor"])
def test_key_of_cadences(key_name):
    estimate = estimate_key(cadence(key_name), SR)
    assert estimate.key == parse_key(key_name) and estimate.key.name == key_name
    assert estimate.confidence > 0.5
    assert len(estimate.scores) == 24 and max(estimate.scores.values()) == estimate.scores[estimate.key.name]


def test_key_from_note_histogram_shares_the_core():
    # note durations of a G major scale tune with tonic and dominant weight
    hist = np.zeros(12)
    for pc, weight in zip([7, 9, 11, 0, 2, 4, 6], [4, 1, 2, 1, 3, 1, 1]):
        hist[pc] = weight
    assert key_from_pitch_class_histogram(hist).key == parse_key("G major")
    flat = key_from_pitch_class_histogram(np.ones(12))
    assert flat.confidence == 0.0
    for bad in ([1, 2, 3], np.zeros(12), [-1] + [1] * 11, [np.nan] * 12):
        with pytest.raises(MtmError, match="histogram"):
            key_from_pitch_class_histogram(bad)


def test_key_of_silence_is_an_error():
    with pytest.raises(MtmError, match="silent"):
        estimate_key(np.zeros(SR * 2, np.float32), SR)


# ---------------------------------------------------------------- loudness

def test_loudness_of_a_sine():
    quiet = sine(0.1, 3.0)  # -20 dBFS peak, -23 dBFS RMS: about -23 LUFS at 1 kHz
    lufs = integrated_loudness(np.stack([quiet, quiet]), 48000)
    assert lufs == pytest.approx(-20.0, abs=1.5)  # two channels add ~3 LU
    assert integrated_loudness(quiet, 48000) == pytest.approx(-23.0, abs=1.0)
    louder = integrated_loudness(2 * quiet, 48000)
    assert louder - integrated_loudness(quiet, 48000) == pytest.approx(6.02, abs=0.1)
    assert peak_dbfs(quiet) == pytest.approx(-20.0, abs=0.01)


def test_loudness_of_short_clips_and_silence():
    short = sine(0.1, 0.1)  # shorter than one 400 ms block: looped to fill it
    assert integrated_loudness(short, 48000) == pytest.approx(-23.0, abs=1.0)
    assert integrated_loudness(np.zeros((2, 48000)), 48000) == float("-inf")
    assert peak_dbfs(np.zeros(10)) == float("-inf")
    with pytest.raises(MtmError, match="empty"):
        integrated_loudness(np.zeros((2, 0)), 48000)


def test_loudness_streamed_in_any_chunks_matches_one_pass():
    rng = np.random.default_rng(4)
    signal = (rng.standard_normal((2, 44100 * 7 + 123)) * np.linspace(0.02, 0.4, 44100 * 7 + 123)).astype(np.float32)
    meter = LoudnessMeter(44100, 2)
    for first, size in zip(np.cumsum([0, 1, 999, 17640, 100000]), (1, 999, 17640, 100000, 10 ** 6)):
        meter.add(signal[:, first:first + size])
    assert meter.lufs() == pytest.approx(integrated_loudness(signal, 44100), abs=1e-9)
    short = LoudnessMeter(48000, 1)
    for part in np.split(sine(0.1, 0.1), 4):  # a clip shorter than one block, given in pieces: looped
        short.add(part[None, :])
    assert short.lufs() == pytest.approx(integrated_loudness(sine(0.1, 0.1), 48000), abs=1e-9)


def test_listening_reads_a_file_once_for_every_analysis(tmp_path):
    mix = drum_track(100, seconds=8.0, sr=44100) + 1.5 * cadence("D minor", sr=44100)
    stereo = np.stack([mix, 0.8 * mix]).astype(np.float32) * 0.5
    path = tmp_path / "loop.flac"
    with AudioFile(str(path), "w", 44100, 2) as f:
        f.write(stereo)
    listening = listen_to_file(path)
    audio = load_audio(path)
    assert listening.sample_rate == 44100 and listening.channels == 2 and listening.mono_rate == 22050
    assert listening.duration == pytest.approx(audio.duration)
    assert listening.loudness_lufs == pytest.approx(integrated_loudness(audio.samples, 44100), abs=1e-6)
    assert listening.peak_dbfs == pytest.approx(peak_dbfs(audio.samples), abs=1e-6)
    whole = librosa.resample(audio.to_mono(), orig_sr=44100, target_sr=22050)  # resampled in one go
    assert abs(len(listening.mono) - len(whole)) <= 2
    n = min(len(whole), len(listening.mono))
    assert np.abs(listening.mono[:n] - whole[:n]).max() < 1e-3  # streamed soxr: the same signal
    short = listen_to_file(path, max_seconds=2.0)
    assert short.duration == pytest.approx(2.0, abs=1e-3)


# ---------------------------------------------------------------- everything at once

def test_analyze_audio_file(tmp_path):
    mix = drum_track(100, seconds=8.0, sr=44100) + 1.5 * cadence("D minor", sr=44100)
    path = tmp_path / "loop.wav"
    with AudioFile(str(path), "w", 44100, 2) as f:  # written at 44.1 kHz, analysed at 22.05 kHz
        f.write(np.stack([mix, 0.8 * mix]) * 0.5)
    analysis = analyze_audio(path)
    assert analysis.sample_rate == 44100 and analysis.channels == 2
    assert analysis.duration == pytest.approx(8.0, abs=0.01)
    assert analysis.bpm == pytest.approx(100, abs=2.0)
    assert analysis.key == "D minor"
    assert -40 < analysis.loudness_lufs < -5 and analysis.peak_dbfs <= 0
    data = json.loads(json.dumps(analysis.to_dict()))
    assert data["key"] == "D minor" and data["path"].endswith("loop.wav")
    assert len(data["beat_times"]) == len(analysis.beat_times)
    again = analyze_audio(load_audio(path, sample_rate=22050))  # an Audio works as well
    assert again.bpm == pytest.approx(analysis.bpm, abs=1.0)


def test_analyze_silent_audio_and_bad_input(tmp_path):
    path = tmp_path / "silence.flac"
    with AudioFile(str(path), "w", 22050, 1) as f:
        f.write(np.zeros((1, 3 * SR), np.float32))
    data = analyze_audio(path).to_dict()
    assert data["bpm"] == 0.0 and data["key"] is None
    assert data["loudness_lufs"] is None and data["peak_dbfs"] is None
    json.dumps(data)
    (tmp_path / "broken.wav").write_bytes(b"not audio at all")
    with pytest.raises(MtmError, match=r"broken\.wav"):
        analyze_audio(tmp_path / "broken.wav")
    with pytest.raises(MtmError):
        analyze_audio(42)
