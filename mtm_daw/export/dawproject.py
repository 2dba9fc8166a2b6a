"""A cue as a `.dawproject`: the open DAW interchange format (Bitwig, PreSonus; github.com/bitwig/dawproject).

The file is a zip holding project.xml, metadata.xml and the audio:
  Transport    the tempo and time signature
  Structure    a master track, one audio track per stem, one notes track per role (muted: the stems
               play; unmute one and give it an instrument to play the MIDI instead)
  Arrangement  per stem a clip of its WAV (inside the zip, warped beats <-> seconds at the cue's tempo),
               per role a clip of its notes, markers for the sections; a loop's clips carry its loop points
Times are in beats (quarter notes), as the format's arrangement counts them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree as ET

from mtm_daw import __version__
from mtm_daw.cue import Cue
from mtm_daw.export.wav import WavTags, write_wav
from mtm_daw.score.gm import DRUM_CHANNEL, program_name

FORMAT_VERSION = "1.0"
AUDIO_FOLDER = "audio"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every entry's time: the same cue gives the same bytes
ROLE_COLOURS = {"drums": "#d9822b", "bass": "#2b9e77", "harmony": "#7570b3", "melody": "#e7298a"}


def write_dawproject(path: Path, cue: Cue, prefix: str,
                     tags: Callable[[str, bool], WavTags] | None = None) -> None:
    """Write the cue's .dawproject to `path`. tags(role, pitched): the WAV tags of each embedded stem."""
    audio_files = {role: f"{AUDIO_FOLDER}/{prefix}_{role.replace(' ', '-')}.wav" for role in cue.stems}
    project = project_xml(cue, prefix, audio_files)
    metadata = metadata_xml(cue, prefix)
    with zipfile.ZipFile(path, "w") as archive:
        _write_entry(archive, "project.xml", _xml_bytes(project), zipfile.ZIP_DEFLATED)
        _write_entry(archive, "metadata.xml", _xml_bytes(metadata), zipfile.ZIP_DEFLATED)
        for role, stem in cue.stems.items():
            handle, temp_name = tempfile.mkstemp(prefix=f".{prefix}.", suffix=".wav", dir=Path(path).parent)
            os.close(handle)
            temp = Path(temp_name)
            try:
                write_wav(temp, stem.audio, cue.sample_rate, tags=tags(role, role != "drums") if tags else None)
                info = zipfile.ZipInfo(audio_files[role], date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_STORED  # WAV barely compresses; storing keeps it quick
                with temp.open("rb") as source, archive.open(info, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, 1 << 20)
            finally:
                temp.unlink(missing_ok=True)


def project_xml(cue: Cue, prefix: str, audio_files: dict[str, str]) -> ET.Element:
    """project.xml for the cue; `audio_files`: role -> path of its WAV inside the zip."""
    ids = _Ids()
    score = cue.score
    numerator, denominator = score.time_signature
    project = ET.Element("Project", version=FORMAT_VERSION)
    ET.SubElement(project, "Application", name="mtm_daw", version=__version__)

    # 1. transport: tempo and time signature
    transport = ET.SubElement(project, "Transport")
    ET.SubElement(transport, "Tempo", id=ids(), name="Tempo", unit="bpm", min="20", max="400",
                  value=_number(score.tempo))
    ET.SubElement(transport, "TimeSignature", id=ids(), name="Time Signature", numerator=str(numerator),
                  denominator=str(denominator))

    # 2. structure: master, an audio track per stem, a (muted) notes track per role
    structure = ET.SubElement(project, "Structure")
    master = ET.SubElement(structure, "Track", id=ids(), name="Master", contentType="audio notes", loaded="true")
    master_channel = _channel(master, ids, role="master")
    audio_tracks, note_tracks = {}, {}
    for role in cue.stems:
        track = ET.SubElement(structure, "Track", id=ids(), name=role.capitalize(), contentType="audio",
                              loaded="true", color=ROLE_COLOURS.get(role, "#808080"))
        _channel(track, ids, destination=master_channel)
        audio_tracks[role] = track.get("id")
    for role, score_track in score.tracks.items():
        instrument = "Standard Drum Kit" if score_track.is_drum else program_name(score_track.program)
        track = ET.SubElement(structure, "Track", id=ids(), name=f"{role.capitalize()} (MIDI)", contentType="notes",
                              loaded="true", color=ROLE_COLOURS.get(role, "#808080"), comment=instrument)
        _channel(track, ids, destination=master_channel, mute=True)
        note_tracks[role] = track.get("id")

    # 3. arrangement: a clip of each stem's audio, a clip of each role's notes, section markers
    loop = {"loopStart": "0", "loopEnd": _number(score.length_beats)} if cue.loop_bars else {}
    arrangement = ET.SubElement(project, "Arrangement", id=ids())
    lanes = ET.SubElement(arrangement, "Lanes", id=ids(), timeUnit="beats")
    for role, stem in cue.stems.items():
        seconds = stem.audio.shape[1] / cue.sample_rate
        beats = _whole_ticks(score.grid.beats(seconds))  # whole samples are a hair off the bar line
        clips = ET.SubElement(ET.SubElement(lanes, "Lanes", id=ids(), track=audio_tracks[role]), "Clips", id=ids())
        clip = ET.SubElement(clips, "Clip", time="0", duration=_number(beats), playStart="0", name=role, **loop)
        warps = ET.SubElement(clip, "Warps", id=ids(), timeUnit="beats", contentTimeUnit="seconds")
        audio = ET.SubElement(warps, "Audio", id=ids(), channels=str(stem.audio.shape[0]),
                              sampleRate=str(cue.sample_rate), duration=_number(seconds), timeUnit="seconds")
        ET.SubElement(audio, "File", path=audio_files[role])
        ET.SubElement(warps, "Warp", time="0", contentTime="0")
        ET.SubElement(warps, "Warp", time=_number(beats), contentTime=_number(seconds))
    for role, score_track in score.tracks.items():
        clips = ET.SubElement(ET.SubElement(lanes, "Lanes", id=ids(), track=note_tracks[role]), "Clips", id=ids())
        clip = ET.SubElement(clips, "Clip", time="0", duration=_number(score.length_beats), playStart="0",
                             name=role, **loop)
        notes = ET.SubElement(clip, "Notes", id=ids())
        channel = str(DRUM_CHANNEL if score_track.is_drum else 0)
        for note in score_track.notes:
            ET.SubElement(notes, "Note", time=_number(note.onset), duration=_number(note.duration), channel=channel,
                          key=str(note.pitch), vel=_number(round(note.velocity / 127.0, 6)))
    markers = [(score.grid.beats(section.start), section.name) for section in cue.description.sections
               if score.grid.beats(section.start) < score.length_beats]
    if markers:
        element = ET.SubElement(arrangement, "Markers", id=ids())
        for time, name in markers:
            ET.SubElement(element, "Marker", time=_number(round(time, 6)), name=name)
    return project


def metadata_xml(cue: Cue, prefix: str) -> ET.Element:
    metadata = ET.Element("MetaData")
    ET.SubElement(metadata, "Title").text = prefix
    ET.SubElement(metadata, "Genre").text = cue.description.genre
    ET.SubElement(metadata, "Comment").text = (f"{cue.description.sentence} Made with mtm_daw {__version__} "
                                               f"({cue.engine}, seed {cue.seed}).").strip()
    return metadata


class _Ids:
    """Unique XML ids (xs:ID must not start with a digit): id1, id2, ..."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"id{self.count}"


def _channel(track: ET.Element, ids: _Ids, role: str = "regular", destination: str | None = None,
             mute: bool = False) -> str:
    """A track's mixer channel (children in the schema's order: Mute, Pan, Volume); returns its id."""
    attributes = {"id": ids(), "role": role, "audioChannels": "2"}
    if destination:
        attributes["destination"] = destination
    channel = ET.SubElement(track, "Channel", **attributes)
    ET.SubElement(channel, "Mute", id=ids(), name="Mute", value="true" if mute else "false")
    ET.SubElement(channel, "Pan", id=ids(), name="Pan", unit="normalized", min="0", max="1", value="0.5")
    ET.SubElement(channel, "Volume", id=ids(), name="Volume", unit="linear", min="0", max="2", value="1")
    return channel.get("id")


def _whole_ticks(beats: float, ticks_per_beat: int = 960) -> float:
    """Beats to the nearest 1/960 beat when that is under a thousandth away (a length in whole samples
    that is meant to be whole beats or bars), else unchanged; the clip's warp stretches it by that much."""
    snapped = round(beats * ticks_per_beat) / ticks_per_beat
    return snapped if abs(snapped - beats) < 1e-3 else beats


def _number(value: float) -> str:
    """A decimal the XML schema's xs:double reads: whole numbers without '.0', others as Python writes them."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _xml_bytes(element: ET.Element) -> bytes:
    ET.indent(element)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode("utf-8")


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes, compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = compression
    archive.writestr(info, data)
