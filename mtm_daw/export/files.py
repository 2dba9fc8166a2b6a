"""Writing a set of files so that none is ever half-written and nothing is overwritten silently."""
from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Callable

from mtm_daw.errors import MtmError


def prepare_output_folder(folder: str | Path) -> Path:
    folder = Path(folder).expanduser()
    try:
        if folder.exists() and not folder.is_dir():
            raise MtmError(f"{folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:  # ValueError: a NUL character in the path
        raise MtmError(f"{folder}: cannot create the output folder ({getattr(error, 'strerror', None) or error})"
                       ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MtmError(f"{folder}: the output folder is not writable")
    return folder


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _read_umask()  # read once at import: os.umask is process-wide, and exports run on worker threads


# A writer's hidden names carry its process id: .NAME.PID.RANDOM.partEXT (temp), .NAME.PID.old (backup);
# each is made by the function beside the pattern that reads it back.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.part(\.[^.]*)?$")
_BACKUP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.old$")
_UNNAMED_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.part(\.[^.]*)?$")  # written before the names had pids


def _make_temp(target: Path) -> Path:
    """An empty hidden file beside `target` for this process to write (mkstemp adds 8 random characters)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=f".part{target.suffix}",
                                    dir=target.parent)
    os.close(handle)
    return Path(name)


def _backup_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.old")
UNNAMED_TEMP_AGE = 3600.0  # seconds after which such a temp cannot belong to an export still running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # someone else's process: alive; an absurd number: leave it be
        return True
    return True


def remove_stale_files(folder: Path, replaced: frozenset[str] = frozenset()) -> int:
    """Clean up after a killed export in `folder`: remove the temps of writers no longer running (and
    unnamed ones over an hour old) and backup names that are a second name of their file; put a backup
    whose name is gone back under it. The old version a killed overwrite left beside a replaced file stays
    for the user to judge, unless its name is in `replaced`: files the user has since overwritten again,
    completely. Nothing else is touched. Returns how many were handled."""
    removed = 0
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(".") and entry.is_file()]
    except OSError:
        return 0
    for entry in entries:
        path = Path(entry.path)
        temp, backup = _TEMP_NAME.match(entry.name), _BACKUP_NAME.match(entry.name)
        try:
            if temp and not _alive(int(temp.group("pid"))):
                path.unlink()
            elif backup and not _alive(int(backup.group("pid"))):
                original = path.with_name(backup.group("name"))
                if not original.exists():
                    os.replace(path, original)  # moved aside and never replaced: it is the only copy
                elif os.path.samefile(original, path):
                    path.unlink()  # a second name of the same file: nothing is lost
                elif original.name in replaced:
                    path.unlink()
                else:
                    continue  # the original was replaced: the old version stays for the user to judge
            elif not temp and not backup and _UNNAMED_TEMP.match(entry.name) and (
                    time.time() - entry.stat().st_mtime > UNNAMED_TEMP_AGE):
                path.unlink()
            else:
                continue
        except OSError:
            continue
        removed += 1
    return removed


class FileSet:
    """Collect writers, write each to a hidden temp file beside its target, then rename all.

    If any writer fails, every temp file is removed and no target is touched.
    """

    def __init__(self, folder: Path, overwrite: bool = False) -> None:
        self.folder = folder
        self.overwrite = overwrite
        self._writers: list[tuple[Path, Callable[[Path], None]]] = []

    def add(self, name: str, writer: Callable[[Path], None]) -> Path:
        target = self.folder / name
        self._writers.append((target, writer))
        return target

    def check_targets(self) -> None:
        for target, _ in self._writers:
            try:
                target.exists()
            except OSError as error:  # ENAMETOOLONG: the name with its tempo, key and stem is over 255 bytes
                raise MtmError(f"{target.name}: cannot write a file of this name ({error.strerror or error}); "
                               "choose a shorter --name") from None
            if target.exists() and not target.is_file():
                raise MtmError(f"{target} exists and is not a file; choose another --name or folder")
        if self.overwrite:
            return
        existing = [target for target, _ in self._writers if target.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise MtmError(f"{existing[0]} already exists{more}; pass --overwrite or choose another --name")

    def commit(self, progress: Callable[[float], None] = lambda fraction: None) -> list[Path]:
        """Write all temps, then keep a backup of each old file, rename the new ones in, and drop the backups.

        Any failure puts every old file back and removes every new one: all or nothing. A kill part way
        leaves every old file under its name, old or new but whole (backups are hard links where the file
        system has them), plus the hidden temporary names.
        """
        self.check_targets()
        remove_stale_files(self.folder)
        temps: list[tuple[Path, Path]] = []
        backups: list[tuple[Path, Path]] = []  # (backup, original target)
        placed: list[Path] = []
        try:
            for index, (target, writer) in enumerate(self._writers):
                temp = _make_temp(target)
                temps.append((temp, target))
                writer(temp)
                os.chmod(temp, 0o666 & ~UMASK)  # mkstemp makes 0600; give the user's usual mode
                sync_file(temp)  # on disk before any rename: a power loss cannot leave a renamed empty file
                progress((index + 1) / len(self._writers))
            for _, target in temps:
                if target.exists():
                    backup = _backup_name(target)
                    try:  # a second name for the old file: the target keeps its name until replaced in one step
                        os.link(target, backup)
                    except OSError:  # no hard links here (FAT, some network shares): move it aside
                        os.replace(target, backup)
                    backups.append((backup, target))
            sync_folder(self.folder)  # the backup names are on disk before the renames replace anything
            for temp, target in temps:
                os.replace(temp, target)
                placed.append(target)
            sync_folder(self.folder)  # and the renames before "done" is said
        except OSError as error:
            for target in placed:
                target.unlink(missing_ok=True)
            for backup, target in backups:
                os.replace(backup, target)  # a no-op when both names are links to the one file ...
                backup.unlink(missing_ok=True)  # ... so drop the backup name then
            raise MtmError(f"{self.folder}: writing failed ({error.strerror or error}); nothing was changed") from None
        finally:
            for temp, _ in temps:
                if temp.exists():
                    temp.unlink()
        for backup, _ in backups:
            backup.unlink(missing_ok=True)
        remove_stale_files(self.folder, replaced=frozenset(target.name for _, target in temps))
        return [target for _, target in temps]


def sync_file(path: Path) -> None:
    """Flush a written file's data to the disk (a no-op where the file system cannot: some FUSE and SMB
    mounts answer EINVAL); a real write error still raises."""
    with open(path, "rb") as handle:
        _sync(handle.fileno())


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (names made, renamed or removed) to the disk, where folders can be opened
    and synced."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        _sync(descriptor)
    finally:
        os.close(descriptor)


def _sync(descriptor: int) -> None:
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EROFS):
            raise
