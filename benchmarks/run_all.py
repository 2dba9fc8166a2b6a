"""Run every speed benchmark, one after another, and collect what each printed:

    .venv/bin/python benchmarks/run_all.py            # `make bench`
    .venv/bin/python benchmarks/run_all.py --quick    # smaller sizes, a few minutes
    .venv/bin/python benchmarks/run_all.py --only retrieval,import

Each benchmark measures its own baseline in the same run and prints ratios (ORT vs torch, int8 vs
fp32, retrieval vs numpy, generation vs real time, import throughput, video analysis vs real time,
the panel's UI stalls). They run one at a time — on 2 cores two at once would time each other.
Writes benchmarks/results/summary.json (--quick: benchmarks/results/quick/): the machine, each
benchmark's command, exit status, seconds, peak memory (max RSS of the child) and the tail of its
output, and a table of the speed goals (issue 21) beside what this run measured.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (full arguments, quick arguments); "{out}" becomes this run's JSON file for the benchmark
BENCHMARKS = {
    "render_mix": (["bench_render_mix.py"], ["bench_render_mix.py", "--repeats", "1"]),
    "generator": (["bench_generator.py", "--out", "{out}"], ["bench_generator.py", "--repeats", "2", "--out", "{out}"]),
    "retrieval": (["bench_retrieval.py", "--out", "{out}"],
                  ["bench_retrieval.py", "--sizes", "10000,100000", "--queries", "50", "--out", "{out}"]),
    "import": (["bench_import.py", "--clips", "24", "--seconds", "20", "--out", "{out}"],
               ["bench_import.py", "--clips", "4", "--seconds", "15", "--out", "{out}"]),
    "video_analysis": (["bench_video_analysis.py"], ["bench_video_analysis.py"]),
    "panel_ui": (["bench_panel_ui.py"], ["bench_panel_ui.py", "--skip-in-process"]),
    "long_cue": (["bench_long_cue.py"], ["bench_long_cue.py", "--minutes", "2"]),
    "cue_length": (["bench_cue_length.py", "--out", "{out}"],
                   ["bench_cue_length.py", "--minutes", "0.5,2", "--out", "{out}"]),
    "plugin": (["bench_plugin.py"], ["bench_plugin.py", "--bars", "4", "--seconds", "20"]),
    "audio_describe": (["bench_audio_describe.py"], ["bench_audio_describe.py", "--minutes", "2"]),
}


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def _largest_retrieval(figures: dict) -> dict:
    return max(figures["results"], key=lambda result: result["size"])


# (benchmark, figure, goal, how to read the figure from the benchmark's JSON, whether it meets the goal)
GOALS = [
    ("generator", "30 s cue, new process (s)", "<= 1.2", lambda f: f["cue_30s_seconds"]["cold"], lambda v: v <= 1.2),
    ("generator", "30 s cue, warm (x real time)", ">= 50", lambda f: f["cue_30s_times_real_time"]["warm"],
     lambda v: v >= 50),
    ("generator", "30 s cue, warm: first bars ready to play (s)", "<= 1", lambda f: f["first_bars_seconds_warm"],
     lambda v: v <= 1.0),
    ("generator", "int8 step speed-up over fp32", ">= 1.3", lambda f: f["int8_speedup_over_fp32"], lambda v: v >= 1.3),
    ("retrieval", "search p50 at the largest size, worst filter (ms)", "<= 2 (at 512K)",
     lambda f: max(c["search_memory"]["p50_ms"] for c in _largest_retrieval(f)["cases"]), lambda v: v <= 2.0),
    ("retrieval", "recall@10 at the largest size, worst filter", ">= 0.98",
     lambda f: min(c["recall_at_10_memory"] for c in _largest_retrieval(f)["cases"]), lambda v: v >= 0.98),
    ("retrieval", "index p50 / best numpy brute force, worst case at any size", "<= 1",
     lambda f: max(c["ratio_index_to_best_numpy_p50"] for r in f["results"] for c in r["cases"]), lambda v: v <= 1.0),
    ("cue_length", "peak memory of the longest cue made or MIDI file rendered (MB)", "<= 1000 (60 min)",
     lambda f: max(max(r["compose"]["peak_mb"], r["midi_render"]["peak_mb"]) for r in f["rows"]),
     lambda v: v <= 1000),
    ("import", "seconds of music imported per second, with notes", ">= 30",
     lambda f: max(f["audio"]["one_worker_clips_per_s"], f["audio"]["two_workers_clips_per_s"]) * f["seconds_per_clip"],
     lambda v: v >= 30),
]


def goals(results_dir: Path, summary: dict) -> list[dict]:
    """Each goal beside this run's figure (None where its benchmark did not run or wrote nothing)."""
    rows = []
    for name, figure, goal, read, met in GOALS:
        path = results_dir / f"{name}.json"
        value = None
        if name in summary["benchmarks"] and summary["benchmarks"][name]["returncode"] == 0 and path.exists():
            value = round(float(read(json.loads(path.read_text()))), 3)
        rows.append({"benchmark": name, "figure": figure, "goal": goal, "measured": value,
                     "met": None if value is None else bool(met(value))})
    return rows


def run(name: str, arguments: list[str]) -> dict:
    """One benchmark in a child process; its own peak memory comes from wait4's resource usage."""
    command = [sys.executable, str(HERE / arguments[0]), *arguments[1:]]
    print(f"== {name}: {' '.join(arguments)}", flush=True)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env, cwd=HERE.parent)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    seconds = time.monotonic() - started
    print(stdout[-3000:], end="", flush=True)
    if child.returncode:
        print(stderr[-2000:], file=sys.stderr, flush=True)
    return {"command": arguments, "returncode": child.returncode, "seconds": round(seconds, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
            "output_tail": stdout[-3000:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", help="comma-separated names: " + ",".join(BENCHMARKS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    summary = {"machine": machine(), "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
               "benchmarks": {}}
    results_dir = HERE / "results" / ("quick" if args.quick else "")
    results_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        full, quick = BENCHMARKS[name]
        arguments = [str(results_dir / f"{name}.json") if a == "{out}" else a for a in (quick if args.quick else full)]
        summary["benchmarks"][name] = run(name, arguments)
    summary["goals"] = goals(results_dir, summary)
    print(f"\n{'figure':<62} {'measured':>9}  {'goal':<15} met")
    for row in summary["goals"]:
        measured = "-" if row["measured"] is None else f"{row['measured']:g}"
        met = "-" if row["met"] is None else ("yes" if row["met"] else "NO")
        print(f"{row['benchmark'] + ': ' + row['figure']:<62} {measured:>9}  {row['goal']:<15} {met}")
    out = results_dir / "summary.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    failed = [n for n, r in summary["benchmarks"].items() if r["returncode"]]
    print(f"wrote {out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
