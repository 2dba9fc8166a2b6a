"""A MIDI file's style read from its notes (describe.midi_style): drums against each style's groove
checks, tempo and meter against its range, instruments against its programs."""
import pytest

from mtm_daw.describe import describe_midi
from mtm_daw.describe.midi_style import styles_from_score
from mtm_daw.description import MusicDescription
from mtm_daw.compose.baseline import compose
from mtm_daw.score.midi import score_to_midi
from mtm_daw.score.score import Note, Score, Track
from mtm_daw.score.styles import style_for

DISTINCT_GROOVES = ("reggae", "house", "bossa-nova", "jazz", "trap", "drum-and-bass", "folk", "salsa", "funk",
                    "metal", "blues", "disco")


def written_midi(tmp_path, name: str, seed: int = 0):
    style = style_for(name)
    bars = 8
    beats = bars * style.meter[0] * 4 / style.meter[1]
    description = MusicDescription(genre=name, mood="happy", tempo=style.default_tempo, key=style.keys[0],
                                   time_signature=style.meter, duration=beats * 60 / style.default_tempo)
    path = tmp_path / f"{name}.mid"
    score_to_midi(compose(description, seed=seed)).save(str(path))
    return path


@pytest.mark.parametrize("name", DISTINCT_GROOVES)
def test_a_midi_file_is_named_by_its_groove(tmp_path, name):
    path = written_midi(tmp_path, name, seed=3)
    assert describe_midi(path).genre == name


def test_without_drums_a_slow_string_piece_is_not_a_dance_style():
    strings = Track("harmony", 48, [Note(beat, 4.0, pitch, 70) for beat in range(0, 32, 4) for pitch in (48, 55, 64)])
    cello = Track("bass", 42, [Note(beat, 4.0, 36, 70) for beat in range(0, 32, 4)])
    score = Score(66.0, (4, 4), "C major", {"harmony": strings, "bass": cello}, 32.0)
    votes = styles_from_score(score)
    assert abs(sum(votes.values()) - 1.0) < 1e-9
    assert max(votes, key=votes.get) in ("cinematic", "orchestral", "ambient")
    assert votes["house"] < votes["orchestral"] and votes["drum-and-bass"] < votes["cinematic"]


def test_four_on_the_floor_at_club_tempo_outweighs_a_backbeat_style():
    kick = [Note(beat, 0.25, 36, 100) for beat in range(32)]
    clap = [Note(beat, 0.25, 39, 100) for beat in range(1, 32, 2)]
    open_hat = [Note(beat + 0.5, 0.25, 46, 80) for beat in range(32)]
    score = Score(124.0, (4, 4), "A minor", {"drums": Track("drums", 0, kick + clap + open_hat, True)}, 32.0)
    votes = styles_from_score(score)
    assert max(votes, key=votes.get) == "house"
    # the same groove far below any club tempo loses its house reading
    assert styles_from_score(Score(70.0, (4, 4), "A minor", score.tracks, 32.0))["house"] < votes["house"]
