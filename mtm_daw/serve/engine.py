"""`mtm serve`: one local engine per user that DAW plugin instances (and the panel) ask for cues.

It listens on a Unix domain socket (mtm_daw.serve.protocol), makes cues one at a time on a worker
thread with the same pipeline as the CLI (compose -> render -> mix -> export), and keeps them in the
user's data folder, one folder per request, so asking twice for the same cue costs nothing.
A lock file makes a second engine that races to start give way; a socket left by a dead engine is
replaced. Each kind of request imports its stage when it first comes, so the engine starts at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import queue
import shutil
import socketserver
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import platformdirs

from mtm_daw import __version__
from mtm_daw.description import MusicDescription
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.export import SIDECAR_SUFFIX, audio_file_name, export_cue
from mtm_daw.generation import GenerationSettings
from mtm_daw.progress import CancelToken
from mtm_daw.serve.protocol import ENGINE_SOCKET_NAME, CueFiles, CueRequest, encode, read_message, runtime_folder

FINISHED_JOBS_KEPT = 64
INSTANCE_ALIVE_SECONDS = 5.0  # a plugin instance says hello every second while its host runs it


def default_cue_folder() -> Path:
    return Path(platformdirs.user_data_dir("mtm_daw", appauthor=False)) / "plugin_cues"


# --- what a request becomes -------------------------------------------------------------------------

def request_description(request: CueRequest) -> MusicDescription:
    """The description a plugin's settings stand for: the style's usual key for the mood unless a key is
    given, the host's tempo and meter, as many bars as asked."""
    from mtm_daw.describe.text import usual_key
    from mtm_daw.score.styles import style_for

    description = MusicDescription(genre=request.style, mood=request.mood).validate()  # names a bad style/mood
    if not 1 <= request.bars <= 512:
        raise MtmError(f"bars must be between 1 and 512, got {request.bars}")
    description = replace(description, tempo=request.tempo, time_signature=(request.numerator, request.denominator),
                          key=request.key or usual_key(style_for(request.style), request.mood,
                                                       f"{request.style} {request.mood}"))
    description.duration = request.bars * description.bar_seconds
    description.sentence = description.to_sentence()
    return description.validate()


def request_folder(request: CueRequest, root: Path) -> Path:
    digest = hashlib.sha256(json.dumps(request.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    return root / f"{request.style}_{request.tempo:g}bpm_{request.bars}bars_{digest}"


def cue_files(sidecar_path: Path) -> CueFiles | None:
    """The files of an exported cue from its sidecar; None when any of them is missing."""
    from mtm_daw.score.midi import load_midi_score, track_channels

    if not sidecar_path.name.endswith(SIDECAR_SUFFIX):
        raise MtmError(f"{sidecar_path}: not a cue sidecar (its name should end with {SIDECAR_SUFFIX})")
    prefix = str(sidecar_path)[:-len(SIDECAR_SUFFIX)]
    document = sidecar_path.read_bytes()
    data = json.loads(document)
    stems = {role: audio_file_name(prefix, role) for role in data["stems"]}
    paths = [Path(audio_file_name(prefix, "mix")), Path(f"{prefix}.mid"), *map(Path, stems.values())]
    if not all(path.is_file() for path in paths):
        return None
    score = load_midi_score(f"{prefix}.mid", key=data["score"]["key"])
    channels = track_channels(score)
    notes = [value for role, track in score.tracks.items() for note in track.notes
             for value in (note.onset, note.end, channels[role], note.pitch, note.velocity)]
    numerator, denominator = data["score"]["time_signature"]
    return CueFiles(sidecar=str(sidecar_path), sidecar_sha256=hashlib.sha256(document).hexdigest(),
                    tempo=float(data["score"]["tempo"]), numerator=numerator, denominator=denominator,
                    sample_rate=int(data["sample_rate"]), samples=int(data["stems"][next(iter(stems))]["samples"]),
                    mix=audio_file_name(prefix, "mix"), stems=stems, notes=notes)


PREVIEW_FOLDER_NAME = "preview"  # inside a request's folder: the files of its first bars


def make_cue_files(request: CueRequest, root: Path, progress: Callable[[float], None], cancel: CancelToken,
                   warn: Callable[[str], None],
                   preview: Callable[[CueFiles | None], None] = lambda files: None) -> CueFiles:
    """The cue a request asks for: made and exported once, then found again in its folder. `preview` is given
    the files of its first bars as soon as they are made (a long or trained cue), to play while the rest is
    made; they are exported as a cue of their own in the request folder's `preview` folder, and `preview`
    is given None before they are deleted (when the cue is made, fails or is cancelled)."""
    from mtm_daw.pipeline import RenderSettings, compose_cue

    folder = request_folder(request, root)
    kept = _kept_cue(folder, "")
    if kept is not None:
        return kept
    description = request_description(request)
    reference, record = None, None
    if request.strength > 0 and request.engine == "dit":
        reference, record = library_reference(description, request.strength, warn)
    generation = GenerationSettings(key_lock=request.key_lock) if request.engine == "dit" else None
    try:
        cue = compose_cue(description, seed=request.seed, engine=request.engine,
                          settings=RenderSettings(sample_rate=request.sample_rate),
                          progress=lambda stage, fraction: progress(0.95 * fraction), cancel=cancel, warn=warn,
                          reference=reference, generation=generation, reference_record=record,
                          preview=lambda first: preview(_exported(first, folder / PREVIEW_FOLDER_NAME, "preview")))
        return _exported(cue, folder, "plugin", progress)
    finally:  # a plugin reads the preview into memory when it is named: its files are not kept
        preview(None)
        shutil.rmtree(folder / PREVIEW_FOLDER_NAME, ignore_errors=True)


def _kept_cue(folder: Path, name: str, sample_rate: int | None = None) -> CueFiles | None:
    """A complete cue exported under `name` in `folder` before (at `sample_rate`, when given)."""
    for sidecar_path in sorted(folder.glob(f"{name}*{SIDECAR_SUFFIX}")):
        found = cue_files(sidecar_path)
        if found is not None and sample_rate in (None, found.sample_rate):
            return found
    return None


def _exported(cue, folder: Path, name: str, progress: Callable[[float], None] = lambda fraction: None) -> CueFiles:
    paths = export_cue(cue, folder, name, overwrite=True)
    progress(1.0)
    return cue_files(next(path for path in paths if path.name.endswith(SIDECAR_SUFFIX)))


def library_reference(description: MusicDescription, strength: float, warn: Callable[[str], None]):
    """(control, record) of the best match in the user's library, or (None, None) with a warning."""
    from mtm_daw.library.retrieve import retrieve_control
    from mtm_daw.library.store import default_library_path
    from mtm_daw.provenance import library_reference as record_of

    try:
        control, reference = retrieve_control(description, default_library_path(), strength)
    except MtmError as error:
        warn(f"no reference from the library ({error}); the cue follows the description only")
        return None, None
    return control, record_of(reference, strength)


def load_cue(sidecar: str, root: Path, warn: Callable[[str], None]) -> CueFiles:
    """A cue saved in a plugin's state: its files, made again from the sidecar when they are gone."""
    from mtm_daw.pipeline.remake import reproduce_cue, sidecar_name
    from mtm_daw.provenance import load_sidecar

    path = Path(sidecar).expanduser()
    if not path.is_file():
        raise MtmError(f"{path}: the cue's sidecar is gone, so the cue cannot be made again; press Generate")
    found = cue_files(path)
    if found is not None:
        return found
    warn(f"{path.name}: files missing, making the cue again from its sidecar")
    cue = reproduce_cue(path, warn=warn)
    export_cue(cue, path.parent, sidecar_name(load_sidecar(path)), overwrite=True)
    found = cue_files(path)
    if found is None:
        raise MtmError(f"{path}: the cue was made again but its files are not where the sidecar says")
    return found


def cue_at_sample_rate(sidecar: Path, sample_rate: int, progress: Callable[[float], None], cancel: CancelToken,
                       warn: Callable[[str], None]) -> CueFiles:
    """The sidecar's cue rendered again at another sample rate (same score, same mix settings), written
    beside it as <name>_<rate>hz: a plugin plays cues at its host's rate, never resampled on the audio thread."""
    from mtm_daw.pipeline import make_cue
    from mtm_daw.pipeline.remake import sidecar_name
    from mtm_daw.provenance import load_sidecar

    document = load_sidecar(sidecar)
    recipe = replace(document["recipe"], render=replace(document["recipe"].render, sample_rate=sample_rate))
    name = f"{sidecar_name(document)}_{sample_rate}hz"
    kept = _kept_cue(sidecar.parent, f"{name}_", sample_rate)
    if kept is not None:
        return kept
    cue = make_cue(recipe, lambda stage, fraction: progress(0.95 * fraction), cancel, warn)
    return _exported(cue, sidecar.parent, name, progress)


# --- jobs ---------------------------------------------------------------------------------------------

@dataclass
class Instance:
    """A plugin instance that said hello: what the panel lists under "Send to plugin"."""

    instance: str
    tempo: float
    numerator: int
    denominator: int
    sample_rate: int
    seen: float = 0.0
    inbox: str = ""  # a sidecar the panel sent, handed over with the next hello

    def to_dict(self) -> dict:
        return {"instance": self.instance, "tempo": self.tempo, "numerator": self.numerator,
                "denominator": self.denominator, "sample_rate": self.sample_rate}


@dataclass
class Job:
    id: str
    request: CueRequest | None  # None: `make` says what to do
    make: Callable[[Callable[[float], None], CancelToken, Callable[[str], None]], CueFiles] | None = None
    deliver_to: str = ""  # a plugin instance whose inbox gets the cue when it is done
    state: str = "queued"  # queued | running | done | failed | cancelled
    progress: float = 0.0
    preview: CueFiles | None = None  # the cue's first bars, once they are made (long or trained cues)
    result: CueFiles | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    cancel: CancelToken = field(default_factory=CancelToken)

    def answer(self) -> dict:
        answer = {"ok": True, "job": self.id, "state": self.state, "progress": round(self.progress, 3),
                  "warnings": self.warnings}
        if self.preview is not None:
            answer["preview"] = self.preview.to_dict()
        if self.state == "done" and self.result is not None:
            answer["cue"] = self.result.to_dict()
        if self.error:
            answer["error_message"] = self.error
        return answer


class Engine:
    """The engine's state: its jobs and the one worker thread that makes cues in turn."""

    def __init__(self, cue_root: Path, idle_exit_seconds: float = 0.0) -> None:
        self.cue_root = cue_root
        self.idle_exit_seconds = idle_exit_seconds
        self.jobs: dict[str, Job] = {}
        self.instances: dict[str, Instance] = {}
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.last_request = time.monotonic()
        self.worker = threading.Thread(target=self._work, name="mtm-engine-worker", daemon=True)
        self.worker.start()

    def handle(self, message: dict) -> dict:
        self.last_request = time.monotonic()
        command = message.get("command")
        if command == "ping":
            return {"ok": True, "version": __version__, "pid": os.getpid()}
        if command == "generate":
            request = CueRequest.from_dict(message)
            request_description(request)  # a bad style, mood, key, tempo or meter is refused at once
            job = self._queue(Job(str(next(self.ids)), request))
            return {"ok": True, "job": job.id, "state": job.state}
        if command in ("job", "cancel"):
            job = self.jobs.get(str(message.get("job", "")))
            if job is None:
                raise MtmError(f"no job {message.get('job')!r} (the engine may have restarted; press Generate)")
            if command == "cancel":
                job.cancel.cancel()
            return job.answer()
        if command == "load":
            warnings: list[str] = []
            files = load_cue(str(message.get("sidecar", "")), self.cue_root, warnings.append)
            return {"ok": True, "cue": files.to_dict(), "warnings": warnings}
        if command == "hello":
            return self._hello(message)
        if command == "instances":
            now = time.monotonic()
            with self.lock:
                alive = [i.to_dict() for i in self.instances.values() if now - i.seen < INSTANCE_ALIVE_SECONDS]
            return {"ok": True, "instances": alive}
        if command == "send":
            return self._send(message)
        if command == "shutdown":
            return {"ok": True, "stopping": True}
        raise MtmError(f"unknown command {command!r} (ping, generate, job, cancel, load, hello, instances, send, "
                       "shutdown)")

    def _hello(self, message: dict) -> dict:
        name = str(message.get("instance", ""))
        if not name:
            raise MtmError("hello needs the plugin instance's id")
        numbers = CueRequest.from_dict({key: message[key] for key in ("tempo", "numerator", "denominator",
                                                                      "sample_rate") if key in message})
        now = time.monotonic()
        with self.lock:
            previous = self.instances.get(name)
            self.instances[name] = Instance(name, numbers.tempo, numbers.numerator, numbers.denominator,
                                            numbers.sample_rate, seen=now)
            for gone in [key for key, value in self.instances.items() if now - value.seen > 3600]:
                del self.instances[gone]
        return {"ok": True, "inbox": previous.inbox if previous else ""}

    def _send(self, message: dict) -> dict:
        name, sidecar = str(message.get("instance", "")), Path(str(message.get("sidecar", ""))).expanduser()
        files = cue_files(sidecar) if sidecar.is_file() else None
        if files is None:
            raise MtmError(f"{sidecar}: not a cue with all its files (send the sidecar of a finished cue)")
        with self.lock:
            instance = self.instances.get(name)
            if instance is None or time.monotonic() - instance.seen > INSTANCE_ALIVE_SECONDS:
                raise MtmError(f"no plugin instance {name!r} is running (open mtm_daw in your DAW, then send again)")
            if files.sample_rate == instance.sample_rate:
                instance.inbox = str(sidecar.resolve())
                return {"ok": True, "instance": name}
            rate = instance.sample_rate
        job = self._queue(Job(str(next(self.ids)), None, deliver_to=name, make=lambda progress, cancel, warn:
                              cue_at_sample_rate(sidecar.resolve(), rate, progress, cancel, warn)))
        return {"ok": True, "instance": name, "job": job.id, "state": job.state}

    def _queue(self, job: Job) -> Job:
        with self.lock:
            self.jobs[job.id] = job
            self._forget_old_jobs()
        self.queue.put(job)
        return job

    def _forget_old_jobs(self) -> None:
        finished = [job_id for job_id, job in self.jobs.items() if job.state in ("done", "failed", "cancelled")]
        for job_id in finished[:-FINISHED_JOBS_KEPT]:
            del self.jobs[job_id]

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            if job.cancel.cancelled:
                job.state = "cancelled"
                continue
            job.state = "running"
            try:
                report = lambda fraction: setattr(job, "progress", fraction)  # noqa: E731
                job.result = (job.make(report, job.cancel, job.warnings.append) if job.make else
                              make_cue_files(job.request, self.cue_root, report, job.cancel, job.warnings.append,
                                             lambda files: setattr(job, "preview", files)))
                job.state, job.progress = "done", 1.0
                if job.deliver_to:
                    with self.lock:
                        if job.deliver_to in self.instances:
                            self.instances[job.deliver_to].inbox = job.result.sidecar
            except Cancelled:
                job.state = "cancelled"
            except MtmError as error:
                job.state, job.error = "failed", str(error)
            except Exception as error:  # noqa: BLE001 - the engine outlives any one cue; the plugin shows the line
                job.state, job.error = "failed", f"internal error: {type(error).__name__}: {error}"

    def stop(self) -> None:
        self.queue.put(None)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    engine: Engine


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        self.request.settimeout(10.0)
        try:
            answer = server.engine.handle(read_message(self.request))
        except MtmError as error:
            answer = {"ok": False, "error": str(error)}
        except OSError:
            return  # the client went away
        try:
            self.request.sendall(encode(answer))
        except OSError:
            return
        if answer.get("stopping"):
            threading.Thread(target=server.shutdown, daemon=True).start()


def prepare_runtime_folder(folder: Path) -> Path:
    """The socket's folder, private to the user; MtmError when it cannot be."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid != os.getuid():
            raise MtmError(f"{folder}: the engine's folder belongs to another user; set MTM_RUNTIME_DIR to a folder "
                           "of your own")
        folder.chmod(0o700)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except PermissionError:
        raise MtmError(f"{folder}: cannot write the engine's folder (permission denied); set MTM_RUNTIME_DIR "
                       "to a writable folder") from None
    except OSError as error:
        raise MtmError(f"{folder}: cannot use the engine's folder ({error.strerror or error})") from None
    return folder


def serve(folder: Path | None = None, cue_root: Path | None = None, idle_exit_seconds: float = 0.0,
          ready: Callable[[Path], None] = lambda path: None) -> None:
    """Run the engine until `shutdown` (or, with idle_exit_seconds, that long without a request)."""
    folder = prepare_runtime_folder(folder or runtime_folder())
    lock_file = open(folder / "engine.lock", "a+")  # held for the engine's life; closed by the OS on a crash
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise MtmError(f"an mtm engine is already running ({folder / ENGINE_SOCKET_NAME})") from None
    path = folder / ENGINE_SOCKET_NAME
    path.unlink(missing_ok=True)  # left by an engine that died: we hold the lock, so nobody serves it
    old_umask = os.umask(0o177)  # the socket is born mode 600
    try:
        server = _Server(str(path), _Handler)
    finally:
        os.umask(old_umask)
    server.engine = Engine(cue_root or default_cue_folder(), idle_exit_seconds)
    if idle_exit_seconds > 0:
        threading.Thread(target=_exit_when_idle, args=(server, idle_exit_seconds), daemon=True).start()
    ready(path)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.engine.stop()
        server.server_close()
        path.unlink(missing_ok=True)
        lock_file.close()


def _exit_when_idle(server: _Server, seconds: float) -> None:
    engine = server.engine
    while True:
        time.sleep(min(seconds, 5.0))
        busy = any(job.state in ("queued", "running") for job in list(engine.jobs.values()))
        if not busy and time.monotonic() - engine.last_request > seconds:
            server.shutdown()
            return

