"""Score <-> Standard MIDI File (type 1): tempo, meter and key meta, one named track per role."""
from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

import mido

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import MAX_MIDI_SECONDS, check_input_file
from mtm_daw.score.gm import DRUM_CHANNEL, kit_name, program_name
from mtm_daw.score.score import ROLES, Note, Score, Track, validate_tempo, validate_time_signature
from mtm_daw.score.theory import Key, parse_key

TICKS_PER_BEAT = 480
MAX_MIDI_BYTES = 16 * 1024 * 1024
MAX_EXTRA_PARTS = 4  # stems beyond the four roles; further parts join the role nearest in register


def mido_key_name(key: Key) -> str:
    """'D minor' -> 'Dm', the spelling mido's key_signature meta message expects."""
    return key.tonic_name + ("m" if key.mode == "minor" else "")


LOOP_START_MARKER, LOOP_END_MARKER = "loopStart", "loopEnd"
LOOP_CONTROLLER = 111  # CC111 marks where a loop starts (the convention game engines and players follow)


def track_channels(score: Score) -> dict[str, int]:
    """The MIDI channel of each track: drums on the drum channel, pitched tracks on the others in order
    (more than 15 pitched tracks share channels in turn; each track sets its program first)."""
    melodic_channels = [c for c in range(16) if c != DRUM_CHANNEL]
    channels, pitched = {}, 0
    for role, track in score.tracks.items():
        channels[role] = DRUM_CHANNEL if track.is_drum else melodic_channels[pitched % len(melodic_channels)]
        pitched += 0 if track.is_drum else 1
    return channels


def score_to_midi(score: Score, title: str = "mtm_daw cue", loop: tuple[float, float] | None = None) -> mido.MidiFile:
    """loop: (start, end) in beats of a seamless loop: `loopStart` / `loopEnd` markers in the conductor
    track and a CC111 at the start in every channel track."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    numerator, denominator = score.time_signature
    conductor = mido.MidiTrack([
        mido.MetaMessage("track_name", name=title, time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.tempo), time=0),
        mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0),
        mido.MetaMessage("key_signature", key=mido_key_name(score.parsed_key), time=0),
    ])
    end_tick = round(score.length_beats * TICKS_PER_BEAT)
    loop_ticks = (round(loop[0] * TICKS_PER_BEAT), round(loop[1] * TICKS_PER_BEAT)) if loop else None
    tick = 0
    if loop_ticks:
        for marker, marker_tick in zip((LOOP_START_MARKER, LOOP_END_MARKER), loop_ticks):
            conductor.append(mido.MetaMessage("marker", text=marker, time=marker_tick - tick))
            tick = marker_tick
    conductor.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - tick)))
    midi.tracks.append(conductor)

    channels = track_channels(score)
    for role, track in score.tracks.items():
        channel = channels[role]
        instrument = kit_name(track.program) if track.is_drum else program_name(track.program)
        events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message): note-offs before note-ons
        for note in track.notes:
            start = round(note.onset * TICKS_PER_BEAT)
            stop = max(start + 1, round(note.end * TICKS_PER_BEAT))
            events.append((start, 1, mido.Message("note_on", channel=channel, note=note.pitch, velocity=note.velocity)))
            events.append((stop, 0, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
        if loop_ticks:
            events.append((loop_ticks[0], -1, mido.Message("control_change", channel=channel,
                                                            control=LOOP_CONTROLLER, value=0)))
        events.sort(key=lambda event: (event[0], event[1], getattr(event[2], "note", 0)))
        messages = mido.MidiTrack([
            mido.MetaMessage("track_name", name=track.role.capitalize(), time=0),
            mido.MetaMessage("instrument_name", name=instrument, time=0),
        ])
        if not track.is_drum or track.program:  # on the drum channel a program selects a kit (GS / GM2)
            messages.append(mido.Message("program_change", channel=channel, program=track.program, time=0))
        tick = 0
        for event_tick, _, message in events:
            messages.append(message.copy(time=event_tick - tick))
            tick = event_tick
        messages.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - tick)))
        midi.tracks.append(messages)
    return midi


def read_midi(path: str | Path) -> mido.MidiFile:
    path = check_input_file(path, "MIDI file")
    size = path.stat().st_size
    if size > MAX_MIDI_BYTES:
        raise MtmError(f"{path}: {size // 1024 // 1024} MB is too large for a MIDI file")
    try:
        return mido.MidiFile(path, clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, mido.KeySignatureError) as error:
        reason = str(error) if str(error) else "the file ends too early" if isinstance(error, EOFError) \
            else type(error).__name__
        raise MtmError(f"{path}: not a readable MIDI file ({reason})") from None


def midi_to_score(midi: mido.MidiFile, source: str = "MIDI file", key: str | None = None) -> Score:
    """Read notes by channel and program into tracks; name roles from track names or by register.

    `key` overrides the file's key signature; without either the key is estimated from the notes.
    """
    if midi.type == 2:
        raise MtmError(f"{source}: type-2 MIDI files (independent sequences) are not supported")
    ticks = midi.ticks_per_beat
    if ticks < 0:  # the division's top bit: SMPTE frames, not beats
        raise MtmError(f"{source}: the MIDI file is timed in SMPTE frames, not beats; save it with beat timing")
    if ticks == 0:
        raise MtmError(f"{source}: the MIDI file's header gives 0 ticks per beat (the file is damaged)")
    tempo, time_signature, key_text = None, (4, 4), None
    parts: dict[tuple[int, int], dict] = {}
    for track in midi.tracks:
        tick, name, programs = 0, "", defaultdict(int)
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for message in track:
            tick += message.time
            if message.type == "set_tempo" and tempo is None and message.tempo > 0:
                tempo = mido.tempo2bpm(message.tempo)
            elif message.type == "time_signature" and tick == 0:
                time_signature = (message.numerator, message.denominator)
            elif message.type == "key_signature" and key_text is None:
                key_text = message.key[:-1] + " minor" if message.key.endswith("m") else message.key + " major"
            elif message.type == "track_name":
                name = message.name
            elif message.type == "program_change":
                programs[message.channel] = message.program
            elif message.type == "note_on" and message.velocity > 0:
                open_notes[(message.channel, message.note)].append((tick, message.velocity))
            elif message.type in ("note_off", "note_on"):
                starts = open_notes.get((message.channel, message.note))
                if starts:
                    start, velocity = starts.pop(0)
                    part = parts.setdefault((id(track), message.channel), {
                        "name": name, "channel": message.channel, "program": programs[message.channel], "notes": []})
                    part["notes"].append(Note(start / ticks, max(tick - start, 1) / ticks, message.note, velocity))
    parts = {k: p for k, p in parts.items() if p["notes"]}
    if not parts:
        raise MtmError(f"{source}: the MIDI file has no notes")
    tracks = _assign_roles(list(parts.values()))
    length = max(track.end for track in tracks.values())
    if key is None:
        key = key_text or estimate_key_from_notes(tracks.values()).name
    try:
        score = Score(validate_tempo(round(tempo or 120.0, 3)), validate_time_signature(time_signature),
                      parse_key(key).name, tracks, 0.0)
    except MtmError as error:  # name the file: its tempo, meter or key cannot be used
        raise MtmError(f"{source}: {error}") from None
    bar = score.beats_per_bar
    score.length_beats = max(bar, -(-length // bar) * bar)  # whole bars
    if score.length_seconds > MAX_MIDI_SECONDS:
        raise MtmError(f"{source}: its notes run {score.length_seconds / 60:.0f} minutes (limit "
                       f"{MAX_MIDI_SECONDS / 60:.0f} min); the file may be damaged")
    return score


def _assign_roles(parts: list[dict]) -> dict[str, Track]:
    """Drums from channel 10; other roles from track names, then by register and polyphony."""
    words = {"drums": ("drum", "perc", "kit"), "bass": ("bass",), "melody": ("melody", "lead", "vocal", "solo"),
             "harmony": ("harmony", "chord", "pad", "piano", "keys", "comp", "rhythm")}
    tracks: dict[str, Track] = {}
    unnamed = []
    for part in parts:
        is_drum = part["channel"] == DRUM_CHANNEL
        role = "drums" if is_drum else next(
            (r for r, ws in words.items() if r != "drums" and any(w in part["name"].lower() for w in ws)), None)
        if role is None or role in tracks:
            unnamed.append(part)
            continue
        tracks[role] = Track(role, part["program"], sorted(part["notes"], key=lambda n: (n.onset, n.pitch)), is_drum)
    medians = {id(part): statistics.median(n.pitch for n in part["notes"]) for part in unnamed}
    unnamed.sort(key=lambda part: medians[id(part)])
    merged: dict[str, list[Note]] = defaultdict(list)  # notes of parts joining a role, added once at the end
    registers: dict[str, float] = {}  # the pitched roles' median pitch, once they are all taken
    extras = 0
    for part in unnamed:
        is_drum = part["channel"] == DRUM_CHANNEL
        if is_drum and "drums" in tracks:  # General MIDI has one drum channel: every drum part plays one kit
            merged["drums"] += part["notes"]
            continue
        if is_drum:
            role = "drums"
        else:
            free = [r for r in ("bass", "harmony", "melody") if r not in tracks]
            if part is unnamed[-1] and "melody" in free:
                role = "melody"
            else:
                role = free[0] if free else f"part {len(tracks) + 1}"
        if role not in ROLES:
            if extras == MAX_EXTRA_PARTS:  # roles, not tracks: a 1,000-track file still gives a few stems
                registers = registers or {r: statistics.median(n.pitch for n in tracks[r].notes)
                                          for r in ("bass", "harmony", "melody")}
                merged[min(registers, key=lambda r: abs(registers[r] - medians[id(part)]))] += part["notes"]
                continue
            extras += 1
        tracks[role] = Track(role, part["program"], sorted(part["notes"], key=lambda n: (n.onset, n.pitch)), is_drum)
    for role, notes in merged.items():
        tracks[role].notes = sorted(tracks[role].notes + notes, key=lambda n: (n.onset, n.pitch))
    order = [r for r in ROLES if r in tracks] + [r for r in tracks if r not in ROLES]
    return {role: tracks[role] for role in order}


def estimate_key_from_notes(tracks) -> Key:
    """Key from a duration-weighted pitch-class histogram of the pitched tracks."""
    # deferred: only this path needs SciPy, soxr, pyloudnorm
    from mtm_daw.analysis.key import key_from_pitch_class_histogram

    histogram = [0.0] * 12
    for track in tracks:
        if not track.is_drum:
            for note in track.notes:
                histogram[note.pitch % 12] += note.duration
    if not any(histogram):
        return Key(0, "major")  # drums only: no pitch to go by; C major keeps file names tidy
    return key_from_pitch_class_histogram(histogram).key


def load_midi_score(path: str | Path, key: str | None = None) -> Score:
    return midi_to_score(read_midi(path), source=str(path), key=key)
