"""Diffusion schedulers in plain numpy (the runtime loop needs only onnxruntime and numpy)."""
from mtm_daw.schedulers.ddim import DDIMScheduler, cosine_alphas_cumprod

__all__ = ["DDIMScheduler", "cosine_alphas_cumprod"]
