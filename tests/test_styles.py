"""The style library: files that load (or say which field is wrong), every style played with its signature
by the baseline, signatures that tell styles apart, feels, the CLI's table and the panel's picker."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.score import gm
from mtm_daw.compose.baseline import compose
from mtm_daw.score.score import Note
from mtm_daw.score.styles import (CORE_GENRES, FAMILIES, STYLE_FOLDER, StyleFileError, library, load_styles,
                                  play_feel, signature_share, style_for)

REPO = Path(__file__).resolve().parents[1]
ISSUE_SIGNATURES = ("house", "techno", "drum-and-bass", "trap", "lo-fi", "boom-bap", "reggae", "salsa",
                    "bossa-nova", "blues", "jazz", "metal", "funk", "disco")


def style_cue(name: str, seed: int = 0, bars: int = 16, engine_compose=compose):
    style = style_for(name)
    beats = bars * style.meter[0] * 4 / style.meter[1]
    description = MusicDescription(genre=name, tempo=style.default_tempo, key=style.keys[0],
                                   time_signature=style.meter, duration=beats * 60 / style.default_tempo)
    return engine_compose(description, seed=seed)


def share(score, name: str) -> float:
    return signature_share(score.tracks["drums"].notes, style_for(name), score.bars, score.beats_per_bar)


def test_the_library_has_every_style_the_issue_names_in_families():
    styles = library()
    assert len(styles) >= 20
    for name in ("pop", "rock", "metal", "funk", "disco", "rnb", "boom-bap", "trap", "lo-fi", "house", "techno",
                 "drum-and-bass", "synthwave", "ambient", "cinematic", "orchestral", "jazz", "blues", "bossa-nova",
                 "salsa", "reggae", "country", "folk"):
        assert name in styles
    assert {style.family for style in styles.values()} <= set(FAMILIES)
    assert all(style.parent in CORE_GENRES for style in styles.values())
    assert style_for("folk").meter == (3, 4) and style_for("jazz").feel == "swing"
    assert style_for("bossa-nova").programs["harmony"] == 24  # nylon guitar


@pytest.mark.parametrize("old,new,message", [
    ('tempo = [118, 128]', 'tempo = [128, 118]', "house.toml: tempo must be"),
    ('feel = "straight"', 'feel = "wonky"', "house.toml: feel 'wonky'"),
    ('kick = "x...x...x...x..."\nopen_hat', 'kick = "x...x...x..."\nopen_hat', "drums.low.kick"),
    ('clap = "xxxx"', 'cowbell = "xxxx"', "unknown drum voice 'cowbell'"),
    ('mix = "club"', 'mix = "disco ball"', "mix 'disco ball'"),
    ('bass = 38', 'bass = 300', "programs.bass = 300"),
    ('drums = 24', 'drums = 3', "programs.drums = 3 is not a drum kit"),
    ('parent = "electronic"', 'parent = "house"', "parent 'house'"),
    ('name = "house"', 'name = "garage"', "must match the file name"),
    ('aliases = [', 'aliases = ["dnb", ', "the word 'dnb' already names"),
    ('[[signature]]\nname = "four-on-the-floor kick"', '[[nonsense', "not valid TOML"),
])
def test_a_bad_style_file_is_named_with_its_field(tmp_path, old, new, message):
    for path in STYLE_FOLDER.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    house = tmp_path / "house.toml"
    text = house.read_text()
    assert old in text
    house.write_text(text.replace(old, new, 1))
    with pytest.raises(StyleFileError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_styles(tmp_path)


@pytest.mark.parametrize("name", list(library()))
def test_the_baseline_plays_each_style_with_its_signature(name):
    for seed in (0, 1):
        score = style_cue(name, seed)
        assert share(score, name) >= 0.8, (name, seed)


# styles the shipped model does not yet play with their signature, measured over six seeds (two seeds, what this
# test took before, flipped styles close to the line either way). None on seeds 0-5; on seeds 10-15 jazz falls
# to 0.76 (README, "Styles").
TRAINED_MODEL_MISSES: dict[str, str] = {}
TRAINED_MODEL_SEEDS = range(6)


@pytest.fixture(scope="module")
def trained_engine():
    from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
    from mtm_daw.engine.text_encoder import TextEncoder

    generator, encoder = Generator.default(), TextEncoder.default()

    def engine_compose(description, seed):
        sentence = encoder.encode([description.to_sentence()])[0]
        return generate_score(description, sentence, settings=GenerationSettings(seed=seed),
                              generator=generator)
    return generator, engine_compose


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(reason=TRAINED_MODEL_MISSES[name],
                                                                             strict=True))
                                  if name in TRAINED_MODEL_MISSES else name for name in library()])
def test_the_trained_model_plays_each_style_with_its_signature(trained_engine, name):
    """The shipped DiT has a genre row per style and learned its groove from the data: the signature in at
    least 80 % of bars over six seeds, at the default generation settings. The onsets are the model's; only a
    swung style's feel (where an off-beat sixteenth lands) is applied to them afterwards, as for the baseline."""
    generator, engine_compose = trained_engine
    assert name in generator.genres
    shares = [share(style_cue(name, seed, engine_compose=engine_compose), name) for seed in TRAINED_MODEL_SEEDS]
    assert sum(shares) / len(shares) >= 0.8, shares


@pytest.mark.parametrize("name", ISSUE_SIGNATURES)
def test_signatures_tell_styles_apart(name):
    """A distinctive groove's check fails on plain backbeat grooves (so passing it means something)."""
    for other in ("pop", "rock", "country"):
        if other != name and style_for(other).meter == style_for(name).meter:
            assert share(style_cue(other), name) < 0.5, (name, other)


def test_four_on_the_floor_and_two_step_exclude_each_other():
    for straight in ("house", "techno", "disco"):
        assert share(style_cue(straight), "drum-and-bass") < 0.5
        assert share(style_cue("drum-and-bass"), straight) < 0.5
    assert share(style_cue("pop"), "reggae") == 0.0  # a kick on 1 is not a one drop


def test_swing_and_shuffle_delay_the_off_beat_eighths_and_lofi_the_sixteenths():
    jazz = style_cue("jazz")
    rides = [n.onset % 1 for n in jazz.tracks["drums"].notes if n.pitch == gm.RIDE]
    assert any(abs(position - (0.5 + 1 / 6)) < 1e-6 for position in rides)
    assert not any(abs(position - 0.5) < 1e-6 for position in rides)
    lofi = style_cue("lo-fi")
    hats = [n.onset % 0.5 for n in lofi.tracks["drums"].notes if n.pitch == gm.CLOSED_HAT]
    assert any(abs(position - (0.25 + 0.06)) < 1e-6 for position in hats)
    notes = [Note(0.5, 0.25, 60, 90), Note(1.0, 0.25, 60, 90), Note(1.25, 0.25, 60, 90)]
    play_feel(notes, "swing")
    assert [round(n.onset, 4) for n in notes] == [round(0.5 + 1 / 6, 4), 1.0, 1.25]


def test_style_progressions_are_used_and_every_role_stays_in_key():
    score = style_cue("techno")  # its progressions stay on the tonic most of the time
    roots = {n.pitch % 12 for n in score.tracks["bass"].notes}
    assert 9 in roots  # A minor


def test_mtm_styles_lists_the_library_and_the_readme_table_matches():
    listing = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "styles"], capture_output=True, text=True,
                             check=True).stdout
    for name, style in library().items():
        assert f"  {name} " in listing and style.summary in listing
    table = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "styles", "--markdown"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert table in (REPO / "README.md").read_text(), "README's style table is out of date: mtm styles --markdown"
    bad = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "styles", "--family", "polka"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "no family 'polka'" in bad.stderr and "Traceback" not in bad.stderr


def test_compose_help_lists_the_styles_and_a_bare_style_sets_its_tempo_meter_and_key(tmp_path):
    help_text = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "compose", "--help"], capture_output=True,
                               text=True, check=True).stdout
    assert sum(name in help_text for name in library()) >= 20
    out = tmp_path / "cue"
    subprocess.run([sys.executable, "-m", "mtm_daw.cli", "compose", "--style", "folk", "--engine", "baseline",
                    "--duration", "6", "--synth", "builtin", "-o", str(out), "--quiet"], check=True,
                   capture_output=True)
    sidecar = next(out.glob("*.json"))
    description = MusicDescription.from_dict(json.loads(sidecar.read_text())["description"])
    style = style_for("folk")
    assert description.genre == "folk" and description.time_signature == (3, 4)
    assert style.tempo_range[0] <= description.tempo <= style.tempo_range[1]
    assert description.key in {k for k in style.keys} | {f"{k.split()[0]} major" for k in style.keys}


def test_a_two_bar_pattern_alternates_bar_by_bar(tmp_path):
    for path in STYLE_FOLDER.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    salsa = tmp_path / "salsa.toml"
    text = salsa.read_text()
    two_bars = 'side_stick = "x..x..x.........' + '....x.x...x.....' + '"'  # 3-2 son clave over two bars
    salsa.write_text(text.replace('side_stick = "x..x..x...x.x..."', two_bars))
    style = load_styles(tmp_path)["salsa"]
    from mtm_daw.compose.baseline import _grooves

    groove = _grooves(style, 16, 4)
    pattern = style.drums["mid"][gm.SIDE_STICK]
    assert groove.bar_slice(pattern, 0, 16) == "x..x..x........."
    assert groove.bar_slice(pattern, 1, 16) == "....x.x...x....."
    assert groove.bar_slice(pattern, 2, 16) == groove.bar_slice(pattern, 0, 16)


def test_a_style_picks_its_drum_kit_in_the_render_and_the_midi_file(tmp_path):
    """The kit is the drum track's program: FluidSynth plays bank 128 at it, and the MIDI file selects it on
    the drum channel (GS / GM2) and names it, so a DAW's GM synth plays the same kit."""
    import mido

    from mtm_daw.render import make_renderer
    from mtm_daw.score.midi import load_midi_score, score_to_midi

    trap, rock = style_cue("trap", bars=2), style_cue("rock", bars=2)
    assert trap.tracks["drums"].program == 25 and rock.tracks["drums"].program == 8
    path = tmp_path / "trap.mid"
    score_to_midi(trap).save(str(path))
    drum_messages = [m for track in mido.MidiFile(str(path)).tracks for m in track
                     if getattr(m, "channel", None) == gm.DRUM_CHANNEL or m.type == "instrument_name"]
    assert any(m.type == "program_change" and m.program == 25 for m in drum_messages)
    assert any(m.type == "instrument_name" and m.name == "TR-808 Kit" for m in drum_messages)
    assert load_midi_score(path).tracks["drums"].program == 25
    renderer = make_renderer(synth="soundfont", sample_rate=22050)
    drums = trap.tracks["drums"]
    as_808 = renderer.render_track(drums, trap.tempo, 22050 * 2)
    as_standard = renderer.render_track(type(drums)(drums.role, 0, drums.notes, True), trap.tempo, 22050 * 2)
    assert as_808.shape == as_standard.shape and float(abs(as_808 - as_standard).max()) > 0.05
