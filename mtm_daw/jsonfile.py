"""Reading the project's JSON files (manifest, sidecars, indexes, sets) with one clear error naming the file."""
from __future__ import annotations

import json
import os
from pathlib import Path

from mtm_daw.errors import MtmError


def read_json_file(path: str | os.PathLike, problem: str, hint: str = "", max_bytes: int | None = None) -> object:
    """The parsed contents of `path`, or MtmError "<path>: <problem> (<why>)<hint>".

    Catches what a damaged or hostile file raises: OSError, ValueError (bad UTF-8 or JSON, a NUL in the
    path, a 5000-digit number) and RecursionError (deep nesting). `max_bytes` refuses a larger file unread.
    """
    path = Path(path)
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise MtmError(f"{path}: {path.stat().st_size // 1024 // 1024} MB is too large ({problem}){hint}")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        detail = f"{error.__class__.__name__}: {error}"[:200]
        raise MtmError(f"{path}: {problem} ({detail}){hint}") from None
