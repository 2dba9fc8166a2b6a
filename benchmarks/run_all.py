"""Run every speed benchmark, one after another, and collect what each printed:

    .venv/bin/python benchmarks/run_all.py            # `make bench`
    .venv/bin/python benchmarks/run_all.py --quick    # smaller sizes, a few minutes
    .venv/bin/python benchmarks/run_all.py --only retrieval,import

Each benchmark measures its own baseline in the same run and prints ratios (ORT vs torch, int8 vs
fp32, retrieval vs numpy, generation vs real time, import throughput, video analysis vs real time,
the panel's UI stalls). They run one at a time — on 2 cores two at once would time each other.
Writes benchmarks/results/summary.json: the machine, each benchmark's command, exit status,
seconds, peak memory (max RSS of the child) and the tail of its output.
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

# name -> (full arguments, quick arguments)
BENCHMARKS = {
    "render_mix": (["bench_render_mix.py"], ["bench_render_mix.py", "--repeats", "1"]),
    "generator": (["bench_generator.py"], ["bench_generator.py", "--repeats", "2"]),
    "retrieval": (["bench_retrieval.py"], ["bench_retrieval.py", "--sizes", "10000,100000", "--queries", "50",
                                           "--out", "benchmarks/results/retrieval_quick.json"]),
    "import": (["bench_import.py", "--clips", "24", "--seconds", "20"],
               ["bench_import.py", "--clips", "4", "--seconds", "15", "--out", "benchmarks/results/import_quick.json"]),
    "video_analysis": (["bench_video_analysis.py"], ["bench_video_analysis.py"]),
    "panel_ui": (["bench_panel_ui.py"], ["bench_panel_ui.py", "--skip-in-process"]),
    "long_cue": (["bench_long_cue.py"], ["bench_long_cue.py", "--minutes", "2"]),
    "plugin": (["bench_plugin.py"], ["bench_plugin.py", "--bars", "4", "--seconds", "20"]),
    "audio_describe": (["bench_audio_describe.py"], ["bench_audio_describe.py", "--minutes", "2"]),
}


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


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
    for name in names:
        full, quick = BENCHMARKS[name]
        summary["benchmarks"][name] = run(name, quick if args.quick else full)
    out = HERE / "results" / "summary.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    failed = [n for n, r in summary["benchmarks"].items() if r["returncode"]]
    print(f"wrote {out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
