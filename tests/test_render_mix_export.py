import json
import struct

import numpy as np
import pytest
from pedalboard.io import AudioFile

from mtm_daw.errors import MtmError
from mtm_daw.export import export_cue
from mtm_daw.export.wav import read_chunks
from mtm_daw.mix import chain_from_list, chain_to_list, load_vst3, measure_lufs, role_chain
from mtm_daw.render import make_renderer, render_score
from mtm_daw.score.score import Note, Score, Track

from conftest import requires_soundfont

SR = 48000


def _gapped_score() -> Score:
    """Each role plays beats 0-4 and 12-16 at 120 BPM (0-2 s and 6-8 s) and rests in between."""
    def notes(pitches):
        return [Note(start + i * 0.5, 0.5, pitch, 100) for start in (0, 12) for i in range(8) for pitch in pitches]
    tracks = {
        "drums": Track("drums", 0, notes([36, 42]), is_drum=True),
        "bass": Track("bass", 33, notes([38])),
        "harmony": Track("harmony", 48, notes([62, 65, 69])),
        "melody": Track("melody", 73, notes([74])),
    }
    return Score(120.0, (4, 4), "D minor", tracks, 16.0)


def _fmt_bits_per_sample(data: bytes) -> int:
    """Walk the RIFF chunks to the fmt chunk; bits per sample sit at offset 14 in it."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    position = 12
    while position < len(data):
        chunk, size = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "little")
        if chunk == b"fmt ":
            return int.from_bytes(data[position + 22:position + 24], "little")
        position += 8 + size + (size & 1)
    raise AssertionError("no fmt chunk")


def _rms_db(audio, start_s, stop_s):
    window = audio[:, int(start_s * SR):int(stop_s * SR)]
    return 10 * np.log10(np.mean(window ** 2) + 1e-20)


@pytest.mark.parametrize("synth", [pytest.param("soundfont", marks=requires_soundfont), "builtin"])
def test_each_stem_is_audible_where_it_plays_and_silent_elsewhere(synth):
    renderer = make_renderer(synth=synth, warn=lambda m: None)
    stems = render_score(_gapped_score(), renderer, tail_seconds=1.0)
    assert {stem.audio.shape for stem in stems.values()} == {(2, 9 * SR)}
    for role, stem in stems.items():
        assert _rms_db(stem.audio, 0.1, 1.9) > -40, role
        assert _rms_db(stem.audio, 6.1, 7.9) > -40, role
        assert _rms_db(stem.audio, 4.0, 5.9) < -70, role  # two seconds after the last note


def test_explicit_missing_soundfont_is_an_error(tmp_path):
    with pytest.raises(MtmError, match="none.sf2: file not found"):
        make_renderer(soundfont=str(tmp_path / "none.sf2"))
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    with pytest.raises(MtmError, match="not a SoundFont"):
        make_renderer(soundfont=str(fake))


def test_no_soundfont_falls_back_to_builtin_and_says_so(monkeypatch):
    import mtm_daw.render as render

    monkeypatch.setattr(render, "find_soundfont", lambda configured=None: None)
    messages = []
    renderer = render.make_renderer(warn=messages.append)
    assert renderer.name == "builtin"
    assert "built-in synthesiser" in messages[0]


def test_mix_hits_loudness_target_under_ceiling(pop_cue):
    assert measure_lufs(pop_cue.mix, SR) == pytest.approx(-14.0, abs=1.0)
    assert np.abs(pop_cue.mix).max() <= 10 ** (-1 / 20) + 1e-6
    assert pop_cue.mix.shape == pop_cue.stems["drums"].audio.shape


def test_releasing_dry_stems_mixes_the_same_and_empties_the_dict():
    from mtm_daw.mix import mix_stems_with_gains

    renderer = make_renderer(synth="builtin", sample_rate=SR)
    score = _gapped_score()

    def dry():
        return render_score(score, renderer)

    chains = {role: role_chain(role, "pop", score.tempo) for role in score.tracks}
    kept = dry()
    stems_a, mix_a, lufs_a, gains_a = mix_stems_with_gains(kept, chains)
    owned = dry()
    stems_b, mix_b, lufs_b, gains_b = mix_stems_with_gains(owned, chains, release_dry=True)
    assert owned == {} and set(kept) == set(score.tracks), "only the caller that owns the dict gives it up"
    assert np.array_equal(mix_a, mix_b) and gains_a == gains_b and lufs_a == lufs_b
    assert all(np.array_equal(stems_a[role].audio, stems_b[role].audio) for role in score.tracks)


def test_chain_saves_and_loads_as_class_names_and_settings():
    chain = role_chain("melody", "pop", tempo=100)
    saved = chain_to_list(chain)
    assert [name for name, _ in saved] == ["HighpassFilter", "Compressor", "Delay", "Reverb", "Gain"]
    assert dict(saved)["Delay"]["delay_seconds"] == pytest.approx(0.45)  # dotted eighth at 100 BPM
    loaded = chain_from_list(json.loads(json.dumps(saved)))
    audio = np.random.default_rng(0).standard_normal((2, SR)).astype(np.float32) * 0.1
    assert np.allclose(loaded(audio, SR), role_chain("melody", "pop", tempo=100)(audio, SR), atol=1e-6)
    with pytest.raises(MtmError, match="unknown effect"):
        chain_from_list([("Flanger9000", {})])


def test_vst3_that_cannot_load_gives_a_clear_error(tmp_path):
    with pytest.raises(MtmError, match="plugin not found"):
        load_vst3(tmp_path / "missing.vst3")
    broken = tmp_path / "Broken.vst3"
    broken.write_bytes(b"not a plugin")
    with pytest.raises(MtmError, match="Broken.vst3: the plugin could not be loaded"):
        load_vst3(broken)
    with pytest.raises(MtmError, match="not a VST3"):
        load_vst3(tmp_path)


def test_export_writes_24bit_equal_length_tagged_files(pop_cue, tmp_path):
    paths = export_cue(pop_cue, tmp_path / "out", name="my cue")
    names = sorted(p.name for p in paths)
    assert names == sorted(["my-cue_120bpm_Dmin_drums.wav", "my-cue_120bpm_Dmin_bass.wav",
                            "my-cue_120bpm_Dmin_harmony.wav", "my-cue_120bpm_Dmin_melody.wav",
                            "my-cue_120bpm_Dmin_mix.wav", "my-cue_120bpm_Dmin.mid",
                            "my-cue_120bpm_Dmin_description.json"])
    lengths = set()
    for path in paths:
        if path.suffix == ".wav":
            with AudioFile(str(path)) as handle:
                assert handle.samplerate == SR and handle.num_channels == 2
                lengths.add(handle.frames)
                assert handle.file_dtype == "int24"
            assert _fmt_bits_per_sample(path.read_bytes()) == 24
    assert lengths == {pop_cue.mix.shape[1]}
    chunks = read_chunks(tmp_path / "out" / "my-cue_120bpm_Dmin_bass.wav")
    assert b"D minor" in chunks[b"LIST"] and b"mtm_daw" in chunks[b"LIST"]
    flags, root, _, _, beats, denominator, numerator, tempo = struct.unpack("<IHHfIHHf", chunks[b"acid"])
    assert (root, numerator, denominator, tempo) == (62, 4, 4, 120.0)
    assert beats == round(pop_cue.mix.shape[1] / SR * 2)
    sidecar = json.loads((tmp_path / "out" / "my-cue_120bpm_Dmin_description.json").read_text())
    assert sidecar["seed"] == 3 and sidecar["description"]["key"] == "D minor"
    assert not list((tmp_path / "out").glob(".*")), "no temp files left behind"


def test_export_never_overwrites_silently(pop_cue, tmp_path):
    export_cue(pop_cue, tmp_path)
    mix = next(tmp_path.glob("*_mix.wav"))
    before = mix.read_bytes()
    with pytest.raises(MtmError, match="already exists"):
        export_cue(pop_cue, tmp_path)
    assert mix.read_bytes() == before
    export_cue(pop_cue, tmp_path, overwrite=True)


def test_failed_export_leaves_nothing_half_written(pop_cue, tmp_path, monkeypatch):
    import mtm_daw.export as export

    calls = []

    def failing_write(path, audio, sample_rate, **tags):
        calls.append(path)
        path.write_bytes(b"partial")
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_wav", failing_write)
    with pytest.raises(MtmError, match="No space left on device"):
        export_cue(pop_cue, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder(pop_cue, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MtmError, match="not a folder"):
        export_cue(pop_cue, blocker)
    with pytest.raises(MtmError, match="cannot create"):
        export_cue(pop_cue, blocker / "sub")


def test_overwrite_failure_midway_puts_the_old_files_back(pop_cue, tmp_path, monkeypatch):
    import os

    export_cue(pop_cue, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_replace = os.replace
    calls = []

    def failing_replace(source, target):
        if ".part" in os.path.basename(source):  # a new file going into place (the old ones are backed up first)
            calls.append(target)
            if len(calls) == 3:  # two new ones placed, then the disk fails
                raise OSError(5, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr("mtm_daw.export.files.os.replace", failing_replace)
    with pytest.raises(MtmError, match="nothing was changed"):
        export_cue(pop_cue, tmp_path, overwrite=True)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before


def test_stems_are_trimmed_together_never_clipped(pop_cue):
    peaks = [float(np.abs(stem.audio).max()) for stem in pop_cue.stems.values()]
    assert max(peaks) <= 10 ** (-1 / 20) + 1e-6
    assert min(peaks) > 0.01


@requires_soundfont
def test_loading_fluidsynth_keeps_stdout_clean_under_ci(tmp_path):
    """pyfluidsynth prints to stdout when $CI is set; `--json` output must stay parseable."""
    import os
    import subprocess
    import sys
    code = ("from mtm_daw.render.fluid import fluidsynth_available; "
            "assert fluidsynth_available()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_a_struck_key_retriggers_so_stacked_notes_never_pile_up():
    from mtm_daw.render.fluid import note_events

    track = Track("harmony", 0, [Note(0, 4, 60, 90), Note(0, 4, 60, 80), Note(1, 1, 60, 70), Note(0, 2, 64, 90)])
    events = note_events(track, 100.0)  # 100 samples a beat
    assert events == [(0, 1, 60, 90), (0, 1, 64, 90), (100, 0, 60, 0), (100, 1, 60, 70), (200, 0, 60, 0),
                      (200, 0, 64, 0)]


@requires_soundfont
def test_a_track_never_hears_the_ring_of_the_track_rendered_before_it():
    """Crash cymbals at the very end of the drums rang on into the next track on the same synth (0.14 peak
    in the bass's first bar), and FluidSynth's 64-sample blocks moved every note by up to 63 samples with
    the length of the tracks before: a stem changed with the cue's length (and `mtm extend` phased)."""
    bass = Track("bass", 33, [Note(4.0, 1.0, 40, 100), Note(5.3, 1.0, 43, 90)])
    cymbals = Track("drums", 0, [Note(15.0, 0.5, 49, 127), Note(15.5, 0.5, 57, 127)], True)
    renders = []
    for samples in (48000 * 8, 48000 * 9 + 33):  # the cymbals cut off at different points of their ring
        renderer = make_renderer(synth="soundfont", sample_rate=48000, warn=lambda message: None)
        try:
            renderer.render_track(cymbals, 120.0, samples)
            renders.append(renderer.render_track(bass, 120.0, 48000 * 4))
        finally:
            renderer.close()
    assert np.array_equal(renders[0], renders[1])
    assert np.abs(renders[0][:, :48000 * 2]).max() == 0.0 < np.abs(renders[0]).max()  # silent until its note


@requires_soundfont
def test_a_dense_chord_renders_every_key_and_fluidsynth_stays_quiet(capfd):
    """Every key struck 24 times at one instant (30,558 'Ringbuffer full' and 'Failed to allocate' lines
    before, and notes dropped): it sounds exactly as every key struck once, and FluidSynth, whose log
    would say so of any note it could not play, says nothing."""
    once = [Note(0, 2, pitch, 90) for pitch in range(21, 109)]
    said = []

    def render(notes):  # a synth each: what a synth played before can colour its next render
        renderer = make_renderer(synth="soundfont", sample_rate=22050, warn=said.append)
        try:
            return renderer.render_track(Track("harmony", 0, notes), 120.0, 22050 * 2)
        finally:
            renderer.close()

    stacked, single = render(once * 24), render(once)
    assert said == [] and capfd.readouterr().err == ""
    assert np.abs(single).max() > 0.05
    assert np.array_equal(stacked, single)


@requires_soundfont
def test_fluidsynth_messages_become_one_summary_line(monkeypatch, capfd):
    """A synth with one voice drops the rest of a chord: FluidSynth's line per dropped note becomes one
    summary through `warn`, and nothing reaches the terminal."""
    from mtm_daw.render import fluid

    monkeypatch.setattr(fluid, "POLYPHONY", 1)
    said = []
    renderer = make_renderer(synth="soundfont", sample_rate=22050, warn=said.append)
    try:
        renderer.render_track(Track("melody", 0, [Note(0, 1, pitch, 90) for pitch in (60, 64, 67, 72)]), 120.0, 22050)
    finally:
        renderer.close()
    assert len(said) == 1 and said[0].startswith("melody: fluidsynth: "), said
    assert " messages while rendering, most often: " in said[0]
    assert "Polyphony exceeded" in said[0]
    assert capfd.readouterr().err == ""


@requires_soundfont
def test_tracks_rendered_at_once_on_two_synths_sound_as_on_one():
    """A cue's renderer plays two tracks at once on two synths: every stem comes out sample for sample as
    one synth makes it, the second time round too (each synth starts every track from one state)."""
    from mtm_daw.render import find_soundfont, fluid

    score = _gapped_score()
    stems = {}
    for synths in (1, 2):
        renderer = fluid.FluidSynthRenderer(find_soundfont(None), 22050, synths=synths)
        try:
            assert renderer.tracks_at_once == synths
            stems[synths] = render_score(score, renderer, tail_seconds=1.0)
            stems[synths]["again"] = render_score(score, renderer, tail_seconds=1.0)["drums"]
        finally:
            renderer.close()
    for role, stem in stems[1].items():
        assert np.array_equal(stem.audio, stems[2][role].audio), role
    assert min(np.abs(stem.audio).max() for stem in stems[2].values()) > 0.01


@requires_soundfont
def test_fluidsynth_messages_stay_with_their_track_when_two_render_at_once(monkeypatch, capfd):
    """Two synths log at once: each track's summary line counts what its own synth said, as one synth
    rendering the tracks in turn counts it."""
    from mtm_daw.render import find_soundfont, fluid

    monkeypatch.setattr(fluid, "POLYPHONY", 1)  # every chord and overlapping release drops notes
    said = {1: [], 2: []}
    for synths in (1, 2):
        renderer = fluid.FluidSynthRenderer(find_soundfont(None), 22050, warn=said[synths].append, synths=synths)
        try:
            for _ in range(3):
                render_score(_gapped_score(), renderer, tail_seconds=1.0)
        finally:
            renderer.close()
    assert len(said[1]) == 12 and sorted(said[1]) == sorted(said[2]), said
    assert capfd.readouterr().err == ""


def _record_how_tracks_end(renderer, failing_role: str | None = None) -> list[str]:
    """renderer.render_track wrapped: each call's end ("finished", "cancelled") in the list returned; a track of
    `failing_role` fails at its start ("failed", OSError)."""
    from mtm_daw.errors import Cancelled

    ended = []
    original = renderer.render_track

    def render_track(track, *args, **kwargs):
        if track.role == failing_role:
            ended.append("failed")
            raise OSError("disk full")
        try:
            audio = original(track, *args, **kwargs)
        except Cancelled:
            ended.append("cancelled")
            raise
        ended.append("finished")
        return audio

    renderer.render_track = render_track
    return ended


@requires_soundfont
def test_a_cancel_stops_a_long_track_while_it_renders():
    """A cancel is seen while a long track renders (not only between tracks): the track stops at its next
    block, no other track starts, and the synths come back for the next render."""
    from mtm_daw.errors import Cancelled
    from mtm_daw.render import find_soundfont, fluid

    notes = [Note(beat * 0.5, 0.5, 60 + beat % 12, 90) for beat in range(2400)]  # ten minutes at 120 BPM
    score = Score(120.0, (4, 4), "C major", {"harmony": Track("harmony", 0, notes),
                                              "melody": Track("melody", 73, notes)}, 1200.0)
    renderer = fluid.FluidSynthRenderer(find_soundfont(None), 22050, synths=2)
    ended = _record_how_tracks_end(renderer)
    calls = []

    def progress(fraction):
        calls.append(fraction)
        raise Cancelled("cancelled by the user")

    try:
        with pytest.raises(Cancelled):
            render_score(score, renderer, progress=progress)
        assert calls == [0.0] and ended == ["cancelled"]  # one track at a time: its stems go to disk
        assert render_score(score.until(8.0), renderer)["melody"].audio.shape == (2, 22050 * 6)  # 4 s and the tail
    finally:
        renderer.close()


@requires_soundfont
def test_a_cancel_stops_the_tracks_rendering_at_once_and_starts_no_other():
    """Two synths, four tracks of 80 s (held in memory, so two render at once): a cancel at the first look
    stops both running tracks mid-way and the other two never start."""
    from mtm_daw.errors import Cancelled
    from mtm_daw.render import find_soundfont, fluid

    notes = [Note(beat * 0.5, 0.5, 60 + beat % 12, 90) for beat in range(320)]
    score = Score(120.0, (4, 4), "C major", {role: Track(role, program, notes) for role, program in
                                             (("bass", 33), ("harmony", 0), ("melody", 73), ("pad", 89))}, 160.0)
    renderer = fluid.FluidSynthRenderer(find_soundfont(None), 48000, synths=2)
    ended = _record_how_tracks_end(renderer)

    def cancel_at_once(fraction):
        raise Cancelled("cancelled by the user")

    try:
        with pytest.raises(Cancelled):
            render_score(score, renderer, progress=cancel_at_once)
        assert ended == ["cancelled", "cancelled"]
    finally:
        renderer.close()


@requires_soundfont
def test_a_track_that_fails_ends_the_render_at_once():
    """The second track fails at its start while the first, long one renders: the error comes out at once
    (not after the first track), the first is stopped mid-way and the tracks after them never start."""
    from mtm_daw.render import find_soundfont, fluid

    notes = [Note(beat * 0.5, 0.5, 60 + beat % 12, 90) for beat in range(320)]
    score = Score(120.0, (4, 4), "C major", {role: Track(role, 0, notes) for role in
                                             ("bass", "harmony", "melody", "pad")}, 160.0)
    renderer = fluid.FluidSynthRenderer(find_soundfont(None), 48000, synths=2)
    ended = _record_how_tracks_end(renderer, failing_role="harmony")
    try:
        with pytest.raises(OSError, match="disk full"):
            render_score(score, renderer)
        assert sorted(ended) == ["cancelled", "failed"]
    finally:
        renderer.close()


@requires_soundfont
@pytest.mark.parametrize("rate", [96000, 176400, 192000])
def test_a_session_above_96_khz_renders_at_pitch(rate):
    """FluidSynth stops at 96 kHz: a 192 kHz DAW session got a render made at 44.1 kHz and labelled
    192 kHz (four times too fast and high, silently); now it is made at 96 kHz and resampled."""
    renderer = make_renderer(synth="soundfont", sample_rate=rate)
    try:
        audio = renderer.render_track(Track("melody", 0, [Note(0, 2, 69, 100)]), 120.0, rate)  # A4 for 1 s
    finally:
        renderer.close()
    assert audio.shape == (2, rate)
    mono = audio.mean(axis=0)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    assert np.argmax(spectrum) * rate / len(mono) == pytest.approx(440.0, abs=2.0)
