"""TempoGrid: the one clock beats, bars, seconds and samples convert on, for scores and descriptions."""
import numpy as np
import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.score import Score


def test_a_waltz_with_a_lead_in_converts_beats_seconds_and_samples():
    grid = TempoGrid(120, (3, 4), start=0.5)
    assert grid.beats_per_bar == 3.0 and grid.bar_seconds == pytest.approx(1.5)
    assert grid.seconds(6) == pytest.approx(3.5)  # the third bar's first beat
    assert grid.beats(3.5) == pytest.approx(6.0)
    assert grid.beats(0.0) == pytest.approx(-1.0)  # the lead-in lies before beat 0
    assert grid.sample(6, 48000) == 168000
    assert grid.samples_per_beat(44100) == pytest.approx(22050)
    times = np.array([0.5, 1.0, 2.75])
    np.testing.assert_allclose(grid.seconds(grid.beats(times)), times)


def test_six_eight_counts_quarter_note_beats():
    assert TempoGrid(90, (6, 8)).beats_per_bar == 3.0
    assert TempoGrid(90, (7, 8)).bar_seconds == pytest.approx(3.5 * 60 / 90)


def test_a_description_and_its_score_share_the_grid():
    description = MusicDescription(tempo=96, time_signature=(3, 4), duration=20.0, start=0.25)
    assert description.grid == TempoGrid(96, (3, 4), 0.25)
    assert description.beats_to_seconds(4) == description.grid.seconds(4) == pytest.approx(0.25 + 2.5)
    assert description.bar_seconds == pytest.approx(1.875)
    score = Score(96, (3, 4), "C major", {}, 12.0)
    assert score.grid == TempoGrid(96, (3, 4))  # a score's own clock starts at 0
    assert score.length_seconds == pytest.approx(7.5) and score.bars == 4
