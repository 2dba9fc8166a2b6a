"""`mtm remix` and the panel's mixer: a cue mixed again (per stem FX preset, gain, mute, solo) as a change
of its recipe, so `mtm reproduce` makes the remix again sample for sample, and an extension keeps it."""
import json

import numpy as np
import pytest

from audio_files import read_audio
from mtm_daw.cli import main
from mtm_daw.errors import MtmError
from mtm_daw.pipeline.remake import mix_with_changes
from mtm_daw.provenance import MixSpec, StemMix

SR = 48000


@pytest.fixture(scope="module")
def remixed(tmp_path_factory):
    """An 8-bar baseline cue, and its remix: drums 6 dB down, the bass muted, the melody dry."""
    folder = tmp_path_factory.mktemp("remix")
    assert main(["compose", "--duration", "16", "--tempo", "120", "--key", "D minor", "--seed", "3", "--quiet",
                 "-o", str(folder / "a")]) == 0
    assert main(["remix", str(folder / "a" / "cue_120bpm_Dmin_description.json"), "--gain", "drums=-6",
                 "--mute", "bass", "--preset", "melody=dry", "--quiet", "-o", str(folder / "b")]) == 0
    return folder


def test_remix_changes_what_it_names_and_records_it(remixed):
    sidecar = json.loads((remixed / "b" / "cue_remix_120bpm_Dmin_description.json").read_text())
    assert MixSpec.from_dict(sidecar["recipe"]["mix"]) == MixSpec({
        "bass": StemMix(mute=True), "drums": StemMix(gain_db=-6.0), "melody": StemMix(preset="dry")})
    old = {part: read_audio(remixed / "a" / f"cue_120bpm_Dmin_{part}.wav") for part in ("drums", "bass", "harmony", "mix")}
    new = {part: read_audio(remixed / "b" / f"cue_remix_120bpm_Dmin_{part}.wav") for part in ("drums", "bass", "harmony", "mix")}
    level = 20 * np.log10(np.sqrt(np.mean(new["drums"] ** 2)) / np.sqrt(np.mean(old["drums"] ** 2)))
    stems_trim = sidecar["parameters"]["mix"]["stems_db"] - json.loads(
        (remixed / "a" / "cue_120bpm_Dmin_description.json").read_text())["parameters"]["mix"]["stems_db"]
    assert level - stems_trim == pytest.approx(-6.0, abs=0.05)  # 6 dB down, beside the stems' common trim
    assert np.abs(new["bass"]).max() > 0.01  # a muted stem's file is still written ...
    assert not np.array_equal(new["mix"], old["mix"])  # ... but it is out of the mix


def test_reproduce_makes_the_remix_again_sample_for_sample(remixed):
    assert main(["reproduce", str(remixed / "b" / "cue_remix_120bpm_Dmin_description.json"), "--quiet",
                 "-o", str(remixed / "c")]) == 0
    for part in ("drums", "bass", "harmony", "melody", "mix"):
        name = f"cue_remix_120bpm_Dmin_{part}.wav"
        assert (remixed / "c" / name).read_bytes() == (remixed / "b" / name).read_bytes(), part


def test_an_extended_remix_keeps_its_mix_and_its_old_bars(remixed):
    assert main(["extend", str(remixed / "b" / "cue_remix_120bpm_Dmin_description.json"), "--bars", "2", "--quiet",
                 "-o", str(remixed / "d")]) == 0
    old_bars = 32 * SR // 2
    for part in ("drums", "bass", "melody", "mix"):
        old = read_audio(remixed / "b" / f"cue_remix_120bpm_Dmin_{part}.wav")
        new = read_audio(remixed / "d" / f"cue_remix_extended_120bpm_Dmin_{part}.wav")
        assert np.array_equal(old[:, :old_bars], new[:, :old_bars]), part


def test_a_remix_of_an_extended_cue_is_mastered_anew(remixed):
    """The extension keeps its parent's gains (so its old bars stay exact); a remix of it is a new mix,
    mastered to the target like any other, not at gains measured for another mix."""
    extended = remixed / "d" / "cue_remix_extended_120bpm_Dmin_description.json"
    if not extended.is_file():
        assert main(["extend", str(remixed / "b" / "cue_remix_120bpm_Dmin_description.json"), "--bars", "2",
                     "--quiet", "-o", str(remixed / "d")]) == 0
    assert main(["remix", str(extended), "--unmute", "bass", "--gain", "drums=6", "--quiet",
                 "-o", str(remixed / "e")]) == 0
    sidecar = json.loads(next((remixed / "e").glob("*_description.json")).read_text())
    assert sidecar["recipe"]["mix_gains"] is None
    assert sidecar["loudness_lufs"] == pytest.approx(-14.0, abs=0.3)
    drums = read_audio(next((remixed / "e").glob("*_drums.wav")))
    assert np.abs(drums).max() < 0.999  # the stems' trim measured again: 6 dB up does not clip


def test_a_loop_with_a_muted_stem_comes_round_without_a_click(tmp_path):
    from mtm_daw.pipeline.loop import seam_discontinuity

    assert main(["compose", "--loop", "2", "--genre", "house", "--tempo", "124", "--seed", "2", "--quiet",
                 "-o", str(tmp_path / "loop")]) == 0
    assert main(["remix", str(next((tmp_path / "loop").glob("*_description.json"))), "--mute", "melody",
                 "--quiet", "-o", str(tmp_path / "muted")]) == 0
    mix = read_audio(next((tmp_path / "muted").glob("*_mix.wav")))
    seam, typical = seam_discontinuity(mix)
    assert seam <= typical


def test_mix_changes_and_bad_mixes():
    spec = mix_with_changes(MixSpec(), gains={"drums": -3.0}, mute=("bass",), solo=("melody",))
    assert spec.audible(["drums", "bass", "harmony", "melody"]) == ["melody"]
    unsoloed = mix_with_changes(spec, unmute=("melody", "bass"))
    assert unsoloed.audible(["drums", "bass", "harmony", "melody"]) == ["drums", "bass", "harmony", "melody"]
    assert unsoloed.stem("drums").gain_db == -3.0
    for bad, words in (({"drums": {"gain_db": 99}}, "outside"), ({"drums": {"preset": "polka"}}, "unknown FX"),
                       ({"drums": {"mute": "yes"}}, "true or false"), ({"drums": {"volume": 1}}, "needs"),
                       ([1, 2], "object")):
        with pytest.raises(MtmError, match=words):
            MixSpec.from_dict(bad)


def test_remix_refuses_bad_flags_with_one_line(remixed, capsys):
    sidecar = str(remixed / "a" / "cue_120bpm_Dmin_description.json")
    for flags, words in ((["--gain", "drums=loud"], "not a number"), (["--gain", "kazoo=3"], "ROLE=VALUE"),
                         (["--preset", "drums=polka"], "unknown FX preset"), (["--gain", "drums=-90"], "outside")):
        assert main(["remix", sidecar, *flags, "--quiet", "-o", str(remixed / "x")]) == 2
        assert words in capsys.readouterr().err
