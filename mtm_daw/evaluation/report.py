"""Writing an evaluation: eval.md (tables), eval.json (every number) and plots/*.png.

Plots need matplotlib (scripts/setup.sh installs it); without it they are skipped with a note, the rest is written.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mtm_daw.doctor import install_hint
from mtm_daw.errors import MtmError

# (key in the engine summary, column title, format); the markdown table's columns in order
COLUMNS = (
    ("cues", "cues", "{:d}"),
    ("tempo_match", "tempo ok", "{:.0%}"),
    ("tempo_octave", "tempo ok (any octave)", "{:.0%}"),
    ("key_audio", "key ok (audio)", "{:.0%}"),
    ("key_mirex", "key MIREX", "{:.2f}"),
    ("key_notes", "key ok (notes)", "{:.0%}"),
    ("meter_match", "meter ok", "{:.0%}"),
    ("beat_mse", "BeatMSE (ms²)", "{:.0f}"),
    ("clap", "CLAP", "{:.1f}"),
    ("genre_kl", "genre KL", "{:.2f}"),
    ("mood_kl", "mood KL", "{:.2f}"),
    ("fd", "FD", "{:.3f}"),
    ("kl_embedding", "KL (emb.)", "{:.1f}"),
    ("ref_onset", "ref. onset", "{:.2f}"),
    ("ref_chroma", "ref. chroma", "{:.2f}"),
    ("notes_z", "notes z", "{:.2f}"),
    ("repeat", "repeat 4/8", "{:.0%}"),
    ("chord_tones", "chord tones +", "{:.2f}"),
    ("melody_velocity_spread", "mel. vel. sd", "{:.1f}"),
    ("empty_roles", "empty roles", "{:d}"),
    ("seconds_per_cue", "s / cue", "{:.1f}"),
)

DEFINITIONS = """\
- **tempo ok**: BPM tracked on the rendered mix within max(2 BPM, 2 %) of the request; *any octave* also
  accepts half, double, 2:3 and 3:2 time.
- **key ok (audio)** / **key MIREX**: key heard in the pitched stems' audio (constant-Q chroma, Temperley
  profiles) equals the request / MIREX score (1 exact, 0.5 fifth, 0.3 relative, 0.2 parallel).
  **key ok (notes)**: the same from the notes' duration-weighted pitch classes.
- **meter ok**: the bar implied by the notes' accents (folded at 2, 3 and 4 beats; 6/8 vs 3/4 by the
  middle eighth) equals the requested time signature.
- **BeatMSE**: for each visual event of a video (shot cuts and motion onsets; the set's known times when
  given), the squared distance to the nearest beat tracked on the mix (the pulse carried on to the clip's
  edges), averaged, in ms² (videos only).
- **CLAP**: 100 × cosine of the description's sentence and the mix in the joint text–audio space.
- **genre / mood KL**: KL(requested one-hot ‖ zero-shot label probabilities of the mix) = −log p(requested).
- **FD / KL (emb.)**: Fréchet distance and Gaussian KL between the engine's mix embeddings and the
  reference music's; with a dozen cues in 128 dimensions, compare engines with each other only.
- **ref. onset / chroma**: cosine similarity of onsets and tonic-relative chroma with the reference the
  engine followed; engines that follow none are measured against the set's reference (chance level).
- **repeat 4/8**: bars of bass, harmony and melody that exactly repeat the bar 4 or 8 bars earlier (form).
- **chord tones +**: the melody's share of duration on the chord tones heard in bass and harmony, minus the
  same melody shifted one bar (a melody that follows its chords scores well above 0).
- **mel. vel. sd**: standard deviation of the melody's velocities (dynamics that are noise score high).
- **notes z**: mean over roles of |statistic − training mean| / training spread for notes per bar, mean
  pitch and pitch range (the generator's training arrangements).
"""


def _cell(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def summary_table(results: dict) -> str:
    """The engines side by side, one markdown row each."""
    lines = ["| engine | " + " | ".join(title for _, title, _ in COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for engine, row in results["engines"].items():
        lines.append(f"| {engine} | " + " | ".join(_cell(row.get(key), fmt) for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """The engines side by side, per-video BeatMSE, the text bridge's checks, notes and definitions."""
    lines = [f"# mtm eval: {Path(results['set']).name}", ""]
    settings = results["settings"]
    lines.append(f"Seeds {', '.join(map(str, settings['seeds']))}; DiT {settings['steps']} steps; reference strength "
                 f"{settings['strength']:g}; embedder {results.get('embedder') or 'none'}; FD/KL against "
                 f"{results.get('fd_reference') or 'nothing'}.")
    lines += ["", summary_table(results)]
    videos = [item for item in results["items"] if item.get("visual_events")]
    if videos:
        engines = list(results["engines"])
        lines += ["", "BeatMSE (ms²) per video, mean over seeds:", "",
                  "| video | events | " + " | ".join(engines) + " |", "|---|---|" + "---:|" * len(engines)]
        for item in videos:
            cells = []
            for engine in engines:
                values = [c["beat_mse"] for c in results["cues"]
                          if c["item"] == item["id"] and c["engine"] == engine and c.get("beat_mse") is not None]
                cells.append(_cell(sum(values) / len(values) if values else None, "{:.0f}"))
            lines.append(f"| {item['id']} | {len(item['visual_events'])} ({item['visual_events_source']}) | "
                         + " | ".join(cells) + " |")
    lines += ["", "Text bridge (description written from each input, and what it is known to ask for):", "",
              "| input | kind | description | checks |", "|---|---|---|---|"]
    for item in results["items"]:
        d = item["description"]
        checks = ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in item["bridge"].items()) or "–"
        lines.append(f"| {item['id']} | {item['kind']} | {d['genre']}, {d['mood']}, {d['tempo']:g} BPM, {d['key']}, "
                     f"{d['time_signature'][0]}/{d['time_signature'][1]}, {d['duration']:g} s | {checks} |")
    if results.get("notes") or results.get("warnings"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in results.get("notes", []) + results.get("warnings", [])]
    lines += ["", "Definitions:", "", DEFINITIONS]
    return "\n".join(lines)


def write_report(results: dict, output: str | Path, plots: bool = True,
                 warn: Callable[[str], None] = lambda message: None) -> list[Path]:
    """Write eval.md, eval.json and (with matplotlib) plots/*.png into `output`; returns the paths.
    A note on skipped plots also goes to `warn`."""
    output = Path(output).expanduser()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MtmError(f"{output}: the output folder cannot be made ({error})") from None
    written = []
    if plots:
        made, note = write_plots(results, output / "plots")
        written += made
        if note:
            warn(note)
            results = dict(results, notes=list(results.get("notes", [])) + [note])
    (output / "eval.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (output / "eval.md").write_text(markdown(results) + "\n", encoding="utf-8")
    return [output / "eval.md", output / "eval.json"] + written


def _save(figure, path: Path) -> Path:
    """Lay out, write (PNG, 90 dpi) and close a figure; return where it went."""
    # deferred: only this path needs matplotlib
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def write_plots(results: dict, folder: Path) -> tuple[list[Path], str]:
    """Distributions per engine: per-cue metrics as box plots, the mix embeddings in 2-D (PCA), notes per
    bar per role against the training data. Returns the files and a note when plots were skipped."""
    try:
        # deferred: only this path needs matplotlib
        import matplotlib

        matplotlib.use("Agg")  # before pyplot: no display
        import matplotlib.pyplot as plt  # deferred with matplotlib above
    except ImportError:
        return [], f"plots skipped: {install_hint('matplotlib')}"

    folder.mkdir(parents=True, exist_ok=True)
    cues, engines = results["cues"], list(results["engines"])
    written = []

    metrics = [("clap", "CLAP score"), ("beat_mse", "BeatMSE (ms²)"), ("notes_z", "notes |z| vs training"),
               ("tempo_error", "|tempo error| (BPM)"), ("ref_chroma", "reference chroma similarity"),
               ("genre_kl", "genre KL")]

    def value(cue: dict, key: str):
        if key == "tempo_error":
            return abs(cue["tempo"]["error_bpm"])
        if key == "ref_chroma":
            return cue.get("reference", {}).get("chroma")
        return cue.get(key)

    figure, axes = plt.subplots(2, 3, figsize=(13, 7))
    for axis, (key, title) in zip(axes.flat, metrics):
        data = [[v for c in cues if c["engine"] == e and (v := value(c, key)) is not None] for e in engines]
        if any(data):
            axis.boxplot([d if d else [np.nan] for d in data], showmeans=True)
            for index, values in enumerate(data, start=1):
                axis.scatter(np.full(len(values), index) + np.linspace(-0.08, 0.08, len(values)), values, s=9,
                             alpha=0.6)
            axis.set_xticks(range(1, len(engines) + 1), engines, rotation=15)
        else:
            axis.text(0.5, 0.5, "not measured", ha="center", va="center", transform=axis.transAxes)
            axis.set_xticks([])
            axis.set_yticks([])
        axis.set_title(title)
    written.append(_save(figure, folder / "metrics.png"))

    with_embedding = [c for c in cues if c.get("embedding")]
    if len(with_embedding) >= 3:
        vectors = np.array([c["embedding"] for c in with_embedding])
        reference = np.array(results.get("reference_embeddings") or np.zeros((0, vectors.shape[1])))
        mean = np.concatenate([vectors, reference]).mean(axis=0)
        _, _, components = np.linalg.svd(np.concatenate([vectors, reference]) - mean, full_matrices=False)
        points = (vectors - mean) @ components[:2].T
        figure, axis = plt.subplots(figsize=(6, 5))
        if len(reference):
            shown = (reference - mean) @ components[:2].T
            axis.scatter(shown[:, 0], shown[:, 1], s=14, c="lightgrey", marker="s",
                         label=results.get("fd_reference") or "reference")
        for engine in engines:
            mask = np.array([c["engine"] == engine for c in with_embedding])
            axis.scatter(points[mask, 0], points[mask, 1], label=engine, s=22, alpha=0.75)
        axis.set_title("mix embeddings (joint space, first two principal components)")
        axis.legend(fontsize=8)
        written.append(_save(figure, folder / "embeddings.png"))

    roles = ["drums", "bass", "harmony", "melody"]
    training = None
    if results.get("training_stats") and Path(results["training_stats"]).is_file():
        training = json.loads(Path(results["training_stats"]).read_text(encoding="utf-8"))["roles"]
    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / (len(engines) + (1 if training else 0))
    for index, engine in enumerate(engines):
        means = [np.mean([c["note_stats"][r]["notes_per_bar"] for c in cues if c["engine"] == engine
                          and r in c["note_stats"]] or [np.nan]) for r in roles]
        axis.bar(np.arange(len(roles)) + index * width, means, width, label=engine)
    if training:
        axis.bar(np.arange(len(roles)) + len(engines) * width,
                 [training.get(r, {}).get("notes_per_bar", {}).get("mean", np.nan) for r in roles], width,
                 label="training data", color="grey",
                 yerr=[training.get(r, {}).get("notes_per_bar", {}).get("std", 0) for r in roles])
    axis.set_xticks(np.arange(len(roles)) + 0.4 - width / 2, roles)
    axis.set_ylabel("notes per bar")
    axis.legend(fontsize=8)
    written.append(_save(figure, folder / "notes_per_bar.png"))
    return written, ""
