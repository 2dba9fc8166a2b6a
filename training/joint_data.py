"""Training clips for the joint text–audio space: labelled renders of the baseline composer.

Each piece is a random description (genre, mood, tempo, key, meter, instruments) composed by the
baseline composer and rendered twice through the General MIDI SoundFont, mono at 16 kHz:
  view A  as described;
  view B  the same score faster or slower (tempo x 0.9..1.1) and transposed (-4..+4 semitones),
so the audio tower learns that a piece stays itself under tempo and key changes (what an audio query
needs) while the captions teach it genre, mood and instruments (what a text query needs).

Captions come from the labels, in several forms, the way the paper auto-captions MT-512K:
the description's sentence, "<mood> <genre> with <instruments>", "<genre> music", and
"<instrument> and <instrument>". Training-only code (the runtime never imports it).
"""
from __future__ import annotations

import functools
import multiprocessing
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mtm_daw.compose.baseline import compose
from mtm_daw.description import MOODS, MusicDescription
from mtm_daw.engine.joint_embedding import SAMPLE_RATE, log_mel, style_prompt
from mtm_daw.render import render_mono
from mtm_daw.score.gm import instrument_tag
from mtm_daw.score.score import ROLES
from mtm_daw.score.styles import CORE_GENRES, STYLE_NAMES, style_for
from mtm_daw.score.theory import PITCH_CLASS_NAMES_SHARP

CLIP_SECONDS = 12.0
CAPTION_FORMS = 4  # view A's captions; view B adds its own sentence (its tempo and key differ)

# Programs a role may be played by when it does not keep its genre's default (GM numbers).
ROLE_PROGRAMS = {
    "bass": (32, 33, 34, 35, 36, 38, 39, 42, 43, 58),
    "harmony": (0, 4, 5, 16, 19, 24, 25, 27, 29, 30, 46, 48, 49, 50, 52, 61, 88, 89, 90, 92),
    "melody": (0, 4, 11, 12, 40, 42, 56, 57, 60, 65, 66, 68, 71, 73, 75, 80, 81, 9, 10, 22, 21, 105, 108),
}


@dataclass
class ClipPair:
    mel_a: np.ndarray  # (N_MELS, frames) float16
    mel_b: np.ndarray
    captions: list[str]  # CAPTION_FORMS captions of view A, then view B's sentence
    genre: str
    mood: str
    instruments: tuple[str, ...]  # instrument tags


def random_labelled_description(rng: random.Random, genres: tuple[str, ...] = CORE_GENRES) -> MusicDescription:
    """A description across the styles, moods, tempi, keys and instruments; a style mostly plays in its own
    tempo range and meter (the core styles anywhere, as the shipped joint model learned them)."""
    genre = rng.choice(genres)
    style = style_for(genre)
    if genres == CORE_GENRES or rng.random() < 0.2:
        tempo = float(rng.randint(64, 168))
        meter = rng.choice(((4, 4),) * 6 + ((3, 4),) * 2 + ((6, 8),))
    else:
        tempo, meter = float(rng.randint(int(style.tempo_range[0]), int(style.tempo_range[1]))), style.meter
    roles = tuple(ROLES)
    if rng.random() < 0.25:
        dropped = set(rng.sample(ROLES, k=rng.choice((1, 2))))
        roles = tuple(r for r in ROLES if r not in dropped)
    instruments = {}
    for role, programs in ROLE_PROGRAMS.items():
        if rng.random() < 0.4:
            instruments[role] = rng.choice(programs)
    key = f"{rng.choice(PITCH_CLASS_NAMES_SHARP)} {rng.choice(('major', 'minor'))}"
    return MusicDescription(genre=genre, mood=rng.choice(MOODS), tempo=tempo, key=key,
                            time_signature=meter, duration=CLIP_SECONDS + 4.0, roles=roles,
                            instruments=instruments)


def instrument_tags_of(description: MusicDescription) -> tuple[str, ...]:
    defaults = style_for(description.genre).programs
    tags = [instrument_tag(description.instruments.get(role, defaults[role]), role == "drums")
            for role in ("melody", "harmony", "bass", "drums") if role in description.roles]
    return tuple(dict.fromkeys(tags))


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def captions_of(description: MusicDescription, rng: random.Random) -> list[str]:
    tags = list(instrument_tags_of(description))
    picked = rng.sample(tags, k=min(len(tags), 2))
    return [
        description.to_sentence(),
        f"{description.mood} {style_for(description.genre).title} with {_join(tags)}",
        style_prompt(description.genre),
        _join(picked),
    ]


_renderer = None


def _worker_init() -> None:
    global _renderer
    from mtm_daw.render import make_renderer

    _renderer = make_renderer(synth="soundfont", sample_rate=SAMPLE_RATE)


def make_pair(seed: int, genres: tuple[str, ...] = CORE_GENRES) -> ClipPair:
    rng = random.Random(seed)
    description = random_labelled_description(rng, genres)
    score = compose(description, seed=seed)
    stretch = rng.uniform(0.9, 1.1)
    shift = rng.choice([s for s in range(-4, 5) if s != 0])
    moved = score.transposed(shift)
    moved = replace(moved, tempo=score.tempo * stretch)
    moved_description = replace(description, tempo=round(score.tempo * stretch), key=moved.key)
    mel_a = log_mel(render_mono(score, _renderer, CLIP_SECONDS)).astype(np.float16)
    mel_b = log_mel(render_mono(moved, _renderer, CLIP_SECONDS)).astype(np.float16)
    captions = captions_of(description, rng) + [moved_description.to_sentence()]
    return ClipPair(mel_a, mel_b, captions, description.genre, description.mood, instrument_tags_of(description))


def make_pairs(count: int, seed: int, processes: int = 2, genres: tuple[str, ...] = CORE_GENRES) -> list[ClipPair]:
    seeds = [seed * 1_000_003 + i for i in range(count)]
    make = functools.partial(make_pair, genres=tuple(genres))
    if processes <= 1:
        _worker_init()
        return [make(s) for s in seeds]
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_worker_init) as pool:
        return pool.map(make, seeds, chunksize=16)


def save_pairs(pairs: list[ClipPair], path) -> None:
    """One .npz (no pickle): mels padded to the longest clip, captions and labels as string arrays."""
    frames = max(p.mel_a.shape[1] for p in pairs)

    def stack(attr: str) -> np.ndarray:
        out = np.zeros((len(pairs),) + (pairs[0].mel_a.shape[0], frames), dtype=np.float16)
        out[:] = -1.0
        for i, p in enumerate(pairs):
            mel = getattr(p, attr)
            out[i, :, :mel.shape[1]] = mel
        return out

    staged = Path(f"{path}.partial")  # an interrupted write never leaves a file that looks finished
    with open(staged, "wb") as out:
        np.savez(out, mel_a=stack("mel_a"), mel_b=stack("mel_b"),
                 captions=np.array([p.captions for p in pairs], dtype=str),
                 genre=np.array([p.genre for p in pairs], dtype=str), mood=np.array([p.mood for p in pairs], dtype=str),
                 instruments=np.array(["|".join(p.instruments) for p in pairs], dtype=str))
    os.replace(staged, path)


def load_pairs(path) -> list[ClipPair]:
    data = np.load(path, allow_pickle=False)
    return [ClipPair(a, b, list(c), g, m, tuple(i.split("|")))
            for a, b, c, g, m, i in zip(data["mel_a"], data["mel_b"], data["captions"], data["genre"],
                                        data["mood"], data["instruments"])]


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Render labelled clip pairs for the joint space to an .npz.")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", default="build/joint_pairs.npz")
    parser.add_argument("--genres", choices=("core", "styles"), default="core",
                        help="the seven core styles, or every style of the library")
    args = parser.parse_args()
    started = time.monotonic()
    pairs = make_pairs(args.count, args.seed, args.processes, STYLE_NAMES if args.genres == "styles" else CORE_GENRES)
    save_pairs(pairs, args.out)
    print(f"{len(pairs)} pairs in {time.monotonic() - started:.0f} s -> {args.out}")
