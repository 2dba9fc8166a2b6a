"""How a cue is rendered: the synthesiser, sample rate, loudness target and the user's plug-ins."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mtm_daw.errors import MtmError
from mtm_daw.media.audio import SAMPLE_RATES
from mtm_daw.mix.master import TARGET_LUFS
from mtm_daw.render import SAMPLE_RATE


@dataclass
class RenderSettings:
    soundfont: str | None = None  # a .sf2 path; None = search the system
    synth: str = "auto"  # "auto" | "soundfont" | "builtin"
    sample_rate: int = SAMPLE_RATE
    target_lufs: float = TARGET_LUFS
    plugins: dict[str, list[str]] = field(default_factory=dict)  # role -> VST3 paths appended to its chain

    def __post_init__(self) -> None:  # a sidecar can hold anything: checked before FluidSynth sees it
        low, high = SAMPLE_RATES
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int) \
                or not low <= self.sample_rate <= high:
            raise MtmError(f"sample rate {self.sample_rate!r} is outside {low}..{high} Hz")
        if isinstance(self.target_lufs, bool) or not isinstance(self.target_lufs, (int, float)) \
                or not -70.0 <= self.target_lufs <= 0.0:
            raise MtmError(f"loudness target {self.target_lufs!r} LUFS is outside -70..0")
        if self.soundfont is not None and not isinstance(self.soundfont, str):
            raise MtmError(f"the SoundFont must be a file path, got {self.soundfont!r}")
        if self.synth not in ("auto", "soundfont", "builtin"):
            raise MtmError(f"synth must be auto, soundfont or builtin, got {self.synth!r}")
        if not isinstance(self.plugins, dict) or not all(
                isinstance(role, str) and isinstance(paths, list) and all(isinstance(path, str) for path in paths)
                for role, paths in self.plugins.items()):
            raise MtmError(f"plugins must map each role to a list of VST3 paths, got {self.plugins!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RenderSettings":
        if not isinstance(data, dict):
            raise MtmError(f"render settings must be an object, got {data!r}")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise MtmError(f"unknown render setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)
