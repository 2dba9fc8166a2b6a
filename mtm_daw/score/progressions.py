"""Chord progressions by mode and mood, as 0-based scale degrees (0 = I / i)."""
from __future__ import annotations

from mtm_daw.score.styles import style_for

# Every progression starts on the tonic so the key is heard from the first bar; minor ones turn
# back through the (harmonic-minor) dominant, whose leading tone tells minor from its relative major.
PROGRESSIONS: dict[str, dict[str, tuple[tuple[int, ...], ...]]] = {
    "major": {
        "bright": ((0, 4, 5, 3), (0, 3, 4, 3), (0, 5, 3, 4), (0, 3, 0, 4), (0, 4, 3, 4)),
        "soft": ((0, 5, 3, 4), (0, 2, 3, 4), (0, 3, 5, 4), (0, 3, 1, 4)),
        "shaded": ((0, 5, 3, 4), (0, 2, 5, 4), (0, 3, 5, 4), (0, 5, 1, 4)),
        "grand": ((0, 4, 5, 3), (0, 3, 4, 4), (0, 5, 3, 4)),
    },
    "minor": {
        "bright": ((0, 5, 2, 4), (0, 6, 5, 4), (0, 3, 6, 4)),
        "soft": ((0, 5, 2, 4), (0, 3, 5, 4), (0, 5, 3, 4)),
        "shaded": ((0, 3, 4, 0), (0, 5, 3, 4), (0, 5, 6, 4), (0, 3, 0, 4)),
        "grand": ((0, 5, 6, 4), (0, 5, 2, 4), (0, 3, 5, 4)),
    },
}

MOOD_FAMILY = {
    "happy": "bright", "playful": "bright",
    "calm": "soft", "romantic": "soft",
    "sad": "shaded", "dark": "shaded", "tense": "shaded",
    "epic": "grand",
}


def progressions_for(mode: str, mood: str, genre: str) -> tuple[tuple[int, ...], ...]:
    """The style's own progressions for the mode when its file names them, else the mood's."""
    return style_for(genre).progressions.get(mode) or PROGRESSIONS[mode][MOOD_FAMILY[mood]]
