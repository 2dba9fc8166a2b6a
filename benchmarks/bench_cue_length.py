"""Time and peak memory against a cue's length, from 30 s to an hour: a cue composed, rendered, mixed and
exported, then its MIDI file rendered again as `mtm render` does (the 28-minute case is a long MIDI file).

    .venv/bin/python benchmarks/bench_cue_length.py [--minutes 0.5,2,10,28,60] [--engine baseline]
        [--in-memory-up-to 10] [--out results/cue_length.json]

Each run is a child process, so its peak resident memory (wait4's ru_maxrss) is its own. Up to
--in-memory-up-to minutes the same cue is also made with every buffer held in memory (what the pipeline
did before it spooled long audio to disk, mtm_daw.spool), the baseline the ratios are taken against.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import sys
from pathlib import Path
import mtm_daw.spool as spool
from mtm_daw.description import MusicDescription
from mtm_daw.export import export_cue
from mtm_daw.pipeline import compose_cue, render_midi_cue

kind, minutes, engine, folder, in_memory = sys.argv[1], float(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), sys.argv[5]
if in_memory == "1":
    spool.SPOOL_ABOVE_BYTES = 1 << 62
if kind == "compose":
    cue = compose_cue(MusicDescription(genre="pop", duration=minutes * 60), seed=1, engine=engine, warn=lambda m: None)
else:
    cue = render_midi_cue(next(folder.glob("*.mid")), warn=lambda m: None)
export_cue(cue, folder / kind, name="long", overwrite=True)
"""


def run_child(kind: str, minutes: float, engine: str, folder: Path, in_memory: bool) -> dict:
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", CHILD, kind, str(minutes), engine, str(folder),
                              "1" if in_memory else "0"], cwd=HERE.parent, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    error = child.stderr.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{kind} {minutes:g} min failed: {error[-2000:]}")
    return {"seconds": round(time.monotonic() - started, 1), "peak_mb": round(usage.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="0.5,2,10,28,60")
    parser.add_argument("--engine", default="baseline", choices=["baseline", "dit"])
    parser.add_argument("--in-memory-up-to", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    arguments = parser.parse_args()
    rows = []
    print(f"{'minutes':>7} | {'compose+export s':>16} {'peak MB':>8} | {'MIDI render s':>13} {'peak MB':>8} | "
          f"{'in memory: peak MB':>18} {'spooled / in memory':>19}")
    for minutes in [float(m) for m in arguments.minutes.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            composed = run_child("compose", minutes, arguments.engine, folder, False)
            for midi in (folder / "compose").glob("*.mid"):
                midi.rename(folder / midi.name)
            rendered = run_child("midi", minutes, arguments.engine, folder, False)
            row = {"minutes": minutes, "compose": composed, "midi_render": rendered}
            if minutes <= arguments.in_memory_up_to:
                row["compose_in_memory"] = run_child("compose", minutes, arguments.engine, folder, True)
        rows.append(row)
        memory = row.get("compose_in_memory")
        print(f"{minutes:7g} | {composed['seconds']:16.1f} {composed['peak_mb']:8d} | {rendered['seconds']:13.1f} "
              f"{rendered['peak_mb']:8d} | " + (f"{memory['peak_mb']:18d} {composed['peak_mb'] / memory['peak_mb']:19.2f}"
                                               if memory else f"{'-':>18} {'-':>19}"), flush=True)
    if arguments.out:
        arguments.out.write_text(json.dumps({"engine": arguments.engine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
