"""How plugins and the panel talk to `mtm serve`: one JSON object per line over a Unix domain socket in
the user's runtime folder (no TCP port; the folder is mode 700 and the socket mode 600).

Each connection carries one request and one answer. Every answer has "ok"; a failed one has "error",
one line that says what went wrong. Commands:
  ping                      -> version, pid
  generate  (a CueRequest)  -> job: an id to ask `job` about
  job       job             -> state: queued | running (progress 0..1) | done (a CueFiles) | failed (error)
                               | cancelled; preview: a CueFiles of the cue's first bars once they are made (a
                               long or trained cue), to play while the rest is made
  cancel    job             -> the job stops at its next step
  load      sidecar         -> a CueFiles for a cue made before (made again by reproduce if its files are gone)
  hello     instance, tempo, numerator, denominator, sample_rate
                            -> inbox: a sidecar the panel sent to this plugin instance ("" for none)
  instances                 -> the plugin instances heard from in the last seconds, with their host's tempo
  send      instance, sidecar -> the instance loads that cue with its next hello
  shutdown                  -> the engine stops after answering
"""
from __future__ import annotations

import json
import os
import socket
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from mtm_daw.errors import MtmError

MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # a done job's note list stays far below this
ENGINE_SOCKET_NAME = "engine.sock"


def runtime_folder() -> Path:
    """$XDG_RUNTIME_DIR/mtm_daw (private to the user), else a per-user folder in the temp folder.
    MTM_RUNTIME_DIR overrides both (tests, and a second engine beside the default one)."""
    override = os.environ.get("MTM_RUNTIME_DIR")
    if override:
        return Path(override)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "mtm_daw"
    return Path(tempfile.gettempdir()) / f"mtm_daw-{os.getuid()}"


def socket_path() -> Path:
    return runtime_folder() / ENGINE_SOCKET_NAME


@dataclass
class CueRequest:
    """What a plugin instance asks for: a cue at the host's tempo, meter and sample rate."""

    tempo: float = 120.0
    numerator: int = 4
    denominator: int = 4
    sample_rate: int = 48000
    bars: int = 8
    style: str = "pop"
    mood: str = "happy"
    key: str = ""  # "" = the style's usual key for the mood
    seed: int = 0
    engine: str = "dit"
    strength: float = 0.0  # > 0: follow the best match from the user's library at this strength
    key_lock: bool = True

    @classmethod
    def from_dict(cls, data: dict) -> "CueRequest":
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known) - {"command"})
        if unknown:
            raise MtmError(f"unknown request field(s): {', '.join(unknown)}")
        defaults = cls()
        values = {}
        for name in known:
            if name not in data:
                continue
            kind = type(getattr(defaults, name))
            value = data[name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise MtmError(f"request field '{name}' should be {kind.__name__}, got {value!r}")
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CueFiles:
    """A finished cue as a plugin plays it: the WAV of the mix and of each stem (same length, from bar 1),
    the sidecar that makes it again, and its notes as flat numbers, five per note:
    onset beat, end beat, MIDI channel (0-15), pitch, velocity."""

    sidecar: str
    sidecar_sha256: str
    tempo: float
    numerator: int
    denominator: int
    sample_rate: int
    samples: int
    mix: str
    stems: dict[str, str] = field(default_factory=dict)
    notes: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def encode(message: dict) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def read_message(connection: socket.socket) -> dict:
    """One line of JSON from the connection; MtmError when it is not one (too long, cut off, not an object)."""
    chunks, size = [], 0
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk:
            break
        if size > MAX_MESSAGE_BYTES:
            raise MtmError(f"message longer than {MAX_MESSAGE_BYTES // 1024 // 1024} MB")
    line = b"".join(chunks).split(b"\n", 1)[0]
    if not line.strip():
        raise MtmError("empty message (a message is one line of JSON)")
    try:
        message = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MtmError(f"message is not JSON ({error})") from None
    if not isinstance(message, dict):
        raise MtmError("message is not a JSON object")
    return message


def ask(request: dict, path: Path | None = None, timeout: float = 10.0) -> dict:
    """Send one request to the running engine and return its answer; MtmError when no engine answers
    or the answer says it failed."""
    path = path or socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        try:
            connection.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise MtmError(f"no mtm engine is running at {path} (start one with `mtm serve`)") from None
        except OSError as error:
            raise MtmError(f"cannot reach the mtm engine at {path}: {error.strerror or error}") from None
        connection.sendall(encode(request))
        answer = read_message(connection)
    if not answer.get("ok"):
        raise MtmError(str(answer.get("error", "the engine refused the request")))
    return answer
