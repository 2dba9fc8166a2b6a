"""ControlFormer: ControlNet-style trainable copies of the first DiT blocks, reading a reference.

The copies start as exact copies of the trained DiT blocks; the control enters through a
zero-initialised projection and each copy's output returns to the main stream through another
zero-initialised projection, scaled by the user's strength. At initialisation the model is
therefore exactly the DiT, and training only adds what the reference should change.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch.nn as nn

from mtm_daw.engine.control import CONTROL_FEATURES
from training.dit import DiT


@dataclass
class ControlFormerConfig:
    n_blocks: int = 3  # how many of the DiT's first blocks are copied
    control_features: int = CONTROL_FEATURES  # per sixteenth step


def zero_linear(d_in: int, d_out: int) -> nn.Linear:
    layer = nn.Linear(d_in, d_out)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class ControlFormer(nn.Module):
    def __init__(self, dit: DiT, config: ControlFormerConfig) -> None:
        super().__init__()
        self.config = config
        d = dit.config.d_model
        self.steps_per_token = dit.config.steps_per_token
        self.control_in = zero_linear(config.control_features * self.steps_per_token, d)
        self.blocks = nn.ModuleList(copy.deepcopy(dit.blocks[i]) for i in range(config.n_blocks))
        self.control_out = nn.ModuleList(zero_linear(d, d) for _ in range(config.n_blocks))

    def forward(self, h, c, control, strength):
        """h: (B, T, D) main-stream tokens, control: (B, steps, C), strength: (B,) -> residual per block."""
        B, T, _ = h.shape
        x = h + self.control_in(control.reshape(B, T, -1))  # (B, T, D)
        residuals = []
        for block, out in zip(self.blocks, self.control_out):
            x = block(x, c)
            residuals.append(strength[:, None, None] * out(x))  # (B, T, D)
        return residuals


class ECMG(nn.Module):
    """DiT + ControlFormer in one module: what training steps and what onnx_export writes."""

    def __init__(self, dit: DiT, controlformer: ControlFormer) -> None:
        super().__init__()
        self.dit = dit
        self.controlformer = controlformer

    def forward(self, x, t, labels, roles, sentence, use_condition, energy, hits, beat_in_bar, plan, control, strength):
        h, c = self.dit.embed(x, t, labels, roles, sentence, use_condition, energy, hits, beat_in_bar, plan)
        residuals = self.controlformer(h, c, control, strength)
        return self.dit.run_blocks(h, c, x.shape, residuals)
