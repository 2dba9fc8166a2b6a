import json

import pytest

from mtm_daw.description import HitPoint, MusicDescription, Section
from mtm_daw.errors import MtmError
from mtm_daw.score.theory import Key, parse_key


def test_description_round_trips_through_json(tmp_path):
    description = MusicDescription(
        genre="cinematic", mood="dark", tempo=84.5, key="F# minor", time_signature=(6, 8),
        instruments={"melody": 73}, duration=42.0,
        sections=[Section("intro", 0, 10, 0.3), Section("build", 10, 42, 0.9)],
        energy=[(0.0, 0.2), (40.0, 1.0)], hit_points=[HitPoint(12.5, 0.8)], roles=("harmony", "melody"),
        sentence="Dark strings")
    path = tmp_path / "d.json"
    path.write_text(description.to_json())
    loaded = MusicDescription.load(path)
    assert loaded == description
    assert json.loads(path.read_text())["schema_version"] == 1


def test_instruments_accept_gm_names():
    description = MusicDescription.from_dict({"instruments": {"melody": "flute", "bass": "Fretless Bass"}})
    assert description.instruments == {"melody": 73, "bass": 35}


@pytest.mark.parametrize("field,value,words", [
    ("genre", "polka", "unknown style"), ("tempo", 5, "tempo"), ("key", "H minor", "not"),
    ("duration", 0, "positive"), ("duration", -3, "positive"), ("duration", 10_000, "maximum"),
    ("time_signature", (4, 3), "time signature"), ("roles", ("vocals",), "unknown role"),
    ("start", -0.1, "start"), ("start", 2.0, "under one bar"), ("start", float("nan"), "start"),
])
def test_bad_fields_are_named(field, value, words):
    description = MusicDescription(**{field: value})
    with pytest.raises(MtmError, match=words):
        description.validate()


def test_newer_schema_and_bad_json_are_refused(tmp_path):
    with pytest.raises(MtmError, match="newer"):
        MusicDescription.from_dict({"schema_version": 99})
    with pytest.raises(MtmError, match="unknown field"):
        MusicDescription.from_dict({"colour": "blue"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MtmError, match="bad.json"):
        MusicDescription.load(bad)


def test_energy_curve_interpolates():
    description = MusicDescription(energy=[(0, 0.0), (10, 1.0)])
    assert description.energy_at(5) == pytest.approx(0.5)
    assert description.energy_at(20) == 1.0


@pytest.mark.parametrize("text,tonic,mode,tag", [
    ("D minor", 2, "minor", "Dmin"), ("Dm", 2, "minor", "Dmin"), ("f# minor", 6, "minor", "F#min"),
    ("Bb", 10, "major", "Bbmaj"), ("Eb major", 3, "major", "Ebmaj"), ("C#min", 1, "minor", "C#min"),
])
def test_key_parsing(text, tonic, mode, tag):
    key = parse_key(text)
    assert (key.tonic, key.mode, key.tag) == (tonic, mode, tag)


def test_key_signatures():
    assert Key(2, "major").fifths_signature() == 2
    assert Key(2, "minor").fifths_signature() == -1
    assert Key(6, "major").fifths_signature() == 6
    assert Key(5, "major").fifths_signature() == -1


@pytest.mark.parametrize("data,words", [
    ({"instruments": {"melody": 73.0}}, "instrument"), ({"time_signature": 4}, "time_signature"),
    ({"time_signature": ["6", "8"]}, "whole numbers"), ({"schema_version": "1"}, "schema_version"),
    ({"roles": None}, "roles"), ({"hit_points": [{"time": "3"}]}, "hit time"), ({"duration": True}, "duration"),
    ({"sections": [{"name": "a", "start": 0}]}, "lacks its 'end'"), ({"genre": 5}, "genre must be text"),
])
def test_wrongly_typed_json_is_refused_with_the_field_named(data, words):
    with pytest.raises(MtmError, match=words):
        MusicDescription.from_dict(data)


def test_a_sentence_left_over_from_before_an_edit_is_rendered_again():
    edited = MusicDescription(tempo=140, key="E major", sentence="Warm piano, 72 bpm in A minor").validate()
    assert "140 BPM in E major" in edited.sentence and "72" not in edited.sentence
    kept = MusicDescription(tempo=72, key="A minor", sentence="Warm piano, 72 bpm in A minor").validate()
    assert kept.sentence == "Warm piano, 72 bpm in A minor"
    words = MusicDescription(tempo=90, key="D minor", sentence="a major motion picture, dark strings").validate()
    assert words.sentence == "a major motion picture, dark strings"  # no tempo or key named: the user's words
