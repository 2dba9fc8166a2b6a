import mido
import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.compose.baseline import compose
from mtm_daw.score.midi import load_midi_score, score_to_midi


def _notes(track):
    return [(round(n.onset, 3), round(n.duration, 3), n.pitch, n.velocity) for n in track.notes]


@pytest.mark.parametrize("genre,key,signature", [("pop", "D minor", (4, 4)), ("jazz", "Bb major", (3, 4)),
                                                  ("cinematic", "F# minor", (6, 8))])
def test_midi_round_trip_keeps_notes_tempo_key_meter(tmp_path, genre, key, signature):
    score = compose(MusicDescription(genre=genre, key=key, tempo=97, time_signature=signature, duration=20), seed=2)
    path = tmp_path / "cue.mid"
    score_to_midi(score).save(path)
    back = load_midi_score(path)
    assert back.tempo == pytest.approx(97, abs=0.01)
    assert back.key == score.key
    assert back.time_signature == signature
    assert back.length_beats == score.length_beats
    assert list(back.tracks) == list(score.tracks)
    for role, track in score.tracks.items():
        assert back.tracks[role].program == track.program
        assert back.tracks[role].is_drum == track.is_drum
        assert _notes(back.tracks[role]) == _notes(track), role


def test_midi_file_is_type_1_with_named_tracks_and_drums_on_channel_10(tmp_path):
    score = compose(MusicDescription(key="E major"), seed=0)
    path = tmp_path / "cue.mid"
    score_to_midi(score).save(path)
    midi = mido.MidiFile(path)
    assert midi.type == 1
    meta = [m for m in midi.tracks[0] if m.is_meta]
    assert any(m.type == "key_signature" and m.key == "E" for m in meta)
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (4, 4) for m in meta)
    names = [next(m.name for m in track if m.type == "track_name") for track in midi.tracks[1:]]
    assert names == ["Drums", "Bass", "Harmony", "Melody"]
    drum_channels = {m.channel for m in midi.tracks[1] if m.type == "note_on"}
    assert drum_channels == {9}
    other_channels = {m.channel for track in midi.tracks[2:] for m in track if m.type == "note_on"}
    assert 9 not in other_channels
    programs = [m.program for track in midi.tracks[2:] for m in track if m.type == "program_change"]
    assert programs == [score.tracks[r].program for r in ("bass", "harmony", "melody")]


def test_foreign_midi_gets_roles_by_register_and_estimated_key(tmp_path):
    midi = mido.MidiFile(type=1)
    low, high = mido.MidiTrack(), mido.MidiTrack()
    for track, base, program in ((low, 33, 32), (high, 69, 0)):
        track.append(mido.Message("program_change", program=program, channel=0 if track is low else 1))
        for step in [0, 2, 4, 5, 7, 9, 11, 12, 7, 4, 0]:  # an A major scale figure
            channel = 0 if track is low else 1
            track.append(mido.Message("note_on", note=base + step, velocity=80, channel=channel, time=0))
            track.append(mido.Message("note_off", note=base + step, velocity=0, channel=channel, time=240))
    midi.tracks += [low, high]
    path = tmp_path / "foreign.mid"
    midi.save(path)
    score = load_midi_score(path)
    assert set(score.tracks) == {"bass", "melody"}
    assert score.tracks["bass"].program == 32
    assert score.tempo == pytest.approx(120)
    assert score.key == "A major"


def test_bad_midi_files(tmp_path):
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with pytest.raises(MtmError, match="empty.mid: the file is empty"):
        load_midi_score(empty)
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"MThd\x00\x00\x00\x06garbage-garbage")
    with pytest.raises(MtmError, match="garbage.mid: not a readable MIDI file"):
        load_midi_score(garbage)
    silent = tmp_path / "silent.mid"
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    midi.save(silent)
    with pytest.raises(MtmError, match="silent.mid: the MIDI file has no notes"):
        load_midi_score(silent)
    with pytest.raises(MtmError, match="missing.mid: file not found"):
        load_midi_score(tmp_path / "missing.mid")


def test_more_than_fifteen_pitched_tracks_share_channels(tmp_path):
    from mtm_daw.score.score import Note, Score, Track

    tracks = {f"part {i}": Track(f"part {i}", i, [Note(0, 1, 60 + i, 90)]) for i in range(18)}
    tracks["drums"] = Track("drums", 0, [Note(0, 0.25, 36, 100)], is_drum=True)
    path = tmp_path / "big.mid"
    score_to_midi(Score(100, (4, 4), "C major", tracks, 4)).save(path)
    channels = {m.channel for track in mido.MidiFile(path).tracks for m in track if m.type == "note_on"}
    assert 9 in channels and channels <= set(range(16))


def test_zero_tempo_in_a_file_falls_back_to_120(tmp_path):
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=0),
                                       mido.Message("note_on", note=60, velocity=90),
                                       mido.Message("note_off", note=60, time=480)]))
    midi.save(tmp_path / "zero.mid")
    assert load_midi_score(tmp_path / "zero.mid").tempo == 120
