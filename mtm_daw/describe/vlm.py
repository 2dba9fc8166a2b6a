"""Optional vision-language describer: an image-to-text model from a local folder, through transformers.

Its caption is parsed like any text idea, and what it names (genre, mood, instruments) refines the
offline visual description; timing (duration, sections, hit points, tempo) stays with the picture
analysis. Loads only from disk (local_files_only, HF_HUB_OFFLINE): it never downloads.
"""
from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from mtm_daw.describe.text import parse_text
from mtm_daw.description import MusicDescription
from mtm_daw.engine.local_checkpoint import require_safetensors
from mtm_daw.errors import MtmError

MAX_FRAMES = 4  # captions per video: one per section, at most this many
MAX_NEW_TOKENS = 40


class Captioner:
    def __init__(self, model_dir: str | Path) -> None:
        folder = Path(model_dir).expanduser()
        if not (folder / "config.json").is_file():
            raise MtmError(f"{folder}: not a model folder (expected config.json from save_pretrained)")
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            # deferred: only this path needs torch, transformers
            import torch
            from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer
        except ImportError:
            raise MtmError("the vlm describer needs torch and transformers: pip install 'mtm_daw[train]'") from None
        self._torch = torch
        require_safetensors(folder, "vision-language model")
        try:
            self.image_processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self.model = AutoModelForImageTextToText.from_pretrained(folder, local_files_only=True,
                                                                     use_safetensors=True).eval()
        except (OSError, ValueError, KeyError) as error:
            raise MtmError(f"{folder}: cannot load the vision-language model ({error})") from None

    def caption(self, rgb: np.ndarray) -> str:
        pixels = self.image_processor(images=rgb, return_tensors="pt")["pixel_values"]
        with self._torch.no_grad():
            tokens = self.model.generate(pixel_values=pixels, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        return self.tokenizer.decode(tokens[0], skip_special_tokens=True).strip()


@lru_cache(maxsize=2)
def load_captioner(model_dir: str) -> Captioner:
    return Captioner(model_dir)


def _frames(path: Path, kind: str, description: MusicDescription) -> list[np.ndarray]:
    if kind == "image":
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.media import load_image

        return [load_image(path).pixels]
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.media import iter_frames

    sections = description.sections or []
    wanted = [(s.start + s.end) / 2 for s in sections[:MAX_FRAMES]] or [description.duration / 2]
    frames, remaining = [], sorted(wanted)
    for frame in iter_frames(path, analysis_fps=2.0, max_side=384):
        if remaining and frame.time >= remaining[0]:
            frames.append(frame.rgb)
            remaining.pop(0)
        if not remaining:
            break
    return frames


def refine_with_vlm(description: MusicDescription, path: Path, kind: str, model_dir: str | Path) -> MusicDescription:
    captioner = load_captioner(str(model_dir))
    captions = [caption for caption in (captioner.caption(frame) for frame in _frames(path, kind, description))
                if caption]
    if not captions:
        return description
    parsed = parse_text(". ".join(captions)[:2000])
    refined = replace(description, instruments=dict(description.instruments), sentence="")
    for field in ("genre", "mood"):
        if parsed.evidence.get(field, "default") != "default":
            setattr(refined, field, getattr(parsed.description, field))
    refined.instruments.update(parsed.description.instruments)
    refined.sentence = f"{refined.to_sentence()} Picture: {captions[0]}."
    return refined
