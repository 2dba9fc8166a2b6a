"""onnxruntime sessions for the shipped models: the manifest, checksums, providers, threads, one cache.

    entry = model_entry("text_encoder")
    session = create_session(WEIGHTS_DIR / entry["file"], entry["sha256"])

Runtime only: numpy and onnxruntime, never torch.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Generic, TypeVar

import onnxruntime as ort

from mtm_daw.errors import MtmError
from mtm_daw.jsonfile import read_json_file

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1  # the newest entry version this runtime reads (onnx_export writes "version": 1)
FILE_PARTS = ("int8", "tokenizer", "text_head")  # sub-entries that name a file of their own
DEFAULT_THREADS = 2
REINSTALL_HINT = "reinstall mtm_daw"

_sessions: dict[tuple, ort.InferenceSession] = {}
_verified: dict[tuple, str] = {}  # (path, size, mtime_ns) -> sha256 seen
_lock = threading.Lock()
_cuda_loaded = False
_threads_here: ContextVar[int | None] = ContextVar("mtm_session_threads", default=None)
Model = TypeVar("Model")


def load_manifest(weights_dir: str | os.PathLike = WEIGHTS_DIR) -> dict:
    """The weights manifest: {"models": {name: entry}}."""
    path = Path(weights_dir) / MANIFEST_NAME
    if not path.is_file():
        raise MtmError(f"{path}: the model manifest is missing — {REINSTALL_HINT}")
    manifest = read_json_file(path, "the model manifest cannot be read", f" — {REINSTALL_HINT}")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise MtmError(f"{path}: not a model manifest (no 'models' table) — {REINSTALL_HINT}")
    return manifest


def model_entry(name: str, weights_dir: str | os.PathLike = WEIGHTS_DIR) -> dict:
    """One model's manifest entry (file, sha256, config, ...), checked: a plain file name and a SHA-256 for
    the model and each part with a file of its own (FILE_PARTS), and a version this runtime reads."""
    manifest_path = Path(weights_dir) / MANIFEST_NAME
    entry = load_manifest(weights_dir)["models"].get(name)
    if not isinstance(entry, dict) or "file" not in entry:
        raise MtmError(f"the {name} model is not installed (no entry in {manifest_path}) — {REINSTALL_HINT}")
    version = entry.get("version", MANIFEST_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MtmError(f"{manifest_path}: the {name} entry has no valid version ({version!r}) — {REINSTALL_HINT}")
    if version > MANIFEST_VERSION:
        raise MtmError(f"{manifest_path}: the {name} model was exported by a newer mtm_daw (version {version}; this "
                       f"one reads up to {MANIFEST_VERSION}) — {REINSTALL_HINT} in a matching version")
    for part, files in [(name, entry)] + [(f"{name} {key}", entry[key]) for key in FILE_PARTS if key in entry]:
        if not isinstance(files, dict):
            raise MtmError(f"{manifest_path}: the {part} entry is not a table — {REINSTALL_HINT}")
        file, sha256 = files.get("file"), files.get("sha256")
        if not isinstance(file, str) or not file or Path(file).name != file:
            raise MtmError(f"{manifest_path}: the {part} entry names no plain file ({file!r}) — {REINSTALL_HINT}")
        if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256):
            raise MtmError(f"{manifest_path}: the {part} entry has no valid SHA-256 ({sha256!r}), so {file} cannot "
                           f"be checked — {REINSTALL_HINT}")
    return entry


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks (the runtime's checksums and the export manifest share it)."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(path: str | os.PathLike, hint: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise MtmError(f"expected a model file path, got {type(path).__name__}")
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "model file not found"
        raise MtmError(f"{path}: {what} — {hint}")
    return path


def verify_file(path: str | os.PathLike, sha256: str, hint: str = REINSTALL_HINT) -> Path:
    """Check that `path` exists and has this SHA-256; return it as a Path. Cached per (path, size, mtime)."""
    path = _check_file(path, hint)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) == sha256.lower():
        return path
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise MtmError(f"{path}: cannot read the model file ({exc.strerror or exc}) — {hint}") from exc
    if actual != sha256.lower():
        raise MtmError(f"{path}: checksum mismatch — the model file is damaged or was replaced; {hint}")
    _verified[key] = actual
    return path


def thread_count() -> int:
    """Threads per session: what `session_threads` set in this thread, else $MTM_THREADS, else 2 (leaves the
    DAW its cores)."""
    chosen = _threads_here.get()
    if chosen is not None:
        return chosen
    value = os.environ.get("MTM_THREADS", "").strip()
    if not value:
        return DEFAULT_THREADS
    if not value.isdigit() or int(value) < 1:
        raise MtmError(f"MTM_THREADS must be a whole number of threads (1 or more), got {value!r}")
    return int(value)


class PerThreadCount(Generic[Model]):
    """What the shipped models' `default()`s hand out: one model per key and session thread count
    (session_threads), made on first use and shared after (threads tagging at once each ask for 1-thread ones)."""

    def __init__(self) -> None:
        self._made: dict[tuple[Hashable, ...], Model] = {}
        self._lock = threading.Lock()

    def get(self, make: Callable[[], Model], *key: Hashable) -> Model:
        made_as = (*key, thread_count())
        with self._lock:
            if made_as not in self._made:
                self._made[made_as] = make()
            return self._made[made_as]


@contextmanager
def session_threads(count: int) -> Iterator[None]:
    """Sessions (and the models' `default()`s) made or looked up in this thread meanwhile run on `count`
    threads: the library import runs one file per core, each on one-thread sessions, which keeps the
    cores fuller than one file at a time on two-thread sessions (benchmarks/bench_import.py)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"session threads must be a whole number of 1 or more, got {count!r}")
    token = _threads_here.set(count)
    try:
        yield
    finally:
        _threads_here.reset(token)


def providers() -> list[str]:
    """CUDA first when this onnxruntime build has it (onnxruntime-gpu: `bash scripts/setup.sh gpu`), CPU always."""
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return ["CPUExecutionProvider"]
    _load_cuda_libraries()
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]


def _load_cuda_libraries() -> None:
    """onnxruntime-gpu finds CUDA and cuDNN on the library path; the setup installs them as pip's nvidia
    packages instead, which onnxruntime (1.21 and newer) loads with preload_dlls. Once per process;
    where they cannot load, onnxruntime falls back to the CPU and the session's providers say so."""
    global _cuda_loaded
    if _cuda_loaded:  # no lock: create_session calls this holding _lock, and a second load is harmless
        return
    _cuda_loaded = True
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload(cuda=True, cudnn=True, msvc=False)
        except Exception:  # noqa: BLE001 - a system CUDA may still serve; the session reports what runs
            pass


def running_provider(session: ort.InferenceSession) -> str:
    """What runs this session: "CUDA" or "CPU"."""
    return "CUDA" if session.get_providers()[0] == "CUDAExecutionProvider" else "CPU"


def create_session(path: str | os.PathLike, sha256: str | None = None,
                   hint: str = REINSTALL_HINT, memory_arena: bool = True) -> ort.InferenceSession:
    """An onnxruntime session for the model at `path` (checked against `sha256` when given).

    Sessions are cached per file, checksum and thread count: asking again is cheap. `memory_arena`:
    onnxruntime keeps the largest activations it has needed for the next run, which pays for a model run
    step after step (the generator) and only holds memory for one run per file (the listening models:
    without it, tagging a song peaks about 90 MB lower).
    """
    path = verify_file(path, sha256, hint) if sha256 else _check_file(path, hint)
    threads = thread_count()
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sha256, threads, memory_arena)
    with _lock:
        session = _sessions.get(key)
        if session is not None:
            return session
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only: no provider chatter on the console
        options.enable_cpu_mem_arena = memory_arena
        try:
            session = ort.InferenceSession(str(path), options, providers=providers())
        except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail, ...), not one base
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MtmError(f"{path}: not a usable ONNX model ({reason[:200]}) — {hint}") from exc
        _sessions[key] = session
        return session


def clear_cache() -> None:
    """Forget cached sessions and checksums (tests, or after replacing model files)."""
    with _lock:
        _sessions.clear()
        _verified.clear()
