"""Long audio spooled to disk (mtm_daw.spool): the same samples as in memory, memory that does not grow
with the cue, and a full disk named in one line."""
from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import mtm_daw.spool as spool
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.export import export_cue
from mtm_daw.pipeline import RenderSettings, compose_cue

ROOT = Path(__file__).resolve().parents[1]


def test_a_large_buffer_lives_in_a_file_and_keeps_its_samples_when_let_go(monkeypatch):
    monkeypatch.setattr(spool, "SPOOL_ABOVE_BYTES", 1 << 20)
    small, large = spool.audio_buffer((2, 1000)), spool.audio_buffer((2, 400_000))
    assert not spool.is_spooled(small) and spool.is_spooled(large) and spool.is_spooled(large[:, 10:20])
    assert large.dtype == np.float32 and not large.any()
    ramp = np.linspace(-1, 1, 400_000, dtype=np.float32)
    for start, stop in spool.blocks(400_000, large, size=65536):
        large[0, start:stop] = ramp[start:stop]
        large[1, start:stop] = -ramp[start:stop]
    spool.let_go(large)
    np.testing.assert_array_equal(large[0], ramp)
    np.testing.assert_array_equal(large[1], -ramp)


def _digest(cue) -> dict:
    audio = {role: stem.audio for role, stem in cue.stems.items()} | {"mix": cue.mix}
    return {name: hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest() for name, samples in audio.items()}


@pytest.mark.parametrize("synth", ["auto", "builtin"])
def test_a_spooled_cue_is_the_same_cue_sample_for_sample(monkeypatch, tmp_path, synth):
    description = MusicDescription(genre="synthwave", duration=12.0)  # chorus, echo and reverb carried across blocks
    settings = RenderSettings(synth=synth)
    in_memory = compose_cue(description, seed=5, settings=settings, warn=lambda m: None)
    monkeypatch.setattr(spool, "SPOOL_ABOVE_BYTES", 0)
    monkeypatch.setattr(spool, "BLOCK_SAMPLES", 1 << 14)  # many blocks in a short cue
    spooled = compose_cue(description, seed=5, settings=settings, warn=lambda m: None)
    assert spool.is_spooled(spooled.mix) and all(spool.is_spooled(s.audio) for s in spooled.stems.values())
    assert _digest(spooled) == _digest(in_memory)
    assert spooled.loudness_lufs == in_memory.loudness_lufs
    written = [export_cue(cue, tmp_path / name, name="cue") for name, cue in (("a", in_memory), ("b", spooled))]
    for first, second in zip(*written):
        if first.suffix == ".wav":
            assert first.read_bytes() == second.read_bytes(), first.name


def test_a_full_disk_is_one_clear_error(monkeypatch):
    def no_room(descriptor, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(spool, "SPOOL_ABOVE_BYTES", 0)
    monkeypatch.setattr(os, "posix_fallocate", no_room)
    with pytest.raises(MtmError, match=r"no room for .* GB of audio while rendering \(No space left on device\)"):
        spool.audio_buffer((2, 48000 * 600))


def test_a_file_system_that_cannot_reserve_space_still_spools(monkeypatch):
    def unsupported(descriptor, offset, length):
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(spool, "SPOOL_ABOVE_BYTES", 0)
    monkeypatch.setattr(os, "posix_fallocate", unsupported)
    buffer = spool.audio_buffer((2, 48000))
    buffer[1, -1] = 0.5
    spool.let_go(buffer)
    assert spool.is_spooled(buffer) and buffer[1, -1] == 0.5 and not buffer[0].any()


def test_long_audio_waits_on_disk_not_in_a_ram_folder(monkeypatch):
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)
    on_disk = Path("/var/tmp").is_dir() and os.access("/var/tmp", os.W_OK)
    # /tmp is often tmpfs, which would hold the audio in memory
    assert spool.spool_folder() == ("/var/tmp" if on_disk else tempfile.gettempdir())
    monkeypatch.setenv("TMPDIR", "/tmp")
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    assert spool.spool_folder() == "/tmp"


PEAK_CHILD = """
import sys
import mtm_daw.spool as spool
from mtm_daw.description import MusicDescription
from mtm_daw.pipeline import RenderSettings, compose_cue
from tests.robustness.corrupt import peak_memory_mb
spool.SPOOL_ABOVE_BYTES = int(sys.argv[1])
cue = compose_cue(MusicDescription(genre="pop", duration=150.0), seed=2, settings=RenderSettings(synth="builtin"),
                  warn=lambda m: None)
print("PEAK", peak_memory_mb(), cue.mix.nbytes / 2 ** 20)
"""


def test_spooling_keeps_a_long_cue_out_of_memory():
    """The same 150 s cue made twice in a child: every buffer in memory, then every buffer above 4 MB on disk.
    In memory it holds about seven stem-sized buffers at its peak (dry stems, processed ones, the sum, the
    master's output); spooled, blocks of a few MB."""
    peaks = {}
    for name, threshold in (("in memory", 1 << 62), ("spooled", 4 << 20)):
        child = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(threshold)], cwd=ROOT, capture_output=True,
                               text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = next((l for l in child.stdout.splitlines() if l.startswith("PEAK ")), None)
        assert line, child.stderr[-2000:]
        peaks[name], stem_mb = (float(v) for v in line.split()[1:])
    assert peaks["in memory"] - peaks["spooled"] > 3 * stem_mb, (peaks, stem_mb)


def test_a_cue_whose_wav_files_would_pass_4_gb_is_refused_before_rendering():
    from mtm_daw.render import render_score
    from mtm_daw.render.builtin import BuiltinRenderer
    from mtm_daw.score.score import Note, Score, Track

    forty_minutes = Score(120, (4, 4), "C major", {"melody": Track("melody", 0, [Note(0.0, 1.0, 60, 90)])}, 4800.0)
    with pytest.raises(MtmError, match="40 minutes at 384000 Hz would make WAV files over 4 GB"):
        render_score(forty_minutes, BuiltinRenderer(384000))
    assert render_score(forty_minutes.until(4.0), BuiltinRenderer(384000))["melody"].audio.shape[0] == 2


def test_the_built_in_synth_releases_a_drone_after_30_seconds():
    from mtm_daw.render.synth import render_track
    from mtm_daw.score.score import Note, Track

    drone = Track("harmony", 89, [Note(0.0, 240.0, 48, 100)])  # a pad held two minutes at 120 BPM
    audio = render_track(drone, 120.0, 8000, 8000 * 125)
    assert np.abs(audio[:, 8000 * 25:8000 * 29]).max() > 0.01  # held...
    assert np.abs(audio[:, 8000 * 40:]).max() < 1e-4  # ...then released, not two minutes of one array
