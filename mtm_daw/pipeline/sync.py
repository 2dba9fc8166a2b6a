"""Sync to a DAW session: tempo, time signature and key from a file, locked into the description.

    sync = read_sync("session_tempo_map.mid")       # or an audio clip, or a .dawproject
    description = lock_description(description, sync)

The cue then starts at bar 1 with exactly that tempo in every file it writes (WAV acid chunk, MIDI
tempo, file name). Sources:
  MIDI        its tempo, time signature and key meta events. mtm writes one tempo and one meter per
              cue, so a file whose tempo or meter changes is refused, naming the bar where it changes
              (a cue at the first tempo would drift away from the session after it). A later key
              change is only noted: the first key is used. No key signature: the key of its notes.
              Its chords, one a bar, heard in its notes, become the cue's progression.
  audio       the tempo and key heard in it (mtm_daw.analysis.analyze_audio); audio has no meter, so
              the description's is kept.
  .dawproject the project's transport tempo and time signature (refused when automated to change).
"""
from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import mido

from mtm_daw.analysis import analyze_audio
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.media import detect_kind
from mtm_daw.media.paths import check_input_file
from mtm_daw.plan.plan import plan_from_score
from mtm_daw.provenance import file_sha256
from mtm_daw.score.midi import midi_to_score, read_midi
from mtm_daw.score.score import validate_tempo, validate_time_signature
from mtm_daw.score.theory import parse_key

MIDI_DEFAULT_BPM = 120.0  # what the MIDI standard plays without a tempo event
TEMPO_DIGITS = 3  # tempos are kept to a thousandth of a BPM (MIDI stores whole microseconds a beat)


@dataclass
class SyncInfo:
    """What a session file says about time and key; None where it says nothing."""

    path: str
    kind: str  # "midi" | "audio" | "dawproject"
    tempo: float  # BPM
    time_signature: tuple[int, int] | None
    key: str | None  # 'E minor'
    sha256: str
    chords: str | None = None  # one chord a bar heard in a MIDI file's notes, e.g. Am F C G
    notes: list[str] = field(default_factory=list)  # what was assumed or left out, for the user

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "tempo": self.tempo,
                "time_signature": list(self.time_signature) if self.time_signature else None,
                "key": self.key, "sha256": self.sha256, "chords": self.chords, "notes": list(self.notes)}

    def summary(self) -> str:
        meter = f", {self.time_signature[0]}/{self.time_signature[1]}" if self.time_signature else ""
        key = f", {self.key}" if self.key else ""
        return f"{self.tempo:g} BPM{meter}{key}"


def read_sync(path: str | os.PathLike) -> SyncInfo:
    """Tempo, meter and key of a MIDI file, an audio clip or a .dawproject; MtmError naming the file."""
    path = check_input_file(path, "file to sync to")
    if path.suffix.lower() == ".dawproject":
        info = _from_dawproject(path)
    else:
        kind = detect_kind(path)
        if kind == "midi":
            info = _from_midi(path)
        elif kind == "audio":
            info = _from_audio(path)
        else:
            raise MtmError(f"{path.name}: cannot sync to {kind}; give a MIDI file, an audio clip or a .dawproject")
    info.sha256 = file_sha256(path)
    return info


def lock_description(description: MusicDescription, sync: SyncInfo, explicit: tuple[str, ...] = ()) -> MusicDescription:
    """The description at the session's tempo, meter and key. `explicit`: fields the user also set
    by hand ("tempo", "time_signature", "key", "chords"); one the session file also sets is refused."""
    values = {"tempo": sync.tempo, "time_signature": sync.time_signature, "key": sync.key, "chords": sync.chords}
    flags = {"tempo": "--tempo", "time_signature": "--time-signature", "key": "--key", "chords": "--chords"}
    for name, value in values.items():
        if value is not None and name in explicit:
            shown = f"{value[0]}/{value[1]}" if name == "time_signature" else f"{value:g} BPM" if name == "tempo" else value
            raise MtmError(f"{flags[name]} conflicts with --sync-from {Path(sync.path).name}, which sets "
                           f"{name.replace('_', ' ')} {shown}; leave out one of them")
    changes = {name: value for name, value in values.items() if value is not None}
    # the music starts on the session's grid, not a fitted start into a picture
    return replace(description, sentence="", start=0.0, **changes).validate()


# --- MIDI -----------------------------------------------------------------------------------------

def _from_midi(path: Path) -> SyncInfo:
    midi = read_midi(path)
    if midi.type == 2:
        raise MtmError(f"{path.name}: type-2 MIDI files (independent sequences) have no single session tempo")
    if midi.ticks_per_beat <= 0:  # 0: a damaged header; below 0: SMPTE frame timing, no beats to count bars by
        raise MtmError(f"{path.name}: the MIDI file is not timed in beats ({midi.ticks_per_beat} ticks per beat)")
    events = sorted(((tick, index, message) for index, (tick, message) in enumerate(_absolute(midi))
                     if message.type in ("set_tempo", "time_signature", "key_signature")),
                    key=lambda event: (event[0], event[1]))
    notes: list[str] = []
    ticks_per_beat = midi.ticks_per_beat

    # 1. the meter: the one at the start (4/4 without one), never changing
    meters = [(tick, (m.numerator, m.denominator)) for tick, _, m in events if m.type == "time_signature"]
    meter = next((value for tick, value in reversed(meters) if tick == 0), (4, 4))
    if not meters:
        notes.append("no time signature: 4/4, the MIDI default")
    try:
        meter = validate_time_signature(meter)
    except MtmError as error:
        raise MtmError(f"{path.name}: {error}") from None
    beats_per_bar = meter[0] * 4.0 / meter[1]

    def bar(tick: int) -> str:
        return f"{1 + tick / ticks_per_beat / beats_per_bar:g}"

    for tick, value in meters:
        if tick > 0 and value != meter:
            raise MtmError(f"{path.name}: the time signature changes at bar {bar(tick)} ({meter[0]}/{meter[1]} -> "
                           f"{value[0]}/{value[1]}); mtm writes one meter per cue — export the section you want "
                           "as its own MIDI file")

    # 2. the tempo: the one at the start (120 BPM without one), never changing
    tempos = [(tick, round(mido.tempo2bpm(m.tempo), TEMPO_DIGITS)) for tick, _, m in events
              if m.type == "set_tempo" and m.tempo > 0]
    tempo = next((bpm for tick, bpm in reversed(tempos) if tick == 0), MIDI_DEFAULT_BPM)
    if not tempos:
        notes.append(f"no tempo event: {MIDI_DEFAULT_BPM:g} BPM, the MIDI default")
    for tick, bpm in tempos:
        if tick > 0 and abs(bpm - tempo) > 10 ** -TEMPO_DIGITS:
            raise MtmError(f"{path.name}: the tempo changes at bar {bar(tick)} ({tempo:g} -> {bpm:g} BPM); mtm writes "
                           "one tempo per cue — export the section you want as its own MIDI file, or give --tempo "
                           "instead of --sync-from")
    try:
        tempo = validate_tempo(tempo)
    except MtmError as error:
        raise MtmError(f"{path.name}: {error}") from None

    # 3. the key: the first key signature, else the key of the notes, else none
    keys = [(tick, m.key) for tick, _, m in events if m.type == "key_signature"]
    key = None
    if keys:
        key = _key_name(keys[0][1])
        later = [(tick, name) for tick, name in keys[1:] if _key_name(name) != key]
        if later:
            notes.append(f"the key changes at bar {bar(later[0][0])}; the first key, {key}, is used")
    else:
        key = _key_of_notes(midi, path)
        notes.append(f"no key signature: {key}, the key of its notes" if key else
                     "no key signature and no notes: the description's key is kept")
    chords = _chords_of_notes(midi, path, key)
    return SyncInfo(str(path.resolve()), "midi", tempo, meter, key, "", chords, notes=notes)


def _absolute(midi: mido.MidiFile):
    """(absolute tick, message) for every message of every track."""
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            yield tick, message


def _key_name(mido_key: str) -> str:
    """mido's 'Em' / 'Bb' -> 'E minor' / 'Bb major'."""
    return mido_key[:-1] + " minor" if mido_key.endswith("m") else mido_key + " major"


def _key_of_notes(midi: mido.MidiFile, path: Path) -> str | None:
    try:
        return midi_to_score(midi, source=path.name).key
    except MtmError:  # no notes (a tempo map) or nothing readable as notes
        return None


def _chords_of_notes(midi: mido.MidiFile, path: Path, key: str | None) -> str | None:
    """One chord a bar heard in the file's pitched notes (a silent bar keeps the chord before it); None
    without pitched notes or a key to spell them in."""
    if key is None:
        return None
    try:
        score = midi_to_score(midi, source=path.name, key=key)
    except MtmError:
        return None
    heard = [bar[0] for bar in plan_from_score(score, chord_beats=score.beats_per_bar).chords]
    if not any(heard):
        return None
    names, last = [], next(chord for chord in heard if chord)
    for chord in heard:
        last = chord or last
        names.append(last.name(parse_key(key)))
    return " ".join(names)


# --- audio ----------------------------------------------------------------------------------------

def _from_audio(path: Path) -> SyncInfo:
    analysis = analyze_audio(path)
    if analysis.bpm <= 0:
        raise MtmError(f"{path.name}: no steady beat found, so there is no tempo to sync to; give --tempo instead")
    notes = ["audio has no meter: the description's time signature is kept",
             f"tempo heard at {analysis.bpm:.2f} BPM (confidence {analysis.tempo_confidence:.2f})"]
    if analysis.key is None:
        notes.append("no key heard: the description's key is kept")
    return SyncInfo(str(path.resolve()), "audio", validate_tempo(round(float(analysis.bpm), 2)), None, analysis.key,
                    "", notes=notes)


# --- .dawproject -----------------------------------------------------------------------------------
MAX_PROJECT_XML_BYTES = 64 * 1024 * 1024


def _from_dawproject(path: Path) -> SyncInfo:
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo("project.xml").file_size
            if size > MAX_PROJECT_XML_BYTES:  # a zip bomb, or not a project mtm can read
                raise MtmError(f"{path.name}: its project.xml unpacks to {size // 1024 // 1024} MB, too large to read")
            root = ElementTree.fromstring(archive.read("project.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, zlib.error, EOFError, ValueError,
            NotImplementedError, RuntimeError) as error:  # damaged data, odd compression, encryption
        raise MtmError(f"{path.name}: not a readable .dawproject ({error})") from None
    tempo_element = root.find("Transport/Tempo")
    meter_element = root.find("Transport/TimeSignature")
    if tempo_element is None or tempo_element.get("value") is None:
        raise MtmError(f"{path.name}: the project has no transport tempo to sync to")
    try:
        tempo = validate_tempo(round(float(tempo_element.get("value")), TEMPO_DIGITS))
        meter = None
        if meter_element is not None:
            meter = validate_time_signature((int(meter_element.get("numerator")),
                                             int(meter_element.get("denominator"))))
    except (TypeError, ValueError) as error:
        raise MtmError(f"{path.name}: unreadable tempo or time signature ({error})") from None
    except MtmError as error:
        raise MtmError(f"{path.name}: {error}") from None
    for automation, what in (("TempoAutomation", "tempo"), ("TimeSignatureAutomation", "time signature")):
        points = root.findall(f"Arrangement/{automation}/*")
        values = {tuple(sorted((k, v) for k, v in point.attrib.items() if k != "time")) for point in points}
        if len(values) > 1:
            raise MtmError(f"{path.name}: the {what} is automated to change; mtm writes one {what} per cue")
    notes = [] if meter else ["no time signature in the project: the description's is kept"]
    return SyncInfo(str(path.resolve()), "dawproject", tempo, meter, None, "",
                    notes=notes + ["a .dawproject has no key"])
