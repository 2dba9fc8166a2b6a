"""Distances between distributions: Fréchet distance and KL divergence.

    frechet_distance(generated, reference)   # (n, d) and (m, d) embeddings -> FD (the FAD/FD_openl3 formula)
    gaussian_kl(generated, reference)        # KL between Gaussian fits of two embedding sets
    kl_divergence(p, q)                      # discrete label distributions, row by row (the KL_passt idea)

Fréchet distance fits a Gaussian to each set: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
Sets smaller than the embedding's dimension give rank-deficient covariances; the value is then biased
upwards by the sample size, so compare engines on the same number of cues, not against papers.
"""
from __future__ import annotations

import numpy as np

from mtm_daw.errors import MtmError


def _check_sets(a, b, what: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise MtmError(f"{what} needs two sets of vectors of the same size, got shapes {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise MtmError(f"{what} needs at least two vectors in each set, got {len(a)} and {len(b)}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise MtmError(f"{what}: the vectors hold NaN or infinite values")
    return a, b


def gaussian(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of (n, d) vectors."""
    return vectors.mean(axis=0), np.atleast_2d(np.cov(vectors, rowvar=False))


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussian fits of two (n, d) sets of embeddings; 0 for identical sets.

    Tr((S_a S_b)^(1/2)) is computed as the sum of square roots of the eigenvalues of the symmetric
    S_a^(1/2) S_b S_a^(1/2), which stays real and finite for the singular covariances of small sets."""
    a, b = _check_sets(a, b, "the Fréchet distance")
    mu_a, cov_a = gaussian(a)
    mu_b, cov_b = gaussian(b)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sqrt(np.clip(middle, 0.0, None)).sum())
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)
    return max(value, 0.0)  # rounding can leave a tiny negative for identical sets


def gaussian_kl(a, b, shrinkage: float = 0.1) -> float:
    """KL(N_a || N_b) between Gaussian fits of two (n, d) embedding sets, in nats.

    Each covariance gets `shrinkage` x its mean variance added to the diagonal (small sets have singular
    covariances, and KL needs their inverses and log-determinants); 0 for identical sets."""
    a, b = _check_sets(a, b, "the KL divergence")
    mu_a, cov_a = gaussian(a)
    mu_b, cov_b = gaussian(b)
    d = len(mu_a)

    def regularised(cov: np.ndarray) -> np.ndarray:
        return cov + np.eye(d) * (shrinkage * float(np.trace(cov)) / d + 1e-9)

    cov_a, cov_b = regularised(cov_a), regularised(cov_b)
    inverse_b = np.linalg.inv(cov_b)
    diff = mu_b - mu_a
    _, logdet_a = np.linalg.slogdet(cov_a)
    _, logdet_b = np.linalg.slogdet(cov_b)
    value = 0.5 * (np.trace(inverse_b @ cov_a) + diff @ inverse_b @ diff - d + logdet_b - logdet_a)
    return max(float(value), 0.0)


def kl_divergence(p, q, eps: float = 1e-10) -> float:
    """KL(p || q) in nats between discrete distributions (each row normalised to sum 1); for (n, k)
    arrays, the mean over rows. A one-hot p gives -log q[label]: the surprise of the requested label."""
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    q = np.atleast_2d(np.asarray(q, dtype=np.float64))
    if p.shape != q.shape:
        raise MtmError(f"KL divergence needs distributions of the same shape, got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0) or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise MtmError("KL divergence needs finite, non-negative probabilities")
    p = p / np.maximum(p.sum(axis=1, keepdims=True), eps)
    q = np.maximum(q / np.maximum(q.sum(axis=1, keepdims=True), eps), eps)
    terms = np.where(p > 0, p * np.log(np.maximum(p, eps) / q), 0.0)
    return float(terms.sum(axis=1).mean())


def histogram(labels, choices) -> np.ndarray:
    """How often each of `choices` occurs in `labels`, as a distribution (k,)."""
    counts = np.array([sum(1 for label in labels if label == choice) for choice in choices], dtype=np.float64)
    return counts / counts.sum() if counts.sum() else counts
