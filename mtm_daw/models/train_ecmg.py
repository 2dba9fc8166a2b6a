"""Train the generator: DiT on descriptions, then the ControlFormer on references. One command:

    .venv/bin/python -m mtm_daw.models.train_ecmg --out build/ecmg            # the shipped model
    .venv/bin/python -m mtm_daw.models.train_ecmg --out /tmp/t --tiny         # seconds: proves it works

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

from mtm_daw.models.controlformer import ECMG, ControlFormer, ControlFormerConfig
from mtm_daw.models.data import baseline_pieces, corpus_pieces, sample_batch
from mtm_daw.models.dit import DiT, DiTConfig
from mtm_daw.models.settings import parse_settings as common_settings
from mtm_daw.schedulers.ddim import TRAIN_TIMESTEPS, cosine_alphas_cumprod

# --- settings (each overridable: --name value) ---------------------------------------------------
settings = dict(
    out="build/ecmg",
    seed=1234,
    baseline_pieces=800,  # labelled arrangements from the baseline composer
    corpus="build/corpus.jsonl",  # music people wrote (models/corpus.py builds it); held-out pieces are skipped
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


def window_weights(pieces, baseline_share: float) -> np.ndarray:
    """The chance of drawing each piece: baseline_share for the baseline's pieces together, the rest split
    among the corpus sources by SOURCE_SHARES (renormalised over the sources present)."""
    groups = [source_group(piece.source) for piece in pieces]
    present = {g: SOURCE_SHARES[g] for g in set(groups) if g != "baseline"}
    total = sum(present.values())
    shares = {g: (1 - baseline_share) * share / total for g, share in present.items()}
    shares["baseline"] = baseline_share if present else 1.0
    counts = {g: groups.count(g) for g in set(groups)}
    weights = np.array([shares[g] / counts[g] for g in groups])
    return weights / weights.sum()


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
                              chord_dropout=s["chord_dropout"] * (2 if use_control else 1)).items()}
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
    pieces = baseline_pieces(s["baseline_pieces"], s["seed"], encoder)
    if not s["tiny"] and Path(s["corpus"]).is_file():
        from mtm_daw.models.corpus import is_held_out, load_corpus_cache

        pieces += corpus_pieces([p for p in load_corpus_cache(Path(s["corpus"])) if not is_held_out(p.source)], encoder)
    weights = window_weights(pieces, s["baseline_share"])
    counts = dict(Counter(source_group(piece.source) for piece in pieces))
    log(f"data: {counts} pieces in {time.time() - started:.0f} s")

    # 2. DiT
    dit_config = DiTConfig(d_model=s["d_model"], n_layers=s["n_layers"], n_heads=s["n_heads"])
    dit = DiT(dit_config)
    alphas = torch.from_numpy(cosine_alphas_cumprod()).float()
    log(f"DiT: {sum(p.numel() for p in dit.parameters()) / 1e6:.2f} M parameters")
    dit_losses = train_phase("dit", dit, list(dit.parameters()), pieces, weights, s["dit_steps"], False, s, alphas,
                             rng, log)

    # 3. ControlFormer on the frozen DiT
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
        "data": {"pieces": counts, "window_shares": {g: float(weights[[source_group(p.source) == g for p in pieces]].sum())
                                                     for g in counts}},
        "final_loss": {"dit": float(np.mean(dit_losses[-50:])), "control": float(np.mean(control_losses[-50:]))},
    }, indent=2))
    save_loss_plot(out / "loss.png", {"DiT": dit_losses, "ControlFormer": control_losses})
    log(f"saved {out / 'model.safetensors'}")


if __name__ == "__main__":
    main()
