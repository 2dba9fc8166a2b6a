"""Scores: the data type, music theory, General MIDI tables, MIDI files, piano-roll and the styles."""
from mtm_daw.score.score import ROLES, Note, Score, Track

__all__ = ["ROLES", "Note", "Score", "Track"]
