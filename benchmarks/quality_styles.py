"""Each style's groove signature, played by both engines: the share of bars where every check of the
style file holds (mtm_daw.score.styles.signature_share), on fixed seeds.

    .venv/bin/python benchmarks/quality_styles.py [--seeds 6] [--first-seed 0] [--bars 16] [--steps 20]
        [--guidance G] [--model FILE] [--out results.md]

Descriptions are the style's own: its middle tempo, meter and first key, mood "happy", all four roles.
What the figures show: for the baseline, that its playing matches the style files (it reads them);
for the trained model, what it writes from the style's label. A model without a row for a style (the
"parent" column) hears it as its parent, so there the figure shows how far the parent's groove is from
the style's signature, not a learned style. "lowest" is the trained model's worst seed: a style can pass on
average and still lose its groove for a whole cue.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.compose.baseline import compose
from mtm_daw.score.styles import library, signature_share


def style_description(name: str, bars: int) -> MusicDescription:
    style = library()[name]
    beats = bars * style.meter[0] * 4 / style.meter[1]
    return MusicDescription(genre=name, mood="happy", tempo=style.default_tempo, key=style.keys[0],
                            time_signature=style.meter, duration=beats * 60 / style.default_tempo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds per style (the test takes six)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one on")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--steps", type=int, default=GenerationSettings.steps)
    parser.add_argument("--guidance", type=float, default=GenerationSettings.guidance)
    parser.add_argument("--model", help="an ecmg ONNX file (default: the shipped one)")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be 1 or more")
    generator = Generator(args.model) if args.model else Generator.default()
    encoder = TextEncoder.default()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = [f"seeds {seeds.start}-{seeds.stop - 1}, {args.bars} bars, {args.steps} steps, guidance {args.guidance:g}",
            "",
            "| style | model row | baseline | trained | trained, lowest seed |", "|---|---|---|---|---|"]
    totals = {"baseline": [], "trained": []}
    started = time.perf_counter()
    for name, style in library().items():
        description = style_description(name, args.bars)
        sentence = encoder.encode([description.to_sentence()])[0]
        shares = {"baseline": [], "trained": []}
        for seed in seeds:
            for engine in shares:
                score = compose(description, seed=seed) if engine == "baseline" else generate_score(
                    description, sentence, generator=generator,
                    settings=GenerationSettings(steps=args.steps, guidance=args.guidance, seed=seed))
                shares[engine].append(signature_share(score.tracks["drums"].notes, style, score.bars,
                                                      score.beats_per_bar))
        means = {engine: sum(values) / len(values) for engine, values in shares.items()}
        for engine, mean in means.items():
            totals[engine].append(mean)
        parent = "(own row)" if name in generator.genres else style.parent
        rows.append(f"| {name} | {parent} | {means['baseline']:.2f} | {means['trained']:.2f} | "
                    f"{min(shares['trained']):.2f} |")
        print(rows[-1], flush=True)
    summary = [f"{engine}: {sum(v >= 0.8 for v in values)}/{len(values)} styles at >= 0.80 of bars "
               f"(mean {sum(values) / len(values):.3f})" for engine, values in totals.items()]
    rows += [""] + summary
    print("\n".join(summary))
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.out:
        Path(args.out).write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
