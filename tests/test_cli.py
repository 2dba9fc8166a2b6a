"""The `mtm` command as a user runs it: real processes, real files, exit codes and one-line errors."""
import json
import subprocess
import sys

import mido
import pytest
from pedalboard.io import AudioFile

from mtm_daw.cli import main


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mtm_daw.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_compose_writes_the_cue_and_prints_where(tmp_path):
    result = run("compose", "--genre", "rock", "--mood", "tense", "--tempo", "132", "--key", "E minor",
                 "--duration", "8", "--seed", "2", "--instrument", "melody=flute", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "out") in result.stdout
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "cue_132bpm_Emin_mix.wav" in names and "cue_132bpm_Emin.mid" in names
    sidecar = json.loads((tmp_path / "out" / "cue_132bpm_Emin_description.json").read_text())
    assert sidecar["description"]["instruments"]["melody"] == 73
    assert "flute" in sidecar["description"]["sentence"]


def test_same_seed_gives_identical_audio(tmp_path):
    for folder in ("a", "b"):
        assert main(["compose", "--duration", "4", "--seed", "9", "--quiet", "-o", str(tmp_path / folder)]) == 0
    first = (tmp_path / "a" / "cue_120bpm_Cmaj_mix.wav").read_bytes()
    assert first == (tmp_path / "b" / "cue_120bpm_Cmaj_mix.wav").read_bytes()


def test_render_midi_to_stems(tmp_path):
    midi = mido.MidiFile(type=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)),
                            mido.Message("program_change", program=40)])
    for pitch in (62, 65, 69, 74):
        track += [mido.Message("note_on", note=pitch, velocity=90, time=0),
                  mido.Message("note_off", note=pitch, velocity=0, time=480)]
    midi.tracks.append(track)
    midi.save(tmp_path / "tune.mid")
    result = run("render", str(tmp_path / "tune.mid"), "-o", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr
    wavs = sorted((tmp_path / "out").glob("*.wav"))
    assert [p.name for p in wavs] == ["tune_90bpm_Dmin_melody.wav", "tune_90bpm_Dmin_mix.wav"]
    with AudioFile(str(wavs[0])) as handle:
        assert handle.duration > 2.6  # one 4/4 bar at 90 BPM plus the release tail


@pytest.mark.parametrize("args,message", [
    (["compose", "--duration", "0"], "duration must be a positive"),
    (["compose", "--duration", "100000"], "above the maximum"),
    (["compose", "--key", "Q minor"], "not a note name"),
    (["compose", "--tempo", "1000"], "tempo"),
    (["compose", "--time-signature", "4/5"], "time signature"),
    (["compose", "--instrument", "melody=kazoo-9000"], "not a General MIDI instrument"),
    (["compose", "--roles", "drums,vocals"], "unknown role"),
    (["compose", "--description", "missing.json"], "missing.json"),
    (["render", "nothing.mid"], "nothing.mid: file not found"),
    (["analyze", "nothing.wav"], "nothing.wav"),
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, args, message):
    result = run(*args, "-o", str(tmp_path / "out")) if args[0] != "analyze" else run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mtm: error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_usage_error_exits_2():
    assert run("compose", "--genre", "polka").returncode == 2
    assert run("fly").returncode == 2


def test_existing_outputs_are_kept_without_overwrite(tmp_path):
    assert main(["compose", "--duration", "2", "--quiet", "-o", str(tmp_path)]) == 0
    mix = tmp_path / "cue_120bpm_Cmaj_mix.wav"
    before = mix.read_bytes()
    result = run("compose", "--duration", "2", "--seed", "5", "-o", str(tmp_path))
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert mix.read_bytes() == before
    assert main(["compose", "--duration", "2", "--seed", "5", "--quiet", "--overwrite", "-o", str(tmp_path)]) == 0
    assert mix.read_bytes() != before


def test_debug_shows_the_traceback(tmp_path):
    result = run("--debug", "compose", "--duration", "-1", "-o", str(tmp_path))
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_corrupt_midi_is_refused(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"\x00" * 100)
    result = run("render", str(bad), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "bad.mid" in result.stderr


def test_analyze_a_rendered_mix_reports_tempo_and_key(tmp_path):
    assert main(["compose", "--genre", "rock", "--tempo", "110", "--key", "G major", "--duration", "12",
                 "--quiet", "-o", str(tmp_path)]) == 0
    result = run("analyze", str(tmp_path / "cue_110bpm_Gmaj_mix.wav"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "audio"
    assert abs(report["bpm"] - 110) <= 2
    assert report["loudness_lufs"] == pytest.approx(-14, abs=1)


def test_analyze_unknown_file_kind(tmp_path):
    odd = tmp_path / "notes.xyz"
    odd.write_bytes(bytes(range(256)) * 4)
    result = run("analyze", str(odd))
    assert result.returncode == 2 and "notes.xyz" in result.stderr and "Traceback" not in result.stderr


def test_a_folder_a_description_and_a_missing_library_item_each_get_their_own_answer(tmp_path):
    (tmp_path / "clips").mkdir()
    folder = run("describe", "clips", cwd=tmp_path)
    assert folder.returncode == 2 and folder.stderr.strip() == "mtm: error: clips: is a folder, not an input"

    (tmp_path / "desc.json").write_text('{"genre": "house", "tempo": 124, "key": "A minor"}')
    described = run("analyze", "desc.json", "--json", cwd=tmp_path)
    assert described.returncode == 0, described.stderr
    report = json.loads(described.stdout)
    assert report["kind"] == "description" and report["genre"] == "house" and report["tempo"] == 124
    assert "124" in report["sentence"]
    (tmp_path / "broken.json").write_text('{"genre": ')
    broken = run("analyze", "broken.json", cwd=tmp_path)
    assert broken.returncode == 2 and broken.stderr.startswith("mtm: error: broken.json:"), broken.stderr

    library = str(tmp_path / "lib.sqlite")
    tune = tmp_path / "tune.mid"
    from mtm_daw.score.midi import score_to_midi
    from mtm_daw.score.score import Note, Score, Track

    score_to_midi(Score(100.0, (4, 4), "C major", {"melody": Track("melody", 0, [Note(0, 1, 60, 90)])}, 4.0)).save(
        str(tune))
    assert run("library", "--library", library, "add", str(tune), "--no-notes").returncode == 0
    missing = run("library", "--library", library, "rm", "999999")
    assert missing.returncode == 2 and "nothing removed: no item 999999" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "removed 0" not in missing.stdout
    partly = run("library", "--library", library, "rm", str(tune), "999999")
    assert partly.returncode == 0 and partly.stdout.startswith("removed 1 item(s)")
    assert "not in the library: 999999" in partly.stderr
