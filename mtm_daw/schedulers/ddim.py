"""DDIM on a cosine noise schedule (Nichol & Dhariwal 2021; Song et al. 2021), for models that
predict v or the clean sample.

Training and sampling share cosine_alphas_cumprod, so the two can never drift apart.
    scheduler = DDIMScheduler(); scheduler.set_timesteps(20)
    for t in scheduler.timesteps: sample = scheduler.step(model(sample, t), t, sample)
"""
from __future__ import annotations

import numpy as np

TRAIN_TIMESTEPS = 1000


def cosine_alphas_cumprod(steps: int = TRAIN_TIMESTEPS, s: float = 0.008) -> np.ndarray:
    """ᾱ_t for t = 0..steps-1 (t = 0 almost clean, t = steps-1 almost pure noise)."""
    x = np.linspace(0, steps, steps + 1, dtype=np.float64)
    f = np.cos(((x / steps) + s) / (1 + s) * np.pi / 2) ** 2
    alphas_cumprod = f / f[0]
    return np.clip(alphas_cumprod[1:], 1e-5, 0.9999).astype(np.float64)


class DDIMScheduler:
    def __init__(self, train_timesteps: int = TRAIN_TIMESTEPS, clip_sample: float | None = 1.0,
                 prediction_type: str = "v") -> None:
        if prediction_type not in ("v", "sample"):
            raise ValueError(f"prediction_type must be 'v' or 'sample', got {prediction_type!r}")
        self.train_timesteps = train_timesteps
        self.prediction_type = prediction_type
        self.clip_sample = clip_sample  # the roll lives in -1..1: clip the clean estimate to it
        self.alphas_cumprod = cosine_alphas_cumprod(train_timesteps)
        self.timesteps = np.arange(train_timesteps)[::-1].copy()

    def set_timesteps(self, count: int) -> None:
        if not 1 <= count <= self.train_timesteps:
            raise ValueError(f"steps must be 1..{self.train_timesteps}, got {count}")
        self.timesteps = np.linspace(self.train_timesteps - 1, 0, count).round().astype(np.int64)

    def add_noise(self, clean: np.ndarray, noise: np.ndarray, t: int) -> np.ndarray:
        alpha = self.alphas_cumprod[t]
        return (np.sqrt(alpha) * clean + np.sqrt(1 - alpha) * noise).astype(np.float32)

    def step(self, model_output: np.ndarray, t: int, sample: np.ndarray) -> np.ndarray:
        """One deterministic DDIM step (eta = 0) from timestep t to the next one in self.timesteps."""
        alpha = self.alphas_cumprod[t]
        if self.prediction_type == "v":
            clean = np.sqrt(alpha) * sample - np.sqrt(1 - alpha) * model_output
            noise = np.sqrt(1 - alpha) * sample + np.sqrt(alpha) * model_output
        else:
            clean = model_output
            noise = (sample - np.sqrt(alpha) * clean) / np.sqrt(1 - alpha)
        if self.clip_sample is not None:
            clean = np.clip(clean, -self.clip_sample, self.clip_sample)
            noise = (sample - np.sqrt(alpha) * clean) / np.sqrt(1 - alpha)
        position = int(np.nonzero(self.timesteps == t)[0][0])
        if position + 1 >= len(self.timesteps):
            return clean.astype(np.float32)
        alpha_next = self.alphas_cumprod[self.timesteps[position + 1]]
        return (np.sqrt(alpha_next) * clean + np.sqrt(1 - alpha_next) * noise).astype(np.float32)
