"""Rendered cues follow their description: tempo measured on the mix, key on the harmony stem."""
import librosa
import pytest

from mtm_daw.analysis import estimate_key, estimate_tempo
from mtm_daw.description import MusicDescription
from mtm_daw.pipeline import compose_cue

RATE = 22050


def _mono(audio, sample_rate):
    return librosa.resample(audio.mean(axis=0), orig_sr=sample_rate, target_sr=RATE)


@pytest.mark.parametrize("genre,tempo,key", [
    ("pop", 96, "Bb major"), ("rock", 120, "E minor"), ("electronic", 128, "F# minor"), ("pop", 141, "D major"),
    ("jazz", 104, "C minor"),
])
def test_mix_tempo_and_harmony_key_match_the_request(genre, tempo, key):
    description = MusicDescription(genre=genre, mood="happy", tempo=tempo, key=key, duration=20)
    cue = compose_cue(description, seed=1, warn=lambda m: None)
    measured = estimate_tempo(_mono(cue.mix, cue.sample_rate), RATE).bpm
    assert measured == pytest.approx(tempo, abs=2.0)
    assert estimate_key(_mono(cue.stems["harmony"].audio, cue.sample_rate), RATE).key.name == key
