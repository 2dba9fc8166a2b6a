"""Checks on a transformers checkpoint folder the user points to (a VLM describer, a CLAP embedder)."""
from __future__ import annotations

from pathlib import Path

from mtm_daw.errors import MtmError

PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


def require_safetensors(folder: Path, what: str) -> None:
    """Refuse a folder whose weights are not safetensors: pickle-based weight files can run code
    when they are read, so they are never opened (the loaders also pass use_safetensors=True)."""
    if any(folder.glob("*.safetensors")):
        return
    found = [name for name in PICKLE_WEIGHTS if (folder / name).is_file()]
    kind = f"only {', '.join(found)}" if found else "no weights file"
    raise MtmError(f"{folder}: the {what} has {kind}; mtm_daw loads weights from .safetensors files only "
                   "(pickle files can run code when read). Convert it once where you trust the file: "
                   "load it with transformers and save_pretrained() to a new folder.")
