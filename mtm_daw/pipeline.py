"""The end-to-end path: description (or MIDI) -> Score -> stems -> mix -> Cue, and Cue -> files.

Each function reads as numbered steps; long steps report progress and honour a CancelToken.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from mtm_daw.control import ControlSignal
from mtm_daw.cue import Cue
from mtm_daw.description import MAX_DURATION_SECONDS, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.mix import TARGET_LUFS, load_vst3, mix_stems, role_chain
from mtm_daw.progress import CancelToken, ProgressCallback, Steps, no_progress
from mtm_daw.render import SAMPLE_RATE, make_renderer, render_score
from mtm_daw.score.baseline import compose
from mtm_daw.score.midi import load_midi_score
from mtm_daw.score.score import Score

ENGINES = ("baseline", "dit")


@dataclass
class RenderSettings:
    soundfont: str | None = None  # a .sf2 path; None = search the system
    synth: str = "auto"  # "auto" | "soundfont" | "builtin"
    sample_rate: int = SAMPLE_RATE
    target_lufs: float = TARGET_LUFS
    plugins: dict[str, list[str]] = field(default_factory=dict)  # role -> VST3 paths appended to its chain

    def to_dict(self) -> dict:
        return asdict(self)


def compose_cue(description: MusicDescription, seed: int = 0, engine: str = "baseline",
                settings: RenderSettings | None = None, progress: ProgressCallback = no_progress,
                cancel: CancelToken | None = None, warn: Callable[[str], None] = print,
                reference: ControlSignal | None = None, generation=None) -> Cue:
    """Compose a cue from a description with the chosen engine, render and mix it.

    engine: "baseline" (the procedural composer) or "dit" (the trained generator, which can follow
    a reference at its strength). generation: mtm_daw.engine.generator.GenerationSettings for "dit".
    """
    # 1. check inputs
    description.validate()
    if engine not in ENGINES:
        raise MtmError(f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")
    if reference is not None and engine != "dit":
        raise MtmError("a reference needs --engine dit; the baseline composer does not read references")
    steps = Steps(progress, ["compose", "render", "mix"], cancel)
    # 2. write the score; the description then names the instruments actually played
    steps.report("compose", 0.0)
    parameters: dict = {}
    if engine == "baseline":
        score = compose(description, seed)
    else:
        score, parameters = _generate(description, seed, reference, generation, steps, cancel)
    description = replace(description, instruments={
        role: track.program for role, track in score.tracks.items() if not track.is_drum})
    description.sentence = description.sentence or description.to_sentence()
    # 3-4. render and mix
    cue = cue_from_score(score, description, seed, engine, settings or RenderSettings(), steps, warn)
    cue.parameters.update(parameters)
    return cue


def _generate(description: MusicDescription, seed: int, reference: ControlSignal | None, generation,
              steps: Steps, cancel: CancelToken | None) -> tuple[Score, dict]:
    """The DiT + ControlFormer path: sentence embedding, then the ONNX generator."""
    from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
    from mtm_daw.engine.text_encoder import TextEncoder

    generation = replace(generation or GenerationSettings(), seed=seed).validate()
    generator = Generator.default(generation.precision)
    embedding = TextEncoder.default().encode([description.sentence or description.to_sentence()])[0]
    score = generate_score(description, embedding, reference, generation, generator=generator,
                           progress=lambda stage, fraction: steps.report("compose", fraction), cancel=cancel)
    parameters = {"generation": asdict(generation),
                  "model": {"file": Path(generator.path).name, "sha256": generator.sha256, "version": generator.version}}
    if reference is not None:
        parameters["reference"] = {"source": reference.source, "strength": reference.strength}
    return score, parameters


def fit_tempo_to_duration(description: MusicDescription, max_change: float = 0.12) -> MusicDescription:
    """Pick a tempo near the requested one at which the picture is a whole number of bars long and
    the hit points fall as close to beats as possible.

    Candidates are the whole-bar tempi within max_change of the request; each is scored by how far
    (strength-weighted, in beats) its hit points miss a beat, plus a small cost per percent of
    change. Without a candidate the description is returned unchanged (the cue then ends past the
    picture and the muxed copy fades its tail).
    """
    beats_per_bar = description.beats_per_bar
    nearest = description.seconds_to_beats(description.duration) / beats_per_bar
    best, best_cost = None, float("inf")
    for bars in range(max(1, int(nearest * (1 - max_change))), int(nearest * (1 + max_change)) + 2):
        tempo = round(bars * beats_per_bar * 60.0 / description.duration, 2)
        change = abs(tempo / description.tempo - 1.0)
        if change > max_change or not 20 <= tempo <= 400:
            continue
        miss = sum(hit.strength * abs(b - round(b)) for hit, b in
                   zip(description.hit_points, (hit.time * tempo / 60.0 for hit in description.hit_points)))
        cost = miss + 2.0 * change
        if cost < best_cost:
            best, best_cost = tempo, cost
    if best is None:
        return description
    return replace(description, tempo=best, sentence="")


def render_midi_cue(path: str | Path, genre: str = "pop", settings: RenderSettings | None = None,
                    progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                    warn: Callable[[str], None] = print) -> Cue:
    """A MIDI file -> stems and mix; `genre` picks the mix presets."""
    from mtm_daw.describe import describe_midi

    score = load_midi_score(path)
    if score.length_seconds > MAX_DURATION_SECONDS:
        raise MtmError(f"{path}: {score.length_seconds / 60:.1f} minutes is longer than the "
                       f"{MAX_DURATION_SECONDS / 60:.0f}-minute limit")
    description = replace(describe_midi(path, score), genre=genre)
    description.sentence = f"{description.to_sentence()} Rendered from {Path(path).name}."
    steps = Steps(progress, ["compose", "render", "mix"], cancel)
    return cue_from_score(score, description.validate(), 0, "midi", settings or RenderSettings(), steps, warn)


def cue_from_score(score: Score, description: MusicDescription, seed: int, engine: str, settings: RenderSettings,
                   steps: Steps, warn: Callable[[str], None] = print) -> Cue:
    # 3. render every role through the SoundFont (or the built-in synth)
    chains = {role: role_chain(role, description.genre, score.tempo) for role in score.tracks}
    for role, paths in settings.plugins.items():
        if role not in chains:
            raise MtmError(f"--plugin names role '{role}', which this cue does not have")
        for path in paths:
            chains[role].append(load_vst3(path))
    renderer = make_renderer(settings.soundfont, settings.synth, settings.sample_rate, warn)
    try:
        stems = render_score(score, renderer, progress=steps.stage("render"))
    finally:
        renderer.close()
    # 4. mix: a chain per role, then the master bus to the loudness target
    stems, mix, loudness = mix_stems(stems, chains, settings.target_lufs, progress=steps.stage("mix"))
    return Cue(description, score, stems, mix, settings.sample_rate, renderer.name, engine, seed, loudness,
               parameters={"render": settings.to_dict()})
