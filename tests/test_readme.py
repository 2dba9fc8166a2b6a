"""The README's commands and snippets are what CI and users run; keep them true."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_run_and_test_commands_and_ci_runs_the_test_command():
    (lang1, run_block), (lang2, test_block) = BLOCKS[0], BLOCKS[1]
    assert lang1 == lang2 == "bash"
    assert run_block.strip().startswith("bash scripts/setup.sh && .venv/bin/mtm ")
    assert test_block.strip() in (ROOT / ".ci" / "run").read_text()


def test_readme_run_command_composes_the_cue(tmp_path):
    command = BLOCKS[0][1].strip().split("&&", 1)[1]
    args = shlex.split(command)[1:]
    args[args.index("-o") + 1] = str(tmp_path / "demo")
    result = subprocess.run([sys.executable, "-m", "mtm_daw.cli", *args], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "demo") in result.stdout
    assert len(list((tmp_path / "demo").glob("*.wav"))) == 5
    assert len(list((tmp_path / "demo").glob("*_scored.mp4"))) == 1


def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    snippet = next(code for lang, code in BLOCKS if lang == "python")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert {p.suffix for p in namespace["paths"]} == {".wav", ".mid", ".json"}
    assert all(p.exists() for p in namespace["paths"])
