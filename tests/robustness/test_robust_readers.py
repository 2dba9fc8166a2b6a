"""Every reader fed truncated, flipped, random, empty and mislabelled bytes: only MtmError escapes,
naming the file, within a bounded time, and nothing is written beside the input.

Readers: audio (load_audio, analyze_audio), MIDI (load_midi_score, read_sync), image (load_image),
video (probe_video, iter_frames), the text bridge (describe), description JSON (from_json, load),
and detect_kind. The cases that fuzzing once found are pinned below the fuzz tests.
"""
from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtm_daw.analysis.audio import analyze_audio
from mtm_daw.describe import describe
from mtm_daw.description import MAX_DURATION_SECONDS, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.media import detect_kind, iter_frames, load_audio, load_image, probe_video
from mtm_daw.pipeline.sync import read_sync
from mtm_daw.score.midi import load_midi_score
from tests.robustness import corrupt
from tests.robustness.corrupt import FUZZ, MAGIC, damaged, expect_only_mtm_error, fuzz, write_case


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, bytes]:
    """One small healthy file per reader, by extension."""
    folder = tmp_path_factory.mktemp("samples")
    return {".wav": corrupt.wav_bytes(), ".flac": corrupt.flac_bytes(folder), ".mid": corrupt.midi_bytes(),
            ".png": corrupt.image_bytes("PNG"), ".jpg": corrupt.image_bytes("JPEG"), ".gif": corrupt.image_bytes("GIF"),
            ".mp4": corrupt.video_bytes(folder), ".json": corrupt.description_bytes()}


def others(samples: dict[str, bytes], suffix: str) -> tuple[bytes, ...]:
    return tuple(data for other, data in samples.items() if other != suffix)


def reader_check(folder, suffix: str, read, what: str):
    """A hypothesis check: write the damaged bytes as `<case><suffix>`, read them, and look around."""
    def check(case: corrupt.Damaged) -> None:
        path = write_case(folder, suffix, case.data)
        before = sorted(p.name for p in folder.iterdir())
        expect_only_mtm_error(lambda: read(path), named=path, what=f"{what} on {case!r}")
        assert sorted(p.name for p in folder.iterdir()) == before, f"{what} left files beside {path.name}"
        path.unlink()
    return check


def read_video(path):
    probe_video(path)
    for _ in iter_frames(path, analysis_fps=8.0):
        pass


# --- fuzzing, reader by reader ------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_audio_reader(samples, tmp_path, suffix):
    fuzz(damaged(samples[suffix], others(samples, suffix), MAGIC[suffix]),
         reader_check(tmp_path, suffix, load_audio, "load_audio"), examples=30)


def test_audio_analysis(samples, tmp_path):
    warm = tmp_path / "warm-up.wav"  # librosa's numba code compiles on its first call (20 s and more on a
    warm.write_bytes(samples[".wav"])  # loaded machine with a fresh venv): keep that out of the hang bound
    analyze_audio(warm)
    fuzz(damaged(samples[".wav"], others(samples, ".wav"), MAGIC[".wav"]),
         reader_check(tmp_path, ".wav", analyze_audio, "analyze_audio"), examples=15)


def test_midi_reader_and_sync(samples, tmp_path):
    def read(path):
        expect_only_mtm_error(lambda: read_sync(path), named=path, what="read_sync")
        load_midi_score(path)
    fuzz(damaged(samples[".mid"], others(samples, ".mid"), MAGIC[".mid"]),
         reader_check(tmp_path, ".mid", read, "load_midi_score"), examples=40)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".gif"])
def test_image_reader(samples, tmp_path, suffix):
    fuzz(damaged(samples[suffix], others(samples, suffix), MAGIC.get(suffix, b"")),
         reader_check(tmp_path, suffix, load_image, "load_image"), examples=20)


def test_video_reader(samples, tmp_path):
    fuzz(damaged(samples[".mp4"], others(samples, ".mp4"), MAGIC[".mp4"]),
         reader_check(tmp_path, ".mp4", read_video, "probe_video/iter_frames"), examples=30)


def test_describe_any_file(samples, tmp_path):
    """The text bridge on a damaged file of any kind (it picks the reader by kind)."""
    @FUZZ
    @given(suffix=st.sampled_from([".mp4", ".png", ".wav", ".mid", ".json"]), data=st.data())
    def run(suffix, data):
        case = data.draw(damaged(samples[suffix], others(samples, suffix), MAGIC[suffix]))
        reader_check(tmp_path, suffix, describe, "describe")(case)

    run()


def test_description_json(samples, tmp_path):
    def read(path):
        text = path.read_bytes().decode("utf-8", errors="replace")
        expect_only_mtm_error(lambda: MusicDescription.from_json(text).validate(), what="from_json")
        description = MusicDescription.load(path)  # names the file; validate() (after any overrides) names the field
        expect_only_mtm_error(description.validate, what="validate")
    fuzz(damaged(samples[".json"], others(samples, ".json"), MAGIC[".json"]),
         reader_check(tmp_path, ".json", read, "MusicDescription.load"), examples=40)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=3), max_leaves=6)


def test_description_fields_with_any_json_values(samples):
    """A well-formed JSON object whose fields hold anything: from_dict, validate and the sentence
    raise MtmError or give a description the composer can use."""
    base = json.loads(samples[".json"])

    @FUZZ
    @given(changes=st.dictionaries(st.sampled_from(sorted(base) + ["extra"]), JSON_VALUES, min_size=1, max_size=3))
    def run(changes):
        def use():
            description = MusicDescription.from_dict({**base, **changes}).validate()
            description.to_sentence()
            description.energy_at(1.0)
            assert description.bars >= 1 and description.duration <= MAX_DURATION_SECONDS
        expect_only_mtm_error(use, what=f"a description with {changes!r}")

    run()


def test_detect_kind(samples, tmp_path):
    @FUZZ
    @given(suffix=st.sampled_from(["", ".bin", ".wav", ".mid", ".png", ".mp4", ".txt"]), data=st.data())
    def run(suffix, data):
        sample = data.draw(st.sampled_from(sorted(samples)))
        case = data.draw(damaged(samples[sample], others(samples, sample), MAGIC.get(sample, b"")))
        reader_check(tmp_path, suffix, detect_kind, "detect_kind")(case)

    run()


# --- every file under every other reader's name ------------------------------------------------
READERS = {".wav": load_audio, ".flac": load_audio, ".mid": load_midi_score, ".png": load_image, ".jpg": load_image,
           ".gif": load_image, ".mp4": read_video, ".json": MusicDescription.load}


@pytest.mark.parametrize("named_as", sorted(READERS))
def test_mislabelled_files(samples, tmp_path, named_as):
    """PNG bytes named .wav, MIDI named .mp4, ...: the reader for the name, detect_kind and describe."""
    for kind, data in samples.items():
        if kind == named_as:
            continue
        path = write_case(tmp_path, named_as, data, stem=f"really{kind[1:]}_")
        for read, what in ((READERS[named_as], f"{named_as} reader"), (detect_kind, "detect_kind"),
                           (describe, "describe")):
            expect_only_mtm_error(lambda: read(path), named=path, what=f"{what} on {kind} bytes named {named_as}")


# --- cases fuzzing found (each was a crash before its fix) ---------------------------------------
def midi_with(samples, offset: int, replacement: bytes) -> bytes:
    data = samples[".mid"]
    return data[:offset] + replacement + data[offset + len(replacement):]


def _key_signature_midi(sharps: int, mode: int) -> bytes:
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    events = (b"\x00\xff\x59\x02" + struct.pack(">bB", sharps, mode) + b"\x00\x90\x3c\x40\x83\x60\x80\x3c\x00"
              + b"\x00\xff\x2f\x00")
    return header + b"MTrk" + struct.pack(">I", len(events)) + events


@pytest.mark.parametrize("case, data, message", [
    ("mode 200 key signature", lambda s: _key_signature_midi(0, 200), "not a readable MIDI file"),
    ("22 sharps", lambda s: _key_signature_midi(22, 1), "not a readable MIDI file"),
    ("0 ticks per beat", lambda s: midi_with(s, 12, b"\x00\x00"), "0 ticks per beat"),
    ("SMPTE timing", lambda s: midi_with(s, 12, b"\xe7\x28"), "SMPTE"),
    ("tempo of 1 microsecond per beat", lambda s: midi_with(s, 26, b"\x00\x00\x01"), "tempo"),
])
def test_midi_cases_found_by_fuzzing(samples, tmp_path, case, data, message):
    path = write_case(tmp_path, ".mid", data(samples))
    with pytest.raises(MtmError, match=message) as error:
        load_midi_score(path)
    assert path.name in str(error.value)
    expect_only_mtm_error(lambda: read_sync(path), named=path, what="read_sync")


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000, "not valid JSON"),  # RecursionError before
    ('{"tempo": ' + "1" * 5000 + "}", "not valid JSON"),  # ValueError (int digits limit) before
    ('{"duration": ' + "9" * 400 + "}", "malformed description"),  # OverflowError before
    ('{"sections": [{"name": "a", "start": 0, "end": 2, "energy": NaN}], "duration": 4}', "energy"),  # compose crashed
    ('{"energy": [[NaN, 0.5]]}', "energy point"),  # accepted before
    ('{"hit_points": [{"time": 1, "strength": Infinity}]}', "strength"),  # accepted before
    ('{"instruments": {"kazoo": 3}}', "unknown role 'kazoo'"),  # silently ignored before
    ('{"schema_version": -1}', "schema_version"),  # accepted before
    ('{"duration": 3601}', "maximum of 3600 s"),
])
def test_description_cases_found_by_fuzzing(text, message):
    with pytest.raises(MtmError, match=message):
        MusicDescription.from_json(text).validate()


def test_a_description_file_with_bad_fields_is_named(tmp_path):
    """describe() on a JSON description with an unknown mood and no sentence: KeyError in to_sentence before."""
    path = write_case(tmp_path, ".json", b'{"mood": "balm", "sentence": ""}')
    with pytest.raises(MtmError, match=f"{path.name}: unknown mood 'balm'"):
        describe(path)


@pytest.fixture(scope="module")
def sidecar_bytes(tmp_path_factory) -> bytes:
    """A real render's sidecar (4 s, built-in synth)."""
    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import RenderSettings, compose_cue

    cue = compose_cue(MusicDescription(duration=4), seed=1, settings=RenderSettings(synth="builtin"),
                      warn=lambda message: None)
    paths = export_cue(cue, tmp_path_factory.mktemp("sidecar"), name="s")
    return next(p for p in paths if p.name.endswith("_description.json")).read_bytes()


def test_sidecar_reader(sidecar_bytes, tmp_path):
    """`mtm reproduce / extend / regenerate` read a sidecar first: load_sidecar and differences()."""
    from mtm_daw.provenance import differences, load_sidecar

    fuzz(damaged(sidecar_bytes, (corrupt.description_bytes(), corrupt.midi_bytes()), b"{"),
         reader_check(tmp_path, "_description.json", lambda path: differences(load_sidecar(path)), "load_sidecar"),
         examples=25)
    deep = write_case(tmp_path, "_description.json", b"[" * 100_000)
    with pytest.raises(MtmError, match="not a readable sidecar"):  # RecursionError before
        load_sidecar(deep)


def test_dawproject_sync_reader(tmp_path_factory, tmp_path):
    """--sync-from a .dawproject: damaged zips gave zlib.error before; a zip bomb is refused unread."""
    import zipfile

    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import RenderSettings, compose_cue

    cue = compose_cue(MusicDescription(duration=2), seed=1, settings=RenderSettings(synth="builtin"),
                      warn=lambda message: None)
    project = next(p for p in export_cue(cue, tmp_path_factory.mktemp("dawproject"), dawproject=True)
                   if p.suffix == ".dawproject").read_bytes()
    fuzz(damaged(project, (corrupt.midi_bytes(), corrupt.wav_bytes()), b"PK\x03\x04"),
         reader_check(tmp_path, ".dawproject", read_sync, "read_sync"), examples=20)
    bomb = tmp_path / "bomb.dawproject"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.xml", b"<Project>" + b" " * (65 << 20) + b"</Project>")
    with pytest.raises(MtmError, match="bomb.dawproject: its project.xml unpacks to 65 MB"):
        read_sync(bomb)


def test_references_for_the_generator(samples, tmp_path):
    """--reference FILE (audio or MIDI) -> a control signal: only MtmError on damaged files."""
    from mtm_daw.engine.reference import load_reference

    for suffix in (".mid", ".wav"):
        fuzz(damaged(samples[suffix], others(samples, suffix), MAGIC[suffix]),
             reader_check(tmp_path, suffix, lambda path: load_reference(path, 0.5), "load_reference"), examples=10)


def test_audio_with_more_channels_than_the_analysers_take(tmp_path):
    """A flipped WAV header claimed 2817 channels: analysis failed with a message naming no file."""
    body = b"\x00\x01" * 65 * 200
    path = write_case(tmp_path, ".wav", corrupt.wav_header(65, 22050, 16, len(body), body))
    with pytest.raises(MtmError, match=f"{path.name}: 65 channels"):
        analyze_audio(path)
