"""`mtm serve`: the local engine DAW plugin instances and the panel ask for cues (see protocol.py)."""
