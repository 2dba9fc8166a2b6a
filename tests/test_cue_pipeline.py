"""CuePipeline: it runs on the components it holds, its stages take and return typed objects, and
stage by stage it makes the same cue as compose_cue; progress and cancel travel in one RunContext."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mtm_daw.cue import Cue
from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import Generator
from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.errors import Cancelled
from mtm_daw.pipeline import CuePipeline, Rendered, RenderSettings, RunContext, compose_cue
from mtm_daw.plan.plan import Plan
from mtm_daw.progress import CancelToken
from mtm_daw.provenance import Recipe
from mtm_daw.score.score import Score

BUILTIN = RenderSettings(synth="builtin")  # quick and the same on every machine


class CountingEncoder:
    """The shipped text encoder, counting the sentences it is asked to embed."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self._encoder = TextEncoder.default()

    def encode(self, sentences):
        self.sentences += list(sentences)
        return self._encoder.encode(sentences)


def test_the_pipeline_runs_on_the_components_it_holds():
    int8 = model_entry("ecmg", WEIGHTS_DIR)["int8"]
    generator = Generator(WEIGHTS_DIR / int8["file"], int8["sha256"])  # not the default (fp32) one
    encoder = CountingEncoder()
    pipeline = CuePipeline(text_encoder=encoder, generator=generator, settings=BUILTIN)
    description = MusicDescription(genre="funk", tempo=100, duration=6, sentence="tight funk groove")
    cue = pipeline(description, seed=2, engine="dit")
    assert encoder.sentences == ["tight funk groove"]
    assert cue.parameters["model"]["file"] == int8["file"] and cue.parameters["model"]["sha256"] == int8["sha256"]
    assert cue.parameters["recipe"]["render"]["synth"] == "builtin"
    # the recipe names the model held, so `mtm reproduce` runs the same file and makes the same cue
    assert cue.parameters["recipe"]["generation"]["precision"] == "int8"
    again = CuePipeline(settings=BUILTIN).make(Recipe.from_dict(cue.parameters["recipe"]))
    np.testing.assert_array_equal(again.mix, cue.mix)
    # the words of a text idea are matched with the pipeline's encoder too
    encoder.sentences.clear()
    pipeline.describe("something for a rainy afternoon")
    assert encoder.sentences, "the zero-shot match used the pipeline's encoder"


@pytest.mark.parametrize("start", [0.0, 0.4])  # 0.4: a picture's lead-in before the first beat
def test_stage_by_stage_makes_the_same_cue_as_compose_cue(tmp_path, start):
    pipeline = CuePipeline(settings=BUILTIN)
    description = replace(pipeline.describe("bossa nova guitar, relaxed, 8 seconds"), start=start)
    assert isinstance(description, MusicDescription) and description.genre == "bossa-nova"
    assert isinstance(pipeline.plan(description, seed=5), Plan)
    score = pipeline.compose(description, seed=5, engine="baseline")
    assert isinstance(score, Score)
    rendered = pipeline.render(score)
    assert isinstance(rendered, Rendered) and rendered.renderer == "builtin"
    assert set(rendered.stems) == set(score.tracks)
    cue = pipeline.mix(rendered, score, description, seed=5, engine="baseline")
    assert isinstance(cue, Cue) and rendered.stems == {}, "the dry stems were used up"
    whole = compose_cue(description, seed=5, engine="baseline", settings=BUILTIN, warn=lambda message: None)
    assert cue.description.instruments == whole.description.instruments and cue.description.sentence
    np.testing.assert_array_equal(cue.mix, whole.mix)
    lead_in = round(start * BUILTIN.sample_rate)
    assert not np.abs(cue.mix[:, :lead_in]).any() and np.abs(cue.mix[:, lead_in:lead_in + 4800]).any()
    for role, stem in whole.stems.items():
        np.testing.assert_array_equal(cue.stems[role].audio, stem.audio)
    written = pipeline.export(whole, tmp_path, name="bossa")
    assert all(path.exists() for path in written) and any(path.suffix == ".mid" for path in written)


def test_progress_and_cancel_travel_in_the_run_context():
    pipeline = CuePipeline(settings=BUILTIN)
    description = MusicDescription(genre="house", tempo=124, duration=4)
    stages = []
    pipeline(description, seed=1, engine="baseline",
             context=RunContext(progress=lambda stage, fraction: stages.append(stage), warn=lambda message: None))
    assert {"compose", "render", "mix"} <= set(stages)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        pipeline(description, seed=1, engine="baseline", context=RunContext(cancel=token, warn=lambda message: None))
    with pytest.raises(Cancelled):
        pipeline.render(pipeline.compose(description, engine="baseline"), RunContext(cancel=token))
