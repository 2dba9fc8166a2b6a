"""The end-to-end path: description (or MIDI) -> Score -> stems -> mix -> Cue, and Cue -> files.

    pipeline = CuePipeline()                                  # the shipped models, loaded on first use
    description = pipeline.describe("warm jazz trio, 96 bpm")
    cue = pipeline(description, seed=7)                       # plan, compose, render, mix
    pipeline.export(cue, "out/", name="trio")

CuePipeline holds its components (the text encoder, the generator, the render settings) and runs the
stages as methods that take and return typed objects: describe -> plan -> compose -> render -> mix ->
export; progress, cancel and warnings travel in one RunContext. Every cue is made from a Recipe
(mtm_daw.provenance): the pipeline, compose_cue and render_midi_cue write one, make_cue follows it,
and the sidecar keeps it so `mtm reproduce` can make the cue again.
Each function reads as numbered steps; long steps report progress and honour a CancelToken.
"""
from __future__ import annotations

import copy
import importlib
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from mtm_daw.compose.baseline import compose
from mtm_daw.compose.edit import bar_span, extended, with_region
from mtm_daw.compose.planner import make_plan
from mtm_daw.cue import Cue, Stem
from mtm_daw.describe import describe, describe_midi
from mtm_daw.description import MAX_DURATION_SECONDS, MusicDescription
from mtm_daw.engine.control import ControlSignal
from mtm_daw.engine.generator import GenerationSettings, Generator, default_plan, generate_score, preview_bars
from mtm_daw.engine.sessions import model_entry
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.export import export_cue
from mtm_daw.media.paths import check_input_file
from mtm_daw.mix import MixGains, fit_to_length, load_vst3, mix_stems_with_gains, remaster, stem_chain
from mtm_daw.mix.master import MIN_TARGET_LUFS
from mtm_daw.pipeline.loop import (LOOP_TAIL_SECONDS, MAX_LOOP_SECONDS, check_loop_bars, cut_to_bars, loop_description,
                                   loop_samples, looped_description, settle_and_mix, wrap_tail)
from mtm_daw.plan.plan import Plan
from mtm_daw.progress import CancelToken, ProgressCallback, Steps, no_progress
from mtm_daw.provenance import MixSpec, ReferenceRecord, Recipe, file_reference, file_sha256, reference_signal
from mtm_daw.render import TAIL_SECONDS, cue_renderer, keep_renderer_loaded, render_score
from mtm_daw.render.settings import RenderSettings
from mtm_daw.score.midi import load_midi_score
from mtm_daw.score.score import Score
from mtm_daw.score.theory import parse_key

ENGINES = ("baseline", "dit")


@dataclass
class Components:
    """The models a pipeline runs on; None = the shipped one for the recipe, loaded on first use."""

    text_encoder: object | None = None  # mtm_daw.engine.text_encoder.TextEncoder, or anything with encode()
    generator: object | None = None  # mtm_daw.engine.generator.Generator

    def encoder(self):
        if self.text_encoder is not None:
            return self.text_encoder
        return TextEncoder.default()

    def shipped_precision(self) -> str | None:
        """Which shipped model the pipeline's generator is ("fp32", "int8"), by checksum; None for another."""
        entry = model_entry("ecmg")
        shipped = {entry["sha256"]: "fp32", entry.get("int8", {}).get("sha256"): "int8"}
        return shipped.get(getattr(self.generator, "sha256", None))

    def generator_for(self, precision: str):
        """The pipeline's generator, or the shipped one of that precision."""
        if self.generator is not None:
            return self.generator
        return Generator.default(precision)


@dataclass
class Rendered:
    """The render stage's result: every role's dry stem and the synthesiser that played them."""

    stems: dict[str, Stem]
    renderer: str  # "fluidsynth" or "builtin", as the sidecar records it


@dataclass
class RunContext:
    """What travels with one run through the stages: progress reports, a cancel token, warnings."""

    progress: ProgressCallback = no_progress
    cancel: CancelToken | None = None
    warn: Callable[[str], None] = print
    # given a Cue of the first bars (rendered and mixed on their own) as soon as they are final, to play while
    # the rest is made: the trained model's cues of more than one window, the baseline's of 45 s or more (both at
    # least twice PREVIEW_SECONDS; not loops, extend, regenerate)
    preview: Callable[["Cue"], None] | None = None


@dataclass
class Layout:
    """Bars [first, stop) of a score were composed from this description with this seed: what
    `regenerate` composes again from, so a re-written part follows the same form and chords."""

    first: int
    stop: int
    description: MusicDescription
    seed: int


@dataclass
class Built:
    """A recipe's score, before rendering."""

    score: Score
    description: MusicDescription  # the cue's description, as long as the score
    layouts: list[Layout]  # where its bars came from
    parameters: dict  # what the engine reports for the sidecar (model, generation settings, reference)


def compose_cue(description: MusicDescription, seed: int = 0, engine: str = "baseline",
                settings: RenderSettings | None = None, progress: ProgressCallback = no_progress,
                cancel: CancelToken | None = None, warn: Callable[[str], None] = print,
                reference: ControlSignal | None = None, generation=None, *,
                reference_record: ReferenceRecord | None = None, loop_bars: int = 0,
                sync: dict | None = None, end_seconds: float = 0.0,
                preview: Callable[[Cue], None] | None = None) -> Cue:
    """Compose a cue from a description with the chosen engine, render and mix it, on the shipped
    models: CuePipeline(settings=settings)(...) with the run's progress, cancel, warnings and preview."""
    pipeline = CuePipeline(settings=settings)
    return pipeline(description, seed, engine, reference=reference, generation=generation,
                    reference_record=reference_record, loop_bars=loop_bars, sync=sync, end_seconds=end_seconds,
                    context=RunContext(progress, cancel, warn, preview))


class CuePipeline:
    """Description -> Cue -> files, on the components it holds.

    text_encoder and generator default to the shipped models (loaded on first use, shared by every
    pipeline in the process); settings are the render settings (SoundFont, sample rate, loudness...).
    Calling the pipeline runs plan, compose, render and mix from a Recipe, so the cue can be made again;
    the stages are also methods of their own, each taking and returning typed objects.
    """

    def __init__(self, text_encoder=None, generator=None, settings: RenderSettings | None = None) -> None:
        self.components = Components(text_encoder, generator)
        self.settings = settings or RenderSettings()

    def __call__(self, description: MusicDescription, seed: int = 0, engine: str = "dit", *,
                 reference: ControlSignal | None = None, generation=None,
                 reference_record: ReferenceRecord | None = None, loop_bars: int = 0,
                 sync: dict | None = None, end_seconds: float = 0.0, context: RunContext | None = None) -> Cue:
        """A cue for the description: engine "dit" (the trained generator, which can follow a reference at
        its strength; generation: GenerationSettings) or "baseline" (the procedural composer).
        reference_record: where the reference came from (default: its file, when `reference.source` is one).
        loop_bars: > 0 for a seamless loop of that many bars. sync: where tempo, meter and key were locked
        from (mtm_daw.pipeline.sync), recorded in the sidecar. end_seconds: > 0 ends every stem and the mix there
        (a picture's end) with a short fade; 0 keeps the release tail."""
        context = context or RunContext()
        # 1. check inputs
        description.validate()
        if engine not in ENGINES:
            raise MtmError(f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")
        if reference is not None and engine != "dit":
            raise MtmError("a reference needs --engine dit; the baseline composer does not read references")
        if loop_bars:
            check_loop_bars(loop_bars, description)
        # 2. the recipe: everything needed to make this cue again
        generation_settings = None
        if engine == "dit":
            generation_settings = replace(self._generation_for_generator(generation, context),
                                          seed=seed).validate()
        if reference is not None and reference_record is None:
            reference_record = (file_reference(reference.source, reference.strength) if Path(reference.source).is_file()
                                else ReferenceRecord(reference.source, "", reference.strength))
        recorded = MusicDescription.from_dict(description.to_dict())  # as a sidecar reads it back
        recipe = Recipe("compose", engine, seed, recorded, generation_settings, reference_record,
                        copy.deepcopy(self.settings), loop_bars=loop_bars, sync=sync,
                        end_seconds=end_seconds).check("compose_cue")
        # 3. plan, compose, render, mix
        return self.make(recipe, context, reference)

    def _generation_for_generator(self, generation: GenerationSettings | None,
                                  context: RunContext) -> GenerationSettings:
        """The settings recorded for a run on this pipeline's generator: a shipped model's own precision
        (so `mtm reproduce` picks the same file), or a note that a model of one's own is not reproducible."""
        generation = generation or GenerationSettings()
        if self.components.generator is None:
            return generation
        precision = self.components.shipped_precision()
        if precision is None:
            context.warn("note: this pipeline's generator is not a shipped model; the sidecar names its file, "
                         "but `mtm reproduce` will run the shipped one")
            return generation
        return replace(generation, precision=precision)  # the model held decides, whatever the settings said

    def make(self, recipe: Recipe, context: RunContext | None = None, reference: ControlSignal | None = None) -> Cue:
        """Follow a recipe (a sidecar's, or one changed for extend, regenerate, remix) on these components."""
        context = context or RunContext()
        return make_cue(recipe, context.progress, context.cancel, context.warn, reference, self.components,
                        context.preview)

    # --- the stages, one by one ---------------------------------------------------------------------
    def describe(self, source: str | Path, **options) -> MusicDescription:
        """A text idea or a file (video, image, audio, MIDI, text, description JSON) as a description;
        options as mtm_daw.describe.describe takes them. Words are matched with this pipeline's encoder."""
        encoder = self.components.text_encoder
        return describe(source, text_encoder="default" if encoder is None else encoder, **options)

    def plan(self, description: MusicDescription, seed: int = 0, reference: ControlSignal | None = None) -> Plan:
        """The form, phrases, chords and dynamics the cue is written to."""
        return default_plan(description.validate().from_first_beat(), seed, reference)

    def compose(self, description: MusicDescription, seed: int = 0, engine: str = "dit",
                reference: ControlSignal | None = None, generation=None, context: RunContext | None = None) -> Score:
        """The score for a description, on the picture's clock (silent for the description's start)."""
        context = context or RunContext()
        steps = Steps(context.progress, ["compose"], context.cancel)
        score, _ = compose_score(description.validate().from_first_beat(), engine, seed, generation, reference, steps,
                                 context.cancel, components=self.components)
        return on_picture(score, description)

    def render(self, score: Score, context: RunContext | None = None) -> Rendered:
        """Every role's dry stem, through the SoundFont (or the built-in synthesiser)."""
        context = context or RunContext()
        steps = Steps(context.progress, ["render"], context.cancel)
        return Rendered(*render_stems(score, self.settings, steps.stage("render"), context.warn))

    def mix(self, rendered: Rendered, score: Score, description: MusicDescription, *, seed: int, engine: str,
            mix: MixSpec | None = None, context: RunContext | None = None) -> Cue:
        """Dry stems -> a Cue: a chain per role (the MixSpec's), the master bus to the loudness target.
        The rendered stems are used up (their dict is emptied) so a long cue never holds two copies.
        A cue made stage by stage records no recipe (calling the pipeline does), so its sidecar cannot
        be made again with `mtm reproduce`."""
        context = context or RunContext()
        steps = Steps(context.progress, ["mix"], context.cancel)
        return mix_cue(rendered.stems, score, as_played(description, score), seed, engine, self.settings,
                       rendered.renderer, steps.stage("mix"), mix=mix)

    def export(self, cue: Cue, folder: str | Path, name: str = "cue", overwrite: bool = False, **options) -> list[Path]:
        """Every file of the cue or none (stems, mix, MIDI, sidecar; options as export_cue takes them)."""
        return export_cue(cue, folder, name, overwrite, **options)


def make_cue(recipe: Recipe, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
             warn: Callable[[str], None] = print, reference: ControlSignal | None = None,
             components: Components | None = None, preview: Callable[[Cue], None] | None = None,
             gains: MixGains | None = None) -> Cue:
    """Follow a recipe: write the score, then render and mix it. `reference`: the control signal
    already read for the recipe's reference (else it is read again from its file); `components`:
    the models to run (default: the shipped ones); `preview`: see RunContext; `gains`: the mix gains to
    apply where the recipe keeps none (a cue made again lands on the gains it was mixed with)."""
    steps = Steps(progress, ["compose", "render", "mix"], cancel)
    # Only while a composer writes, which imports nothing: two threads importing one package at once can
    # break its import (a scipy ImportError was seen); reading a reference file or a parent cue imports.
    quiet_compose = recipe.operation == "compose" and (reference is not None or not recipe.reference)
    loading = prefetch(recipe.render) if quiet_compose else None
    # 1. the score; the description then names the instruments actually played
    steps.report("compose", 0.0)
    first_bars = None
    if preview is not None and recipe.operation == "compose" and not recipe.loop_bars:
        def first_bars(score: Score) -> None:
            if cancel is not None:
                cancel.check()
            if loading is not None:
                loading.join()
            try:
                made = preview_cue(score, recipe, warn, cancel)
                preview(made)
            except Cancelled:
                raise
            except Exception as error:  # noqa: BLE001 - a preview is a courtesy: the whole cue still comes
                warn(f"note: the first bars could not be played early ({type(error).__name__}: {error})")
    try:
        built = build_score(recipe, steps, cancel, warn, reference, components, first_bars)
    finally:
        if loading is not None:
            loading.join()  # before rendering: the renderer it loads is the one the render takes
    score = on_picture(built.score, built.description, recipe.end_seconds)
    description = built.description if recipe.engine == "midi" else as_played(built.description, score)
    # 2-3. render and mix (with the recipe's gains when it keeps a parent's)
    cue = cue_from_score(score, description, recipe.seed, recipe.engine, recipe.render, steps, warn,
                         loop_bars=recipe.loop_bars, gains=recipe.mix_gains or gains, end_seconds=recipe.end_seconds, mix=recipe.mix)
    cue.parameters.update(built.parameters)
    cue.parameters["recipe"] = recipe.to_dict()
    return cue


def prefetch(settings: RenderSettings) -> threading.Thread:
    """Load what rendering and mixing need on first use while the score is written (started, to join before
    rendering): the SoundFont (kept by cue_renderer for the render) and scipy.signal, which takes ~0.8 s to
    import. Both are already there in a warm process; a failure is left for the render to report."""
    def load() -> None:
        try:
            importlib.import_module("scipy.signal")
            keep_renderer_loaded(settings.soundfont, settings.synth, settings.sample_rate)
        except Exception:  # noqa: BLE001 - the render meets the same problem and says what it is
            pass
    thread = threading.Thread(target=load, name="mtm-prefetch", daemon=True)
    thread.start()
    return thread


# A baseline cue's opening bars sit this far under the whole cue's level there (its intro is quieter than
# what follows): measured on 20 cues of 60 and 120 s, 8 styles, median 2.7 dB (1.7-5.4). The trained model's
# first bars sat within 1.2 dB of the whole cue (24 cues of 30-120 s), so its previews get no offset.
BASELINE_OPENING_DB = 2.7


def preview_cue(first: Score, recipe: Recipe, warn: Callable[[str], None] = print,
                cancel: CancelToken | None = None) -> Cue:
    """The first bars of a recipe's cue as a Cue of their own: on the picture's clock as the whole cue
    will be (a player can move from one to the other at the same time), rendered and mixed with the
    recipe's settings, mastered on their own to about the level the whole cue will have there."""
    def check(fraction: float) -> None:
        if cancel is not None:
            cancel.check()

    description = recipe.description
    score = on_picture(first, description)
    settings = recipe.render
    if recipe.engine == "baseline":
        settings = replace(settings, target_lufs=max(MIN_TARGET_LUFS, settings.target_lufs - BASELINE_OPENING_DB))
    dry, renderer_name = render_stems(score, settings, check, warn)
    return mix_cue(dry, score, as_played(description, score), recipe.seed, recipe.engine, settings,
                   renderer_name, check, mix=recipe.mix)


def on_picture(score: Score, description: MusicDescription, end_seconds: float = 0.0) -> Score:
    """The score as the cue plays it: after the picture's lead-in (the description's start) and, with
    end_seconds, ending there (the MIDI ends with the picture, as the audio does)."""
    score = score.delayed(score.grid.beats(description.start))
    if end_seconds:
        score = score.until(min(score.length_beats, score.grid.beats(end_seconds)))
    return score


def as_played(description: MusicDescription, score: Score) -> MusicDescription:
    """The description naming the instruments the score actually plays, with its sentence."""
    played = replace(description, instruments={
        role: track.program for role, track in score.tracks.items() if not track.is_drum})
    played.sentence = played.sentence or played.to_sentence()
    return played


def build_score(recipe: Recipe, steps: Steps, cancel: CancelToken | None = None,
                warn: Callable[[str], None] = print, reference: ControlSignal | None = None,
                components: Components | None = None, first_bars: Callable[[Score], None] | None = None) -> Built:
    """The score a recipe describes (its parent's first, for extend and regenerate). first_bars: given
    the first bars of a composed cue's score as soon as they are final (see generate_score)."""
    if recipe.operation == "render_midi":
        return _midi_score(recipe, warn)
    if reference is None and recipe.reference:
        reference = reference_signal(recipe.reference, warn)
    if recipe.operation == "compose":
        request = copy.deepcopy(recipe.description).validate()
        if recipe.loop_bars:  # a loop starts on its first beat
            request = request.from_first_beat()
        engine_description = (loop_description(request, recipe.loop_bars) if recipe.loop_bars
                              else request.from_first_beat())
        score, parameters = compose_score(engine_description, recipe.engine, recipe.seed, recipe.generation,
                                          reference, steps, cancel, components=components, first_bars=first_bars)
        if recipe.loop_bars:
            score, request = cut_to_bars(score, recipe.loop_bars), looped_description(request, recipe.loop_bars)
        return Built(score, request, [Layout(0, score.bars, engine_description, recipe.seed)], parameters)
    if recipe.engine not in ENGINES:
        raise MtmError(f"a cue rendered from a MIDI file cannot be {recipe.operation}ed; "
                       "edit the MIDI file and render it again")
    parent = build_score(recipe.parent, Steps(no_progress, ["compose"], cancel), cancel, warn, components=components)
    if recipe.operation == "extend":
        return _extend(parent, recipe, reference, steps, cancel, components)
    return _regenerate(parent, recipe, reference, steps, cancel, components)


def _extend(parent: Built, recipe: Recipe, reference: ControlSignal | None, steps: Steps,
            cancel: CancelToken | None, components: Components | None = None) -> Built:
    """The parent continued by recipe.extend_bars bars in its key and style: the generator continues
    the parent's notes; the baseline composer writes the piece at the new length with the recipe's
    seed and its bars from the parent's end on follow. The parent's bars stay exactly as they were."""
    bars = parent.score.bars + recipe.extend_bars
    composed_bars = bars + (1 if recipe.loop_bars else 0)  # a loop is composed a bar longer, then cut
    grid = parent.score.grid
    seconds = grid.seconds(grid.bar_beats(composed_bars))
    limit = MAX_LOOP_SECONDS if recipe.loop_bars else MAX_DURATION_SECONDS
    if seconds > limit:
        raise MtmError(f"{bars} bars at {parent.score.tempo:g} BPM would be {seconds:.0f} s, above the "
                       f"{limit:g} s maximum{' for a loop' if recipe.loop_bars else ''}")
    description = replace(parent.layouts[-1].description, duration=seconds)
    inpainting = {"keep": parent.score} if recipe.engine == "dit" else {}
    continuation, parameters = compose_score(description, recipe.engine, recipe.seed, recipe.generation, reference,
                                             steps, cancel, components=components, **inpainting)
    score = extended(parent.score, continuation, composed_bars)
    if recipe.loop_bars:
        score = cut_to_bars(score, bars)
    layouts = parent.layouts + [Layout(parent.score.bars, bars, description, recipe.seed)]
    length = grid.seconds(grid.bar_beats(bars))
    return Built(score, replace(parent.description, duration=parent.description.start + length), layouts, parameters)


def _regenerate(parent: Built, recipe: Recipe, reference: ControlSignal | None, steps: Steps,
                cancel: CancelToken | None, components: Components | None = None) -> Built:
    """The parent with one role written anew in bars recipe.bars, everything else exactly as it was:
    the generator inpaints that role in those bars (time-and-role inpainting); the baseline composer
    writes that role again with the recipe's seed over the same form and chords."""
    first, last = recipe.bars
    role = recipe.role
    score = parent.score
    if role not in score.tracks:
        raise MtmError(f"this cue has no {role} stem (it has: {', '.join(score.tracks)})")
    if not 1 <= first <= last <= score.bars:
        raise MtmError(f"bars {first}-{last} are not in this {score.bars}-bar cue")
    start, end = bar_span(score, first, last)
    parameters: dict = {}
    if recipe.engine == "dit":
        candidate, parameters = compose_score(parent.description.from_first_beat(), "dit", recipe.seed, recipe.generation, reference,
                                              steps, cancel, components=components, keep=score, regenerate=(role,),
                                              region=(start, end))
        notes = candidate.tracks[role].notes if role in candidate.tracks else []
    else:
        notes = []
        for layout in parent.layouts:  # each stretch of bars from the composition that wrote it
            if layout.stop <= first - 1 or layout.first >= last:
                continue
            candidate = compose(layout.description, layout.seed, role_seeds={role: recipe.seed})
            lo, hi = bar_span(score, max(first, layout.first + 1), min(last, layout.stop))
            notes += [n for n in candidate.tracks[role].notes if lo - 1e-9 <= n.onset < hi - 1e-9]
        steps.report("compose", 1.0)
    return Built(with_region(score, notes, role, start, end), parent.description, parent.layouts, parameters)


BASELINE_PREVIEW_SECONDS = 45.0  # the baseline makes a shorter cue in about a second: no preview needed


def compose_score(description: MusicDescription, engine: str, seed: int, generation: GenerationSettings | None,
                  reference: ControlSignal | None, steps: Steps, cancel: CancelToken | None = None,
                  components: Components | None = None, first_bars: Callable[[Score], None] | None = None,
                  **inpainting) -> tuple[Score, dict]:
    """One engine run: the baseline composer or the trained generator (`inpainting`: keep,
    regenerate and region for the generator, role_seeds for the composer). first_bars: see generate_score."""
    if engine == "baseline":  # it follows a plan only where the description pins chords or a form
        pinned = description.chords or description.form
        plan = {"plan": make_plan(description, seed).to_dict(parse_key(description.key))} if pinned else {}
        score = compose(description, seed, **inpainting)
        if first_bars is not None and description.duration >= BASELINE_PREVIEW_SECONDS:
            bars = preview_bars(description, score.bars)
            if bars:  # the whole score is there at once: its first bars, to hear them soon
                first_bars(score.until(bars * description.beats_per_bar))
        return score, plan
    if engine == "dit":
        return _generate(description, seed, reference, generation, steps, cancel, components or Components(),
                         first_bars=first_bars, **inpainting)
    raise MtmError(f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")


def _generate(description: MusicDescription, seed: int, reference: ControlSignal | None,
              generation: GenerationSettings | None, steps: Steps, cancel: CancelToken | None, components: Components,
              **inpainting) -> tuple[Score, dict]:
    """The DiT + ControlFormer path: sentence embedding, then the ONNX generator (`generation` checked
    here, with the run's seed)."""
    generation = replace(generation or GenerationSettings(), seed=seed).validate()
    plan = default_plan(description, seed, reference)
    generator = components.generator_for(generation.precision)
    embedding = components.encoder().encode([description.sentence or description.to_sentence()])[0]
    score = generate_score(description, embedding, reference, generation, generator=generator,
                           progress=lambda stage, fraction: steps.report("compose", fraction), cancel=cancel,
                           plan=plan, **inpainting)
    parameters = {"generation": asdict(generation), "plan": plan.to_dict(parse_key(description.key)),
                  "model": {"file": Path(generator.path).name, "sha256": generator.sha256, "version": generator.version}}
    if reference is not None:
        parameters["reference"] = {"source": reference.source, "strength": reference.strength}
    return score, parameters


def _midi_score(recipe: Recipe, warn: Callable[[str], None]) -> Built:
    path = Path(recipe.midi["path"])
    if recipe.midi.get("sha256") and path.is_file() and file_sha256(path) != recipe.midi["sha256"]:
        warn(f"note: {path} has changed since the cue was rendered from it")
    score = load_midi_score(path)
    if score.length_seconds > MAX_DURATION_SECONDS:
        raise MtmError(f"{path}: {score.length_seconds / 60:.1f} minutes is longer than the "
                       f"{MAX_DURATION_SECONDS / 60:.0f}-minute limit")
    description = replace(describe_midi(path, score), genre=recipe.midi.get("genre", "pop"))
    description.sentence = f"{description.to_sentence()} Rendered from {path.name}."
    description.validate()
    return Built(score, description, [Layout(0, score.bars, description, 0)], {})


def render_midi_cue(path: str | Path, genre: str = "pop", settings: RenderSettings | None = None,
                    progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                    warn: Callable[[str], None] = print) -> Cue:
    """A MIDI file -> stems and mix; `genre` picks the mix presets."""
    path = check_input_file(path, "MIDI file").resolve()
    recipe = Recipe("render_midi", "midi", 0, render=copy.deepcopy(settings or RenderSettings()),
                    midi={"path": str(path), "sha256": file_sha256(path), "genre": genre})
    return make_cue(recipe, progress, cancel, warn)


def cue_from_score(score: Score, description: MusicDescription, seed: int, engine: str, settings: RenderSettings,
                   steps: Steps, warn: Callable[[str], None] = print, loop_bars: int = 0,
                   gains: MixGains | None = None, end_seconds: float = 0.0, mix: MixSpec | None = None) -> Cue:
    # 3. render every role through the SoundFont (or the built-in synth)
    dry, renderer_name = render_stems(score, settings, steps.stage("render"), warn, loop_bars)
    # 4.-5. mix, and end with the picture
    return mix_cue(dry, score, description, seed, engine, settings, renderer_name, steps.stage("mix"), loop_bars,
                   gains, end_seconds, mix)


def render_stems(score: Score, settings: RenderSettings, progress: Callable[[float], None] = lambda f: None,
                 warn: Callable[[str], None] = print, loop_bars: int = 0) -> tuple[dict[str, Stem], str]:
    """Every role's dry stem (the release tail a loop wraps, or the usual one) and what rendered them."""
    with cue_renderer(settings.soundfont, settings.synth, settings.sample_rate, warn) as renderer:
        stems = render_score(score, renderer, tail_seconds=LOOP_TAIL_SECONDS if loop_bars else TAIL_SECONDS,
                             progress=progress)
    return stems, renderer.name


def mix_cue(dry: dict[str, Stem], score: Score, description: MusicDescription, seed: int, engine: str,
            settings: RenderSettings, renderer_name: str, progress: Callable[[float], None] = lambda f: None,
            loop_bars: int = 0, gains: MixGains | None = None, end_seconds: float = 0.0,
            mix: MixSpec | None = None) -> Cue:
    """Dry stems -> a Cue: a chain per role (the MixSpec's preset and gain, then the user's VST3s), the
    master bus to the loudness target (or `gains`), the mix file from the stems heard (mute, solo), and
    every buffer ending at `end_seconds` when given. `dry` is emptied as its stems are mixed, so a long cue
    never holds its dry and processed stems at once (pass a copy of the dict to keep them)."""
    spec = mix or MixSpec()
    chains = {role: stem_chain(role, spec.stem(role).preset, spec.stem(role).gain_db, description.genre, score.tempo)
              for role in score.tracks}
    for role, paths in settings.plugins.items():
        if role not in chains:
            raise MtmError(f"--plugin names role '{role}', which this cue does not have")
        for path in paths:
            chains[role].append(load_vst3(path))
    unknown = set(spec.stems) - set(chains)
    if unknown:
        raise MtmError(f"the mix names stems this cue does not have: {', '.join(sorted(unknown))}")

    given = gains

    def mixed(stems: dict[str, Stem]):
        processed, mix_audio, loudness, applied = mix_stems_with_gains(stems, chains, settings.target_lufs,
                                                                       progress=progress, gains=given, release_dry=True)
        audible = spec.audible(processed)
        if len(audible) < len(processed):  # the mix file from the stems heard, mastered again (or as before)
            del mix_audio
            mix_audio, loudness, heard_db = remaster(processed, audible, settings.sample_rate, settings.target_lufs,
                                                     given.heard_db if given else None)
            applied = replace(applied, heard_db=heard_db)
        return processed, mix_audio, loudness, applied

    if loop_bars:  # the release tail wrapped into the start, the effects settled round the loop
        period = loop_samples(score, settings.sample_rate)
        wrapped = {role: Stem(role, wrap_tail(stem.audio, period, sample_rate=stem.sample_rate), stem.sample_rate,
                              stem.program) for role, stem in dry.items()}
        dry.clear()
        stems, mix_audio, loudness, gains = settle_and_mix(wrapped, period, mixed)
    else:
        stems, mix_audio, loudness, gains = mixed(dry)
    if end_seconds:  # the picture's end: every stem and the mix stop with it
        rate = settings.sample_rate
        stems = {role: replace(stem, audio=fit_to_length(stem.audio, rate, end_seconds)) for role, stem in stems.items()}
        mix_audio = fit_to_length(mix_audio, rate, end_seconds)
    parameters = {"render": settings.to_dict(), "mix": gains.to_dict()}
    return Cue(description, score, stems, mix_audio, settings.sample_rate, renderer_name, engine, seed, loudness,
               parameters=parameters, loop_bars=loop_bars)
