"""The ECMG generator at run time: DDIM over the multi-track piano-roll with onnxruntime only.

generate_score(): 1. check inputs  2. encode the description (labels, sentence, energy, hits)
3. for each window of the cue: noise -> DDIM loop (classifier-free guidance; the reference through
the ControlFormer; known parts - kept roles, the previous window's overlap - put back at every step)
4. decode the roll into a Score. Long cues are generated in overlapping windows, each continuing the
last, so memory stays bounded and the seams carry the music across.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Callable

import numpy as np

from mtm_daw.compose.dynamics import shape_dynamics
from mtm_daw.compose.planner import make_plan
from mtm_daw.description import MusicDescription
from mtm_daw.engine.conditioning import Conditions, encode_conditions
from mtm_daw.engine.control import CONTROL_FEATURES, ControlSignal
from mtm_daw.engine.sessions import WEIGHTS_DIR, create_session, model_entry
from mtm_daw.errors import MtmError
from mtm_daw.generation import GenerationSettings
from mtm_daw.plan.form import form_ties
from mtm_daw.plan.plan import Plan, with_reference_chords
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress
from mtm_daw.schedulers.ddim import DDIMScheduler
from mtm_daw.score import gm
from mtm_daw.score.roll import (BINARY_COLUMNS, FEATURES, LAYOUT, STEPS_PER_BEAT, drum_class, lock_to_scale,
                                quantize_score, role_columns, roll_to_tracks, score_to_roll, single_voice)
from mtm_daw.score.score import ROLES, Score
from mtm_daw.score.styles import CORE_GENRES, play_feel, style_for
from mtm_daw.score.theory import parse_key

WINDOW_TOKENS = 32  # beats per window: the training length
PREVIEW_SECONDS = 8.0  # a preview of the first bars lasts at least this long (whole bars): ~0.3 s to render and mix
OVERLAP_TOKENS = 8  # beats each window continues from the one before
CRASH_CLASS = drum_class(gm.CRASH)
HIT_VELOCITY = 0.9  # a hit point's crash, as the roll's 0..1 velocity


class Generator:
    """One ONNX session of the DiT + ControlFormer."""

    def __init__(self, model_path, sha256: str | None = None) -> None:
        self.session = create_session(model_path, sha256)
        self.reads_plan = "plan" in {node.name for node in self.session.get_inputs()}  # models trained before the plan do not
        # the styles the model has genre rows for, in row order (models before the style library: the core seven)
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.genres = tuple(json.loads(metadata["genres"])) if "genres" in metadata else CORE_GENRES
        self.path = str(model_path)
        self.sha256 = sha256
        self.version = None

    @classmethod
    def default(cls, precision: str = "fp32") -> "Generator":
        return _default_generator(precision)

    def predict_probabilities(self, sample: np.ndarray, t: int, conditions: Conditions, control: np.ndarray,
                              strength: float, guidance: float) -> np.ndarray:
        """The clean roll as probabilities (0..1) for one window, guided: a batch of two, with and
        without the description, mixed on the logits."""
        def twice(array):
            return np.stack([array, array])

        feeds = {
            "x": twice(sample).astype(np.float32), "t": np.array([t, t], dtype=np.int64),
            "labels": twice(conditions.labels), "roles": twice(conditions.roles),
            "sentence": twice(conditions.sentence), "use_condition": np.array([1.0, 0.0], dtype=np.float32),
            "energy": twice(conditions.energy), "hits": twice(conditions.hits),
            "beat_in_bar": twice(conditions.beat_in_bar), "control": twice(control).astype(np.float32),
            "strength": np.array([strength, strength], dtype=np.float32),
        }
        if self.reads_plan:
            feeds["plan"] = twice(conditions.plan)
        conditioned, unconditioned = self.session.run(None, feeds)[0]
        logits = np.clip(unconditioned + guidance * (conditioned - unconditioned), -60.0, 60.0)
        return 1.0 / (1.0 + np.exp(-logits))

    def denoise(self, conditions: Conditions, control: np.ndarray, strength: float, known: np.ndarray,
                known_mask: np.ndarray, settings: GenerationSettings, rng: np.random.Generator,
                report=lambda fraction: None, ties: list[tuple[slice, slice, np.ndarray]] = ()) -> np.ndarray:
        """One window: (steps, FEATURES) in -1..1. known/known_mask pin parts of the result (inpainting).

        ties: (destination, source, columns) spans inside the window that share one trajectory: the
        destination is set to the source after every step, so both come out the same music.
        """
        steps = len(conditions.energy) * STEPS_PER_BEAT
        scheduler = DDIMScheduler(prediction_type="sample")
        scheduler.set_timesteps(settings.steps)
        sample = rng.standard_normal((steps, FEATURES)).astype(np.float32)
        for index, t in enumerate(scheduler.timesteps):
            probabilities = self.predict_probabilities(sample, int(t), conditions, control, strength,
                                                       settings.guidance)
            # Draw the on/off cells rather than step towards their mean: a mean of a sparse roll is
            # "almost nothing everywhere", and stepping towards it collapses every seed to silence.
            # The last step keeps only what the model holds likelier than not: a draw there leaves stray notes.
            clean = probabilities.copy()
            draws = rng.random((steps, len(BINARY_COLUMNS)))
            last = index + 1 == len(scheduler.timesteps)
            clean[:, BINARY_COLUMNS] = (0.5 if last else draws) < probabilities[:, BINARY_COLUMNS]
            sample = scheduler.step(clean * 2.0 - 1.0, int(t), sample)
            for destination, source, columns in ties:
                sample[destination, columns] = sample[source, columns]
            if known_mask.any():
                is_last = index + 1 == len(scheduler.timesteps)
                pinned = known if is_last else scheduler.add_noise(
                    known, rng.standard_normal(known.shape).astype(np.float32), int(scheduler.timesteps[index + 1]))
                sample = np.where(known_mask, pinned, sample)
            report((index + 1) / len(scheduler.timesteps))
        return sample


def _default_generator(precision: str) -> Generator:
    """The shipped model; sessions.create_session caches the session, so this is cheap to repeat."""
    entry = model_entry("ecmg")
    chosen = entry if precision == "fp32" else entry.get("int8")
    if not chosen:
        raise MtmError(f"the generator has no {precision} model in {WEIGHTS_DIR / 'manifest.json'}")
    generator = Generator(WEIGHTS_DIR / chosen["file"], chosen["sha256"])
    generator.sha256, generator.version = chosen["sha256"], entry.get("version")
    return generator


def default_plan(description: MusicDescription, seed: int, reference: ControlSignal | None = None) -> Plan:
    """The planner's plan, with the chords heard in the reference when one is followed (strength above 0)
    and the description pins no chords: the chords the model is told then agree with the reference."""
    plan = make_plan(description, seed=seed)
    if reference is not None and reference.strength > 0 and not description.chords:
        plan = with_reference_chords(plan, reference.features[:, 4:16], parse_key(description.key).tonic)
    return plan


def generate_score(description: MusicDescription, sentence_embedding: np.ndarray,
                   reference: ControlSignal | None = None, settings: GenerationSettings | None = None,
                   keep: Score | None = None, regenerate: tuple[str, ...] = (), generator: Generator | None = None,
                   progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                   region: tuple[float, float] | None = None, plan: Plan | None = None,
                   first_bars: Callable[[Score], None] | None = None) -> Score:
    """A Score for the description.

    reference: a control signal on the cue's grid (see mtm_daw.engine.control), followed at its strength.
    keep + regenerate: inpainting by role — the roles in `regenerate` are written anew, every other
    role of `keep` stays as it is; a `keep` shorter than the description is continued to full length.
    region: (start, end) in beats — time-and-role inpainting: the roles in `regenerate` are written
    anew only there, and kept as they are before and after it.
    plan: the form and chords to write to (default: the planner's for this description and seed, with
    the chords heard in the reference when one is followed and the description pins no chords).
    A section that returns is tied to its first appearance, drum bars inside a section to the
    section's first bar (fills stay free at phrase ends), each bar but a settings.variation share of
    them; every hit point gets a crash.
    first_bars: given the score of the bars the first window has made final (at most PREVIEW_SECONDS
    of whole bars) as soon as they are, when more windows follow: a preview to play while they are written.
    Its notes are the cue's, but for an off-scale note the key lock moves to the neighbour likelier over
    the whole cue (15 of 3,095 notes differed over 12 rock and jazz previews at 20 steps).
    """
    # 1. check inputs
    description.validate()
    settings = (settings or GenerationSettings()).validate()
    for role in regenerate:
        if role not in ROLES:
            raise MtmError(f"unknown role '{role}' to regenerate (roles are: {', '.join(ROLES)})")
    if region is not None and (keep is None or not regenerate or not 0 <= region[0] < region[1]):
        raise MtmError(f"a region to regenerate needs a score to keep, roles to write and start < end, got {region}")
    generator = generator or Generator.default(settings.precision)
    rng = np.random.default_rng(settings.seed)
    plan = plan or default_plan(description, settings.seed, reference)
    if plan.bars != description.bars:
        raise MtmError(f"plan: it has {plan.bars} bars but the cue {description.bars}")

    # 2. the cue's grid, what is known, the reference
    length_beats = description.bars * description.beats_per_bar
    tokens = int(math.ceil(length_beats))
    steps = tokens * STEPS_PER_BEAT
    known = np.full((steps, FEATURES), -1.0, dtype=np.float32)
    known_mask = np.zeros((steps, FEATURES), dtype=bool)
    if keep is not None:
        kept = score_to_roll(quantize_score(keep)) * 2.0 - 1.0
        if parse_key(keep.key).tonic != parse_key(description.key).tonic:
            raise MtmError(f"the score to keep is in {keep.key}, the description in {description.key}")
        span = min(len(kept), steps)
        known[:span] = kept[:span]
        for role in ROLES:
            if role in keep.tracks and role not in regenerate:
                known_mask[:span, role_columns(role)] = True
        if region is not None:  # the regenerated roles are kept outside the region too
            first = min(span, int(round(region[0] * STEPS_PER_BEAT)))
            stop = min(span, int(round(region[1] * STEPS_PER_BEAT)))
            for role in regenerate:
                if role in keep.tracks:
                    known_mask[:first, role_columns(role)] = True
                    known_mask[stop:span, role_columns(role)] = True
    crash = [LAYOUT.drum_onset.start + CRASH_CLASS, LAYOUT.drum_velocity.start + CRASH_CLASS]
    hit_steps = sorted({min(steps - 1, int(round(beat * STEPS_PER_BEAT))) for beat in description.hit_point_beats()})
    if "drums" in description.roles:  # a crash on every hit point's sixteenth, the model writes around it
        for step in hit_steps:
            if not known_mask[step, crash[0]]:
                known[step, crash] = (1.0, 2 * HIT_VELOCITY - 1.0)
                known_mask[step, crash] = True
    steps_per_bar = int(round(description.beats_per_bar * STEPS_PER_BEAT))
    hit_bars = {step // steps_per_bar for step in hit_steps}
    tie_rng = np.random.default_rng(settings.seed + 1)  # which bars vary: its own draws, so they do not move the notes
    ties = [tie for tie in form_ties(plan, description.roles) if tie_rng.random() >= settings.variation]
    # a hit's crash belongs to its bar: a bar tied to that bar does not copy it
    ties = [replace(tie, columns=np.setdiff1d(tie.columns, crash)) if tie.source_bar in hit_bars else tie
            for tie in ties]
    control = np.zeros((steps, CONTROL_FEATURES), dtype=np.float32)
    strength = 0.0
    if reference is not None:
        control[:] = np.resize(reference.features, (steps, CONTROL_FEATURES)) if len(reference.features) else 0.0
        strength = reference.strength

    # 3. windows, each continuing the one before
    roll = np.full((steps, FEATURES), -1.0, dtype=np.float32)
    starts = list(range(0, max(1, tokens - OVERLAP_TOKENS), WINDOW_TOKENS - OVERLAP_TOKENS)) if tokens > WINDOW_TOKENS else [0]
    for window_index, start in enumerate(starts):
        if cancel is not None:
            cancel.check()
        size = min(WINDOW_TOKENS, tokens - start)
        window = slice(start * STEPS_PER_BEAT, (start + size) * STEPS_PER_BEAT)
        window_known, window_mask = known[window].copy(), known_mask[window].copy()
        written = window.start  # steps before this are in `roll` already
        if window_index > 0:  # continue the previous window over the overlap
            overlap = OVERLAP_TOKENS * STEPS_PER_BEAT
            window_known[:overlap] = roll[window][:overlap]
            window_mask[:overlap] = True
            written += overlap
        window_ties = []
        for tie in ties:
            target = slice(tie.bar * steps_per_bar, (tie.bar + 1) * steps_per_bar)
            source = slice(tie.source_bar * steps_per_bar, (tie.source_bar + 1) * steps_per_bar)
            if target.start < written or target.stop > window.stop:
                continue  # written already, or not in this window
            local = slice(target.start - window.start, target.stop - window.start)
            if source.stop <= written:  # its source is written: keep it (what is known already stays)
                free = ~window_mask[local][:, tie.columns]
                window_known[local, tie.columns] = np.where(free, roll[source, tie.columns], window_known[local, tie.columns])
                window_mask[local, tie.columns] = True
            elif source.start >= window.start:
                window_ties.append((local, slice(source.start - window.start, source.stop - window.start), tie.columns))
        conditions = encode_conditions(description, size, sentence_embedding, start_beat=float(start), plan=plan,
                                       genres=generator.genres)

        def report(fraction: float, index: int = window_index) -> None:
            if cancel is not None:
                cancel.check()
            progress("generate", (index + fraction) / len(starts))

        roll[window] = generator.denoise(conditions, control[window], strength, window_known, window_mask,
                                         settings, rng, report, window_ties)
        if first_bars is not None and window_index == 0 and len(starts) > 1:
            bars = preview_bars(description, int(size // description.beats_per_bar))
            if bars:
                first_bars(decode_roll(roll, known_mask, bars * description.beats_per_bar, description, plan,
                                       settings, keep, regenerate, region))

    # 4. decode
    return decode_roll(roll, known_mask, length_beats, description, plan, settings, keep, regenerate, region)


def preview_bars(description: MusicDescription, available: int) -> int:
    """How many of the `available` first bars a preview plays: whole bars lasting PREVIEW_SECONDS or
    more (fewer when fewer are there); 0 when the cue is too short to be worth a preview."""
    bar_seconds = description.grid.bar_seconds
    wanted = max(1, math.ceil(PREVIEW_SECONDS / bar_seconds))
    if description.bars * bar_seconds < 2 * PREVIEW_SECONDS:
        return 0
    return min(wanted, available, description.bars - 1)


def decode_roll(roll: np.ndarray, known_mask: np.ndarray, length_beats: float, description: MusicDescription,
                plan: Plan, settings: GenerationSettings, keep: Score | None = None, regenerate: tuple[str, ...] = (),
                region: tuple[float, float] | None = None) -> Score:
    """The roll's first `length_beats` (-1..1) as a Score: notes locked to the key and to one voice where
    nothing was known, the style's feel played, the plan's dynamics."""
    style = style_for(description.genre)
    programs = {role: description.instruments.get(role, style.programs[role]) for role in ROLES}
    kept_steps = int(round(length_beats * STEPS_PER_BEAT))
    roll01 = (roll[:kept_steps] + 1.0) / 2.0
    key = parse_key(description.key)
    if settings.key_lock:
        roll01 = np.where(known_mask[:kept_steps], roll01, lock_to_scale(roll01, key.mode))
    roll01 = np.where(known_mask[:kept_steps], roll01, single_voice(roll01))
    tracks = roll_to_tracks(roll01, key.tonic, programs, description.roles)
    kept = set(keep.tracks) if keep is not None else set()
    written = {role for role in description.roles if role not in kept or role in regenerate}
    hit_onsets = {round(round(beat * STEPS_PER_BEAT) / STEPS_PER_BEAT, 6) for beat in description.hit_point_beats()}
    for role in written:  # the model writes on the straight grid; the style's feel is played here, hits stay put
        play_feel(tracks[role].notes, style.feel, hit_onsets)
    shape_dynamics(tracks, plan, description, written, region)
    if keep is not None and region is None:  # a continued cue: the kept roles' new bars
        shape_dynamics(tracks, plan, description, set(description.roles) - written, (keep.length_beats, length_beats))
    return Score(description.tempo, tuple(description.time_signature), key.name, tracks,
                 length_beats)
