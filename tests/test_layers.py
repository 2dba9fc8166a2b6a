"""The package's layout is its architecture: each folder or module sits on a layer and imports only its
own layer and those below, and no modules import each other in a circle. Read from the source (ast),
imports inside functions included: a lazy import still ties the layers together."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mtm_daw"

LAYERS = (  # bottom to top; the name is the first part after `mtm_daw.`
    ("errors", "jsonfile", "progress", "spool", "cores", "data", "weights"),  # plumbing
    ("score", "plan", "analysis", "media", "schedulers"),  # music as data, theory, reading files
    ("description", "generation"),  # what a cue should be, and how the trained generator samples it
    ("compose", "cue"),  # description -> plan -> score; the cue's audio type
    ("engine",),  # the ONNX models and what they read (conditioning, control signals)
    ("render", "mix", "export", "provenance"),  # score -> audio -> files, and the record of how
    ("describe",),  # the text bridge: anything -> description
    ("library",),  # the music bridge
    ("pipeline", "doctor"),  # the cue pipeline: make, loop, remake and sync cues
    ("evaluation",),  # built on the pipeline
    ("cli", "serve", "__init__"),  # entry points
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_UPWARD = 2  # the budget the layout issue set; today there are none
BUILD_TIME = ("training", "onnx_export")  # training and export: never imported by the runtime package
OPTIONAL_BACKENDS = ("torch", "transformers")  # only inside the loaders of a user's own checkpoint folder


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part(module: str) -> str:
    """mtm_daw.compose.baseline -> compose; mtm_daw -> __init__."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported mtm_daw module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base == "mtm_daw":  # from mtm_daw import x: x may be a module or the package's own name
                targets = ["mtm_daw" if alias.name == "__version__" else f"mtm_daw.{alias.name}" for alias in node.names]
            else:
                targets = [base]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        found += [(target, node.lineno, id(node) in top_level) for target in targets
                  if target == "mtm_daw" or target.startswith("mtm_daw.")]
    return found


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer():
    parts = {part(module_name(path)) for path in sources()}
    assert parts <= set(RANK), f"give these a layer in LAYERS: {sorted(parts - set(RANK))}"


def test_imports_run_down_the_layers():
    upward = []
    for path in sources():
        here = part(module_name(path))
        for target, line, _ in imports(path):
            if target == "mtm_daw":  # the package's version
                continue
            if RANK[part(target)] > RANK[here]:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert len(upward) <= MAX_UPWARD, "\n".join(upward)


def test_the_runtime_package_never_imports_training_or_torch():
    """Training and export are never imported; torch and transformers only inside a function that loads
    a checkpoint folder the user gives (so a plain run never needs them)."""
    found = []
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else
                     [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                root = name.split(".")[0]
                if root in BUILD_TIME or (root in OPTIONAL_BACKENDS and id(node) in top_level):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert found == []


ENTRY_POINTS = ("cli.py", "library/cli.py", "serve/engine.py", "doctor.py", "__init__.py")  # import a command's
# stage when it runs (their docstrings say so); everywhere else imports sit at the top


def test_an_import_inside_a_function_says_why():
    """Imports sit at a module's top; a block of them inside a function (a heavy backend only that path
    needs, or a circle at module level) says why in a comment above it or on its first line."""
    silent = []
    for path in sources():
        if str(path.relative_to(PACKAGE)) in ENTRY_POINTS:
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    first = node.lineno - 1
                    while first > 0 and lines[first - 1].strip().startswith(("from ", "import ")):
                        first -= 1  # the block's first import carries the reason: on its line or the one above
                    if not lines[first - 1].strip().startswith("#") and "#" not in lines[first]:
                        silent.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert silent == [], "\n".join(silent)


def test_no_modules_import_each_other_in_a_circle():
    names = {module_name(path): path for path in sources()}
    graph = {name: sorted({target for target, _, top in imports(path) if top and target in names and target != name})
             for name, path in names.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    circles = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in graph[name]:
            if state.get(target) == 1:
                circles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_checker_sees_an_upward_import_and_a_circle(tmp_path, monkeypatch):
    fake = tmp_path / "mtm_daw"
    (fake / "score").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "description.py").write_text("from mtm_daw.score.baseline import compose\n")
    (fake / "score" / "__init__.py").write_text("")
    (fake / "score" / "baseline.py").write_text("from mtm_daw.description import MusicDescription\n"
                                                "import torch\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "MAX_UPWARD", 0)
    assert "score/baseline.py:1 imports mtm_daw.description" in failure(test_imports_run_down_the_layers)
    assert ("mtm_daw.description -> mtm_daw.score.baseline -> mtm_daw.description"
            in failure(test_no_modules_import_each_other_in_a_circle))
    assert "score/baseline.py:2 imports torch" in failure(test_the_runtime_package_never_imports_training_or_torch)
    (fake / "score" / "lazy.py").write_text("def load():\n    import json\n\n\ndef later():\n"
                                            "    # deferred: said why\n    import json\n")
    said = failure(test_an_import_inside_a_function_says_why)
    assert "score/lazy.py:2: import json" in said and "lazy.py:7" not in said


def failure(check) -> str:
    """What a check that must fail said."""
    try:
        check()
    except AssertionError as error:
        return str(error)
    raise AssertionError(f"{check.__name__} passed on a package that breaks it")
