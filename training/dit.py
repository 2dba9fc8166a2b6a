"""Diffusion Transformer over the multi-track piano-roll (one token per beat), adaLN-conditioned.

Reads top to bottom: config, embeddings, the block, the model. The model predicts the clean roll
(as logits of its 0..1 form) for the DDIM scheduler in mtm_daw.schedulers. Conditioning (audiocraft-style, a null condition for
classifier-free guidance): genre, mood, mode, tempo bucket and meter embeddings + requested roles +
sentence embedding, added to the diffusion-time embedding and fed to every block through adaLN;
time-aligned energy, hit points, beat-in-bar and the plan (per beat: chord, place in the phrase,
section label — mtm_daw.plan) are added to the tokens.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from mtm_daw.description import MOODS
from mtm_daw.engine.conditioning import MAX_BEAT_IN_BAR, METERS, SENTENCE_DIM, TEMPO_EDGES
from mtm_daw.plan.chords import CHORD_IDS
from mtm_daw.plan.plan import PHRASE_IDS, SECTION_IDS
from mtm_daw.score.roll import FEATURES, STEPS_PER_BEAT
from mtm_daw.score.score import ROLES
from mtm_daw.score.styles import CORE_GENRES


@dataclass
class DiTConfig:
    features: int = FEATURES  # roll columns per sixteenth step
    steps_per_token: int = STEPS_PER_BEAT  # sixteenth steps folded into one token (a beat)
    d_model: int = 256  # width of the transformer
    n_layers: int = 6  # DiT blocks
    n_heads: int = 4  # attention heads
    mlp_ratio: float = 4.0  # MLP hidden width / d_model
    label_sizes: tuple[int, ...] = (len(CORE_GENRES), len(MOODS), 2, len(TEMPO_EDGES) + 1, len(METERS) + 1)
    n_roles: int = len(ROLES)
    sentence_dim: int = SENTENCE_DIM  # MiniLM sentence embedding
    max_beat_in_bar: int = MAX_BEAT_IN_BAR
    plan_sizes: tuple[int, ...] = (CHORD_IDS, PHRASE_IDS, SECTION_IDS)  # per-beat plan ids: chord, phrase, section
    genres: tuple[str, ...] = CORE_GENRES  # the styles the genre embedding has a row for, in row order

    def __post_init__(self) -> None:
        self.genres = tuple(self.genres)
        if self.label_sizes[0] != len(self.genres):
            raise ValueError(f"label_sizes[0] = {self.label_sizes[0]} but {len(self.genres)} genres are named")


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion timesteps (B,) -> (B, dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


def positional_embedding(tokens: int, dim: int, device) -> torch.Tensor:
    """Sinusoidal positions (T, dim), any length: cues longer than the training windows still work."""
    return timestep_embedding(torch.arange(tokens, device=device), dim)


class ConditionEncoder(nn.Module):
    """Description -> one vector (B, D); use_condition = 0 swaps in the learned null condition."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        d = config.d_model
        self.labels = nn.ModuleList(nn.Embedding(size, d) for size in config.label_sizes)
        self.sentence = nn.Linear(config.sentence_dim, d)
        self.null = nn.Parameter(torch.zeros(d))
        self.roles = nn.Linear(config.n_roles, d)  # never dropped: it says which stems to write

    def forward(self, labels, roles, sentence, use_condition):
        described = sum(embedding(labels[:, i]) for i, embedding in enumerate(self.labels))  # (B, D)
        described = described + self.sentence(sentence)  # (B, D)
        keep = use_condition[:, None]  # (B, 1)
        return keep * described + (1 - keep) * self.null + self.roles(roles)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, T, Dh)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, H, T, Dh)
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class DiTBlock(nn.Module):
    """Pre-norm attention + MLP, each shifted, scaled and gated by the condition (adaLN-Zero)."""

    def __init__(self, d: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attention = Attention(d, heads)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        hidden = int(d * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x, c):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c)[:, None, :].chunk(6, dim=-1)  # (B, 1, D)
        x = x + gate1 * self.attention(self.norm1(x) * (1 + scale1) + shift1)
        x = x + gate2 * self.mlp(self.norm2(x) * (1 + scale2) + shift2)
        return x


class DiT(nn.Module):
    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        token_width = config.features * config.steps_per_token
        self.token_in = nn.Linear(token_width, d)
        self.aligned_in = nn.Linear(2, d)  # energy and hit points per token
        self.beat_in_bar = nn.Embedding(config.max_beat_in_bar, d)
        self.plan = nn.ModuleList(nn.Embedding(size, d) for size in config.plan_sizes)
        self.time = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.condition = ConditionEncoder(config)
        self.blocks = nn.ModuleList(DiTBlock(d, config.n_heads, config.mlp_ratio) for _ in range(config.n_layers))
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.token_out = nn.Linear(d, token_width)
        for layer in (self.final_modulation[1], self.token_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def embed(self, x, t, labels, roles, sentence, use_condition, energy, hits, beat_in_bar, plan):
        """Tokens (B, T, D) and the condition vector (B, D) that every block reads."""
        B, steps, _ = x.shape
        tokens = steps // self.config.steps_per_token
        h = self.token_in(x.reshape(B, tokens, -1))  # (B, T, D)
        h = h + self.aligned_in(torch.stack([energy, hits], dim=-1))  # (B, T, D)
        h = h + self.beat_in_bar(beat_in_bar) + positional_embedding(tokens, h.shape[-1], h.device)[None]
        h = h + sum(embedding(plan[:, :, i]) for i, embedding in enumerate(self.plan))  # (B, T, D)
        c = self.time(timestep_embedding(t, h.shape[-1])) + self.condition(labels, roles, sentence, use_condition)
        return h, c

    def forward(self, x, t, labels, roles, sentence, use_condition, energy, hits, beat_in_bar, plan):
        """x: (B, steps, F) noisy roll in -1..1, steps a multiple of steps_per_token; plan: (B, T, 3)
        -> clean-roll logits."""
        h, c = self.embed(x, t, labels, roles, sentence, use_condition, energy, hits, beat_in_bar, plan)
        return self.run_blocks(h, c, x.shape)

    def run_blocks(self, h, c, shape, control_residuals: list[torch.Tensor] | None = None):
        """Embedded tokens (B, T, D) through the blocks (adding any control residuals) -> (B, steps, F)."""
        B, steps, F_ = shape
        for i, block in enumerate(self.blocks):
            h = block(h, c)  # (B, T, D)
            if control_residuals is not None and i < len(control_residuals):
                h = h + control_residuals[i]
        shift, scale = self.final_modulation(c)[:, None, :].chunk(2, dim=-1)
        h = self.final_norm(h) * (1 + scale) + shift
        return self.token_out(h).reshape(B, steps, F_)  # (B, steps, F)
