"""Security by inspection of the runtime code (mtm_daw without training, and plugin_ui):
no pickle, torch.load, marshal or unsafe yaml of files; np.load only with allow_pickle=False; no eval
or exec; no shell=True; and SQL formatted only from the reviewed, constant pieces listed below.

Hostile strings in library tags, paths and queries: tests/test_library_store.py
(test_sql_looking_text_is_just_text) and tests/test_library_search.py.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = sorted(p for p in [*(ROOT / "mtm_daw").rglob("*.py"), *(ROOT / "plugin_ui").rglob("*.py")]
                 if (ROOT / "mtm_daw" / "models") not in p.parents)
UNPICKLERS = {"pickle", "cPickle", "_pickle", "dill", "joblib", "marshal", "shelve"}
# Every expression formatted into SQL, as written in the source; each was checked to be built from
# constants (column lists, a checked int width, savepoint depth, clauses from a fixed tuple).
SQL_PIECES = {"', '.join(_ITEM_COLUMNS)", "', '.join('?' * len(_ITEM_COLUMNS))", "', '.join('?' * len(wanted))",
              "int(dim)", "_SELECT_ITEMS",
              "' AND '.join(clauses)", "depth", "where", "column", "operator"}
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WHERE|FROM|VALUES|ORDER BY|LIMIT|SAVEPOINT|"
                 r"RELEASE|ROLLBACK|PRAGMA)\b|\?")


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNPICKLERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNPICKLERS:
            found.append(f"from {node.module} import ...")
    for call, name in _calls(tree):
        keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
        if name in ("eval", "exec", "compile", "__import__"):
            found.append(f"{name}(...)")
        elif name in ("torch.load", "pickle.load", "pickle.loads", "marshal.load", "marshal.loads",
                      "joblib.load", "shelve.open"):
            found.append(f"{name}(...)")
        elif name in ("np.load", "numpy.load") and keywords.get("allow_pickle") != "False":
            found.append(f"{name}(...) without allow_pickle=False")
        elif name in ("yaml.load", "yaml.load_all") and "Safe" not in keywords.get("Loader", ""):
            found.append(f"{name}(...) without a safe loader")
        elif keywords.get("shell") == "True":
            found.append(f"{name}(..., shell=True)")
    return [f"{path.relative_to(ROOT)}:{message}" for message in found]


def _formatted_sql(path: Path) -> list[str]:
    """Interpolations in f-strings that look like SQL, and %-formatting or .format() of SQL text."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL.search(text):
                found += [f"{path.name}:{node.lineno}: {{{ast.unparse(v.value)}}}" for v in node.values
                          if isinstance(v, ast.FormattedValue) and ast.unparse(v.value) not in SQL_PIECES]
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
              and isinstance(node.left.value, str) and SQL.search(node.left.value)):
            found.append(f"{path.name}:{node.lineno}: % formatting of SQL")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)
              and SQL.search(node.func.value.value)):
            found.append(f"{path.name}:{node.lineno}: .format() of SQL")
    return found


def test_the_runtime_code_list_is_real():
    names = {p.relative_to(ROOT).as_posix() for p in RUNTIME}
    assert {"mtm_daw/library/store.py", "mtm_daw/engine/sessions.py", "plugin_ui/backend.py"} <= names
    assert not any(name.startswith("training/") for name in names)


def test_no_unpickling_eval_or_shell_on_the_runtime_path():
    findings = [finding for path in RUNTIME for finding in _findings(path)]
    assert findings == []


def test_the_checker_sees_what_it_looks_for(tmp_path):
    """The checks above are only as good as the checker: feed it each forbidden thing once."""
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom joblib import load\nimport numpy as np\nimport subprocess, yaml, torch\n"
                   "eval('1')\nexec('x = 1')\ntorch.load('m.pt')\nnp.load('a.npy')\nnp.load('b.npy', allow_pickle=True)\n"
                   "np.load('c.npy', allow_pickle=False)\nyaml.load(text)\nsubprocess.run('ls', shell=True)\n"
                   "app.exec()\nmodel.eval()\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = [finding.split(":", 1)[1] for finding in _findings(bad)]
    finally:
        ROOT = saved
    assert found == ["import pickle", "from joblib import ...", "eval(...)", "exec(...)", "torch.load(...)",
                     "np.load(...) without allow_pickle=False", "np.load(...) without allow_pickle=False",
                     "yaml.load(...) without a safe loader", "subprocess.run(..., shell=True)"]


@pytest.mark.parametrize("path", sorted(p for p in RUNTIME if "apsw" in p.read_text(encoding="utf-8")
                                         or "sqlite" in p.read_text(encoding="utf-8")),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_sql_is_parameterised(path):
    """User values reach SQLite only as ? parameters; f-strings in SQL hold only the reviewed pieces."""
    assert _formatted_sql(path) == []


def test_the_sql_checker_sees_formatted_values(tmp_path):
    bad = tmp_path / "bad_sql.py"
    bad.write_text("run(f\"SELECT * FROM items WHERE genre = '{genre}'\")\nrun(\"DELETE FROM items WHERE id = %s\" % i)\n"
                   "run(\"UPDATE items SET mood = '{}'\".format(mood))\nrun(f\"SELECT {', '.join(_ITEM_COLUMNS)} FROM items\")\n")
    assert _formatted_sql(bad) == ["bad_sql.py:1: {genre}", "bad_sql.py:2: % formatting of SQL",
                                   "bad_sql.py:3: .format() of SQL"]


class _PluginLoaded(Exception):
    pass


def test_a_sidecar_cannot_make_mtm_load_a_plugin(tmp_path, monkeypatch):
    import json

    from mtm_daw.description import MusicDescription
    from mtm_daw.errors import MtmError
    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import cue_pipeline
    from mtm_daw.pipeline import RenderSettings, compose_cue
    from mtm_daw.pipeline.remake import reproduce_cue

    cue = compose_cue(MusicDescription(duration=2), seed=1, settings=RenderSettings(synth="builtin"),
                      warn=lambda message: None)
    sidecar = next(p for p in export_cue(cue, tmp_path, name="sent") if p.name.endswith("_description.json"))
    document = json.loads(sidecar.read_text())
    document["recipe"]["render"]["plugins"] = {"drums": [str(tmp_path / "Someone's.vst3")]}
    sidecar.write_text(json.dumps(document))

    def load_vst3(path, parameters=None):
        raise _PluginLoaded(path)

    monkeypatch.setattr(cue_pipeline, "load_vst3", load_vst3)
    try:
        reproduce_cue(sidecar, warn=lambda message: None)
    except _PluginLoaded as loaded:
        pytest.fail(f"a plugin named only in the sidecar was loaded: {loaded}")
    except MtmError:
        pass  # refused, naming the plugin: the wanted outcome
    with pytest.raises(_PluginLoaded):  # with the user's consent it is loaded
        reproduce_cue(sidecar, warn=lambda message: None, allow_plugins=True)
    from mtm_daw.pipeline.remake import remix_cue
    from mtm_daw.provenance import MixSpec

    with pytest.raises(MtmError, match="allow-plugins"):  # a remix asks the same
        remix_cue(sidecar, MixSpec(), warn=lambda message: None)
