"""Time to compose, render, mix and export a 30 s four-stem cue, as ratios measured in this run.

    .venv/bin/python benchmarks/bench_render_mix.py [--repeats 3]

Prints each stage's median time, its speed as a multiple of real time, FluidSynth rendering the tracks
one at a time and CUE_SYNTHS at once (as a cue's renderer does), and the built-in synth against FluidSynth
on the same score.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from mtm_daw.description import MusicDescription
from mtm_daw.export import export_cue
from mtm_daw.mix import mix_stems, role_chain
from mtm_daw.pipeline import compose_cue
from mtm_daw.render import CUE_SYNTHS, make_renderer, render_score
from mtm_daw.compose.baseline import compose

DURATION = 30.0


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    description = MusicDescription(genre="pop", mood="happy", tempo=120, key="D minor", duration=DURATION)

    compose_time, score = timed(lambda: compose(description, seed=0), repeats)
    rows = [("compose score", compose_time)]
    render_times = {}
    for synth, synths in (("soundfont", 1), ("soundfont", CUE_SYNTHS), ("builtin", 1)):
        try:
            renderer = make_renderer(synth=synth, synths=synths)
        except Exception as error:  # no SoundFont on this machine: report and go on
            print(f"{synth}: unavailable ({error})")
            continue
        render_times[synth, synths], stems = timed(lambda: render_score(score, renderer), repeats)
        rows.append((f"render 4 stems ({renderer.name}, {renderer.tracks_at_once} at once)", render_times[synth, synths]))
        renderer.close()
    chains = {role: role_chain(role, "pop", 120) for role in stems}
    mix_time, _ = timed(lambda: mix_stems(stems, chains), repeats)
    rows.append(("mix + master (-14 LUFS)", mix_time))
    cue = compose_cue(description, seed=0, warn=lambda m: None)
    with tempfile.TemporaryDirectory() as folder:
        export_time, _ = timed(lambda: export_cue(cue, folder, overwrite=True), repeats)
    rows.append(("export 7 files", export_time))
    end_to_end, _ = timed(lambda: compose_cue(description, seed=0, warn=lambda m: None), repeats)
    rows.append(("compose + render + mix (default renderer)", end_to_end))

    print(f"{DURATION:.0f} s four-stem cue, median of {repeats}:")
    for name, seconds in rows:
        print(f"  {name:<58} {seconds:7.3f} s   {DURATION / seconds:7.1f}x real time")
    if ("soundfont", CUE_SYNTHS) in render_times:
        one, several = render_times["soundfont", 1], render_times["soundfont", CUE_SYNTHS]
        print(f"  FluidSynth, {CUE_SYNTHS} tracks at once (a cue's renderer) over one at a time: x{one / several:.2f}")
        if ("builtin", 1) in render_times:
            print(f"  built-in synth / FluidSynth render time (one at a time): {render_times['builtin', 1] / one:.2f}")


if __name__ == "__main__":
    main()
