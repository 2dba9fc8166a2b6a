"""Reproducibility and provenance: every render's sidecar holds its recipe; `mtm reproduce` makes the
same files again, byte for byte, in a fresh process."""
import json
import subprocess
import sys

import mido
import pytest

from mtm_daw.cli import main
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.export import export_cue
from mtm_daw.generation import GenerationSettings
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.pipeline.remake import reproduce_cue
from mtm_daw.provenance import Recipe, library_reference, load_sidecar


def reproduce_in_new_process(sidecar, folder):
    result = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "reproduce", str(sidecar), "-o", str(folder),
                             "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "may not be bit-identical" not in result.stderr, result.stderr
    return result


def assert_same_audio_and_midi(first, second):
    made = sorted(p.name for p in first.iterdir() if p.suffix in (".wav", ".mid"))
    assert len(made) == 6  # four stems, the mix, the MIDI
    assert made == sorted(p.name for p in second.iterdir() if p.suffix in (".wav", ".mid"))
    for name in made:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs"


def test_baseline_cue_is_reproduced_byte_for_byte(tmp_path):
    assert main(["compose", "--genre", "jazz", "--tempo", "104", "--key", "Bb major", "--duration", "5",
                 "--seed", "11", "--engine", "baseline", "--quiet", "-o", str(tmp_path / "a"), "--name", "take"]) == 0
    sidecar_path = tmp_path / "a" / "take_104bpm_Bbmaj_description.json"
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar["recipe"]["operation"] == "compose" and sidecar["recipe"]["seed"] == 11
    assert sidecar["recipe"]["description"]["genre"] == "jazz" and sidecar["name"] == "take"
    assert sidecar["recipe"]["render"]["sample_rate"] == 48000 and sidecar["parameters"]["mix"]["master_db"]
    assert sidecar["models"] == {}, "the procedural composer uses no model"
    assert sidecar["environment"]["packages"]["numpy"] and sidecar["environment"]["threads"] >= 1
    if sidecar["renderer"].startswith("fluidsynth:"):
        assert len(sidecar["soundfont"]["sha256"]) == 64
    reproduce_in_new_process(sidecar_path, tmp_path / "b")
    assert_same_audio_and_midi(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b" / sidecar_path.name).exists(), "under the name it was made with"


def test_dit_cue_with_a_reference_is_reproduced_byte_for_byte(tmp_path):
    reference = mido.MidiFile(type=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100))])
    for pitch in (57, 60, 64, 62, 60, 57, 55, 57):
        track += [mido.Message("note_on", note=pitch, velocity=90, time=0),
                  mido.Message("note_off", note=pitch, velocity=0, time=240)]
    reference.tracks.append(track)
    reference.save(tmp_path / "theme.mid")
    assert main(["generate", "--tempo", "100", "--key", "A minor", "--duration", "5", "--seed", "5", "--steps", "4",
                 "--reference", str(tmp_path / "theme.mid"), "--strength", "0.6", "--quiet",
                 "-o", str(tmp_path / "a")]) == 0
    sidecar_path = tmp_path / "a" / "cue_100bpm_Amin_description.json"
    sidecar = json.loads(sidecar_path.read_text())
    model = sidecar["models"]["generator"]
    assert model["name"] == "ecmg" and len(model["sha256"]) == 64 and model["version"] is not None
    assert sidecar["models"]["text_encoder"]["licence"] == "Apache-2.0"
    assert sidecar["recipe"]["seed"] == 5  # stored once: the generation settings do not repeat it
    assert sidecar["recipe"]["generation"] == {"steps": 4, "guidance": GenerationSettings.guidance, "precision": "fp32",
                                                   "key_lock": True, "variation": 0.6}
    [used] = sidecar["references"]
    assert used["path"] == str((tmp_path / "theme.mid").resolve()) and used["strength"] == 0.6
    assert len(used["sha256"]) == 64
    reproduce_in_new_process(sidecar_path, tmp_path / "b")
    assert_same_audio_and_midi(tmp_path / "a", tmp_path / "b")

    (tmp_path / "theme.mid").unlink()
    with pytest.raises(MtmError, match="theme.mid: the reference this cue followed is gone"):
        reproduce_cue(sidecar_path, warn=lambda m: None)


def test_library_references_carry_source_and_licence(tmp_path):
    from mtm_daw.library.item import LibraryItem, Reference

    (tmp_path / "loop.mid").write_bytes(b"MThd")
    item = LibraryItem(path=str(tmp_path / "loop.mid"), content_hash="0" * 64, kind="midi", duration=4.0,
                       caption="a calm piano loop", source="recorded at home, 2025", licence="CC-BY-4.0", id=7)
    record = library_reference(Reference(item, 0.83, ("genre",), "targeted"), 0.5)
    assert record.path == str((tmp_path / "loop.mid").resolve()) and record.strength == 0.5
    assert record.library["id"] == 7 and record.library["licence"] == "CC-BY-4.0"
    assert record.library["source"] == "recorded at home, 2025" and record.library["track"] == "targeted"


def test_unusable_sidecars_are_refused_naming_the_file(tmp_path):
    broken = tmp_path / "broken_description.json"
    broken.write_text("{not json")
    with pytest.raises(MtmError, match="broken_description.json: not a readable sidecar"):
        load_sidecar(broken)
    old = tmp_path / "old_description.json"
    old.write_text(json.dumps({"description": {}, "seed": 1}))
    with pytest.raises(MtmError, match="old_description.json: this sidecar has no recipe"):
        load_sidecar(old)
    odd = tmp_path / "odd_description.json"
    odd.write_text(json.dumps({"description": {}, "recipe": {"operation": "remix", "description": {}}}))
    with pytest.raises(MtmError, match="unknown operation 'remix'"):
        load_sidecar(odd)
    assert main(["reproduce", str(tmp_path / "missing.json"), "-o", str(tmp_path / "out")]) == 2


@pytest.mark.parametrize("field, value, message", [("sample_rate", 0, "sample rate 0 is outside 8000..384000 Hz"),
                                                   ("target_lufs", 12.0, "loudness target 12.0 LUFS is outside")])
def test_a_sidecar_with_unusable_render_settings_is_refused_before_rendering(tmp_path, capsys, field, value, message):
    """FluidSynth never sees the sidecar's sample rate of 0 (it printed its own error before the real one)."""
    cue = compose_cue(MusicDescription(duration=4), seed=1, settings=RenderSettings(synth="builtin"))
    sidecar = next(p for p in export_cue(cue, tmp_path / "cue") if p.name.endswith("_description.json"))
    data = json.loads(sidecar.read_text())
    data["recipe"]["render"][field] = value
    sidecar.write_text(json.dumps(data))
    assert main(["reproduce", str(sidecar), "-o", str(tmp_path / "again")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("mtm: error: ") and f"{sidecar.name}: render: {message}" in error[0], error
    assert not (tmp_path / "again").exists()


def test_recipe_round_trips_through_json():
    from mtm_daw.mix import MixGains
    from mtm_daw.provenance import MixSpec, StemMix

    parent = Recipe("compose", "dit", 3, description=MusicDescription(genre="pop"),
                    generation=GenerationSettings(steps=5, seed=3), render=RenderSettings(synth="builtin"))
    child = Recipe("regenerate", "dit", 4, generation=GenerationSettings(steps=5, seed=4),
                   render=RenderSettings(synth="builtin"), bars=[2, 3], role="bass",
                   mix_gains=MixGains(1.5, 0.25), mix=MixSpec({"drums": StemMix(gain_db=-3.0)}), parent=parent)
    saved = child.to_dict()
    assert saved["render"]["synth"] == "builtin" and saved["mix_gains"] == {"master_db": 1.5, "stems_db": 0.25}
    again = Recipe.from_dict(json.loads(json.dumps(saved)))
    assert again == child and again.root == parent
    assert again.description is None and isinstance(again.root.description, MusicDescription)
    assert isinstance(again.render, RenderSettings) and isinstance(again.mix, MixSpec)


@pytest.mark.parametrize("field, value, message", [
    ("generation", {"steps": 5, "seed": 4, "bogus": 1}, "unknown generation setting"),
    ("generation", {"steps": 5, "seed": 9}, "generation seed 9 is not the recipe's 4"),
    ("mix_gains", {"master_db": 1.5}, "mix_gains is malformed"),
    ("render", {"sample_rate": 7}, "sample rate 7"),
    ("description", [], "description must be a JSON object"),
])
def test_a_malformed_recipe_field_is_refused_in_one_line(field, value, message):
    data = {"operation": "regenerate", "engine": "dit", "seed": 4, "bars": [1, 2], "role": "bass",
            "generation": {"steps": 5, "seed": 4},
            "parent": {"operation": "compose", "engine": "dit", "seed": 4, "description": {"genre": "pop"},
                       "generation": {"steps": 5, "seed": 4}}}
    data[field] = value
    with pytest.raises(MtmError, match=message):
        Recipe.from_dict(data, "cue.json")


def test_a_rendered_midi_file_is_reproduced(tmp_path):
    import numpy as np

    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import RenderSettings, render_midi_cue

    midi = mido.MidiFile(type=1)
    track = mido.MidiTrack([mido.Message("program_change", program=40)])
    for pitch in (62, 65, 69, 74):
        track += [mido.Message("note_on", note=pitch, velocity=90), mido.Message("note_off", note=pitch, time=480)]
    midi.tracks.append(track)
    midi.save(tmp_path / "tune.mid")
    cue = render_midi_cue(tmp_path / "tune.mid", settings=RenderSettings(synth="builtin"), warn=lambda m: None)
    sidecar = next(p for p in export_cue(cue, tmp_path / "out", "tune") if p.suffix == ".json")
    again = reproduce_cue(sidecar, warn=lambda m: None)
    assert np.array_equal(again.mix, cue.mix) and again.engine == "midi"


def test_a_cue_is_made_again_at_the_gains_it_was_mixed_with(tmp_path, monkeypatch):
    """A compose recipe keeps no gains: the sidecar's recorded ones are applied, so a cue made again does not
    depend on how the master searches for the loudness target (which may change between versions)."""
    import numpy as np

    import mtm_daw.mix as mix

    cue = compose_cue(MusicDescription(genre="rock", tempo=120, duration=6), seed=3, engine="baseline",
                      settings=RenderSettings(synth="builtin"), warn=lambda m: None)
    sidecar = next(p for p in export_cue(cue, tmp_path / "out", "take") if p.suffix == ".json")

    def no_search(*args, **kwargs):
        raise AssertionError("the master searched for a gain again")

    monkeypatch.setattr(mix, "master", no_search)
    again = reproduce_cue(sidecar, warn=lambda m: None)
    assert np.array_equal(again.mix, cue.mix) and again.loudness_lufs == cue.loudness_lufs
    for role, stem in cue.stems.items():
        assert np.array_equal(again.stems[role].audio, stem.audio), role

    document = json.loads(sidecar.read_text())
    document["parameters"]["mix"]["master_db"] += 3.0  # the gains are what the mix is made at
    sidecar.write_text(json.dumps(document))
    louder = reproduce_cue(sidecar, warn=lambda m: None)
    assert louder.loudness_lufs > cue.loudness_lufs + 1.0

    monkeypatch.undo()
    document["environment"]["mtm_daw"] = "0.0.1"  # made by another version: the audio may differ, so the
    sidecar.write_text(json.dumps(document))      # master matches the loudness target anew
    notes = []
    anew = reproduce_cue(sidecar, warn=notes.append)
    assert any("0.0.1" in note for note in notes) and abs(anew.loudness_lufs - cue.loudness_lufs) < 0.2


def test_a_recipe_from_before_key_lock_is_generated_without_it():
    """Sidecars written before the key lock existed carry no "key_lock": reproducing them must not lock."""
    from mtm_daw.description import MusicDescription
    from mtm_daw.pipeline import compose_score
    from mtm_daw.progress import Steps

    description = MusicDescription(genre="jazz", tempo=110, key="Eb major", duration=8.0)
    old = {"steps": 3, "guidance": 2.0, "seed": 2, "precision": "fp32"}

    def notes(generation):
        recipe = Recipe.from_dict({"operation": "compose", "engine": "dit", "seed": generation["seed"],
                                   "description": description.to_dict(), "generation": generation})
        score, _ = compose_score(description, "dit", recipe.seed, recipe.generation, None,
                                 Steps(lambda stage, fraction: None, ["compose"]), None)
        return {role: [(n.onset, n.pitch) for n in track.notes] for role, track in score.tracks.items()}

    # a seed whose notes the lock moves (the shipped model writes few chromatic notes)
    seed = next(seed for seed in range(12) if notes({**old, "seed": seed, "key_lock": True})
                != notes({**old, "seed": seed, "key_lock": False}))
    old["seed"] = seed
    assert notes(old) == notes({**old, "key_lock": False})


def test_a_recipe_from_before_the_guidance_change_keeps_its_guidance():
    """Sidecars written at the old default (guidance 2) are made again at 2, written down or not."""
    data = {"operation": "compose", "engine": "dit", "seed": 1, "description": MusicDescription(genre="pop").to_dict()}
    written = Recipe.from_dict({**data, "generation": {"steps": 20, "guidance": 2.0, "precision": "fp32"}})
    unwritten = Recipe.from_dict({**data, "generation": {"steps": 20, "precision": "fp32"}})
    assert written.generation.guidance == 2.0 and unwritten.generation.guidance == 2.0
    assert GenerationSettings().guidance != 2.0  # the default moved on, so 2.0 above is not the default's
