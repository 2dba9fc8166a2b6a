"""Write the bundled evaluation set for `mtm eval` (no downloads; everything made here):

    .venv/bin/python scripts/make_eval_set.py          # -> mtm_daw/data/eval/

Items with known targets, all short so a run of every engine stays a few minutes on 2 cores:
  three descriptions (3/4, 6/8 and 4/4, tempo and key given), one text idea, two still images of known
  colours, a video with shot cuts at known times and a video with bursts of motion (visual beats) at
  known times. The videos and images come from tests/visual_media.py's generators.
Also written: reference_groove.mid (the reference `dit+control` follows) and training_stats.json (notes
per bar, pitch and range per role over the generator's training arrangements, to compare cues with).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # visual_media: the tests' generators of videos and images
sys.path.insert(0, str(ROOT))

import visual_media  # noqa: E402

from mtm_daw.description import MusicDescription  # noqa: E402
from mtm_daw.evaluation.metrics import role_stats  # noqa: E402
from mtm_daw.compose.baseline import compose  # noqa: E402
from mtm_daw.score.midi import score_to_midi  # noqa: E402
from mtm_daw.score.roll import quantize_score  # noqa: E402

FOLDER = ROOT / "mtm_daw" / "data" / "eval"
TRAINING_SEED = 1234  # training/train_ecmg.py's default --seed: these are the arrangements it trained on
TRAINING_PIECES = 400

DESCRIPTIONS = {
    "calm_waltz": MusicDescription(genre="orchestral", mood="calm", tempo=84.0, key="A minor", time_signature=(3, 4),
                                   duration=10.0),
    "tense_six_eight": MusicDescription(genre="cinematic", mood="tense", tempo=96.0, key="D minor",
                                        time_signature=(6, 8), duration=10.0),
    "happy_electronic": MusicDescription(genre="electronic", mood="happy", tempo=124.0, key="F major",
                                         time_signature=(4, 4), duration=8.0),
}
TEXT_IDEA = "bouncy jazz with a walking bass and brushed drums, playful, 132 bpm in Bb major"
CUTS = [2.5, 5.0, 7.5]
BURSTS = [1.5, 3.5, 5.5, 7.5]


def training_stats() -> dict:
    """Per role: mean and spread of notes per bar, mean pitch and pitch range over the training arrangements
    (the baseline half of the training data, rebuilt exactly as training/data.baseline_pieces makes it)."""
    from training.data import random_description

    rng = random.Random(TRAINING_SEED)
    values: dict[str, dict[str, list[float]]] = {}
    for index in range(TRAINING_PIECES):
        description = random_description(rng)
        score = quantize_score(compose(description, seed=TRAINING_SEED * 100_003 + index))
        for role, stats in role_stats(score).items():
            bucket = values.setdefault(role, {"notes_per_bar": [], "mean_pitch": [], "pitch_range": []})
            bucket["notes_per_bar"].append(stats.notes_per_bar)
            if not np.isnan(stats.mean_pitch):
                bucket["mean_pitch"].append(stats.mean_pitch)
                bucket["pitch_range"].append(stats.pitch_range)
    roles = {}
    for role, bucket in values.items():
        roles[role] = {name: {"mean": round(float(np.mean(v)), 3), "std": round(float(np.std(v)), 3)}
                       for name, v in bucket.items() if v}
    return {"source": f"{TRAINING_PIECES} baseline arrangements of the generator's training data "
                      f"(training/data.baseline_pieces, seed {TRAINING_SEED}); the music21 corpus share is not included",
            "roles": roles}


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    items = []
    for name, description in DESCRIPTIONS.items():
        (FOLDER / f"{name}.json").write_text(description.validate().to_json() + "\n")
        items.append({"id": name, "kind": "description", "file": f"{name}.json",
                      "targets": {"genre": description.genre, "mood": description.mood, "tempo": description.tempo,
                                  "key": description.key,
                                  "time_signature": "{}/{}".format(*description.time_signature)}})
    items.append({"id": "jazz_idea", "kind": "text", "text": TEXT_IDEA, "duration": 10.0,
                  "targets": {"genre": "jazz", "mood": "playful", "tempo": 132.0, "key": "Bb major"}})
    for name, colour in (("sunny_image", visual_media.BRIGHT_SATURATED), ("dark_image", visual_media.DARK_GREY)):
        visual_media.write_image(FOLDER / f"{name}.png", colour)
        items.append({"id": name, "kind": "image", "file": f"{name}.png", "duration": 10.0,
                      "targets": {"colour": list(colour)}})
    _, cuts = visual_media.write_cut_video(FOLDER / "cuts_video.mp4", CUTS, seconds=10.0)
    items.append({"id": "cuts_video", "kind": "video", "file": "cuts_video.mp4",
                  "targets": {"cuts": cuts, "colours": [list(c) for c in visual_media.PALETTE[:len(cuts) + 1]],
                              "visual_events": cuts}})
    _, bursts = visual_media.write_burst_video(FOLDER / "bursts_video.mp4", BURSTS, seconds=9.0)
    items.append({"id": "bursts_video", "kind": "video", "file": "bursts_video.mp4",
                  "targets": {"motion_bursts": bursts, "colours": [list(visual_media.PALETTE[1])],
                              "visual_events": bursts}})

    groove = MusicDescription(genre="pop", mood="playful", tempo=104.0, key="G major", duration=18.5)
    reference = compose(groove, seed=3)
    score_to_midi(quantize_score(reference), title="eval reference groove").save(FOLDER / "reference_groove.mid")
    (FOLDER / "training_stats.json").write_text(json.dumps(training_stats(), indent=1) + "\n")
    manifest = {"name": "mtm_daw evaluation set", "version": 1,
                "made_by": "scripts/make_eval_set.py",
                "reference": {"file": "reference_groove.mid", "strength": 0.7},
                "training_stats": "training_stats.json", "items": items}
    (FOLDER / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in FOLDER.iterdir())
    for path in sorted(FOLDER.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.1f} KB")
    print(f"total {total / 1024:.0f} KB")


if __name__ == "__main__":
    main()
