"""How the trained generator samples a cue: the settings a recipe records (no onnxruntime needed to read them)."""
from __future__ import annotations

from dataclasses import dataclass

from mtm_daw.errors import MtmError


@dataclass
class GenerationSettings:
    steps: int = 20  # DDIM steps
    # classifier-free guidance scale on the description. 1.5, not 2 (benchmarks/quality_styles.py --guidance): with
    # the round-5 model the mean share of bars at each style's signature rose from 0.954 to 0.968 on seeds 0-5 and
    # held on seeds 10-15 (0.963, 0.961), metal rising on both; the held-out quality table's drums came closer
    # to the human-written pieces (README, "Quality and speed")
    guidance: float = 1.5
    seed: int = 0
    precision: str = "fp32"  # "fp32" or "int8"
    key_lock: bool = True  # every generated note on the key's scale (kept notes are left as they are)
    variation: float = 0.6  # share of the bars a returning section (or a groove) would repeat that are written anew

    def validate(self) -> "GenerationSettings":
        if isinstance(self.steps, bool) or not isinstance(self.steps, int):
            raise MtmError(f"steps must be a whole number, got {self.steps!r}")
        for name in ("guidance", "variation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise MtmError(f"{name} must be a number, got {value!r}")
        if not isinstance(self.key_lock, bool):
            raise MtmError(f"key_lock must be true or false, got {self.key_lock!r}")
        if not 1 <= self.steps <= 200:
            raise MtmError(f"steps must be between 1 and 200, got {self.steps}")
        if not 0.0 <= self.guidance <= 20.0:
            raise MtmError(f"guidance must be between 0 and 20, got {self.guidance}")
        if not 0.0 <= self.variation <= 1.0:
            raise MtmError(f"variation must be between 0 and 1, got {self.variation}")
        if self.precision not in ("fp32", "int8"):
            raise MtmError(f"precision must be fp32 or int8, got {self.precision!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise MtmError(f"the seed must be a whole number from 0 up, got {self.seed!r}")
        return self
