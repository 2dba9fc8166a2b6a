"""Train the joint text–audio space (audio tower + text head against the frozen MiniLM).

The shipped model, from nothing, is one command: `bash scripts/train_joint_model.sh` (renders the
pairs with `training.joint_data`, trains from random weights, fine-tunes twice with --init and
--same-genre, exports to ONNX). Single runs:

    .venv/bin/python -m training.train_joint --out build/joint --train build/joint_train.npz
    .venv/bin/python -m training.train_joint --out build/j2 --init build/joint --same-genre 0.5
    .venv/bin/python -m training.train_joint --out /tmp/j --tiny            # seconds: proves it works

Loss per batch: caption <-> view A, caption <-> view B (InfoNCE, clips sharing a caption count as
positives) and view A <-> view B (the same piece at another tempo and key). With --same-genre F, that
share of batches holds clips of one genre only, so the instance loss must tell apart pieces that share
drums, instruments and style. Held-out metrics after training: genre precision@10 for "<genre> music"
text queries, and rank-1 for view-B audio queries among the view-A clips. Writes model.safetensors + config.json (settings, metrics, losses) to --out.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from mtm_daw.engine.joint_embedding import WINDOW_FRAMES, mel_windows, style_prompt
from training.joint_data import ClipPair, load_pairs
from training.joint_towers import AudioTower, JointConfig, TextHead, contrastive_loss
from training.settings import parse_settings
from mtm_daw.score.styles import STYLE_NAMES

settings = dict(
    out="build/joint",
    train="build/joint_train.npz",
    heldout="build/joint_heldout.npz",
    seed=7,
    batch=48,
    steps=2500,
    lr=2e-3,
    warmup=100,
    instance_weight=1.0,
    same_genre=0.0,  # share of batches drawn from one genre: harder negatives for the instance loss
    init="",  # a trained folder to continue from (fine-tuning) instead of random weights
    tiny=False,
)


def caption_embeddings(pairs: list[ClipPair]) -> tuple[list[str], np.ndarray]:
    """Every distinct caption and its MiniLM embedding (the shipped ONNX encoder, as at run time)."""
    from mtm_daw.engine.text_encoder import TextEncoder

    texts = sorted({c for p in pairs for c in p.captions})
    return texts, TextEncoder.default().encode(texts, batch_size=64)


def random_crop(mel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    valid = int((mel.max(axis=0) > -1.0).nonzero()[0].max(initial=WINDOW_FRAMES - 1)) + 1
    start = rng.integers(0, max(1, valid - WINDOW_FRAMES + 1))
    crop = mel[:, start:start + WINDOW_FRAMES].astype(np.float32)
    if crop.shape[1] < WINDOW_FRAMES:
        crop = np.pad(crop, ((0, 0), (0, WINDOW_FRAMES - crop.shape[1])), constant_values=-1.0)
    return crop


def make_batch(pairs, indices, caption_index, captions, rng):
    mel_a = np.stack([random_crop(pairs[i].mel_a, rng) for i in indices])[:, None]
    mel_b = np.stack([random_crop(pairs[i].mel_b, rng) for i in indices])[:, None]
    ids_a, ids_b = [], []
    for i in indices:
        forms = pairs[i].captions
        ids_a.append(caption_index[forms[rng.integers(0, len(forms) - 1)]])
        ids_b.append(caption_index[forms[-1] if rng.random() < 0.5 else forms[rng.integers(1, len(forms) - 1)]])
    return (torch.from_numpy(mel_a), torch.from_numpy(mel_b), torch.from_numpy(captions[ids_a]),
            torch.from_numpy(captions[ids_b]), torch.tensor(ids_a), torch.tensor(ids_b))


@torch.no_grad()
def embed_clips(tower: AudioTower, mels: list[np.ndarray]) -> np.ndarray:
    """As the runtime does: every window of the clip, averaged."""
    tower.eval()
    out = []
    for mel in mels:
        valid = int((mel.max(axis=0) > -1.0).nonzero()[0].max(initial=0)) + 1
        windows = torch.from_numpy(mel_windows(mel[:, :valid].astype(np.float32)))
        out.append(torch.nn.functional.normalize(tower(windows).mean(0), dim=0).numpy())
    tower.train()
    return np.stack(out)


@torch.no_grad()
def evaluate(tower: AudioTower, head: TextHead, pairs: list[ClipPair], encoder_texts) -> dict:
    library = embed_clips(tower, [p.mel_a for p in pairs])
    queries = embed_clips(tower, [p.mel_b for p in pairs])
    ranks = (queries @ library.T).argmax(axis=1)
    rank1 = float(np.mean(ranks == np.arange(len(pairs))))
    genres = np.array([p.genre for p in pairs])
    labels = sorted(set(genres), key=lambda g: STYLE_NAMES.index(g))
    head.eval()
    text = head(torch.from_numpy(encoder_texts([style_prompt(g) for g in labels]))).numpy()
    head.train()
    precision = {}
    for genre, vector in zip(labels, text):
        top = np.argsort(-(library @ vector))[:10]
        precision[genre] = float(np.mean(genres[top] == genre))
    text = text / np.linalg.norm(text, axis=1, keepdims=True)
    heard = np.array(labels)[np.argmax(library @ text.T, axis=1)]  # zero-shot: the nearest "<style> music"
    return {"audio_rank1": rank1, "genre_precision_at_10": float(np.mean(list(precision.values()))),
            "genre_precision_by_genre": precision, "zero_shot_style_accuracy": float(np.mean(heard == genres)),
            "styles": labels}


def main() -> None:
    s = parse_settings(settings, __doc__)
    torch.manual_seed(s["seed"])
    rng = np.random.default_rng(s["seed"])
    torch.set_num_threads(2)
    pairs = [pair for path in s["train"].split(",") for pair in load_pairs(path)]  # one or more .npz files
    heldout = load_pairs(s["heldout"]) if Path(s["heldout"]).is_file() else []
    if s["tiny"]:
        pairs, heldout = pairs[:16], heldout[:16]
        s.update(steps=3, batch=8, warmup=1)
    texts, captions = caption_embeddings(pairs)
    caption_index = {t: i for i, t in enumerate(texts)}
    if s["init"]:
        tower, head, config = load_towers(s["init"])
        tower.train(), head.train()
    else:
        config = JointConfig(channels=(16,) * 5, hidden=32) if s["tiny"] else JointConfig()
        tower, head = AudioTower(config), TextHead(config)
    by_genre = {g: np.array([i for i, p in enumerate(pairs) if p.genre == g]) for g in {p.genre for p in pairs}}
    start_scale = 1 / 0.07
    if s["init"]:
        start_scale = json.loads((Path(s["init"]) / "config.json").read_text()).get("logit_scale", start_scale)
    log_scale = torch.nn.Parameter(torch.tensor(math.log(start_scale)))
    parameters = list(tower.parameters()) + list(head.parameters()) + [log_scale]
    optimizer = torch.optim.AdamW(parameters, lr=s["lr"], weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / s["warmup"]) * 0.5 * (
        1 + math.cos(math.pi * min(step, s["steps"]) / s["steps"])))
    losses, started = [], time.monotonic()
    for step in range(s["steps"]):
        pool = np.arange(len(pairs))
        if rng.random() < s["same_genre"]:
            pool = by_genre[rng.choice(sorted(by_genre))]
        indices = rng.choice(pool, size=min(s["batch"], len(pool)), replace=False)
        mel_a, mel_b, text_a, text_b, ids_a, ids_b = make_batch(pairs, indices, caption_index, captions, rng)
        audio = tower(torch.cat([mel_a, mel_b]))
        audio_a, audio_b = audio[:len(indices)], audio[len(indices):]
        scale = log_scale.exp().clamp(max=100.0)
        loss = (contrastive_loss(audio_a, head(text_a), scale, ids_a[:, None] == ids_a[None, :])
                + contrastive_loss(audio_b, head(text_b), scale, ids_b[:, None] == ids_b[None, :])
                + s["instance_weight"] * contrastive_loss(audio_a, audio_b, scale))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == s["steps"] - 1:
            print(f"step {step:5d} loss {np.mean(losses[-50:]):.3f} scale {float(scale):.1f} "
                  f"{time.monotonic() - started:.0f} s", flush=True)

    def encode_texts(batch: list[str]) -> np.ndarray:
        from mtm_daw.engine.text_encoder import TextEncoder

        return TextEncoder.default().encode(batch)

    metrics = evaluate(tower, head, heldout, encode_texts) if heldout else {}
    print(json.dumps(metrics, indent=1))
    out = Path(s["out"])
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    state = {f"audio.{k}": v for k, v in tower.state_dict().items()}
    state.update({f"text.{k}": v for k, v in head.state_dict().items()})
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps({
        "config": asdict(config), "settings": s, "train_pairs": len(pairs), "heldout_pairs": len(heldout),
        "genres": sorted({p.genre for p in pairs}, key=STYLE_NAMES.index),
        "metrics": metrics, "final_loss": float(np.mean(losses[-50:])),
        "logit_scale": float(log_scale.exp().clamp(max=100.0)), "seconds": time.monotonic() - started,
        "losses": losses[::10]}, indent=1))
    print(f"wrote {out}")


def load_towers(folder: str | Path) -> tuple[AudioTower, TextHead, JointConfig]:
    from safetensors.torch import load_file

    folder = Path(folder)
    info = json.loads((folder / "config.json").read_text())
    config = JointConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in info["config"].items()})
    state = load_file(str(folder / "model.safetensors"))
    tower, head = AudioTower(config), TextHead(config)
    tower.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("audio.")})
    head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("text.")})
    return tower.eval(), head.eval(), config


if __name__ == "__main__":
    main()
