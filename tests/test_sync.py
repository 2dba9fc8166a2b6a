"""--sync-from: tempo, meter and key from a session's MIDI file or audio clip, exact in every file written;
a tempo or meter change is refused naming the file and the bar."""
import json
import struct

import mido
import pytest

from mtm_daw.cli import main
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.export.wav import read_chunks, write_wav
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.pipeline.sync import lock_description, read_sync


def session_midi(path, meta, notes=True):
    """A type-1 file: a conductor track of (tick, meta message) and a few notes."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor, tick = mido.MidiTrack(), 0
    for at, message in meta:
        conductor.append(message.copy(time=at - tick))
        tick = at
    midi.tracks.append(conductor)
    if notes:
        track = mido.MidiTrack([mido.Message("program_change", program=0)])
        for pitch in (64, 67, 71, 66, 64):
            track += [mido.Message("note_on", note=pitch, velocity=80), mido.Message("note_off", note=pitch, time=240)]
        midi.tracks.append(track)
    midi.save(path)
    return path


def seven_eight(path):
    return session_midi(path, [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(137.5))),
                               (0, mido.MetaMessage("time_signature", numerator=7, denominator=8)),
                               (0, mido.MetaMessage("key_signature", key="Em"))])


def test_a_7_8_session_sets_tempo_meter_and_key_in_every_file(tmp_path):
    session = seven_eight(tmp_path / "session.mid")
    assert main(["compose", "--sync-from", str(session), "--genre", "jazz", "--duration", "4", "--synth", "builtin",
                 "--quiet", "-o", str(tmp_path / "out")]) == 0
    prefix = tmp_path / "out" / "cue_137p5bpm_Emin"  # the exact tempo in the file name
    for part in ("drums", "bass", "harmony", "melody", "mix"):
        flags, root, _, _, beats, denominator, numerator, tempo = struct.unpack(
            "<IHHfIHHf", read_chunks(f"{prefix}_{part}.wav")[b"acid"])
        assert (tempo, numerator, denominator) == (137.5, 7, 8)
    midi = mido.MidiFile(f"{prefix}.mid")
    meta = {m.type: m for m in midi.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(137.5, abs=1e-3)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (7, 8)
    assert meta["key_signature"].key == "Em"
    sidecar = json.loads((tmp_path / "out" / "cue_137p5bpm_Emin_description.json").read_text())
    assert sidecar["score"]["length_beats"] % 3.5 == 0, "whole 7/8 bars from bar 1"
    sync = sidecar["recipe"]["sync"]
    assert sync["path"] == str(session.resolve()) and len(sync["sha256"]) == 64
    assert sync["tempo"] == 137.5 and sync["time_signature"] == [7, 8] and sync["key"] == "E minor"


@pytest.mark.parametrize("meta,message", [
    ([(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120))),
      (3840, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)))],
     "changing.mid: the tempo changes at bar 3 (120 -> 90 BPM)"),
    ([(0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
      (1920, mido.MetaMessage("time_signature", numerator=7, denominator=8))],
     "changing.mid: the time signature changes at bar 2 (4/4 -> 7/8)"),
    ([(0, mido.MetaMessage("time_signature", numerator=7, denominator=32))],
     "changing.mid: time signature 7/32 is not supported"),
])
def test_tempo_or_meter_changes_are_refused_naming_file_and_bar(tmp_path, capsys, meta, message):
    session = session_midi(tmp_path / "changing.mid", meta)
    with pytest.raises(MtmError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_sync(session)
    assert main(["compose", "--sync-from", str(session), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_repeated_tempo_and_a_key_change_are_not_changes_of_grid(tmp_path):
    session = session_midi(tmp_path / "map.mid", [
        (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96))),
        (0, mido.MetaMessage("key_signature", key="Bb")),
        (1920, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96))),
        (3840, mido.MetaMessage("key_signature", key="Gm"))], notes=False)
    sync = read_sync(session)
    assert (sync.tempo, sync.time_signature, sync.key) == (96.0, (4, 4), "Bb major")
    assert any("key changes at bar 3" in note for note in sync.notes)


def test_without_tempo_or_key_the_midi_defaults_and_the_notes_decide(tmp_path):
    sync = read_sync(session_midi(tmp_path / "bare.mid", []))
    assert sync.tempo == 120.0 and sync.time_signature == (4, 4) and sync.key == "E minor"
    assert any("MIDI default" in note for note in sync.notes)


def test_sync_conflicting_with_a_hand_set_tempo_is_refused(tmp_path, capsys):
    session = seven_eight(tmp_path / "session.mid")
    assert main(["compose", "--sync-from", str(session), "--tempo", "100", "-o", str(tmp_path / "out")]) == 2
    assert "--tempo conflicts with --sync-from session.mid, which sets tempo 137.5 BPM" in capsys.readouterr().err


def test_an_audio_clip_sets_the_tempo_and_key_it_is_heard_in(tmp_path):
    clip = compose_cue(MusicDescription(genre="rock", tempo=100, key="A minor", duration=10), seed=2,
                       settings=RenderSettings(synth="builtin"), warn=lambda m: None)
    write_wav(tmp_path / "clip.wav", clip.mix, clip.sample_rate)
    sync = read_sync(tmp_path / "clip.wav")
    assert sync.kind == "audio" and sync.tempo == pytest.approx(100, abs=2) and sync.time_signature is None
    locked = lock_description(MusicDescription(time_signature=(3, 4), key="C major"), sync)
    assert locked.tempo == sync.tempo and locked.time_signature == (3, 4) and locked.key == (sync.key or "C major")


def test_files_that_carry_no_tempo_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("120 bpm please")
    with pytest.raises(MtmError, match="notes.txt: cannot sync to text"):
        read_sync(tmp_path / "notes.txt")
    with pytest.raises(MtmError, match="missing.mid: file not found"):
        read_sync(tmp_path / "missing.mid")


def test_a_midi_session_lends_its_chords_to_the_cue(tmp_path, capsys):
    from mtm_daw.compose.baseline import compose
    from mtm_daw.score.midi import score_to_midi

    song = compose(MusicDescription(key="A minor", tempo=110, duration=8 * 4 * 60 / 110, chords="Am F C E7"), seed=3)
    path = tmp_path / "song.mid"
    score_to_midi(song).save(path)
    sync = read_sync(path)
    assert sync.chords.split()[:4] == ["Am", "F", "C", "E7"]
    locked = lock_description(MusicDescription(duration=20.0), sync)
    assert locked.chords == sync.chords and locked.key == "A minor"
    assert main(["compose", "--sync-from", str(path), "--chords", "Am G", "-o", str(tmp_path / "out")]) == 2
    assert "--chords conflicts with --sync-from song.mid" in capsys.readouterr().err
