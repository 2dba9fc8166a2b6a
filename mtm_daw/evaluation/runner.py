"""`mtm eval`: every input of a set through every engine with the same seeds, then the metrics.

    from mtm_daw.evaluation import EvalSettings, run_eval, write_report
    results = run_eval("mtm_daw/data/eval", EvalSettings(engines=("baseline", "dit"), seeds=(0, 1)))
    write_report(results, "out/eval")          # eval.md, eval.json, plots/*.png

Engines:
  baseline        the procedural composer
  dit             the trained generator (DiT), description only
  dit+control     the generator following the set's reference (ControlFormer) at the set's strength
  dit+retrieval   the generator following the best library match for the description (the music bridge)

Steps: 1. check the set and engines; 2. the text bridge writes each item's description (a video's tempo
is fitted to its picture as `mtm score` does); 3. for each item, engine and seed: compose, render, mix and
measure the cue; 4. set-level metrics per engine (Fréchet distance and Gaussian KL of the cue embeddings
against the reference music). Every cue is rendered and measured in memory; nothing is exported.
"""
from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from mtm_daw.describe import describe
from mtm_daw.description import MOODS, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.evaluation.adherence import audio_key, key_adherence, meter_adherence, tempo_adherence
from mtm_daw.evaluation.distributions import frechet_distance, gaussian_kl, kl_divergence
from mtm_daw.evaluation.evalset import EvalItem, EvalSet, load_eval_set
from mtm_daw.evaluation.rhythm import beat_mse, extend_pulse, visual_events
from mtm_daw.evaluation.structure import structure_summary
from mtm_daw.generation import GenerationSettings
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress
from mtm_daw.provenance import library_reference
from mtm_daw.score.styles import CORE_GENRES, style_for
from mtm_daw.score.theory import parse_key

ENGINES = ("baseline", "dit", "dit+control", "dit+retrieval")
BRIDGE_TEMPO_TOLERANCE = 0.5  # BPM
MAX_RENDERED_REFERENCES = 40  # starter pieces rendered for an embedder without precomputed vectors


@dataclass
class EvalSettings:
    engines: tuple[str, ...] = ENGINES
    seeds: tuple[int, ...] = (0, 1)  # the same seeds for every engine
    steps: int = 20  # DiT diffusion steps
    strength: float | None = None  # reference strength for dit+control and dit+retrieval; None = the set's
    embedder: str = "joint"  # for FD, KL and the CLAP score: "joint", "clap:FOLDER" or "none" (skip them)
    library: str | None = None  # dit+retrieval: a library file; None = a fresh one with the starter set
    synth: str = "auto"  # renderer: "auto" | "soundfont" | "builtin"

    def validate(self) -> "EvalSettings":
        unknown = [e for e in self.engines if e not in ENGINES]
        if unknown or not self.engines:
            raise MtmError(f"unknown engine(s): {', '.join(unknown) or '(none given)'} "
                           f"(choose from {', '.join(ENGINES)})")
        if not self.seeds:
            raise MtmError("give at least one seed, e.g. --seeds 0,1")
        if any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise MtmError(f"seeds must be whole numbers from 0 up, got {list(self.seeds)}")
        if not 1 <= self.steps <= 200:
            raise MtmError(f"steps must be between 1 and 200, got {self.steps}")
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise MtmError(f"reference strength must be between 0 and 1, got {self.strength}")
        return self


# --- 2. the text bridge ---------------------------------------------------------------------------

def describe_item(item: EvalItem, cancel: CancelToken | None = None) -> MusicDescription:
    """The description the pipeline would compose from for this input."""
    if item.kind == "description":
        description = MusicDescription.load(item.source)
        description.sentence = description.sentence or description.to_sentence()
    elif item.kind == "video":  # describe fits the tempo to the picture
        description = describe(item.source, cancel=cancel)
        description.sentence = description.to_sentence()
    else:
        description = describe(item.source, cancel=cancel)
    if item.duration is not None and item.kind != "video":
        description = replace(description, duration=item.duration,
                              hit_points=[h for h in description.hit_points if h.time <= item.duration])
    return description.validate()


def bridge_check(description: MusicDescription, targets: dict) -> dict:
    """Did the text bridge read what the item is known to ask for? {'tempo': True, 'key': False, ...}"""
    checks = {}
    for name in ("genre", "mood"):
        if name in targets:
            checks[name] = getattr(description, name) == targets[name]
    if "tempo" in targets:
        checks["tempo"] = abs(description.tempo - float(targets["tempo"])) <= BRIDGE_TEMPO_TOLERANCE
    if "key" in targets:
        checks["key"] = parse_key(description.key) == parse_key(targets["key"])
    if "time_signature" in targets:
        checks["time_signature"] = "{}/{}".format(*description.time_signature) == targets["time_signature"]
    return checks


# --- 3. one cue -----------------------------------------------------------------------------------

@dataclass
class _Context:
    evalset: EvalSet
    settings: EvalSettings
    strength: float
    embedder: object | None
    training: dict | None
    set_reference: object | None  # ControlSignal of the set's reference
    library: Path | None
    warn: Callable[[str], None]


def _compose(engine: str, description: MusicDescription, seed: int, context: _Context, progress, cancel):
    """(cue, the ControlSignal it followed or None, where that came from)."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.pipeline import RenderSettings, compose_cue

    render = RenderSettings(synth=context.settings.synth)
    if engine == "baseline":
        return compose_cue(description, seed, "baseline", render, progress, cancel, context.warn), None, ""
    generation = GenerationSettings(steps=context.settings.steps)
    reference, source, record = None, "", None
    if engine == "dit+control":
        reference = replace(context.set_reference, strength=context.strength)
        source = Path(reference.source).name
    elif engine == "dit+retrieval":
        # deferred: only this path needs onnxruntime, pedalboard, PyAV
        from mtm_daw.library.retrieve import retrieve_control

        reference, match = retrieve_control(description, context.library, context.strength)
        record = library_reference(match, context.strength)
        source = f"{Path(match.item.path).name} ({match.item.caption})"
    cue = compose_cue(description, seed, "dit", render, progress, cancel, context.warn, reference=reference,
                      generation=generation, reference_record=record)
    return cue, reference, source


def measure_cue(cue, description: MusicDescription, context: _Context, reference=None,
                visual_events: list[float] | None = None) -> dict:
    """Every per-cue metric of one rendered cue (see mtm_daw/evaluation/__init__.py for definitions)."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.analysis.tempo import estimate_tempo
    from mtm_daw.evaluation.embedders import clap_score
    from mtm_daw.evaluation.metrics import reference_similarity
    from mtm_daw.evaluation.notes import mean_training_z, note_statistics
    from mtm_daw.score.midi import estimate_key_from_notes

    score = cue.score
    mono = cue.mix.mean(axis=0).astype(np.float32)
    tempo = estimate_tempo(mono, cue.sample_rate)
    pitched = [t for t in score.tracks.values() if not t.is_drum and t.notes]
    result: dict = {
        "tempo": tempo_adherence(description.tempo, tempo.bpm),
        "key_audio": key_adherence(description.key, audio_key(cue.stems, cue.sample_rate)),
        "key_notes": key_adherence(description.key, estimate_key_from_notes(pitched).name if pitched else None),
        "meter": meter_adherence(description.time_signature, score),
        "empty_roles": [role for role in description.roles if not (role in score.tracks and score.tracks[role].notes)],
    }
    result["beat_mse"] = None
    if visual_events:
        try:
            value = beat_mse(extend_pulse(tempo.beat_times, len(mono) / cue.sample_rate), visual_events)
            result["beat_mse"] = None if math.isnan(value) else round(value, 1)
        except MtmError:  # no pulse at all: no number to average; counted apart
            result["beat_mse"] = None
            result["no_pulse"] = True
    # reference faithfulness: against what this engine followed, else against the set's reference (chance level)
    followed = reference if reference is not None else context.set_reference
    if followed is not None:
        similarity = reference_similarity(score, followed.features)
        result["reference"] = {"onset": round(similarity["onset"], 4), "chroma": round(similarity["chroma"], 4),
                               "strength": reference.strength if reference is not None else 0.0,
                               "followed": reference is not None}
    statistics = note_statistics(score)
    result["note_stats"] = statistics
    result["structure"] = structure_summary(score)
    result["notes_z"] = round(mean_training_z(statistics, context.training), 3) if context.training else None
    if context.embedder is not None:
        embedder = context.embedder
        audio = embedder.embed_audio(mono, cue.sample_rate)
        result["embedding"] = [round(float(v), 5) for v in audio]
        text = embedder.embed_text([description.sentence or description.to_sentence()])
        result["clap"] = round(clap_score(text[0], audio), 2) if text is not None else None
        if hasattr(embedder, "label_probabilities"):
            for name, labels, wanted in (("genre", CORE_GENRES, style_for(description.genre).parent), ("mood", MOODS, description.mood)):
                probabilities = embedder.label_probabilities(audio, list(labels))
                target = np.array([1.0 if label == wanted else 0.0 for label in labels])
                result[f"{name}_kl"] = round(kl_divergence(target, probabilities), 4)
                result[f"{name}_heard"] = labels[int(np.argmax(probabilities))]
    return result


# --- 4. set-level ---------------------------------------------------------------------------------

def reference_embeddings(embedder, warn: Callable[[str], None] = print) -> tuple[np.ndarray | None, str]:
    """The reference music for FD and KL: the bundled starter library (the project's own pieces, what
    retrieval draws from). Precomputed vectors when the same joint model made them; otherwise an evenly
    spread subset of at most MAX_RENDERED_REFERENCES pieces is rendered (mono, dry) and embedded."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.engine.sessions import model_entry
    from mtm_daw.library.starter import STARTER_DIR, load_index

    try:
        index = load_index(STARTER_DIR)
    except MtmError as error:
        warn(f"note: no starter library to compare with ({error}); FD and KL are measured against the baseline engine")
        return None, ""
    entries = [e for e in index["items"] if (STARTER_DIR / e["file"]).is_file()]
    if len(entries) < 2:
        return None, ""
    if getattr(embedder, "name", "").startswith("joint:") and \
            index.get("embedding_model_sha256") == model_entry("joint_embedding")["sha256"]:
        vectors = np.array([e["embedding"] for e in entries], dtype=np.float64)
        return vectors, f"the starter library ({len(vectors)} pieces)"
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.render import make_renderer, render_mono
    from mtm_daw.score.midi import load_midi_score

    chosen = np.unique(np.linspace(0, len(entries) - 1, min(len(entries), MAX_RENDERED_REFERENCES)).round())
    renderer = make_renderer(sample_rate=22050, warn=lambda message: None)
    try:
        vectors = []
        for index_ in chosen.astype(int):
            score = load_midi_score(STARTER_DIR / entries[index_]["file"])
            vectors.append(embedder.embed_audio(render_mono(score, renderer, score.length_seconds + 1.0), 22050))
    finally:
        renderer.close()
    return np.array(vectors), f"the starter library ({len(vectors)} pieces, rendered and embedded here)"


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(float(np.mean(values)), 4) if values else None


def _rate(values) -> float | None:
    values = [bool(v) for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def summarise(cues: list[dict], reference: np.ndarray | None) -> dict:
    """Per engine: rates, means and the set-level distances."""
    summary = {}
    for engine in dict.fromkeys(c["engine"] for c in cues):
        mine = [c for c in cues if c["engine"] == engine]
        row = {
            "cues": len(mine),
            "tempo_match": _rate(c["tempo"]["match"] for c in mine),
            "tempo_octave": _rate(c["tempo"]["octave"] for c in mine),
            "tempo_abs_error": _mean(abs(c["tempo"]["error_bpm"]) for c in mine),
            "key_audio": _rate(c["key_audio"]["match"] for c in mine),
            "key_mirex": _mean(c["key_audio"]["mirex"] for c in mine),
            "key_notes": _rate(c["key_notes"]["match"] for c in mine),
            "meter_match": _rate(c["meter"]["match"] for c in mine),
            "beat_mse": _mean(c.get("beat_mse") for c in mine),
            "clap": _mean(c.get("clap") for c in mine),
            "genre_kl": _mean(c.get("genre_kl") for c in mine),
            "mood_kl": _mean(c.get("mood_kl") for c in mine),
            "ref_onset": _mean(c["reference"]["onset"] for c in mine if "reference" in c),
            "ref_chroma": _mean(c["reference"]["chroma"] for c in mine if "reference" in c),
            "notes_z": _mean(c.get("notes_z") for c in mine),
            "repeat": _mean(c["structure"]["repeat"] for c in mine),
            "chord_tones": _mean(c["structure"]["chord_tones"] for c in mine),
            "melody_velocity_spread": _mean(c["structure"]["melody_velocity_spread"] for c in mine),
            "empty_roles": sum(len(c["empty_roles"]) for c in mine),
            "seconds_per_cue": _mean(c["seconds"] for c in mine),
            "fd": None, "kl_embedding": None,
        }
        vectors = np.array([c["embedding"] for c in mine if c.get("embedding") is not None])
        if reference is not None and len(vectors) >= 2:
            row["fd"] = round(frechet_distance(vectors, reference), 4)
            row["kl_embedding"] = round(gaussian_kl(vectors, reference), 4)
        summary[engine] = row
    return summary


# --- the run --------------------------------------------------------------------------------------

def _available_engines(settings: EvalSettings, evalset: EvalSet, notes: list[str]) -> list[str]:
    engines = list(settings.engines)
    if any(e.startswith("dit") for e in engines):
        try:
            # deferred: only this path needs onnxruntime, tokenizers
            from mtm_daw.engine.generator import Generator

            Generator.default("fp32")
        except MtmError as error:
            notes.append(f"the trained generator is not available ({error}); DiT engines left out")
            engines = [e for e in engines if not e.startswith("dit")]
    if "dit+control" in engines and evalset.reference is None:
        notes.append("the set names no reference file; dit+control left out")
        engines.remove("dit+control")
    if "dit+retrieval" in engines:
        try:
            # deferred: only this path needs onnxruntime, pedalboard, PyAV
            from mtm_daw.engine.joint_embedding import JointEmbedder

            JointEmbedder.default()
        except MtmError as error:
            notes.append(f"retrieval needs the joint embedding model ({error}); dit+retrieval left out")
            engines.remove("dit+retrieval")
    return engines


def run_eval(folder: str | Path, settings: EvalSettings | None = None, progress: ProgressCallback = no_progress,
             cancel: CancelToken | None = None, warn: Callable[[str], None] = print) -> dict:
    """Evaluate every engine on every input of the set; returns the results (see write_report)."""
    # 1. check the set, the settings and what can run
    settings = (settings or EvalSettings()).validate()
    evalset = load_eval_set(folder)
    notes: list[str] = []
    warnings: list[str] = []

    def note_warning(message: str) -> None:
        if message not in warnings:
            warnings.append(message)
            warn(message)

    embedder = None
    if settings.embedder == "none":
        notes.append("no embedder (--embedder none): CLAP score, genre/mood KL, FD and embedding KL left out")
    else:
        try:
            # deferred: only this path needs onnxruntime, tokenizers
            from mtm_daw.evaluation.embedders import load_embedder

            embedder = load_embedder(settings.embedder)
        except MtmError as error:
            if settings.embedder != "joint":
                raise
            notes.append(f"the joint embedding model is not available ({error}); CLAP score, genre/mood KL, "
                         "FD and embedding KL left out")
    engines = _available_engines(settings, evalset, notes)
    if not engines:
        raise MtmError("none of the requested engines can run here: " + "; ".join(notes))
    training = None
    if evalset.training_stats is not None:
        # deferred: only this path needs onnxruntime, pedalboard, PyAV
        from mtm_daw.evaluation.notes import load_training_stats

        training = load_training_stats(evalset.training_stats)
    set_reference = None
    if evalset.reference is not None:
        # deferred: only this path needs onnxruntime, pedalboard, PyAV
        from mtm_daw.engine.reference import load_reference

        set_reference = load_reference(evalset.reference, settings.strength if settings.strength is not None
                                       else evalset.strength)
    strength = settings.strength if settings.strength is not None else evalset.strength

    with tempfile.TemporaryDirectory(prefix="mtm-eval-") as scratch:
        library = Path(settings.library) if settings.library else Path(scratch) / "library.sqlite"
        context = _Context(evalset, settings, strength, embedder, training, set_reference, library, note_warning)
        units = len(evalset.items) * (1 + len(engines) * len(settings.seeds))
        done = 0

        def report(fraction: float = 0.0) -> None:
            if cancel is not None:
                cancel.check()
            progress("eval", min(1.0, (done + fraction) / units))

        # 2. the text bridge: one description per item (the same for every engine and seed)
        items = []
        for item in evalset.items:
            report()
            description = describe_item(item, cancel)
            events = item.targets.get("visual_events")
            events_source = "known" if events else ""
            if item.kind == "video" and not events:
                events, events_source = visual_events(item.source, cancel=cancel), "measured"
            items.append({"id": item.id, "kind": item.kind, "description": description.to_dict(),
                          "bridge": bridge_check(description, item.targets), "visual_events": events or None,
                          "visual_events_source": events_source or None})
            done += 1

        # 3. every engine and seed on every item
        cues = []
        for item, info in zip(evalset.items, items):
            description = MusicDescription.from_dict(info["description"])
            for engine in engines:
                for seed in settings.seeds:
                    report()
                    started = time.perf_counter()
                    cue, reference, source = _compose(engine, description, seed, context,
                                                      lambda stage, fraction: report(fraction), cancel)
                    seconds = time.perf_counter() - started
                    metrics = measure_cue(cue, description, context, reference, info["visual_events"])
                    cues.append({"item": item.id, "kind": item.kind, "engine": engine, "seed": seed,
                                 "seconds": round(seconds, 3), "reference_source": source or None, **metrics})
                    done += 1
        report()

    # 4. set-level distances against the reference music
    reference_vectors, reference_name = (None, "")
    if embedder is not None:
        reference_vectors, reference_name = reference_embeddings(embedder, note_warning)
        if reference_vectors is None and "baseline" in engines:
            reference_vectors = np.array([c["embedding"] for c in cues if c["engine"] == "baseline"])
            reference_name = "the baseline engine's cues"
    summary = summarise(cues, reference_vectors)
    progress("eval", 1.0)
    return {"set": str(evalset.folder), "settings": asdict(settings) | {"strength": strength, "engines": engines},
            "embedder": getattr(embedder, "name", None), "fd_reference": reference_name or None,
            "training_stats": str(evalset.training_stats) if evalset.training_stats else None,
            "notes": notes, "warnings": warnings, "items": items, "cues": cues, "engines": summary,
            "reference_embeddings": None if reference_vectors is None or reference_name.startswith("the baseline")
            else np.round(reference_vectors, 5).tolist()}
