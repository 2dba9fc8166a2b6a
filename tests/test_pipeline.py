import numpy as np
import pytest

from mtm_daw.data import DEMO_IMAGE, DEMO_VIDEO
from mtm_daw.description import MusicDescription
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.media import iter_frames, load_image, probe_video
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.progress import CancelToken


def test_progress_rises_to_one_through_the_stages():
    seen = []
    compose_cue(MusicDescription(duration=4), progress=lambda stage, fraction: seen.append((stage, fraction)),
                warn=lambda m: None)
    stages = [stage for stage, _ in seen]
    assert stages.index("compose") < stages.index("render") < stages.index("mix")
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_cancel_stops_the_work():
    token = CancelToken()

    def cancel_when_rendering(stage, fraction):
        if stage == "render":
            token.cancel()

    with pytest.raises(Cancelled):
        compose_cue(MusicDescription(duration=8), progress=cancel_when_rendering, cancel=token, warn=lambda m: None)


def test_builtin_cue_has_all_stems_and_records_its_renderer(builtin_cue):
    assert builtin_cue.renderer == "builtin"
    assert set(builtin_cue.stems) == {"drums", "bass", "harmony", "melody"}
    for stem in builtin_cue.stems.values():
        assert np.sqrt(np.mean(stem.audio ** 2)) > 1e-3


def test_unknown_engine_and_plugin_role():
    with pytest.raises(MtmError, match="unknown engine"):
        compose_cue(MusicDescription(duration=2), engine="diffusion-9000")
    with pytest.raises(MtmError, match="role 'drums'"):
        compose_cue(MusicDescription(duration=2, roles=("bass",)),
                    settings=RenderSettings(plugins={"drums": ["x.vst3"]}), warn=lambda m: None)


def test_demo_media_is_what_it_says():
    info = probe_video(DEMO_VIDEO)
    assert info.duration == pytest.approx(9.0, abs=0.1) and (info.width, info.height) == (320, 180)
    brightness = {round(frame.time): frame.rgb.mean() for frame in iter_frames(DEMO_VIDEO, analysis_fps=1.0)}
    assert brightness[1] < 60 < brightness[4] and brightness[4] > brightness[7]  # night, day, grey
    image = load_image(DEMO_IMAGE)
    assert image.pixels[:100].mean() > image.pixels[-50:].mean()  # bright sky over a dark horizon
