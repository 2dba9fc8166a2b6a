"""Train the generator: DiT on descriptions, then the ControlFormer on references. One command:

    .venv/bin/python -m training.train_ecmg --out build/ecmg            # the shipped model
    .venv/bin/python -m training.train_ecmg --out /tmp/t --tiny         # seconds: proves it works

Fine-tuning the shipped model with a genre row for every style of the library (onnx_export.import_ecmg
rebuilds its torch checkpoint from the ONNX file; a new style's row starts as its parent's):

    .venv/bin/python -m onnx_export.import_ecmg --out build/ecmg_shipped
    .venv/bin/python -m training.train_ecmg --out build/ecmg_styles --init build/ecmg_shipped \
        --genres styles --baseline-pieces 1440 --baseline-share 0.5 --dit-steps 3000 --control-steps 600 --lr 1e-4

Phase 1 trains the DiT (condition dropout for classifier-free guidance). Phase 2 copies its first
blocks into the ControlFormer, freezes the DiT and trains only the control branch. Writes
model.safetensors + config.json (configs, data, steps, losses) + loss.png to --out.
"""
from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from training.controlformer import ECMG, ControlFormer, ControlFormerConfig
from training.data import baseline_pieces, corpus_pieces, sample_batch
from training.dit import DiT, DiTConfig
from training.settings import parse_settings as common_settings
from mtm_daw.schedulers.ddim import TRAIN_TIMESTEPS, cosine_alphas_cumprod
from mtm_daw.score.styles import CORE_GENRES, STYLE_NAMES, style_for

# --- settings (each overridable: --name value) ---------------------------------------------------
settings = dict(
    out="build/ecmg",
    seed=1234,
    baseline_pieces=800,  # labelled arrangements from the baseline composer
    corpus="build/corpus.jsonl",  # music people wrote (training/corpus.py builds it); held-out pieces are skipped
    baseline_share=0.2,  # fraction of training windows from the baseline composer (the rest: the corpus)
    tokens=32,  # window length in beats
    chord_dropout=0.2,  # DiT: windows whose plan names no chords (the ControlFormer phase uses twice this)
    batch=24,
    dit_steps=10000,
    control_steps=4000,
    lr=3e-4,
    warmup=200,
    d_model=256,
    n_layers=8,
    n_heads=4,
    control_blocks=4,
    threads=2,
    log_every=50,
    tiny=False,  # a few steps on a tiny model, for tests
    init="",  # a checkpoint folder (config.json + model.safetensors) to fine-tune instead of starting afresh
    genres="core",  # "core": the seven core styles have genre rows; "styles": every style of the library
    focus="",  # comma-separated styles whose baseline pieces are drawn focus_weight times as often
    focus_weight=3.0,
)


def parse_settings() -> dict:
    chosen = common_settings(settings, __doc__)
    if chosen["tiny"]:
        chosen.update(baseline_pieces=12, dit_steps=6, control_steps=4, batch=4, tokens=8, d_model=32,
                      n_layers=2, n_heads=2, control_blocks=1, log_every=2, warmup=2)
    return chosen


# How the corpus's windows are shared out among its sources (each source's pieces drawn evenly).
SOURCE_SHARES = {"groove songs": 0.4, "chorales": 0.2, "multi-part": 0.2, "folk tunes": 0.2}


def source_group(source: str) -> str:
    if source == "baseline":
        return "baseline"
    if "+mma/" in source:
        return "groove songs"
    if source.startswith("bach/"):
        return "chorales"
    if source.startswith(("palestrina/", "monteverdi/")):
        return "multi-part"
    return "folk tunes"


def window_weights(pieces, baseline_share: float, focus: frozenset[str] = frozenset(),
                   focus_weight: float = 1.0) -> np.ndarray:
    """The chance of drawing each piece: baseline_share for the baseline's pieces together, the rest split
    among the corpus sources by SOURCE_SHARES (renormalised over the sources present). Within the
    baseline's share, a piece in a `focus` style counts focus_weight times."""
    groups = [source_group(piece.source) for piece in pieces]
    present = {g: SOURCE_SHARES[g] for g in set(groups) if g != "baseline"}
    total = sum(present.values())
    shares = {g: (1 - baseline_share) * share / total for g, share in present.items()}
    shares["baseline"] = baseline_share if present else 1.0
    within = np.array([focus_weight if g == "baseline" and piece.description.genre in focus else 1.0
                       for g, piece in zip(groups, pieces)])
    group_totals = {g: sum(w for w, h in zip(within, groups) if h == g) for g in set(groups)}
    weights = np.array([shares[g] * w / group_totals[g] for g, w in zip(groups, within)])
    return weights / weights.sum()


def grow_genres(dit: DiT, genres: tuple[str, ...]) -> None:
    """Give the DiT a genre row for each style in `genres`: rows it has are kept, a new style's row starts
    as its parent's (so the model first plays it as it played the parent)."""
    old = dit.config.genres
    if tuple(genres) == tuple(old):
        return
    embedding = dit.condition.labels[0]
    rows = [old.index(g) if g in old else old.index(style_for(g).parent) for g in genres]
    grown = torch.nn.Embedding(len(genres), embedding.embedding_dim)
    with torch.no_grad():
        grown.weight.copy_(embedding.weight[rows])
    dit.condition.labels[0] = grown
    dit.config.label_sizes = (len(genres), *dit.config.label_sizes[1:])
    dit.config.genres = tuple(genres)


def learning_rate(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def diffusion_loss(model, batch: dict[str, torch.Tensor], alphas: torch.Tensor, use_control: bool) -> torch.Tensor:
    """The model predicts the clean roll as logits; binary cross-entropy against the 0..1 roll.

    The roll is sparse (about 2 % of cells are on): cross-entropy on the clean sample learns its
    on/off structure far faster on a CPU budget than MSE on v, which mostly fits the noise.
    """
    x0 = batch["x"]
    t = torch.randint(0, TRAIN_TIMESTEPS, (x0.shape[0],))
    alpha = alphas[t][:, None, None]
    noisy = alpha.sqrt() * x0 + (1 - alpha).sqrt() * torch.randn_like(x0)
    inputs = (noisy, t, batch["labels"], batch["roles"], batch["sentence"], batch["use_condition"],
              batch["energy"], batch["hits"], batch["beat_in_bar"], batch["plan"])
    logits = model(*inputs, batch["control"], batch["strength"]) if use_control else model(*inputs)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, (x0 + 1) / 2)


def train_phase(name, model, parameters, pieces, weights, steps, use_control, s, alphas, rng, log) -> list[float]:
    optimizer = torch.optim.AdamW(parameters, lr=s["lr"], weight_decay=0.01)
    losses, started = [], time.time()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, s["lr"], s["warmup"])
        batch = {k: torch.from_numpy(v) for k, v in
                 sample_batch(pieces, s["batch"], s["tokens"], rng, with_control=use_control, weights=weights,
                              chord_dropout=s["chord_dropout"] * (2 if use_control else 1),
                              genres=(model.dit if hasattr(model, "dit") else model).config.genres).items()}
        loss = diffusion_loss(model, batch, alphas, use_control)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % s["log_every"] == 0 or step == steps - 1:
            rate = (step + 1) / (time.time() - started)
            log(f"{name} step {step + 1}/{steps} loss {np.mean(losses[-s['log_every']:]):.4f} "
                f"({rate:.1f} steps/s, about {(steps - step - 1) / rate / 60:.0f} min left)")
    return losses


def save_loss_plot(path: Path, curves: dict[str, list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    offset = 0
    for name, losses in curves.items():
        window = max(1, len(losses) // 100)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axis.plot(np.arange(len(smooth)) + offset, smooth, label=name)
        offset += len(losses)
    axis.set_xlabel("step")
    axis.set_ylabel("cross-entropy of the clean roll")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    s = parse_settings()
    out = Path(s["out"])
    out.mkdir(parents=True, exist_ok=True)
    random.seed(s["seed"])
    np.random.seed(s["seed"])
    torch.manual_seed(s["seed"])
    torch.set_num_threads(s["threads"])
    rng = np.random.default_rng(s["seed"])
    log_file = (out / "train.log").open("w")

    def log(message: str) -> None:
        print(message, flush=True)
        log_file.write(message + "\n")
        log_file.flush()

    # 1. data
    from mtm_daw.engine.text_encoder import TextEncoder

    encoder = TextEncoder.default()
    started = time.time()
    genres = STYLE_NAMES if s["genres"] == "styles" else CORE_GENRES
    pieces = baseline_pieces(s["baseline_pieces"], s["seed"], encoder, genres)
    without_drums: Counter = Counter()
    if not s["tiny"] and Path(s["corpus"]).is_file():
        from training.corpus import is_held_out, load_corpus_cache
        from training.grooves import with_drums_of_its_style

        corpus = [p for p in load_corpus_cache(Path(s["corpus"])) if not is_held_out(p.source)]
        curated = [with_drums_of_its_style(p) for p in corpus]
        without_drums.update(p.genre for p, q in zip(corpus, curated) if q is not p)
        log(f"groove songs trained without their drums (not their style's signature): {dict(without_drums)}")
        pieces += corpus_pieces(curated, encoder)
    focus = frozenset(name for name in s["focus"].split(",") if name)
    if unknown := focus - set(genres):
        raise SystemExit(f"--focus: {', '.join(sorted(unknown))} is not among the styles trained ({s['genres']})")
    weights = window_weights(pieces, s["baseline_share"], focus, s["focus_weight"])
    counts = dict(Counter(source_group(piece.source) for piece in pieces))
    log(f"data: {counts} pieces in {time.time() - started:.0f} s")

    # 2. DiT (afresh, or the --init checkpoint with a genre row for every style asked for)
    if s["init"]:
        from onnx_export.ecmg import load_checkpoint

        model, _ = load_checkpoint(Path(s["init"]))
        model.train()
        dit, control_config = model.dit, model.controlformer.config
        grow_genres(dit, genres)
        dit_config = dit.config
        log(f"fine-tuning {s['init']} with genre rows for {len(genres)} styles")
    else:
        dit_config = DiTConfig(d_model=s["d_model"], n_layers=s["n_layers"], n_heads=s["n_heads"],
                               label_sizes=(len(genres), *DiTConfig().label_sizes[1:]), genres=genres)
        dit = DiT(dit_config)
        model = None
    alphas = torch.from_numpy(cosine_alphas_cumprod()).float()
    log(f"DiT: {sum(p.numel() for p in dit.parameters()) / 1e6:.2f} M parameters")
    dit_losses = train_phase("dit", dit, list(dit.parameters()), pieces, weights, s["dit_steps"], False, s, alphas,
                             rng, log)

    # 3. ControlFormer on the frozen DiT (a fine-tune trains on the one it has)
    if model is None:
        control_config = ControlFormerConfig(n_blocks=s["control_blocks"])
        model = ECMG(dit, ControlFormer(dit, control_config))
    for parameter in dit.parameters():
        parameter.requires_grad_(False)
    control_parameters = list(model.controlformer.parameters())
    log(f"ControlFormer: {sum(p.numel() for p in control_parameters) / 1e6:.2f} M parameters")
    control_losses = train_phase("control", model, control_parameters, pieces, weights, s["control_steps"], True,
                                 s, alphas, rng, log)

    # 4. save: weights, configs beside them, loss curves
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps({
        "dit": asdict(dit_config), "controlformer": asdict(control_config), "settings": s,
        "data": {"pieces": counts, "groove songs without their drums": dict(without_drums),
                 "window_shares": {g: float(weights[[source_group(p.source) == g for p in pieces]].sum())
                                   for g in counts}},
        "final_loss": {"dit": float(np.mean(dit_losses[-50:])),
                       "control": float(np.mean(control_losses[-50:])) if control_losses else None},
    }, indent=2))
    save_loss_plot(out / "loss.png", {"DiT": dit_losses, "ControlFormer": control_losses})
    log(f"saved {out / 'model.safetensors'}")


if __name__ == "__main__":
    main()
