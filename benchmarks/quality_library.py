"""Retrieval quality of the shipped joint space on held-out renders (never seen in training):

    .venv/bin/python -m training.joint_data --count 400 --seed 2 --out build/joint_heldout.npz
    .venv/bin/python -m training.joint_data --count 400 --seed 5 --out build/joint_heldout_b.npz
    .venv/bin/python benchmarks/quality_library.py [--heldout build/joint_heldout.npz,build/joint_heldout_b.npz]

Through the runtime path (onnxruntime towers, the same windowing as an import):
1. text query -> genre: for each genre, the query "<genre> music" (and a richer sentence) ranks the
   held-out clips; genre precision@10 = share of the top 10 whose genre is the one asked for, and
   recall@10 in the issue's sense = share of genres whose top 10 holds at least 8 right ones;
2. audio query -> same piece: each clip's other view (the same score 0.9-1.1x the tempo and
   transposed -4..+4 semitones) queries the library of first views; rank-1 accuracy per held-out set
   (each its own library of 400) and over all of them, by the mean vector alone and re-ranked by the
   windows as `mtm library search FILE` does (the best RERANK_POOL by the mean, then window_similarity
   on float16 windows, as the library stores them);
3. zero-shot genre / mood accuracy of the tagger on the first views.
Writes benchmarks/results/library_quality.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mtm_daw.description import GENRES, MOODS
from mtm_daw.engine.joint_embedding import JointEmbedder, mel_windows, pooled
from mtm_daw.library.search import RERANK_POOL, window_similarity
from training.joint_data import load_pairs


def embed_windows(embedder: JointEmbedder, mel: np.ndarray) -> np.ndarray:
    valid = int((mel.max(axis=0) > -1.0).nonzero()[0].max(initial=0)) + 1
    return embedder.embed_mel_windows(mel_windows(mel[:, :valid].astype(np.float32)))


def reranked_rank1(queries: list[np.ndarray], library: list[np.ndarray]) -> np.ndarray:
    """Per query: is its own piece first after re-ranking the nearest RERANK_POOL by the windows?"""
    means = np.stack([pooled(w) for w in library])
    stored = [w.astype(np.float16).astype(np.float32) for w in library]
    found = []
    for index, windows in enumerate(queries):
        pool = np.argsort(-(means @ pooled(windows)))[:RERANK_POOL]
        best = max(pool, key=lambda j: window_similarity(windows, stored[j]))
        found.append(best == index)
    return np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout", default="build/joint_heldout.npz,build/joint_heldout_b.npz",
                        help="comma-separated .npz files of held-out pairs; each is its own library")
    parser.add_argument("--weights", type=Path, help="a weights folder with a candidate joint space (default: "
                        "the shipped one); its figures are not written to benchmarks/results")
    args = parser.parse_args()
    embedder = JointEmbedder.from_dir(args.weights) if args.weights else JointEmbedder.default()
    results = {"heldout_clips": 0, "audio_query_rank1_by_set": {}, "audio_query_rank1_reranked_by_set": {},
               "text_queries": {}}
    hits, reranked_hits, first = 0, 0, None
    for path in args.heldout.split(","):
        pairs = load_pairs(Path(path))
        library_windows = [embed_windows(embedder, p.mel_a) for p in pairs]
        query_windows = [embed_windows(embedder, p.mel_b) for p in pairs]
        library = np.stack([pooled(w) for w in library_windows])
        first = first or (pairs, library)
        queries = np.stack([pooled(w) for w in query_windows])
        found = (queries @ library.T).argmax(axis=1) == np.arange(len(pairs))
        reranked = reranked_rank1(query_windows, library_windows)
        results["audio_query_rank1_by_set"][Path(path).name] = float(found.mean())
        results["audio_query_rank1_reranked_by_set"][Path(path).name] = float(reranked.mean())
        results["heldout_clips"] += len(pairs)
        hits += int(found.sum())
        reranked_hits += int(reranked.sum())
    results["audio_query_rank1"] = hits / results["heldout_clips"]
    results["audio_query_rank1_reranked"] = reranked_hits / results["heldout_clips"]
    # text queries and zero-shot tags on the first set's first views
    pairs, library = first
    genres = np.array([p.genre for p in pairs])
    moods = np.array([p.mood for p in pairs])
    for form, template in (("short", "{} music"), ("sentence", "an instrumental {} piece")):
        text = embedder.embed_text([template.format(g) for g in GENRES])
        precision = {g: float(np.mean(genres[np.argsort(-(library @ v))[:10]] == g)) for g, v in zip(GENRES, text)}
        results["text_queries"][form] = {
            "genre_precision_at_10": float(np.mean(list(precision.values()))),
            "genres_with_8_of_top10_right": float(np.mean([p >= 0.8 for p in precision.values()])),
            "by_genre": precision}
    genre_guess = [embedder.zero_shot(v, list(GENRES))[0][0] for v in library]
    mood_guess = [embedder.zero_shot(v, list(MOODS))[0][0] for v in library]
    results["zero_shot_genre_accuracy"] = float(np.mean(np.array(genre_guess) == genres))
    results["zero_shot_mood_accuracy"] = float(np.mean(np.array(mood_guess) == moods))
    results["styles_known"] = list(embedder.genres)
    print(json.dumps(results, indent=1))
    if args.weights:
        return
    out = Path(__file__).resolve().parent / "results" / "library_quality.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
