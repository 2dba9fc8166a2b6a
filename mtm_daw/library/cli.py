"""`mtm library add | ls | search | rm | stats | verify | edit | reembed`: the reference library from the command line.

Each subcommand imports what it needs when it runs (`ls` loads no models)."""
from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path

from mtm_daw.description import GENRES, MOODS
from mtm_daw.errors import MtmError, one_line
from mtm_daw.progress import CancelToken, ProgressPrinter

EXIT_OK, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 2, 130


def library_path(args: argparse.Namespace) -> Path:
    from mtm_daw.library.store import default_library_path

    return Path(args.library).expanduser() if args.library else default_library_path()


def _open(args: argparse.Namespace, create: bool = True, read_only: bool = False):
    """The library (a new one starts with the bundled starter set, so search works on a fresh install)."""
    from mtm_daw.library.starter import open_library

    return open_library(library_path(args), create=create, read_only=read_only)


@contextlib.contextmanager
def _progress_and_ctrl_c(quiet: bool):
    """(progress printer, cancel token) for a long library job: Ctrl-C sets the token, so the job
    finishes the file in hand and stops cleanly; the previous handler is back afterwards."""
    token = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: token.cancel())
    printer = ProgressPrinter(quiet)
    try:
        yield printer, token
    finally:
        signal.signal(signal.SIGINT, previous)
        printer.done()


def cmd_add(args: argparse.Namespace) -> int:
    from mtm_daw.library.importer import import_paths

    with _progress_and_ctrl_c(args.quiet) as (printer, token):
        report = import_paths(library_path(args), args.paths, partition=args.partition, workers=args.workers,
                              transcribe=not args.no_notes, progress=printer, cancel=token)
    print(f"added {report.added}, already there {report.skipped}, failed {len(report.failed)} "
          f"in {report.seconds:.1f} s ({report.files_per_second:.2f} files/s) -> {library_path(args)}")
    for path, message in report.failed:  # a reader's message names the file already
        shown = message if Path(path).name in message else f"{path}: {message}"
        print(f"  skipped {one_line(shown)}", file=sys.stderr)
    if report.cancelled:
        print("mtm: cancelled — the files added so far are kept; run the same command again to continue",
              file=sys.stderr)
        return EXIT_CANCELLED
    return EXIT_BAD_INPUT if report.failed and not (report.added or report.skipped) else EXIT_OK


def _item_line(item) -> str:
    instruments = ", ".join(item.instruments)
    return (f"{item.id:>6}  {item.kind:<5} {item.genre:<10} {item.mood:<8} {item.bpm:6.1f} BPM  {item.key or '-':<10} "
            f"{item.duration:6.1f} s  [{item.partition}]  {Path(item.path).name}  ({instruments})")


def cmd_ls(args: argparse.Namespace) -> int:
    store = _open(args, read_only=True)
    try:
        items = store.list_items(partition=args.partition, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps([_item_dict(i) for i in items], indent=1))
    else:
        for item in items:
            print(_item_line(item))
    return EXIT_OK


def _item_dict(item) -> dict:
    from dataclasses import asdict

    data = asdict(item)
    data.pop("beat_times", None)
    return data


def filters_from_args(args: argparse.Namespace):
    from mtm_daw.library.item import SearchFilters, parse_bpm_range

    bpm_min, bpm_max = parse_bpm_range(args.bpm) if args.bpm else (None, None)
    return SearchFilters(genre=args.genre, mood=args.mood, bpm_min=bpm_min, bpm_max=bpm_max, key=args.key,
                         mode=args.mode, partition=args.partition)  # search() checks and spells them


def cmd_search(args: argparse.Namespace) -> int:
    from mtm_daw.describe import looks_like_path
    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.search import search
    from mtm_daw.library.tagging import query_embedding

    if looks_like_path(args.query) and not Path(args.query).expanduser().is_file():
        raise MtmError(f"{args.query}: no such file to search by sound (words are searched as words)")
    vector, windows = query_embedding(args.query, JointEmbedder.default())
    store = _open(args, read_only=True)
    try:
        references = search(store, vector, filters_from_args(args), k=args.k, query_windows=windows)
    finally:
        store.close()
    if args.json:
        print(json.dumps([{"score": round(r.score, 4), "matched": list(r.matched), "track": r.track,
                           "item": _item_dict(r.item)} for r in references], indent=1))
        return EXIT_OK
    if not references:
        print("no matches (loosen the filters, or add files with `mtm library add`)")
    for reference in references:
        matched = f" matched {', '.join(reference.matched)}" if reference.matched else ""
        print(f"{reference.score:6.3f}  {_item_line(reference.item)}{matched}")
        print(f"        {reference.item.caption}")
    return EXIT_OK


def cmd_rm(args: argparse.Namespace) -> int:
    store = _open(args, create=False)
    try:
        removed, missing = 0, []
        for target in args.items:
            count = store.remove(int(target)) if target.isdigit() else store.remove(path=target)
            removed += count
            if not count:
                missing.append(target)
        where = store.path
    finally:
        store.close()
    if not removed:
        raise MtmError(f"{where}: nothing removed: no item {', '.join(missing)} in the library "
                       "(ids and paths: mtm library ls)")
    print(f"removed {removed} item(s); the files themselves were not touched")
    if missing:
        print(f"note: not in the library: {', '.join(missing)}", file=sys.stderr)
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    changes = {name: getattr(args, name) for name in ("genre", "mood", "source", "licence")
               if getattr(args, name) is not None}
    if not changes:
        raise MtmError("nothing to change: give --genre, --mood, --source or --licence")
    store = _open(args, create=False)
    try:
        store.update_tags(args.item, **changes)
        item = store.get(args.item)
    finally:
        store.close()
    print(_item_line(item))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    store = _open(args, read_only=True)
    try:
        stats = asdict(store.stats())
    finally:
        store.close()
    if args.json:
        print(json.dumps(stats, indent=1))
        return EXIT_OK
    stats["total_duration"] = f"{stats['total_duration'] / 60:.1f} min"
    stats["db_bytes"] = f"{stats['db_bytes'] / 1e6:.1f} MB"
    for key, value in stats.items():
        print(f"{key:>16}: {value}")
    return EXIT_OK


def cmd_reembed(args: argparse.Namespace) -> int:
    from mtm_daw.library.reembed import reembed_library

    with _progress_and_ctrl_c(args.quiet) as (printer, token):
        report = reembed_library(library_path(args), drop_missing=args.drop_missing, progress=printer, cancel=token)
    if report.already_current:
        print(f"{library_path(args)}: already embedded with {report.model}; nothing to do")
        return EXIT_OK
    print(f"embedded {report.reembedded} item(s) again with {report.model} in {report.seconds:.1f} s"
          + (f"; removed {report.dropped} whose file could not be read:" if report.dropped else ""))
    for item_id, path, why in report.missing:
        print(f"  removed {item_id} {path}: {why}", file=sys.stderr)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from mtm_daw.library.starter import embedding_model_name
    from mtm_daw.library.store import SCHEMA_VERSION, LibraryStore

    # any embedding model and an older schema as it is: verify only reads the file
    store = LibraryStore.open(library_path(args), read_only=True)
    try:
        problems = store.verify()
        model, schema = store.embedding_model, store.schema_version
    finally:
        store.close()
    if problems:
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        raise MtmError(f"{library_path(args)}: {len(problems)} problem(s) found (listed above); the file was not "
                       "changed — restore a backup, or remove it and import your files again")
    print(f"{library_path(args)}: ok")
    if schema < SCHEMA_VERSION:
        print(f"note: schema {schema}; mtm_daw brings it to {SCHEMA_VERSION} the next time it opens it to use it")
    if model and model != embedding_model_name():
        print(f"note: its embeddings come from {model!r}, not this version's {embedding_model_name()!r}; "
              "run `mtm library reembed` before searching it")
    return EXIT_OK


def add_library_parser(commands) -> None:
    library = commands.add_parser("library", help="your reference library: add, search, list, verify")
    library.add_argument("--library", help="the library file (default: MTM_LIBRARY or the user data folder)")
    actions = library.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="import audio and MIDI files or folders (recursive, resumable)")
    add.add_argument("paths", nargs="+", help="files or folders")
    add.add_argument("--partition", default="user", help="which part of the library (default: user)")
    add.add_argument("--workers", type=int, help="files tagged at once (default: one per core, at most 4)")
    add.add_argument("--no-notes", action="store_true", help="skip note transcription of audio (faster)")
    add.add_argument("--quiet", action="store_true", help="no progress output")
    add.set_defaults(handler=cmd_add)

    ls = actions.add_parser("ls", help="list items")
    ls.add_argument("--partition")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_ls)

    search = actions.add_parser("search", help="broad search by text or by an audio/MIDI file, narrowed by filters")
    search.add_argument("query", help="words ('dark cinematic strings') or a file to sound like")
    search.add_argument("--genre", choices=GENRES)
    search.add_argument("--mood", choices=MOODS)
    search.add_argument("--bpm", help="a range such as 80-100, or one tempo")
    search.add_argument("--key", help="e.g. 'D minor'")
    search.add_argument("--mode", choices=("major", "minor"))
    search.add_argument("--partition", help="e.g. user or starter")
    search.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=cmd_search)

    rm = actions.add_parser("rm", help="remove items (by id or path) from the library; files stay on disk")
    rm.add_argument("items", nargs="+")
    rm.set_defaults(handler=cmd_rm)

    edit = actions.add_parser("edit", help="correct an item's tags or record its source and licence")
    edit.add_argument("item", type=int)
    edit.add_argument("--genre", choices=GENRES)
    edit.add_argument("--mood", choices=MOODS)
    edit.add_argument("--source")
    edit.add_argument("--licence")
    edit.set_defaults(handler=cmd_edit)

    stats = actions.add_parser("stats", help="counts, total duration, file size")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=cmd_stats)

    reembed = actions.add_parser("reembed", help="embed every item again with this version's model "
                                                 "(after an update; tags and edits are kept)")
    reembed.add_argument("--drop-missing", action="store_true",
                         help="remove items whose file is gone or unreadable (else nothing changes)")
    reembed.add_argument("--quiet", action="store_true", help="no progress output")
    reembed.set_defaults(handler=cmd_reembed)

    verify = actions.add_parser("verify", help="check the library file for damage (never changes it)")
    verify.set_defaults(handler=cmd_verify)

    for action in (add, ls, search, rm, edit, stats, reembed, verify):  # also accepted after the action's name
        action.add_argument("--library", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
