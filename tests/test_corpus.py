"""Training pieces from the music21 corpus (training-only code; skipped without music21)."""
from collections import Counter

import pytest

pytest.importorskip("music21")

from mtm_daw.description import GENRES, MOODS  # noqa: E402
from training import corpus  # noqa: E402
from mtm_daw.score.roll import FEATURES, STEPS_PER_BEAT, score_to_roll  # noqa: E402
from mtm_daw.score.theory import parse_key  # noqa: E402


@pytest.fixture(scope="module")
def chorales():
    return list(corpus.chorale_pieces(3))


@pytest.fixture(scope="module")
def folk():
    return list(corpus.folk_pieces(3))


def _check_piece(piece):
    score = piece.score
    assert piece.genre in GENRES and piece.mood in MOODS
    key = parse_key(score.key)
    assert key.name == score.key
    assert piece.mood in (("calm", "happy") if key.mode == "major" else ("sad",))
    assert score.tracks and all(track.notes for track in score.tracks.values())
    bars = score.length_beats / score.beats_per_bar
    assert bars == int(bars) and bars >= corpus.MIN_BARS
    for track in score.tracks.values():
        assert not track.is_drum
        for note in track.notes:
            assert note.onset >= 0 and note.duration > 0 and note.velocity == corpus.VELOCITY
            assert (note.onset * STEPS_PER_BEAT).is_integer() and (note.duration * STEPS_PER_BEAT).is_integer()
            assert note.end <= score.length_beats
    roll = score_to_roll(score)
    assert roll.shape == (int(score.length_beats * STEPS_PER_BEAT), FEATURES) and roll.any()


def _mean_pitch(track):
    return sum(note.pitch for note in track.notes) / len(track.notes)


def test_chorales(chorales):
    assert len(chorales) == 3
    for piece in chorales:
        _check_piece(piece)
        assert piece.source.startswith("bach/") and piece.genre == "orchestral"
        tracks = piece.score.tracks
        assert list(tracks) == ["melody", "harmony", "bass"]
        assert {role: t.program for role, t in tracks.items()} == {"melody": 73, "harmony": 48, "bass": 42}
        assert _mean_pitch(tracks["bass"]) < _mean_pitch(tracks["harmony"]) < _mean_pitch(tracks["melody"])
        assert 60 <= piece.score.tempo <= 96


def test_chorale_pickup_ties_and_tempo():
    from music21 import corpus as m21corpus

    piece = corpus.chorale_piece("bach/bwv66.6")  # 4/4 with a one-beat pickup
    assert piece.score.time_signature == (4, 4) and piece.score.key == "F# minor" and piece.mood == "sad"
    assert piece.score.tracks["melody"].notes[0].onset == 3.0  # the first full bar starts at beat 4
    soprano = m21corpus.parse("bach/bwv66.6", forceSource=True).parts[0]
    heads = [n for n in soprano.flatten().notes if n.tie is None or n.tie.type == "start"]
    assert len(piece.score.tracks["melody"].notes) == len(heads)  # tied notes became one note
    assert corpus.chorale_piece("bach/bwv66.6").score.tempo == piece.score.tempo  # deterministic


def test_folk_tunes(folk):
    assert len(folk) == 3
    for piece in folk:
        _check_piece(piece)
        assert piece.genre == "folk" and list(piece.score.tracks) == ["melody"]
        assert piece.score.tracks["melody"].program == 73
        assert 90 <= piece.score.tempo <= 140


def test_unusable_tunes_are_counted_not_raised():
    skipped = Counter()
    items = [("x/free", "X:1\nT:free\nM:none\nL:1/4\nK:C\nCDEF|GABc|cBAG|FEDC|\n"),
             ("x/short", "X:1\nT:short\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n"),
             ("x/ok", "X:1\nT:ok\nM:3/4\nL:1/4\nK:G\nD|GAB|cBA|GAB|A2D|GAB|G2|\n")]
    pieces = list(corpus._pieces(items, corpus.folk_piece, None, skipped, 1))
    assert [p.source for p in pieces] == ["x/ok"]
    assert skipped == Counter({"no time signature": 1, "shorter than 4 bars": 1})
    notes = pieces[0].score.tracks["melody"].notes
    assert notes[0].onset == 2.0 and notes[1].onset == 3.0  # the pickup D is shifted to beat 3 of bar 1


def test_cache_round_trip(tmp_path, chorales, folk):
    path = tmp_path / "cache" / "corpus.jsonl"
    messages = []
    count = corpus.build_corpus_cache(path, chorale_limit=2, folk_limit=3, multipart_limit=1, progress=messages.append)
    assert len(messages) == 4 and all("skipped" in m for m in messages)
    assert [p.name for p in path.parent.iterdir()] == ["corpus.jsonl"]  # no temporary file left behind
    loaded = corpus.load_corpus_cache(path)
    assert len(loaded) == count
    multipart, songs = loaded[2], loaded[6:]
    assert multipart.source.startswith("monteverdi/") and set(multipart.score.tracks) == {"melody", "harmony", "bass"}
    # every folk tune in 4/4 or 3/4 comes back over an mma groove: drums, bass and comping under the tune
    fitting = [t for t in folk if t.score.time_signature in ((4, 4), (3, 4))]
    assert [s.source.split("+mma/")[0] for s in songs] == [t.source for t in fitting]
    for song, tune in zip(songs, fitting):
        assert {"drums", "bass", "melody"} <= set(song.score.tracks)
        assert [n.pitch for n in song.score.tracks["melody"].notes] == [n.pitch for n in tune.score.tracks["melody"].notes]
    for original, again in zip(chorales[:2] + folk, loaded[:2] + loaded[3:6], strict=True):
        assert (again.source, again.genre, again.mood) == (original.source, original.genre, original.mood)
        assert again.score.to_dict() == original.score.to_dict()
        assert again.score.time_signature == original.score.time_signature
