"""Scores: the data type, music theory, General MIDI tables and the baseline composer."""
from mtm_daw.score.score import ROLES, Note, Score, Track

__all__ = ["ROLES", "Note", "Score", "Track"]
