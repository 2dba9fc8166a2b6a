"""The joint text–audio space's two trainable parts (training only; the runtime runs their ONNX).

AudioTower: log-mel window (batch, 1, 64 bands, frames) -> unit vector. A small 1-D CNN over time
with the mel bands as channels (cheap enough for 2 CPU cores to train), then mean and max pooling
over time, which makes a faster or slower piece look alike; that a transposed piece looks alike is
learned from the training pairs (the same score in another key).

TextHead: a MiniLM sentence embedding (frozen encoder, 384-d) -> the same space.

Both end in L2 normalisation, so cosine similarity is a dot product.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class JointConfig:
    n_mels: int = 64
    channels: tuple[int, ...] = (128, 128, 192, 192, 256)
    strides: tuple[int, ...] = (2, 1, 2, 1, 2)
    sentence_dim: int = 384
    hidden: int = 256
    dim: int = 128


class AudioTower(nn.Module):
    def __init__(self, config: JointConfig) -> None:
        super().__init__()
        layers, c_in = [], config.n_mels
        for c_out, stride in zip(config.channels, config.strides):
            layers += [nn.Conv1d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                       nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.project = nn.Sequential(nn.Linear(2 * c_in, config.hidden), nn.ReLU(inplace=True),
                                     nn.Linear(config.hidden, config.dim))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.features(mel[:, 0])  # (batch, channels, frames')
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        return F.normalize(self.project(pooled), dim=-1)


class TextHead(nn.Module):
    def __init__(self, config: JointConfig) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Linear(config.sentence_dim, config.hidden), nn.GELU(),
                                     nn.Linear(config.hidden, config.dim))

    def forward(self, sentence: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.project(sentence), dim=-1)


def contrastive_loss(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor,
                     same: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE between rows of a and b. `same[i, j]` marks extra positives (two clips
    with the same caption), so a batch never pushes apart what its captions call the same."""
    logits = scale * a @ b.T
    targets = torch.eye(len(a), device=a.device) if same is None else same.float()
    targets = targets / targets.sum(dim=1, keepdim=True)
    loss_ab = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_ba = -(targets.T * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return (loss_ab + loss_ba) / 2
