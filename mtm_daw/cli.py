"""The `mtm` command line: compose, render, analyze.

Exit status: 0 ok, 2 bad input or usage, 1 internal error, 130 cancelled (Ctrl-C).
Errors print one line; --debug adds the traceback. Each command imports its stage when it runs, so
`mtm --help` and the quick commands load no models and no audio stack.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
import warnings
from dataclasses import replace
from pathlib import Path

from mtm_daw import __version__
from mtm_daw.description import GENRES, MOODS, MusicDescription
from mtm_daw.errors import Cancelled, MtmError, one_line
from mtm_daw.generation import GenerationSettings
from mtm_daw.progress import ProgressPrinter
from mtm_daw.score.gm import program_from_name
from mtm_daw.score.score import ROLES, parse_time_signature
from mtm_daw.score.styles import style_for

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


def _parse_assignments(values: list[str] | None, what: str) -> dict[str, list[str]]:
    """['melody=flute', 'harmony=piano'] -> {'melody': ['flute'], 'harmony': ['piano']}."""
    result: dict[str, list[str]] = {}
    for value in values or []:
        for item in value.split(","):
            role, sep, setting = item.partition("=")
            if not sep or not setting.strip():
                raise MtmError(f"--{what} expects ROLE=VALUE, got '{item}'")
            if role.strip() not in ROLES:
                raise MtmError(f"--{what}: unknown role '{role}' (roles are: {', '.join(ROLES)})")
            result.setdefault(role.strip(), []).append(setting.strip())
    return result


def _description_from_args(args: argparse.Namespace) -> MusicDescription:
    if args.text and args.description:
        raise MtmError("give either --text or --description, not both")
    if args.text:
        from mtm_daw.describe.text import parse_text

        parsed = parse_text(args.text)
        for notice in parsed.notices:
            print(f"note: {notice}", file=sys.stderr)
        description = parsed.description
    elif args.description:
        description = MusicDescription.load(args.description)
    else:
        description = MusicDescription()
        if args.genre:  # a bare --style plays at the style's tempo, in its meter and a usual key
            description = _style_defaults(args.genre, args.mood or description.mood)
    overrides = [name for name in ("genre", "mood", "tempo", "key", "time_signature", "roles", "instrument")
                 if getattr(args, name) is not None]
    if overrides:
        description.sentence = ""  # the old sentence no longer describes the music
    for name in ("genre", "mood", "tempo", "key", "duration", "chords", "form"):
        value = getattr(args, name)
        if value is not None:
            setattr(description, name, value)
    if args.time_signature:
        description.time_signature = parse_time_signature(args.time_signature)
    if args.roles:
        description.roles = tuple(role.strip() for role in args.roles.split(",") if role.strip())
    for role, names in _parse_assignments(args.instrument, "instrument").items():
        description.instruments[role] = program_from_name(names[-1])
    return description.validate()


def _style_defaults(name: str, mood: str) -> MusicDescription:
    from mtm_daw.describe.text import usual_key
    from mtm_daw.describe.vocabulary import MOOD_TEMPO_PLACE

    style = style_for(name)
    return MusicDescription(genre=name, mood=mood, tempo=style.tempo_at(MOOD_TEMPO_PLACE[mood]),
                            key=usual_key(style, mood, f"{name} {mood}"), time_signature=style.meter)


def _render_settings(args: argparse.Namespace):
    from mtm_daw.pipeline import RenderSettings

    return RenderSettings(soundfont=args.soundfont, synth=args.synth, target_lufs=args.lufs,
                          plugins=_parse_assignments(args.plugin, "plugin"))


def _export_and_report(cue, args: argparse.Namespace, printer: ProgressPrinter, picture: Path | None = None) -> None:
    from mtm_daw.export import export_cue

    paths = export_cue(cue, args.output, args.name, args.overwrite, progress=lambda f: printer("export", f),
                       picture=picture, dawproject=getattr(args, "dawproject", False),
                       mix_original_db=getattr(args, "mix_original", None))
    printer.done()
    print(f"{cue.description.sentence}")
    print(f"rendered with {cue.renderer}; mix at {cue.loudness_lufs:.1f} LUFS")
    print(f"wrote {len(paths)} files to {Path(args.output).resolve()}:")
    for path in paths:
        print(f"  {path.name}")


def _dit_settings(args: argparse.Namespace) -> GenerationSettings:
    defaults = GenerationSettings()
    return GenerationSettings(steps=getattr(args, "steps", defaults.steps),
                              guidance=getattr(args, "guidance", defaults.guidance),
                              precision=getattr(args, "precision", defaults.precision),
                              key_lock=getattr(args, "key_lock", defaults.key_lock))


def _retrieved_reference(args: argparse.Namespace, description: MusicDescription):
    """--retrieve: the library's best match for the description, as a control signal for the trained model."""
    from mtm_daw.library.cli import library_path
    from mtm_daw.library.retrieve import retrieve_control
    from mtm_daw.provenance import library_reference

    if args.engine != "dit":
        print("note: a reference steers the trained model, so this cue uses --engine dit", file=sys.stderr)
        args.engine = "dit"
    control, reference = retrieve_control(description, library_path(args), args.strength)
    args.reference_record = library_reference(reference, args.strength)  # source and licence, for the sidecar
    matched = f", matched {', '.join(reference.matched)}" if reference.matched else ""
    print(f"reference: {Path(reference.item.path).name} ({reference.item.caption}; {reference.track} search, "
          f"similarity {reference.score:.2f}{matched})", file=sys.stderr)
    return control


def _synced(args: argparse.Namespace, description: MusicDescription):
    """--sync-from: (the description locked to the file's tempo, meter and key, what the file said)."""
    from mtm_daw.pipeline.sync import lock_description, read_sync

    sync = read_sync(args.sync_from)
    explicit = tuple(name for name in ("tempo", "time_signature", "key", "chords") if getattr(args, name) is not None)
    description = lock_description(description, sync, explicit)
    print(f"synced to {Path(sync.path).name}: {sync.summary()}", file=sys.stderr)
    for note in sync.notes:
        print(f"  note: {note}", file=sys.stderr)
    return description, sync


def cmd_compose(args: argparse.Namespace) -> int:
    from mtm_daw.pipeline import compose_cue

    description = _description_from_args(args)
    sync = _synced(args, description) if args.sync_from else None
    if sync is not None:
        description = sync[0]
    reference, generation = None, None
    if args.engine == "dit":
        generation = _dit_settings(args)
    if args.reference and args.retrieve:
        raise MtmError("give either --reference FILE or --retrieve (a reference from your library), not both")
    if args.reference:
        from mtm_daw.engine.reference import load_reference

        reference = load_reference(args.reference, args.strength)
    elif args.retrieve:
        reference = _retrieved_reference(args, description)
        generation = generation or _dit_settings(args)
    if args.loop is not None and args.duration is not None:
        raise MtmError("give either --loop BARS or --duration, not both (a loop is as long as its bars)")
    if args.loop is not None and args.loop < 1:
        raise MtmError(f"--loop needs a whole number of bars, 1 or more, got {args.loop}")
    printer = ProgressPrinter(args.quiet)
    cue = compose_cue(description, seed=args.seed, engine=args.engine, settings=_render_settings(args),
                      progress=printer, warn=lambda message: print(message, file=sys.stderr),
                      reference=reference, generation=generation,
                      reference_record=getattr(args, "reference_record", None), loop_bars=args.loop or 0,
                      sync=sync[1].to_dict() if sync else None)
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    from mtm_daw.pipeline import render_midi_cue

    printer = ProgressPrinter(args.quiet)
    cue = render_midi_cue(args.midi, genre=args.genre, settings=_render_settings(args), progress=printer,
                          warn=lambda message: print(message, file=sys.stderr))
    if args.name == "cue":
        args.name = Path(args.midi).stem
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    from mtm_daw.describe import describe

    printer = ProgressPrinter(args.quiet or args.json)
    notes: list[str] = []
    description = describe(args.source, describer=args.describer, model=args.model, progress=printer,
                           notes=notes.append)
    printer.done()
    if args.json:
        print(description.to_json())
        return EXIT_OK
    print(description.sentence)
    for line in notes:
        print(f"  {line}")
    rendered = description.to_sentence()
    if rendered != description.sentence:
        print(f"  understood as: {rendered}")
    numerator, denominator = description.time_signature
    print(f"  genre {description.genre}, mood {description.mood}, {description.tempo:g} BPM, {description.key}, "
          f"{numerator}/{denominator}, {description.duration:.1f} s")
    if description.start:
        print(f"  the music starts {description.start:.3f} s into the picture (its first beat), "
              "which puts the hit points on beats")
    if description.sections:
        print("  sections: " + ", ".join(f"{s.name} {s.start:.1f}-{s.end:.1f} s" for s in description.sections))
    if description.cuts:
        print("  cuts: " + ", ".join(f"{c.time:.2f} s" if c.kind == "hard" else f"{c.time:.2f} s {c.kind} ({c.seconds:.1f} s)"
                                     for c in description.cuts))
    if description.hit_points:
        beats = description.hit_point_beats()
        print("  hit points: " + ", ".join(f"{h.time:.2f} s (beat {b:.1f})" for h, b in
                                          zip(description.hit_points, beats)))
    return EXIT_OK


STILL_SECONDS = 30.0  # a still image's cue without --duration


def cmd_score(args: argparse.Namespace) -> int:
    from mtm_daw.describe import describe, fit_to_picture
    from mtm_daw.media import detect_kind
    from mtm_daw.pipeline import compose_cue

    kind = detect_kind(args.video)
    if kind not in ("video", "image"):
        raise MtmError(f"{args.video}: not a picture; `mtm score` scores a video or a still image "
                       "(try `mtm describe` for other files)")
    if kind == "video" and args.duration is not None:
        raise MtmError(f"{args.video}: --duration is for a still image; a video's cue is as long as the video")
    if args.mix_original is not None and not (args.mux and -60.0 <= args.mix_original <= 12.0):
        raise MtmError("--mix-original DB goes with --mux, from -60 to 12 dB")
    if kind == "image" and args.mux:
        raise MtmError(f"{args.video}: --mux adds the cue to a video; a still image has no video to add it to")
    printer = ProgressPrinter(args.quiet)
    description = describe(args.video, describer=args.describer, model=args.model,
                           progress=lambda stage, f: printer("describe", f))
    if kind == "image":  # the still's cue: exactly the length asked for, in whole bars
        seconds = STILL_SECONDS if args.duration is None else args.duration
        description = fit_to_picture(replace(description, duration=seconds, sections=[], energy=[], hit_points=[]))
    for name in ("genre", "mood"):
        if getattr(args, name):
            setattr(description, name, getattr(args, name))
            description.sentence = description.to_sentence()
    description.chords, description.form = args.chords or "", args.form or ""
    description.validate()
    reference = _retrieved_reference(args, description) if args.retrieve else None
    generation = _dit_settings(args) if args.engine == "dit" else None
    cue = compose_cue(description, seed=args.seed, engine=args.engine, settings=_render_settings(args),
                      progress=printer, warn=lambda message: print(message, file=sys.stderr),
                      reference=reference, generation=generation,
                      reference_record=getattr(args, "reference_record", None),
                      end_seconds=0.0 if args.tail else description.duration)
    if args.name == "cue":
        args.name = Path(args.video).stem
    _export_and_report(cue, args, printer, picture=Path(args.video) if args.mux else None)
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from mtm_daw.describe.summary import analyze_file

    report = analyze_file(args.file)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            if isinstance(value, list):
                value = f"{len(value)} values" if len(value) > 8 else ", ".join(str(v) for v in value)
            print(f"{key:>16}: {value}")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from mtm_daw.pipeline.remake import reproduce_cue, sidecar_name
    from mtm_daw.provenance import load_sidecar

    printer = ProgressPrinter(args.quiet)
    cue = reproduce_cue(args.sidecar, progress=printer, warn=lambda message: print(message, file=sys.stderr),
                        allow_plugins=args.allow_plugins)
    args.name = args.name or sidecar_name(load_sidecar(args.sidecar))
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_extend(args: argparse.Namespace) -> int:
    from mtm_daw.pipeline.remake import extend_cue, sidecar_name
    from mtm_daw.provenance import load_sidecar

    printer = ProgressPrinter(args.quiet)
    cue = extend_cue(args.sidecar, args.bars, seed=args.seed, progress=printer,
                     warn=lambda message: print(message, file=sys.stderr), allow_plugins=args.allow_plugins)
    args.name = args.name or f"{sidecar_name(load_sidecar(args.sidecar))}_extended"
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_regenerate(args: argparse.Namespace) -> int:
    from mtm_daw.compose.edit import parse_bars
    from mtm_daw.pipeline.remake import regenerate_cue, sidecar_name
    from mtm_daw.provenance import load_sidecar

    first, last = parse_bars(args.bars)
    printer = ProgressPrinter(args.quiet)
    cue = regenerate_cue(args.sidecar, (first, last), args.role, seed=args.seed, progress=printer,
                         warn=lambda message: print(message, file=sys.stderr), allow_plugins=args.allow_plugins)
    args.name = args.name or f"{sidecar_name(load_sidecar(args.sidecar))}_{args.role}_bars{first}-{last}"
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_remix(args: argparse.Namespace) -> int:
    from mtm_daw.pipeline.remake import mix_with_changes, remix_cue, sidecar_name
    from mtm_daw.provenance import MixSpec, load_sidecar

    def pairs(items: list[str], flag: str, value) -> dict:
        table = {}
        for item in items:
            role, _, text = item.partition("=")
            if role not in ROLES or not text:
                raise MtmError(f"{flag} {item}: give ROLE=VALUE with a role of {', '.join(ROLES)}")
            try:
                table[role] = value(text)
            except ValueError:  # float("loud")
                raise MtmError(f"{flag} {item}: {text!r} is not a number of dB") from None
        return table

    sidecar = load_sidecar(args.sidecar)
    current = MixSpec() if args.reset else (sidecar["recipe"].mix or MixSpec())
    mix = mix_with_changes(current, pairs(args.gain, "--gain", float), pairs(args.preset, "--preset", str),
                           tuple(args.mute), tuple(args.solo), tuple(args.unmute))
    printer = ProgressPrinter(args.quiet)
    cue = remix_cue(args.sidecar, mix, progress=printer, warn=lambda message: print(message, file=sys.stderr),
                    allow_plugins=args.allow_plugins)
    args.name = args.name or f"{sidecar_name(sidecar)}_remix"
    _export_and_report(cue, args, printer)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from mtm_daw.evaluation import BUNDLED_SET, EvalSettings, run_eval, write_report
    from mtm_daw.evaluation.report import summary_table

    def numbers(text: str, what: str) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise MtmError(f"--{what} expects whole numbers separated by commas, e.g. 0,1; got '{text}'") from None

    settings = EvalSettings(engines=tuple(e.strip() for e in args.engines.split(",") if e.strip()),
                            seeds=numbers(args.seeds, "seeds"), steps=args.steps, strength=args.strength,
                            embedder=args.embedder, library=args.library, synth=args.synth)
    printer = ProgressPrinter(args.quiet)
    results = run_eval(args.set or BUNDLED_SET, settings, progress=printer,
                       warn=lambda message: print(message, file=sys.stderr))
    paths = write_report(results, args.output, plots=not args.no_plots,
                         warn=lambda message: print(f"mtm: note: {message}", file=sys.stderr))
    printer.done()
    print(summary_table(results))
    print(f"wrote {len(paths)} files to {Path(args.output).resolve()}")
    return EXIT_OK


def _add_remake_options(parser: argparse.ArgumentParser, sidecar_help: str) -> None:
    """Options of the commands that start from a render's sidecar (reproduce, extend, regenerate, remix)."""
    parser.add_argument("sidecar", help=sidecar_help)
    parser.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    parser.add_argument("--name", help="file name prefix (default: the name the cue was made under)")
    parser.add_argument("--dawproject", action="store_true", help="also write a .dawproject (a DAW session)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files of the same name")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--allow-plugins", action="store_true",
                        help="load the VST3 plugins the sidecar names (native code: only for sidecars you trust)")


def cmd_doctor(args: argparse.Namespace) -> int:
    from mtm_daw.doctor import BROKEN, as_json, as_text, run_checks

    checks = run_checks()
    print(json.dumps(as_json(checks), indent=1) if args.json else as_text(checks))
    return EXIT_INTERNAL if any(check.state == BROKEN for check in checks) else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from mtm_daw.serve.engine import serve
    from mtm_daw.serve.protocol import ask, socket_path

    if args.stop:
        ask({"command": "shutdown"})
        print(f"stopped the engine at {socket_path()}")
        return EXIT_OK
    serve(cue_root=Path(args.cues) if args.cues else None, idle_exit_seconds=args.idle_exit,
          ready=lambda path: print(f"mtm engine {os.getpid()} listening on {path}", file=sys.stderr, flush=True))
    return EXIT_OK


def cmd_styles(args: argparse.Namespace) -> int:
    from mtm_daw.score.styles import styles_by_family

    if args.family and args.family not in styles_by_family():
        raise MtmError(f"no family '{args.family}' (families: {', '.join(styles_by_family())})")
    if args.markdown:
        print(styles_table_markdown())
        return EXIT_OK
    for family, styles in styles_by_family().items():
        if args.family and family != args.family:
            continue
        print(family)
        for style in styles:
            print(f"  {style.name:<14} {style.tempo_text} BPM, {style.feel_text}: {style.summary}")
    return EXIT_OK


def styles_table_markdown() -> str:
    """The README's style table, made from the style files."""
    from mtm_daw.score.styles import styles_by_family

    rows = ["| family | style | tempo (BPM) | feel | signature |", "|---|---|---|---|---|"]
    for family, styles in styles_by_family().items():
        for style in styles:
            rows.append(f"| {family} | {style.name} | {style.tempo_text} | {style.feel_text} | {style.summary} |")
    return "\n".join(rows)


def cmd_ui(args: argparse.Namespace) -> int:
    from plugin_ui.app import main as panel_main

    argv = [args.source] if args.source else []
    argv += ["--settings", args.settings] if args.settings else []
    argv += ["--send-to", args.send_to] if args.send_to else []
    return panel_main(argv + (["--screenshot", args.screenshot] if args.screenshot else []))


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    parser.add_argument("--name", default="cue", help="file name prefix (default: cue)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files of the same name")
    parser.add_argument("--soundfont", help="a General MIDI .sf2 file (default: found on the system)")
    parser.add_argument("--synth", choices=("auto", "soundfont", "builtin"), default="auto",
                        help="renderer: SoundFont when available (auto), or force one")
    parser.add_argument("--lufs", type=float, default=-14.0, help="mix loudness target in LUFS (default -14)")
    parser.add_argument("--plugin", action="append", metavar="ROLE=PATH.vst3",
                        help="append a VST3 effect to a stem's chain (repeatable)")
    parser.add_argument("--dawproject", action="store_true",
                        help="also write a .dawproject (a DAW session: a track per stem, the MIDI, tempo and meter)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _add_describer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--describer", choices=("auto", "visual", "vlm"), default="auto",
                        help="how pictures are described: offline visual analysis, or plus a local "
                             "vision-language model (vlm)")
    parser.add_argument("--model", help="with --describer vlm: the model's local folder")


def _add_compose_parser(commands, name: str, engine: str, summary: str) -> None:
    compose = commands.add_parser(name, help=summary)
    compose.add_argument("--text", help="a text idea, e.g. 'gentle piano with soft strings, 72 bpm, A minor'")
    compose.add_argument("--description", help="a description JSON file (flags below override its fields)")
    compose.add_argument("--style", "--genre", dest="genre", choices=GENRES, metavar="STYLE",
                         help=f"a style of the library (`mtm styles` shows each): {', '.join(GENRES)}; alone, it "
                              "also sets the style's usual tempo, meter and a key")
    compose.add_argument("--mood", choices=MOODS)
    compose.add_argument("--tempo", type=float, help="BPM")
    compose.add_argument("--key", help="e.g. 'D minor', 'F#m', 'Bb major'")
    compose.add_argument("--time-signature", help="e.g. 4/4, 3/4, 6/8")
    compose.add_argument("--duration", type=float, help="seconds (rounded up to whole bars)")
    compose.add_argument("--roles", help=f"comma-separated stems to write (default: {','.join(ROLES)})")
    _add_plan_options(compose)
    compose.add_argument("--instrument", action="append", metavar="ROLE=NAME",
                         help="GM instrument for a role, e.g. melody=flute (repeatable)")
    compose.add_argument("--seed", type=int, default=0, help="random seed (same seed, same cue)")
    compose.add_argument("--sync-from", metavar="FILE",
                         help="take tempo, time signature and key from a MIDI file, an audio clip or a .dawproject "
                              "(your session's), so the cue locks to it")
    compose.add_argument("--loop", type=int, metavar="BARS",
                         help="a seamless loop exactly BARS bars long (release tails wrap into the start; "
                              "loop points in the WAV and MIDI files)")
    _add_render_options(compose)
    compose.set_defaults(handler=cmd_compose)
    compose.add_argument("--engine", choices=("baseline", "dit"), default=engine,
                         help=f"baseline (procedural composer) or dit (trained model); default {engine}")
    compose.add_argument("--reference", help="with --engine dit: a MIDI or audio file whose rhythm, harmony "
                                             "and contour the cue follows")
    compose.add_argument("--strength", type=float, default=0.7, help="how closely to follow the reference, 0-1")
    compose.add_argument("--steps", type=int, default=GenerationSettings.steps,
                         help=f"dit: diffusion steps (default {GenerationSettings.steps})")
    compose.add_argument("--guidance", type=float, default=GenerationSettings.guidance,
                         help=f"dit: classifier-free guidance on the description (default "
                              f"{GenerationSettings.guidance:g}; higher follows it harder)")
    compose.add_argument("--precision", choices=("fp32", "int8"), default=GenerationSettings.precision,
                         help="dit: model precision")
    compose.add_argument("--no-key-lock", dest="key_lock", action="store_false",
                         help="dit: let the model write notes outside the key's scale (chromatic passing notes)")
    _add_retrieve_options(compose)


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chords", help="the progression, one chord a bar: 'Am F C G' ('Am F | C G' for two a bar)")
    parser.add_argument("--form", help="the form, one letter a section: AABA, ABAB... (a letter again = the same music)")


def _add_retrieve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retrieve", action="store_true",
                        help="follow the best match for the description from your library (uses --engine dit)")
    parser.add_argument("--library", help="with --retrieve: the library file (default: MTM_LIBRARY or the "
                                          "user data folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtm", description="Offline music generation for your DAW.")
    parser.add_argument("--version", action="version", version=f"mtm_daw {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors, and warnings from the libraries mtm uses")
    commands = parser.add_subparsers(dest="command", required=True)

    for command, engine, summary in (("compose", "dit", "compose a multi-stem cue from a description "
                                                        "(the trained model; --engine baseline for the procedural composer)"),
                                     ("generate", "dit", "generate a multi-stem cue with the trained model, "
                                                         "optionally following a reference")):
        _add_compose_parser(commands, command, engine, summary)

    render = commands.add_parser("render", help="render a MIDI file to stems and a mix")
    render.add_argument("midi", help="a .mid file")
    render.add_argument("--style", "--genre", dest="genre", choices=GENRES, default="pop", metavar="STYLE",
                        help="the style whose mix preset to use (default: pop; `mtm styles` lists them)")
    _add_render_options(render)
    render.set_defaults(handler=cmd_render)

    describe = commands.add_parser("describe", help="write a music description from a video, image, text, "
                                                    "audio or MIDI file, or from a text idea")
    describe.add_argument("source", help="a file, or a text idea in quotes")
    describe.add_argument("--json", action="store_true", help="print the description as JSON")
    _add_describer_options(describe)
    describe.add_argument("--quiet", action="store_true", help="no progress output")
    describe.set_defaults(handler=cmd_describe)

    score = commands.add_parser("score", help="score a video or a still: describe it, compose a cue exactly as long "
                                              "as the picture with accents on its cuts, export stems (and --mux a copy)")
    score.add_argument("video", metavar="picture", help="a video, or a still image with --duration")
    score.add_argument("--duration", type=float, help="a still image's cue length in seconds (default 30)")
    score.add_argument("--tail", action="store_true", help="keep the release past the picture's end (by default "
                                                           "stems and mix end with the picture, with a short fade)")
    score.add_argument("--mux", action="store_true", help="also write a copy of the video with the new soundtrack "
                                                          "(the clip's own sound kept as a second track)")
    score.add_argument("--mix-original", type=float, metavar="DB", help="with --mux: also mix the clip's own sound "
                       "under the cue at this gain (e.g. -6), the cue ducked where the clip is loud")
    score.add_argument("--style", "--genre", dest="genre", choices=GENRES, metavar="STYLE",
                       help="override the style read from the picture (`mtm styles` lists them)")
    score.add_argument("--mood", choices=MOODS, help="override the mood read from the picture")
    _add_plan_options(score)
    score.add_argument("--seed", type=int, default=0, help="random seed (same seed, same cue)")
    score.add_argument("--engine", choices=("baseline", "dit"), default="dit",
                       help="dit (the trained model, default) or baseline (the procedural composer)")
    _add_retrieve_options(score)
    score.add_argument("--strength", type=float, default=0.7, help="with --retrieve: how closely to follow "
                                                                   "the reference, 0-1")
    _add_describer_options(score)
    _add_render_options(score)
    score.set_defaults(handler=cmd_score)

    analyze = commands.add_parser("analyze", help="tempo, key, loudness of audio; summary of MIDI, image, video")
    analyze.add_argument("file")
    analyze.add_argument("--json", action="store_true", help="machine-readable output")
    analyze.set_defaults(handler=cmd_analyze)

    reproduce = commands.add_parser("reproduce", help="make a rendered cue again from its sidecar "
                                                      "(*_description.json): the same audio on the same machine")
    _add_remake_options(reproduce, "the cue's *_description.json")
    reproduce.set_defaults(handler=cmd_reproduce)

    extend = commands.add_parser("extend", help="continue a rendered cue by some bars in the same key and style "
                                                "(its own bars stay exactly as they were)")
    _add_remake_options(extend, "the cue's *_description.json")
    extend.add_argument("--bars", type=int, required=True, help="how many bars to add")
    extend.add_argument("--seed", type=int, help="seed of the new bars (default: the cue's)")
    extend.set_defaults(handler=cmd_extend)

    regenerate = commands.add_parser("regenerate", help="write some bars of one stem anew; every other stem "
                                                        "and bar stays exactly as it was")
    _add_remake_options(regenerate, "the cue's *_description.json")
    regenerate.add_argument("--bars", required=True, metavar="FIRST-LAST", help="the bars to redo, e.g. 5-8")
    regenerate.add_argument("--role", required=True, choices=ROLES, help="the stem to redo")
    regenerate.add_argument("--seed", type=int, help="seed of the new part (default: the cue's seed + 1)")
    regenerate.set_defaults(handler=cmd_regenerate)

    remix = commands.add_parser("remix", help="mix a rendered cue again: per stem FX preset, gain, mute and solo "
                                              "(kept in its sidecar, so `mtm reproduce` makes the remix again)")
    _add_remake_options(remix, "the cue's *_description.json")
    remix.add_argument("--gain", action="append", default=[], metavar="ROLE=DB",
                       help="a stem's gain after its chain, e.g. drums=-3 (repeatable)")
    remix.add_argument("--preset", action="append", default=[], metavar="ROLE=PRESET",
                       help="a stem's FX: genre (the cue's own), dry, or a style's chain, e.g. melody=dry")
    remix.add_argument("--mute", action="append", default=[], choices=ROLES, help="leave a stem out of the mix")
    remix.add_argument("--solo", action="append", default=[], choices=ROLES, help="mix only the soloed stems")
    remix.add_argument("--unmute", action="append", default=[], choices=ROLES, help="unmute and unsolo a stem")
    remix.add_argument("--reset", action="store_true", help="start from the default mix, not the cue's")
    remix.set_defaults(handler=cmd_remix)

    evaluate = commands.add_parser("eval", help="compare engines on an evaluation set: the paper's offline metrics "
                                                "and attribute adherence, as markdown, JSON and plots")
    evaluate.add_argument("--set", help="a folder of inputs (manifest.json, or description JSON, .txt ideas, images, "
                                        "videos); default: the bundled set")
    evaluate.add_argument("-o", "--output", default="out/eval", help="output folder (default: out/eval)")
    evaluate.add_argument("--engines", default="baseline,dit,dit+control,dit+retrieval",
                          help="comma-separated: baseline, dit, dit+control, dit+retrieval (default: all)")
    evaluate.add_argument("--seeds", default="0,1", help="seeds, the same for every engine (default: 0,1)")
    evaluate.add_argument("--steps", type=int, default=GenerationSettings.steps,
                          help=f"dit: diffusion steps (default {GenerationSettings.steps})")
    evaluate.add_argument("--strength", type=float, help="reference strength for dit+control and dit+retrieval "
                                                         "(default: the set's, else 0.7)")
    evaluate.add_argument("--embedder", default="joint", help="for FD, KL and CLAP score: joint (default), "
                                                              "clap:FOLDER (a local CLAP checkpoint) or none")
    evaluate.add_argument("--library", help="dit+retrieval: a library file (default: a fresh one with the starter set)")
    evaluate.add_argument("--synth", choices=("auto", "soundfont", "builtin"), default="auto", help="renderer")
    evaluate.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    evaluate.add_argument("--quiet", action="store_true", help="no progress output")
    evaluate.set_defaults(handler=cmd_eval)

    doctor = commands.add_parser("doctor", help="list the parts of mtm_daw this machine has, and how to add "
                                                "what is missing")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=cmd_doctor)

    serve = commands.add_parser("serve", help="run the local engine that DAW plugin instances and the panel ask "
                                "for cues (a Unix socket in your runtime folder; the plugin starts it itself)")
    serve.add_argument("--idle-exit", type=float, default=0.0, metavar="SECONDS",
                       help="stop after this long with no request and no cue being made (default: never)")
    serve.add_argument("--cues", metavar="FOLDER", help="where the cues it makes are kept (default: plugin_cues in "
                       "your data folder)")
    serve.add_argument("--stop", action="store_true", help="ask the running engine to stop")
    serve.set_defaults(handler=cmd_serve)

    styles = commands.add_parser("styles", help="list the style library: family, tempo range, feel and signature")
    styles.add_argument("--family", help="only this family, e.g. 'hip hop'")
    styles.add_argument("--markdown", action="store_true", help="as a Markdown table (the README's)")
    styles.set_defaults(handler=cmd_styles)
    ui = commands.add_parser("ui", help="open the panel: drop in a picture, words or sound, drag the stems out")
    ui.add_argument("source", nargs="?", help="a file or a text idea to describe straight away")
    ui.add_argument("--settings", help="a settings file (.ini) instead of your saved panel settings")
    ui.add_argument("--screenshot", metavar="PNG", help="open, save a picture of the window there, and close")
    ui.add_argument("--send-to", metavar="INSTANCE", help="the DAW plugin instance that opened the panel (its "
                    "Open panel switch passes it): Send to plugin sends the cue there")
    ui.set_defaults(handler=cmd_ui)

    from mtm_daw.library.cli import add_library_parser

    add_library_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # a non-UTF-8 file name (Linux bytes) prints as its own bytes, as ls does
        sys.stdout.reconfigure(errors="surrogateescape")
    with warnings_shown(args.debug):
        return _run(args)


@contextlib.contextmanager
def warnings_shown(shown: bool):
    """Other libraries' warnings (librosa on short audio, ...) never break the one line, here or in worker
    processes (they start a new interpreter, so the environment carries it); --debug shows them."""
    saved = os.environ.get("PYTHONWARNINGS")
    with warnings.catch_warnings():
        if not shown:
            warnings.simplefilter("ignore")
            os.environ["PYTHONWARNINGS"] = "ignore"
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("PYTHONWARNINGS", None)
            else:
                os.environ["PYTHONWARNINGS"] = saved


def _run(args: argparse.Namespace) -> int:
    try:
        return args.handler(args)
    except Cancelled:
        print("mtm: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("\nmtm: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # output piped into `head` and friends: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except MtmError as error:
        if args.debug:
            traceback.print_exc()
        print(f"mtm: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as error:  # an optional part that is not installed: say which and how
        from mtm_daw.doctor import install_hint

        hint = install_hint(error.name or "")
        if hint is None:
            raise
        if args.debug:
            traceback.print_exc()
        print(f"mtm: error: {hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # an internal error: one line, the traceback on request
        if args.debug:
            traceback.print_exc()
        print(f"mtm: internal error: {error.__class__.__name__}: {one_line(str(error))} (run with --debug for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
