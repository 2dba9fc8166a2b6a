"""`mtm extend` and `mtm regenerate`: a cue continued, or some bars of one stem written anew, with every
note and sample outside the edit exactly as it was."""
import numpy as np
import pytest

from audio_files import read_audio
from mtm_daw.cli import main
from mtm_daw.compose.edit import parse_bars
from mtm_daw.errors import MtmError
from mtm_daw.pipeline.remake import extend_cue, regenerate_cue, reproduce_cue
from mtm_daw.score.midi import load_midi_score

SR = 48000
ROLES = ("drums", "bass", "harmony", "melody")
REGION = (8.0, 20.0)  # bars 3-5 of 4/4, in beats
REGION_START_SAMPLE = int(REGION[0] * 0.5 * SR)  # at 120 BPM


def notes(score, role):
    return [(n.onset, n.duration, n.pitch, n.velocity) for n in score.tracks[role].notes]


@pytest.fixture(scope="module", params=["baseline", "dit"])
def parent(request, tmp_path_factory):
    """An 8-bar cue at 120 BPM in D minor from each engine, exported."""
    folder = tmp_path_factory.mktemp(request.param)
    command = ["compose"] if request.param == "baseline" else ["generate", "--steps", "4"]
    assert main([*command, "--duration", "16", "--tempo", "120", "--key", "D minor", "--seed", "3", "--quiet",
                 "-o", str(folder / "a")]) == 0
    return request.param, folder


def test_regenerated_bars_change_only_inside_the_region_of_the_chosen_stem(parent):
    engine, folder = parent
    assert main(["regenerate", str(folder / "a" / "cue_120bpm_Dmin_description.json"), "--bars", "3-5",
                 "--role", "melody", "--quiet", "-o", str(folder / "b")]) == 0
    before = load_midi_score(folder / "a" / "cue_120bpm_Dmin.mid")
    after = load_midi_score(folder / "b" / "cue_melody_bars3-5_120bpm_Dmin.mid")
    start, end = REGION
    for role in ROLES:
        if role != "melody":
            assert notes(after, role) == notes(before, role), f"{engine}: the {role} notes changed"
            continue
        outside = [n for n in notes(before, role) if n[0] + n[1] <= start or n[0] >= end]
        assert [n for n in notes(after, role) if n[0] + n[1] <= start or n[0] >= end] == outside
        crossing = [n for n in notes(before, role) if n[0] < start < n[0] + n[1]]  # cut where the region begins
        assert [n for n in notes(after, role) if n[0] < start < n[0] + n[1]] == []
        assert all((n[0], start - n[0], n[2], n[3]) in notes(after, role) for n in crossing)
        inside = [n for n in notes(after, role) if start <= n[0] < end]
        assert inside != [n for n in notes(before, role) if start <= n[0] < end], f"{engine}: nothing was redone"
        assert all(n[0] + n[1] <= end + 1e-6 for n in inside)

    for role in ROLES:
        old = read_audio(folder / "a" / f"cue_120bpm_Dmin_{role}.wav")
        new = read_audio(folder / "b" / f"cue_melody_bars3-5_120bpm_Dmin_{role}.wav")
        assert old.shape == new.shape
        if role == "melody":
            assert np.array_equal(old[:, :REGION_START_SAMPLE], new[:, :REGION_START_SAMPLE])
            assert not np.array_equal(old, new)
        else:
            assert np.array_equal(old, new), f"{engine}: the {role} stem is not sample for sample the same"
    old_mix = read_audio(folder / "a" / "cue_120bpm_Dmin_mix.wav")
    new_mix = read_audio(folder / "b" / "cue_melody_bars3-5_120bpm_Dmin_mix.wav")
    assert np.array_equal(old_mix[:, :REGION_START_SAMPLE], new_mix[:, :REGION_START_SAMPLE])


def test_a_regenerated_cue_is_itself_reproducible(parent):
    engine, folder = parent
    sidecar = folder / "a" / "cue_120bpm_Dmin_description.json"
    first = regenerate_cue(sidecar, (2, 2), "bass", seed=8, warn=lambda m: None)
    assert first.parameters["recipe"]["operation"] == "regenerate"
    assert first.parameters["recipe"]["parent"]["seed"] == 3
    from mtm_daw.export import export_cue

    path = next(p for p in export_cue(first, folder / "r", "redo") if p.suffix == ".json")
    again = reproduce_cue(path, warn=lambda m: None)
    assert np.array_equal(again.mix, first.mix)
    assert all(np.array_equal(again.stems[r].audio, first.stems[r].audio) for r in ROLES)


def test_extend_keeps_every_bar_and_continues_in_key(parent):
    engine, folder = parent
    assert main(["extend", str(folder / "a" / "cue_120bpm_Dmin_description.json"), "--bars", "4", "--quiet",
                 "-o", str(folder / "c")]) == 0
    before = load_midi_score(folder / "a" / "cue_120bpm_Dmin.mid")
    after = load_midi_score(folder / "c" / "cue_extended_120bpm_Dmin.mid")
    assert (after.tempo, after.key, after.time_signature) == (before.tempo, before.key, before.time_signature)
    assert before.length_beats == 32 and after.length_beats == 48
    added = 0
    for role in ROLES:
        assert [n for n in notes(after, role) if n[0] < 32] == notes(before, role), f"{engine}: {role} changed"
        added += len([n for n in notes(after, role) if n[0] >= 32])
    assert added > 8, f"{engine}: the new bars are (nearly) empty"
    old = read_audio(folder / "a" / "cue_120bpm_Dmin_bass.wav")
    assert read_audio(folder / "c" / "cue_extended_120bpm_Dmin_bass.wav").shape[1] == old.shape[1] + 4 * 4 * SR // 2


def test_extend_leaves_every_sample_of_the_old_bars_as_it_was(parent):
    """Dropped over the old files in a DAW, the extended ones neither jump in level (they were re-mastered
    0.5-1 dB louder or softer before) nor phase (a stem coloured by the tail of the stem rendered before it)."""
    engine, folder = parent
    if not (folder / "c").is_dir():
        assert main(["extend", str(folder / "a" / "cue_120bpm_Dmin_description.json"), "--bars", "4", "--quiet",
                     "-o", str(folder / "c")]) == 0
    old_bars = 32 * SR // 2  # 8 bars at 120 BPM
    for part in (*ROLES, "mix"):
        old = read_audio(folder / "a" / f"cue_120bpm_Dmin_{part}.wav")
        new = read_audio(folder / "c" / f"cue_extended_120bpm_Dmin_{part}.wav")
        assert np.array_equal(old[:, :old_bars], new[:, :old_bars]), f"{engine}: the {part} of the old bars changed"
    new_mix = read_audio(folder / "c" / "cue_extended_120bpm_Dmin_mix.wav")
    assert np.abs(new_mix[:, old_bars:]).max() > 0.01  # and the new bars sound


def test_extending_a_loop_gives_a_longer_loop(tmp_path):
    assert main(["compose", "--loop", "2", "--tempo", "120", "--synth", "builtin", "--quiet", "-o", str(tmp_path)]) == 0
    cue = extend_cue(tmp_path / "cue_120bpm_Cmaj_description.json", 2, warn=lambda m: None)
    assert cue.loop_bars == 4 and cue.mix.shape[1] == 4 * 4 * SR // 2 and cue.score.length_beats == 16


def test_bad_edits_are_refused_clearly(tmp_path, capsys):
    assert main(["compose", "--duration", "4", "--synth", "builtin", "--quiet", "-o", str(tmp_path)]) == 0
    sidecar = tmp_path / "cue_120bpm_Cmaj_description.json"
    with pytest.raises(MtmError, match="--bars 2-9: the cue has bars 1-2"):
        regenerate_cue(sidecar, (2, 9), "melody")
    with pytest.raises(MtmError, match="needs a whole number of bars to add"):
        extend_cue(sidecar, 0)
    assert main(["regenerate", str(sidecar), "--bars", "x", "--role", "bass", "-o", str(tmp_path / "o")]) == 2
    assert "--bars expects FIRST-LAST" in capsys.readouterr().err
    assert parse_bars("3-6") == (3, 6) and parse_bars("5") == (5, 5)
    with pytest.raises(MtmError, match="bars count from 1"):
        parse_bars("4-2")
