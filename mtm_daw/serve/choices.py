"""The plugin's choice lists (styles, moods, keys, engines), written as a C++ header when the plugin is
built, so the plugin's parameters name exactly what the engine accepts.

    python -m mtm_daw.serve.choices OUT.hpp
"""
from __future__ import annotations

import sys
from pathlib import Path

from mtm_daw.description import GENRES, MOODS
from mtm_daw.pipeline import ENGINES
from mtm_daw.score.theory import PITCH_CLASS_NAMES_FLAT, parse_key

KEYS = tuple(f"{tonic} {mode}" for mode in ("major", "minor") for tonic in PITCH_CLASS_NAMES_FLAT)


def header() -> str:
    for key in KEYS:
        parse_key(key)  # every name the plugin sends is one the engine reads

    def array(name: str, values: tuple[str, ...]) -> str:
        quoted = ", ".join(f'"{value}"' for value in values)
        return f"static const char* const {name}[] = {{{quoted}}};\nstatic const int {name}Count = {len(values)};\n"

    return ("// Written by `python -m mtm_daw.serve.choices` when the plugin is built; do not edit.\n#pragma once\n\n"
            + array("kStyleNames", GENRES) + array("kMoodNames", MOODS)
            + array("kKeyNames", ("auto",) + KEYS) + array("kEngineNames", ENGINES))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m mtm_daw.serve.choices OUT.hpp", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
