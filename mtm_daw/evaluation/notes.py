"""Note statistics against the training data: notes per bar, register and pitch range per role.

The reference is training_stats.json (scripts/make_eval_set.py builds it from the generator's training
arrangements): per role the mean and spread of each statistic. A cue is summarised by how many spreads
(|z|) its roles sit from the training mean, so "plays like the data it learned from" is one number.
"""
from __future__ import annotations

import math
from pathlib import Path

from mtm_daw.errors import MtmError
from mtm_daw.evaluation.metrics import role_stats
from mtm_daw.jsonfile import read_json_file
from mtm_daw.score.score import Score

STATISTICS = ("notes_per_bar", "mean_pitch", "pitch_range")


def load_training_stats(path: str | Path) -> dict:
    path = Path(path)
    data = read_json_file(path, "the training statistics cannot be read")
    if not isinstance(data, dict) or not isinstance(data.get("roles"), dict):
        raise MtmError(f"{path}: not a training statistics file (no 'roles')")
    return data


def note_statistics(score: Score) -> dict[str, dict[str, float]]:
    """Per role: notes per bar, mean pitch and pitch range (NaN pitch for drums or an empty role)."""
    return {role: {"notes_per_bar": round(s.notes_per_bar, 3), "mean_pitch": round(s.mean_pitch, 3),
                   "pitch_range": round(s.pitch_range, 3)} for role, s in role_stats(score).items()}


def training_z(statistics: dict[str, dict[str, float]], training: dict) -> dict[str, float]:
    """|z| per 'role.statistic' against the training data (missing or unmeasurable ones left out)."""
    result = {}
    for role, values in statistics.items():
        reference = training["roles"].get(role, {})
        for name in STATISTICS:
            value, stats = values.get(name), reference.get(name)
            if stats is None or value is None or math.isnan(value) or (name != "notes_per_bar" and value == 0.0
                                                                        and values["notes_per_bar"] == 0):
                continue
            result[f"{role}.{name}"] = abs(value - stats["mean"]) / max(stats["std"], 1e-6)
    return result


def mean_training_z(statistics: dict[str, dict[str, float]], training: dict) -> float:
    """Mean |z| over roles and statistics: 0 = the training mean, about 0.8 = a typical training piece."""
    values = list(training_z(statistics, training).values())
    return float(sum(values) / len(values)) if values else float("nan")
