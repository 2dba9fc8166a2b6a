"""Torch model definitions and training code (never imported at run time)."""
