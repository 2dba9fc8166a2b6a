"""Build the bundled starter library: MIDI files the project makes itself, tagged and embedded.

    .venv/bin/python -m training.starter_set --out mtm_daw/data/starter

Pieces: baseline-composer arrangements in every style (three each, moods in turn) (labels known, licence CC0) and
music21 corpus pieces (Bach chorales and folk tunes from build/corpus.jsonl; public domain music,
music21's encodings under its BSD licence). Each is written as a type-1 MIDI file; index.json holds
its tags, caption, source, licence, checksum and joint-space embedding (of its SoundFont render), and
windows.npz its window embeddings (float16, by file stem, for re-ranking a search by sound), so a
fresh library is seeded without rendering anything (mtm_daw/library/starter.py).
Build-side only (it needs the corpus cache); the runtime only reads index.json.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from mtm_daw.description import MOODS
from mtm_daw.engine.joint_embedding import SAMPLE_RATE, JointEmbedder, pooled
from mtm_daw.engine.sessions import model_entry, sha256_file
from mtm_daw.library.starter import WINDOWS_FILE
from mtm_daw.library.tagging import caption_for, score_instrument_tags
from training.joint_data import instrument_tags_of, random_labelled_description
from mtm_daw.compose.baseline import compose
from mtm_daw.render import make_renderer, render_mono
from mtm_daw.score.midi import score_to_midi
from mtm_daw.score.styles import STYLE_NAMES

BASELINE_PER_STYLE = 3
CORPUS_PIECES = 24
SECONDS = 24.0


def _entry(path: Path, score, genre: str, mood: str, instruments: list[str], source: str, licence: str,
           embedding: np.ndarray) -> dict:
    return {"file": path.name, "sha256": sha256_file(path), "kind": "midi", "duration": round(score.length_seconds, 3),
            "bpm": round(score.tempo, 2), "key": score.key, "genre": genre, "mood": mood,
            "instruments": instruments, "caption": caption_for(genre, mood, instruments, score.tempo, score.key),
            "source": source, "licence": licence, "embedding": [round(float(v), 6) for v in embedding]}


def build(out: Path, corpus_path: Path, seed: int = 11) -> int:
    if not corpus_path.is_file():
        raise SystemExit(f"{corpus_path}: the music21 corpus cache is missing; build it first with "
                         f"`python -m training.corpus --out {corpus_path}`")
    out.mkdir(parents=True, exist_ok=True)
    renderer = make_renderer(synth="soundfont", sample_rate=SAMPLE_RATE)
    embedder = JointEmbedder.default()
    rng = random.Random(seed)
    entries = []

    windows = {}

    def add(name: str, score, genre, mood, instruments, source, licence) -> None:
        path = out / f"{name}.mid"
        score_to_midi(score, title=name).save(path)
        windows[name] = embedder.embed_audio_windows(render_mono(score, renderer), SAMPLE_RATE)
        entries.append(_entry(path, score, genre, mood, instruments, source, licence, pooled(windows[name])))

    for old_piece in out.glob("*.mid"):  # pieces of an earlier build that this one may not make again
        old_piece.unlink()
    for style_index, genre in enumerate(STYLE_NAMES):
        for index in range(BASELINE_PER_STYLE):
            mood = MOODS[(style_index * BASELINE_PER_STYLE + index) % len(MOODS)]
            description = replace(random_labelled_description(rng, (genre,)), mood=mood, duration=SECONDS)
            score = compose(description, seed=rng.randrange(1 << 30))
            name = f"{genre}_{description.mood}_{index + 1:02d}"
            add(name, score, genre, description.mood, list(instrument_tags_of(description)),
                "mtm_daw baseline composer", "CC0-1.0")
    from training.corpus import load_corpus_cache

    pieces = load_corpus_cache(corpus_path)
    chorales = [p for p in pieces if p.source.startswith("bach")][:CORPUS_PIECES // 2]
    folk = [p for p in pieces if p.source.startswith(("essenFolksong/", "ryansMammoth/"))
            and "+mma/" not in p.source][:CORPUS_PIECES // 2]
    for piece in chorales + folk:
        instruments = score_instrument_tags(piece.score)
        name = "corpus_" + piece.source.replace("/", "_").replace(" ", "_")[:60]
        add(name, piece.score, piece.genre, piece.mood, instruments, f"music21 corpus: {piece.source}",
            "public domain music; music21 corpus encoding (BSD-3-Clause)")
    index = {"version": 1, "embedding_model_sha256": model_entry("joint_embedding")["sha256"], "items": entries}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(out / WINDOWS_FILE, **{name: w.astype(np.float16) for name, w in windows.items()})
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "mtm_daw" / "data" / "starter")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus.jsonl"))
    args = parser.parse_args()
    print(f"{build(args.out, args.corpus)} starter items -> {args.out}")


if __name__ == "__main__":
    main()
