"""--dawproject: the cue as a DAW session, read back with nothing but zipfile and xml.etree."""
import zipfile
from xml.etree import ElementTree as ET

import pytest

from mtm_daw.cli import main
from mtm_daw.description import MusicDescription, Section
from mtm_daw.export import export_cue
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.pipeline.sync import read_sync


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("daw")
    description = MusicDescription(genre="cinematic", mood="epic", tempo=137.5, key="E minor", time_signature=(7, 8),
                                   duration=6, sections=[Section("intro", 0, 3, 0.4), Section("main", 3, 6, 0.8)])
    cue = compose_cue(description, seed=4, settings=RenderSettings(synth="builtin"), warn=lambda m: None)
    paths = export_cue(cue, folder, "session", dawproject=True)
    return cue, folder, paths


def test_the_project_reads_back_with_every_stem_tempo_and_meter(exported):
    cue, folder, paths = exported
    project_path = folder / "session_137p5bpm_Emin.dawproject"
    assert project_path in paths
    with zipfile.ZipFile(project_path) as archive:
        names = set(archive.namelist())
        project = ET.fromstring(archive.read("project.xml"))
        metadata = ET.fromstring(archive.read("metadata.xml"))
        embedded = {name: archive.read(name) for name in names if name.endswith(".wav")}
    assert {"project.xml", "metadata.xml"} <= names
    assert project.tag == "Project" and project.get("version") == "1.0"
    assert project.find("Application").get("name") == "mtm_daw"
    assert float(project.find("Transport/Tempo").get("value")) == 137.5
    assert project.find("Transport/Tempo").get("unit") == "bpm"
    meter = project.find("Transport/TimeSignature")
    assert (meter.get("numerator"), meter.get("denominator")) == ("7", "8")
    assert metadata.find("Title").text == "session_137p5bpm_Emin" and metadata.find("Genre").text == "cinematic"

    tracks = {track.get("id"): track for track in project.iter("Track")}
    lanes = {lane.get("track"): lane for lane in project.iter("Lanes") if lane.get("track")}
    audio_tracks = [t for t in tracks.values() if t.get("contentType") == "audio"]
    assert sorted(t.get("name") for t in audio_tracks) == sorted(role.capitalize() for role in cue.stems)
    for track in audio_tracks:
        role = track.get("name").lower()
        audio = lanes[track.get("id")].find("Clips/Clip/Warps/Audio")
        path = audio.find("File").get("path")
        assert path in names, f"{role}: the clip references a file inside the project"
        assert embedded[path] == (folder / f"session_137p5bpm_Emin_{role}.wav").read_bytes()
        assert int(audio.get("sampleRate")) == 48000 and int(audio.get("channels")) == 2
        assert float(audio.get("duration")) == pytest.approx(cue.mix.shape[1] / 48000)
        clip = lanes[track.get("id")].find("Clips/Clip")
        beats = float(clip.get("duration"))  # the whole beats the stem is long (whole samples are a hair off)
        assert beats == pytest.approx(float(audio.get("duration")) * 137.5 / 60, abs=1e-3) and beats.is_integer()
        warp_end = clip.findall("Warps/Warp")[-1]
        assert (float(warp_end.get("time")), warp_end.get("contentTime")) == (beats, audio.get("duration"))
        destination = track.find("Channel").get("destination")
        assert tracks[next(i for i, t in tracks.items() if t.find("Channel").get("id") == destination)].get(
            "name") == "Master"

    note_tracks = [t for t in tracks.values() if t.get("contentType") == "notes"]
    assert len(note_tracks) == len(cue.score.tracks)
    for track in note_tracks:
        role = track.get("name").split()[0].lower()
        notes = lanes[track.get("id")].findall("Clips/Clip/Notes/Note")
        assert len(notes) == len(cue.score.tracks[role].notes)
        first = cue.score.tracks[role].notes[0]
        assert (float(notes[0].get("time")), int(notes[0].get("key"))) == (first.onset, first.pitch)
        assert track.find("Channel/Mute").get("value") == "true", "the stems play; the MIDI waits muted"
    markers = [(float(m.get("time")), m.get("name")) for m in project.iter("Marker")]
    assert markers == [(0.0, "intro"), (pytest.approx(3 * 137.5 / 60), "main")]


def test_the_same_cue_gives_the_same_project_bytes(exported, tmp_path):
    cue, folder, _ = exported
    again = export_cue(cue, tmp_path, "session", dawproject=True)
    project = next(p for p in again if p.suffix == ".dawproject")
    assert project.read_bytes() == (folder / project.name).read_bytes()


def test_sync_reads_tempo_and_meter_back_from_a_dawproject(exported):
    _, folder, _ = exported
    sync = read_sync(folder / "session_137p5bpm_Emin.dawproject")
    assert (sync.kind, sync.tempo, sync.time_signature, sync.key) == ("dawproject", 137.5, (7, 8), None)


def test_the_command_line_writes_a_loop_project(tmp_path):
    assert main(["compose", "--loop", "2", "--tempo", "90", "--synth", "builtin", "--dawproject", "--quiet",
                 "-o", str(tmp_path)]) == 0
    with zipfile.ZipFile(tmp_path / "cue_90bpm_Cmaj.dawproject") as archive:
        project = ET.fromstring(archive.read("project.xml"))
    for clip in project.iter("Clip"):
        assert (clip.get("loopStart"), clip.get("loopEnd"), clip.get("duration")) == ("0", "8", "8")
