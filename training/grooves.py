"""Training pieces with human-written accompaniment: folk melodies over Debian `mma` grooves.

Training-only code (needs the `mma` program, GPL-2, apt-get install mma). mma's standard library holds
about 1,100 drum, bass and comping patterns written by people, in 119 styles. Each song here is a folk
tune from music21's corpus (people wrote the melody), harmonised bar by bar with the diatonic chord
its notes fit best (strong beats count double), rendered by mma with a groove whose meter matches
and whose style maps to one of our styles, and read back into the four roles: the groove's drums,
its bass (bass and walking-bass tracks) and its comping (every other track) under the tune.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import mido
import numpy as np

from mtm_daw.plan.chords import Chord, diatonic_chord
from mtm_daw.score.roll import DRUM_KEYS, drum_class, quantize_score
from mtm_daw.score.score import Note, Score, Track
from mtm_daw.score.styles import signature_share, style_for
from mtm_daw.score.theory import Key

# mma groove -> (the style it trains, tempo range): 4/4 grooves, and waltzes (3/4)
GROOVES_4 = {
    "50sRock": ("rock", 110, 160), "60sRock": ("rock", 110, 150), "8Beat": ("rock", 100, 140),
    "BasicRock": ("rock", 100, 140), "FolkRock": ("rock", 100, 140), "Rock-128": ("rock", 90, 130),
    "RockBallad": ("rock", 70, 100), "SoftRock": ("pop", 80, 120), "BubbleRock": ("pop", 110, 140),
    "PopBallad": ("pop", 70, 100), "Ballad": ("pop", 60, 90), "PianoBallad": ("pop", 60, 90),
    "R&B": ("rnb", 90, 120), "DSoul": ("rnb", 90, 120), "Strut": ("funk", 90, 120), "Twist": ("rock", 130, 160),
    "Swing": ("jazz", 110, 170), "JazzCombo": ("jazz", 100, 160), "EasySwing": ("jazz", 90, 140),
    "FastSwing": ("jazz", 160, 220), "SlowJazz": ("jazz", 60, 90), "MellowJazz": ("jazz", 80, 120),
    "ModernJazz": ("jazz", 110, 160), "JazzGuitar": ("jazz", 100, 150), "BossaNova": ("bossa-nova", 110, 140),
    "NiteJazz": ("jazz", 70, 100), "BigBand": ("jazz", 120, 170), "Trance": ("electronic", 125, 140),
    "BoneyM": ("disco", 110, 130), "BVFunk": ("funk", 95, 115), "LFusion": ("funk", 95, 120),
    "Hymn": ("orchestral", 60, 90), "March": ("orchestral", 100, 120), "Broadway": ("cinematic", 100, 140),
    "ShowTune": ("cinematic", 90, 130), "StringBallad": ("cinematic", 60, 90), "Bolero": ("cinematic", 80, 110),
    "Lullaby": ("ambient", 60, 80), "Arpeggio44": ("ambient", 60, 90), "Desert": ("cinematic", 80, 110),
    "Folk": ("folk", 90, 130), "FolkBallad": ("folk", 70, 100), "CountrySwing": ("country", 110, 150),
    "SlowCountry": ("country", 70, 100), "Blues": ("rock", 80, 120),  # quarter-note hats, no shuffle "ShuffleBoggie": ("blues", 120, 160),
    "Salsa": ("pop", 160, 200),  # cut-time salsa: its clave bar is not the salsa style's (one 4/4 bar at half tempo) "Samba": ("bossa-nova", 90, 110), "Ska": ("reggae", 130, 160),
    "Tango": ("cinematic", 110, 130),
}
GROOVES_3 = {
    "Waltz": ("folk", 90, 160), "VieneseWaltz": ("orchestral", 150, 190), "JazzWaltz": ("jazz", 110, 160),
    "CountryWaltz": ("folk", 90, 150), "FrenchWaltz": ("cinematic", 120, 170), "RockWaltz": ("rock", 80, 130),
    "ArpeggioWaltz": ("ambient", 70, 110), "LatinWaltz": ("pop", 110, 150), "BroadwayWaltz": ("cinematic", 100, 160),
}
MELODY_PROGRAM = 73  # flute: the tune, above the comping
MELODY_VELOCITY = 100
# A few grooves are never trained on, so the held-out songs test grooves the model has not heard.
HELD_OUT_GROOVES = frozenset({"SoftRock", "EasySwing", "Folk", "CountryWaltz"})
SWUNG_PLACE = 2 / 3  # where mma's swing mode plays an off-beat eighth, in beats after the beat
PLACE_TOLERANCE = 0.08  # beats: mma's random timing moves notes a few hundredths of a beat
# A groove song teaches its style's drums only when they play the style's signature in this share of bars
# (three in four: mma's grooves vary a bar in four with a fill or a variation).
SIGNATURE_BARS_TO_KEEP_DRUMS = 0.75


def groove_style(source: str) -> str | None:
    """The style a groove song trains ("...+mma/BossaNova" -> "bossa-nova"); None for other sources."""
    if "+mma/" not in source:
        return None
    groove = source.split("+mma/", 1)[1]
    entry = GROOVES_4.get(groove) or GROOVES_3.get(groove)
    return entry[0] if entry else None


def mma_available() -> bool:
    return shutil.which("mma") is not None


def _stable_fraction(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def harmonise(melody: Score, key: Key) -> list[Chord]:
    """One diatonic chord a bar for a melody: the chord whose tones the bar's notes (strong beats count
    double) fit best; I, IV and V preferred on ties; the last bar is the tonic."""
    beats_per_bar = melody.beats_per_bar
    bars = melody.bars
    candidates = [diatonic_chord(key, degree) for degree in range(7) if not (key.mode == "major" and degree == 6)]
    prior = np.array([0.3 if degree in (0, 3, 4) else 0.0 for degree in range(7)
                      if not (key.mode == "major" and degree == 6)], dtype=np.float32)
    weights = np.zeros((bars, 12), dtype=np.float32)
    for track in melody.tracks.values():
        for note in track.notes:
            bar = int(note.onset // beats_per_bar)
            if 0 <= bar < bars:
                strong = 2.0 if (note.onset % beats_per_bar) % (beats_per_bar / 2 if beats_per_bar == 4 else 1) == 0 else 1.0
                weights[bar, note.pitch % 12] += strong * min(note.duration, beats_per_bar)
    chords = []
    for bar in range(bars):
        fit = np.array([weights[bar, list(c.pitch_classes)].sum() - 0.4 * (weights[bar].sum()
                        - weights[bar, list(c.pitch_classes)].sum()) for c in candidates]) + prior
        chords.append(candidates[int(fit.argmax())] if weights[bar].any() else (chords[-1] if chords else candidates[0]))
    if chords:
        chords[-1] = candidates[0]
    return chords


def _mma_chord(chord: Chord, key: Key) -> str:
    return chord.name(key).replace("maj7", "M7")


def render_accompaniment(chords: list[Chord], key: Key, groove: str, tempo: float, beats_per_bar: float,
                         workdir: Path) -> dict[str, Track]:
    """mma's drums, bass and comping for the chords (one a bar), as tracks in beats."""
    song = workdir / "song.mma"
    lines = [f"Tempo {tempo:g}", f"Groove {groove}"] + [f"{i + 1} {_mma_chord(c, key)}" for i, c in enumerate(chords)]
    song.write_text("\n".join(lines) + "\n")
    out = workdir / "song.mid"
    out.unlink(missing_ok=True)
    subprocess.run(["mma", str(song), "-f", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60, check=False)
    if not out.is_file():
        raise RuntimeError(f"mma could not render groove {groove}")
    midi = mido.MidiFile(out)
    ticks = midi.ticks_per_beat
    notes: dict[str, list[Note]] = defaultdict(list)
    programs: dict[str, int] = {}
    length = len(chords) * beats_per_bar
    for track in midi.tracks:
        name = track.name.lower()
        role = "drums" if name.startswith("drum") else "bass" if name.startswith(("bass", "walk")) else "harmony"
        tick, open_notes = 0, {}
        for message in track:
            tick += message.time
            if message.type == "program_change":
                programs.setdefault(role, message.program)
            elif message.type == "note_on" and message.velocity > 0:
                open_notes[(message.channel, message.note)] = (tick, message.velocity)
            elif message.type in ("note_on", "note_off") and (message.channel, message.note) in open_notes:
                start, velocity = open_notes.pop((message.channel, message.note))
                if start / ticks < length:
                    notes[role].append(Note(start / ticks, max(tick - start, 1) / ticks, message.note, velocity))
    if is_swung(notes.values()):
        notes = {role: unswing(role_notes) for role, role_notes in notes.items()}
    return {role: Track(role, 0 if role == "drums" else programs.get(role, 0), sorted(ns, key=lambda n: (n.onset, n.pitch)),
                        is_drum=role == "drums") for role, ns in notes.items() if ns}


def _near(onset: float, place: float) -> bool:
    return abs(onset % 1.0 - place) < PLACE_TOLERANCE


def is_swung(note_lists) -> bool:
    """Whether mma played these notes in swing mode: more off-beat eighths two thirds into the beat than
    halfway through it, and not a triplet groove (notes a third into the beat as often: moving only its
    last triplet would squash three even notes into "xxx." sixteenths)."""
    onsets = [note.onset for notes in note_lists for note in notes]
    swung = sum(_near(t, SWUNG_PLACE) for t in onsets)
    return swung > sum(_near(t, 0.5) for t in onsets) and swung > 2 * sum(_near(t, 1 / 3) for t in onsets)


def unswing(notes: list[Note]) -> list[Note]:
    """Swung off-beat eighths written where the roll writes them: on the straight eighth, ending where they
    ended. The sixteenth grid would round two thirds of a beat to the last sixteenth, so a swing groove
    read as a dotted-eighth groove (ride on the "a" of the beat); a swung style's feel puts the swing back
    when it is played. (training.data.straight_swing straightens the baseline composer's swing, which is
    on the grid already, by its style's feel; this one reads mma's performance, whatever its label.)"""
    straight = []
    for note in notes:
        if _near(note.onset, SWUNG_PLACE):
            onset = note.onset - note.onset % 1.0 + 0.5
            note = Note(onset, note.onset + note.duration - onset, note.pitch, note.velocity)
        straight.append(note)
    return straight


def signature_share_of_song(score: Score, genre: str) -> float:
    """The share of a song's bars whose drums play every signature of its style (on the straight grid,
    as the roll holds them: a swung style's feel is not asked for). A song in another meter than its
    style's shows none of it: 0.0."""
    style = style_for(genre)
    drums = score.tracks.get("drums")
    if drums is None or score.bars == 0 or tuple(score.time_signature) != tuple(style.meter):
        return 0.0
    # GM keys as the roll reads them (mma's acoustic bass drum is a kick, its electric snare a snare)
    notes = [Note(n.onset, n.duration, DRUM_KEYS[drum_class(n.pitch)], n.velocity) for n in drums.notes
             if drum_class(n.pitch) is not None]
    return signature_share(notes, replace(style, feel="straight"), score.bars, score.beats_per_bar)


def with_drums_of_its_style(piece):
    """A groove song whose drums play its style's signature as it is; another one without its drums, so
    that it still teaches its style's bass, comping and form but never a groove that contradicts the style
    (mma's jazz grooves mostly keep time on the hi-hats, most of its rock grooves play quarter-note hats or a
    tambourine, its folk waltz leaves out the kick every fourth bar, and its waltzes labelled jazz, rock or pop
    cannot show those styles' 4/4 signatures: while they kept their drums, the model's three-four drums came
    from them and its folk played shaker and tambourine). Other pieces as they are."""
    genre = groove_style(piece.source)
    if genre is None or "drums" not in piece.score.tracks:
        return piece
    if signature_share_of_song(piece.score, genre) >= SIGNATURE_BARS_TO_KEEP_DRUMS:
        return piece
    tracks = {role: track for role, track in piece.score.tracks.items() if role != "drums"}
    return replace(piece, score=replace(piece.score, tracks=tracks))


def groove_song(melody: Score, source: str, workdir: Path, held_out: bool) -> tuple[Score, str, str]:
    """(a four-role Score, its genre, the groove) for a folk tune; held_out picks among the held-out grooves."""
    grooves = GROOVES_3 if melody.time_signature == (3, 4) else GROOVES_4 if melody.time_signature == (4, 4) else None
    if grooves is None:
        raise ValueError(f"no groove in {melody.time_signature[0]}/{melody.time_signature[1]}")
    names = sorted(name for name in grooves if (name in HELD_OUT_GROOVES) == held_out)
    groove = names[int(_stable_fraction(source) * len(names))]
    genre, low, high = grooves[groove]
    tempo = float(round(low + _stable_fraction(source + "/tempo") * (high - low)))
    key = melody.parsed_key
    chords = harmonise(melody, key)
    tracks = render_accompaniment(chords, key, groove, tempo, melody.beats_per_bar, workdir)
    tune = next(iter(melody.tracks.values()))
    tracks["melody"] = Track("melody", MELODY_PROGRAM, [Note(n.onset, n.duration, n.pitch, MELODY_VELOCITY)
                                                        for n in tune.notes])
    ordered = {role: tracks[role] for role in ("drums", "bass", "harmony", "melody") if role in tracks}
    score = Score(tempo, melody.time_signature, melody.key, ordered, melody.length_beats)
    return quantize_score(score), genre, groove


def groove_songs(melodies, held_out: bool = False):
    """(Score, genre, source) for each (melody Score, source name) that a groove fits."""
    with tempfile.TemporaryDirectory(prefix="mtm_mma_") as folder:
        for melody, source in melodies:
            try:
                score, genre, groove = groove_song(melody, source, Path(folder), held_out)
            except (ValueError, RuntimeError, OSError, subprocess.SubprocessError):
                continue
            yield score, genre, f"{source}+mma/{groove}"
