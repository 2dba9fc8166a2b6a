"""Reading audio, images and video, and telling input kinds apart, on small files made here."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from pedalboard.io import AudioFile
from PIL import Image as PILImage

from mtm_daw.errors import MtmError
from mtm_daw.media import detect_kind, iter_frames, load_audio, load_image, probe_video
from mtm_daw.media import audio as audio_module


# ---------------------------------------------------------------- helpers (real files on disk)

def write_audio(path: Path, seconds: float = 1.0, sr: int = 44100, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    samples = np.stack([tone * (1.0 - 0.5 * c) for c in range(channels)])  # (channels, n)
    with AudioFile(str(path), "w", sr, channels) as f:
        f.write(samples)
    return samples


def write_video(path: Path, codec: str = "mpeg4", fps: int = 10, seconds: float = 2.0,
                size: tuple[int, int] = (64, 48), with_audio: bool = False,
                rotation: int = 0) -> None:
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=44100) if with_audio else None
        for i in range(int(fps * seconds)):
            rgb = np.zeros((height, width, 3), np.uint8)
            rgb[: height // 4, : width // 4] = 255  # a white block in the stored top-left corner
            rgb[..., 2] = (i * 12) % 256
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _write_silence(container, sound, seconds)


def write_audio_only_mp4(path: Path, seconds: float = 1.0) -> None:
    with av.open(str(path), "w", format="mp4") as container:
        _write_silence(container, container.add_stream("aac", rate=44100), seconds)


def _write_silence(container, stream, seconds: float) -> None:
    for k in range(int(44100 * seconds / 1024)):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate, frame.pts = 44100, k * 1024
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def write_midi(path: Path) -> None:
    track = bytes([0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00])
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 0, 96])
                     + b"MTrk" + len(track).to_bytes(4, "big") + track)


def gradient_rgb(width: int = 40, height: int = 30) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)
    return np.stack([np.tile(x, (height, 1)), np.tile(y[:, None], (1, width)),
                     np.full((height, width), 128.0)], axis=2).astype(np.uint8)


# ---------------------------------------------------------------- audio

@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_load_audio_reads_back_what_was_written(tmp_path, ext):
    path = tmp_path / f"tone.{ext}"
    written = write_audio(path, seconds=1.0, sr=44100, channels=2)
    audio = load_audio(path)
    assert audio.samples.shape == (2, 44100) and audio.samples.dtype == np.float32
    assert audio.sample_rate == 44100 and audio.path == path
    assert audio.duration == pytest.approx(1.0)
    np.testing.assert_allclose(audio.samples, written, atol=1e-4)


@pytest.mark.parametrize("ext", ["mp3", "ogg"])
def test_load_audio_reads_lossy_formats(tmp_path, ext):
    path = tmp_path / f"tone.{ext}"
    write_audio(path, seconds=1.0, sr=44100, channels=2)
    audio = load_audio(path, sample_rate=22050)
    assert audio.samples.shape[0] == 2 and audio.sample_rate == 22050
    # pedalboard keeps the MP3 encoder delay and padding (~1 frame), so allow a little extra
    assert audio.duration == pytest.approx(1.0, abs=0.06)
    assert np.max(np.abs(audio.samples[0])) == pytest.approx(0.5, abs=0.05)


def test_load_audio_resamples_and_mixes_down(tmp_path):
    path = tmp_path / "tone.wav"
    write_audio(path, seconds=1.5, sr=44100, channels=2)
    audio = load_audio(path, sample_rate=22050, mono=True)
    assert audio.sample_rate == 22050
    assert audio.samples.shape[0] == 1
    assert abs(audio.samples.shape[1] - int(1.5 * 22050)) <= 2
    assert audio.duration == pytest.approx(1.5, abs=1e-3)
    # the 440 Hz tone survives resampling: the mono mix of channels at 1.0 and 0.5 -> 0.75 * 0.5
    assert np.max(np.abs(audio.samples)) == pytest.approx(0.375, abs=0.01)


def test_load_audio_max_seconds_reads_a_window(tmp_path, monkeypatch):
    path = tmp_path / "long.wav"
    write_audio(path, seconds=2.0, sr=8000, channels=1)
    assert load_audio(path, max_seconds=0.5).samples.shape == (1, 4000)
    monkeypatch.setattr(audio_module, "MAX_INPUT_SECONDS", 1.0)
    for window in (None, 1.0):  # the reader policy: the same verdict with or without a window
        with pytest.raises(MtmError, match=r"long\.wav: .*too long"):
            load_audio(path, max_seconds=window)


def _bad_audio_files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "garbage.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    (tmp_path / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(4000))
    good = tmp_path / "good.wav"
    write_audio(good, seconds=0.5)
    (tmp_path / "header_only.wav").write_bytes(good.read_bytes()[:30])
    with AudioFile(str(tmp_path / "no_frames.wav"), "w", 44100, 1):
        pass
    names = ["missing.wav", "folder.wav", "empty.wav", "garbage.wav", "garbage.mp3",
             "header_only.wav", "no_frames.wav"]
    return {name: tmp_path / name for name in names}


def test_load_audio_bad_inputs_name_the_file(tmp_path):
    for name, path in _bad_audio_files(tmp_path).items():
        with pytest.raises(MtmError) as caught:
            load_audio(path)
        assert name in str(caught.value), str(caught.value)


def test_load_audio_bad_arguments(tmp_path):
    path = tmp_path / "tone.wav"
    write_audio(path, seconds=0.2)
    with pytest.raises(MtmError, match="sample rate"):
        load_audio(path, sample_rate=0)
    with pytest.raises(MtmError, match="max_seconds"):
        load_audio(path, max_seconds=-1)


# ---------------------------------------------------------------- images

def _save_image_variants(tmp_path: Path) -> dict[str, Path]:
    rgb = gradient_rgb()
    files = {}

    def save(name: str, image: PILImage.Image, **kwargs) -> None:
        files[name] = tmp_path / name
        image.save(files[name], **kwargs)

    save("rgb.png", PILImage.fromarray(rgb))
    alpha = np.zeros((30, 40), np.uint8)
    alpha[:, 20:] = 255  # left half transparent
    save("rgba.png", PILImage.fromarray(np.dstack([rgb, alpha]), "RGBA"))
    save("cmyk.jpg", PILImage.fromarray(rgb).convert("CMYK"), quality=95)
    save("grey16.png", PILImage.fromarray((np.arange(1200).reshape(30, 40) * 50).astype(np.uint16)))
    save("grey.jpg", PILImage.fromarray(rgb).convert("L"))
    save("la.png", PILImage.fromarray(rgb).convert("LA"))
    save("palette.png", PILImage.fromarray(rgb).convert("P", palette=PILImage.Palette.ADAPTIVE))
    save("bilevel.bmp", PILImage.fromarray(rgb).convert("1"))
    save("float.tif", PILImage.fromarray(rgb[..., 0].astype(np.float32) / 255.0, "F"))
    frames = [PILImage.fromarray(np.full((30, 40, 3), c, np.uint8)) for c in (200, 20)]
    save("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0)
    save("animated.webp", frames[0], save_all=True, append_images=frames[1:], duration=100)
    return files


def test_load_image_every_mode_gives_rgb_uint8(tmp_path):
    for name, path in _save_image_variants(tmp_path).items():
        image = load_image(path)
        assert image.pixels.dtype == np.uint8, name
        assert image.pixels.shape == (30, 40, 3), name
        assert (image.width, image.height) == (40, 30) and image.source_size == (40, 30), name


def test_load_image_details(tmp_path):
    files = _save_image_variants(tmp_path)
    rgba = load_image(files["rgba.png"]).pixels
    assert rgba[:, :20].max() == 0  # transparent -> black
    assert rgba[:, 20:].max() > 100
    cmyk = load_image(files["cmyk.jpg"]).pixels.astype(int)
    assert np.abs(cmyk - gradient_rgb()).mean() < 12  # colours survive the CMYK round trip
    grey16 = load_image(files["grey16.png"]).pixels
    assert grey16[..., 0].max() == pytest.approx(1199 * 50 / 257, abs=1)  # 16-bit scaled, not clipped
    assert np.all(grey16[..., 0] == grey16[..., 2])
    assert load_image(files["animated.gif"]).pixels.mean() > 150  # the first (bright) frame
    assert load_image(files["animated.webp"]).pixels.mean() > 150


def test_load_image_exif_orientation_and_analysis_size(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = PILImage.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to display
    PILImage.fromarray(gradient_rgb(1200, 800)).save(path, exif=exif)
    image = load_image(path)
    assert image.source_size == (800, 1200)
    assert (image.width, image.height) == (341, 512)  # portrait, long side 512
    assert load_image(path, max_side=100).pixels.shape == (100, 67, 3)
    big = tmp_path / "big.jpg"  # large JPEGs decode at a reduced scale, the true size is kept
    PILImage.fromarray(gradient_rgb(3000, 2000)).save(big, exif=exif)
    image = load_image(big)
    assert image.source_size == (2000, 3000) and image.pixels.shape == (512, 341, 3)


def test_load_image_bad_inputs_name_the_file(tmp_path):
    PILImage.fromarray(gradient_rgb()).save(tmp_path / "ok.png")
    noise = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    PILImage.fromarray(noise).save(tmp_path / "noise.png")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "noise.png").read_bytes()[:1000])
    (tmp_path / "garbage.jpg").write_bytes(b"\xff\xd8\xff" + bytes(500))
    (tmp_path / "notes.png").write_text("this is not a picture")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "folder.png").mkdir()
    for name in ["truncated.png", "garbage.jpg", "notes.png", "empty.png", "folder.png", "missing.png"]:
        with pytest.raises(MtmError) as caught:
            load_image(tmp_path / name)
        assert name in str(caught.value), str(caught.value)
    with pytest.raises(MtmError, match=r"ok\.png: 40 x 30 pixels is too large"):
        load_image(tmp_path / "ok.png", max_pixels=1000)


# ---------------------------------------------------------------- video

@pytest.mark.parametrize("codec, ext", [("mpeg4", "avi"), ("libx264", "mp4")])
def test_probe_video(tmp_path, codec, ext):
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} not in this PyAV build")
    path = tmp_path / f"clip.{ext}"
    write_video(path, codec=codec, with_audio=(ext == "mp4"))
    info = probe_video(path)
    assert info.duration == pytest.approx(2.0, abs=0.15)
    assert info.fps == pytest.approx(10.0)
    assert (info.width, info.height) == (64, 48)
    assert info.has_audio == (ext == "mp4")
    assert info.frame_count == 20 and info.rotation == 0


def test_iter_frames_samples_by_time_and_shrinks(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, fps=10, seconds=2.0, size=(64, 48))
    frames = list(iter_frames(path, analysis_fps=4.0, max_side=32))
    assert len(frames) == 8  # 4 per second for 2 s
    times = [f.time for f in frames]
    assert times[0] == pytest.approx(0.0) and all(b > a for a, b in zip(times, times[1:]))
    assert all(f.rgb.shape == (24, 32, 3) and f.rgb.dtype == np.uint8 for f in frames)
    assert len(list(iter_frames(path, analysis_fps=100.0))) == 20  # never more than the source has
    assert len(list(iter_frames(path, analysis_fps=4.0, max_seconds=1.0))) == 4


def test_iter_frames_honours_rotation(tmp_path):
    path = tmp_path / "phone.mp4"
    write_video(path, codec="libx264", size=(64, 48), seconds=0.5, rotation=90)
    info = probe_video(path)
    assert info.rotation == 90 and (info.width, info.height) == (48, 64)
    rgb = next(iter_frames(path, max_side=64)).rgb
    assert rgb.shape == (64, 48, 3)
    # a quarter turn counter-clockwise moves the stored top-left block to the bottom-left
    assert rgb[-8:, :8, 1].mean() > 200 and rgb[:8, :8, 1].mean() < 50


def test_video_bad_inputs_name_the_file(tmp_path):
    write_audio_only_mp4(tmp_path / "voice.mp4")
    write_audio(tmp_path / "song.wav", seconds=0.3)
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))
    (tmp_path / "empty.mov").write_bytes(b"")
    cases = {"voice.mp4": "has no video stream", "song.wav": "has no video stream",
             "garbage.mp4": "not a readable video", "empty.mov": "empty", "missing.mp4": "not found"}
    for name, message in cases.items():
        for call in (probe_video, lambda p: iter_frames(p)):
            with pytest.raises(MtmError) as caught:
                call(tmp_path / name)  # iter_frames checks the file before the first frame
            assert name in str(caught.value) and message in str(caught.value), str(caught.value)


# ---------------------------------------------------------------- kinds

def test_detect_kind_by_extension_and_by_content(tmp_path):
    write_audio(tmp_path / "a.wav", seconds=0.1)
    write_audio(tmp_path / "a.flac", seconds=0.1)
    write_midi(tmp_path / "a.mid")
    PILImage.fromarray(gradient_rgb()).save(tmp_path / "a.png")
    PILImage.fromarray(gradient_rgb()).save(tmp_path / "a.jpg")
    write_video(tmp_path / "a.mp4", codec="libx264", seconds=0.3)
    write_video(tmp_path / "a.mkv", codec="mpeg4", seconds=0.3)
    (tmp_path / "idea.txt").write_text("a gentle piano melody, tender and nostalgic")
    expected = {"a.wav": "audio", "a.flac": "audio", "a.mid": "midi", "a.png": "image",
                "a.jpg": "image", "a.mp4": "video", "a.mkv": "video", "idea.txt": "text"}
    for name, kind in expected.items():
        assert detect_kind(tmp_path / name) == kind, name
        # the same bytes without a usable extension are recognised by sniffing
        for disguise in (name.replace(".", "_"), name + ".bin"):
            (tmp_path / disguise).write_bytes((tmp_path / name).read_bytes())
            assert detect_kind(tmp_path / disguise) == kind, disguise
    (tmp_path / "prompt").write_text("dark synthwave, 100 bpm, D minor — driving", encoding="utf-8")
    assert detect_kind(tmp_path / "prompt") == "text"


def test_detect_kind_unknown_or_bad_names_the_file(tmp_path):
    (tmp_path / "blob.dat").write_bytes(bytes([0, 1, 2, 3, 250, 251, 0, 7]) * 64)
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "folder.wav").mkdir()
    for name in ["blob.dat", "empty.bin", "folder.wav", "missing.mp4"]:
        with pytest.raises(MtmError) as caught:
            detect_kind(tmp_path / name)
        assert name in str(caught.value), str(caught.value)


_QUADRANTS = ((200, 30, 40), (20, 180, 60), (30, 40, 210), (128, 128, 128))


@pytest.mark.parametrize("colorspace", ["ITU601", "ITU709"])
@pytest.mark.parametrize("color_range", ["MPEG", "JPEG"])
def test_large_frames_are_read_from_their_planes_in_the_right_colours(colorspace, color_range):
    """A 720p 4:2:0 frame is shrunk straight from its Y/U/V planes: the tagged matrix and range decide
    the colours, as swscale would."""
    from mtm_daw.media.video import _small_rgb

    rgb = np.zeros((720, 1280, 3), np.uint8)
    for index, colour in enumerate(_QUADRANTS):
        rgb[360 * (index // 2):360 * (index // 2 + 1), 640 * (index % 2):640 * (index % 2 + 1)] = colour
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=colorspace, dst_color_range=color_range)
    small = _small_rgb(frame, 160)
    assert small.shape == (90, 160, 3)
    for index, colour in enumerate(_QUADRANTS):
        centre = small[22 + 45 * (index // 2), 40 + 80 * (index % 2)].astype(int)
        assert np.abs(centre - colour).max() <= 4, (index, centre.tolist(), colour)


def test_plane_sampling_agrees_with_swscale_area_on_texture():
    from mtm_daw.media.video import _small_rgb

    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, (45, 80, 3), dtype=np.uint8)
    rgb = np.kron(coarse, np.ones((16, 16, 1), np.uint8))  # 720x1280, blocks of 16 pixels
    rgb = np.clip(rgb.astype(int) + rng.integers(-20, 21, rgb.shape), 0, 255).astype(np.uint8)  # fine grain
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    area = frame.reformat(width=160, height=90, format="rgb24", interpolation="AREA").to_ndarray().astype(float)
    sampled = _small_rgb(frame, 160).astype(float)
    assert np.abs(area.mean(axis=(0, 1)) - sampled.mean(axis=(0, 1))).max() < 2.5
    assert np.abs(area - sampled).mean() < 8
