"""The weights manifest (mtm_daw/weights/manifest.json): read it, update one model's entry, checksum files.

    {"models": {"text_encoder": {"file": ..., "sha256": ..., "bytes": ..., "config": {...}, ...}, ...}}

Each export script owns one entry and leaves the others alone; writes are atomic.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from mtm_daw.engine.sessions import MANIFEST_NAME, sha256_file  # noqa: F401  (re-exported for export scripts)


def read_manifest(out_dir: str | os.PathLike) -> dict:
    """The manifest in `out_dir`, or an empty one if there is none yet."""
    path = Path(out_dir) / MANIFEST_NAME
    if not path.exists():
        return {"models": {}}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise ValueError(f"{path}: not a weights manifest (expected an object with a 'models' object)")
    return manifest


def write_manifest(out_dir: str | os.PathLike, manifest: dict) -> Path:
    """Write `manifest` to out_dir/manifest.json atomically (temp file in the same folder, then os.replace)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANIFEST_NAME
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=".manifest-", suffix=".json.tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the manifest is an ordinary package file
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def update_manifest_entry(out_dir: str | os.PathLike, name: str, entry: dict) -> Path:
    """Set models[name] = entry, keeping every other model's entry as it was.

    The read-modify-write holds a lock on the folder, so two export scripts running at once keep both entries.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _folder_lock(out_dir):
        manifest = read_manifest(out_dir)
        manifest["models"][name] = entry
        return write_manifest(out_dir, manifest)


@contextlib.contextmanager
def _folder_lock(folder: Path):
    try:
        import fcntl
    except ImportError:  # Windows: no flock; export scripts are run one at a time there
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
