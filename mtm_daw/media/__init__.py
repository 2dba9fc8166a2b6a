"""Reading the inputs: audio, still images, video, and telling them apart.

Each reader loads on first use: a cue that only checks a path (`mtm_daw.media.paths`) does not start
PyAV and Pillow (~0.1 s of a new process)."""
from __future__ import annotations

import importlib

_MODULE_OF = {"Audio": "audio", "load_audio": "audio", "Image": "image", "load_image": "image",
              "detect_kind": "probe", "VideoFrame": "video", "VideoInfo": "video", "iter_frames": "video",
              "probe_video": "video"}
_SUBMODULES = {"audio", "image", "paths", "probe", "video"}
__all__ = list(_MODULE_OF)


def __getattr__(name: str):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"mtm_daw.media.{_MODULE_OF[name]}"), name)
    if name in _SUBMODULES:  # `import mtm_daw.media as media; media.video`
        return importlib.import_module(f"mtm_daw.media.{name}")
    raise AttributeError(f"module 'mtm_daw.media' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF, *_SUBMODULES})
