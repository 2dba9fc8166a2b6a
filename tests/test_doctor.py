"""`mtm doctor`, optional parts that are missing, and the panel opened as the README's setup leaves it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mtm_daw import doctor
from mtm_daw.cli import main
from mtm_daw.render import soundfont

BLOCK_PYQT6 = """
import sys
class NoPyQt6:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "PyQt6":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoPyQt6())
"""


def _parts(capsys) -> dict:
    return {check["part"]: check for check in json.loads(capsys.readouterr().out)}


def test_doctor_lists_every_part_and_verifies_the_models(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MTM_LIBRARY", str(tmp_path / "none.sqlite"))
    assert main(["doctor", "--json"]) == 0
    parts = _parts(capsys)
    assert {"python", "onnx runtime", "soundfont", "panel", "audio output", "daw plugin", "library", "disk"} <= set(parts)
    for name in ("ecmg", "text_encoder", "joint_embedding", "transcriber"):
        assert parts[f"model {name}"]["state"] == "ok" and "verified" in parts[f"model {name}"]["detail"]
    assert "CPUExecutionProvider" in parts["onnx runtime"]["detail"]
    assert "not created yet" in parts["library"]["detail"]
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("python") and "model ecmg" in text


def test_doctor_on_a_machine_without_soundfont_or_panel(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("MTM_SOUNDFONT", raising=False)
    monkeypatch.setattr(soundfont, "SEARCH_FOLDERS", (str(tmp_path),))
    monkeypatch.setenv("MTM_LIBRARY", str(tmp_path / "none.sqlite"))
    real_find_spec = doctor.importlib.util.find_spec
    monkeypatch.setattr(doctor.importlib.util, "find_spec",
                        lambda name, *a: None if name == "PyQt6" else real_find_spec(name, *a))
    assert main(["doctor", "--json"]) == 0  # both are optional: mtm still works
    parts = _parts(capsys)
    assert parts["soundfont"]["state"] == "missing" and "built-in synthesiser" in parts["soundfont"]["detail"]
    assert "fluid-soundfont-gm" in parts["soundfont"]["fix"]
    assert parts["panel"]["state"] == "missing" and parts["panel"]["fix"] == "bash scripts/setup.sh"


def test_doctor_reports_a_damaged_model(capsys, tmp_path, monkeypatch):
    from mtm_daw.engine import sessions

    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "manifest.json").write_text(json.dumps({"models": {"ecmg": {
        "file": "ecmg_fp32.onnx", "sha256": "0" * 64, "version": 1}}}))
    (weights / "ecmg_fp32.onnx").write_bytes(b"not a model")
    monkeypatch.setattr(sessions, "WEIGHTS_DIR", weights)
    monkeypatch.setattr(sessions, "load_manifest", lambda weights_dir=weights: json.loads(
        (weights / "manifest.json").read_text()))
    monkeypatch.setattr(sessions, "model_entry", lambda name, weights_dir=weights: sessions.load_manifest()["models"][name])
    [check] = doctor.check_models()
    assert check.state == "broken" and "checksum mismatch" in check.detail and check.fix


def test_a_missing_optional_part_says_what_and_how_never_internal_error(tmp_path):
    code = BLOCK_PYQT6 + "from mtm_daw.cli import main\nsys.exit(main(['ui', '--settings', sys.argv[1]]))"
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "panel.ini")], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 2
    assert run.stderr.strip() == ("mtm: error: PyQt6 is not installed (the panel (mtm ui) needs it); install it "
                                  "with: bash scripts/setup.sh")


def test_the_panel_opens_from_the_command_line(tmp_path):
    mtm = Path(sys.executable).parent / "mtm"
    if not mtm.exists():
        pytest.skip("the mtm command is not installed in this environment")
    picture = tmp_path / "panel.png"
    run = subprocess.run([str(mtm), "ui", "--settings", str(tmp_path / "panel.ini"), "--screenshot", str(picture)],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
