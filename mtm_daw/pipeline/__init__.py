"""The cue pipeline: a description (or a MIDI file) made into stems, a mix and files, and every later change
to a cue made as a change of its recipe.

    cue_pipeline.py  CuePipeline (describe -> plan -> compose -> render -> mix -> export) and the functions
                     that make a cue from a Recipe (make_cue, compose_cue, render_midi_cue)
    loop.py          seamless loops: bars cut to the loop, the release tail wrapped into its start
    remake.py        reproduce, extend, regenerate and remix a cue from its sidecar
    sync.py          tempo, meter and key read from a DAW session or a tempo map
"""
from mtm_daw.pipeline.cue_pipeline import (ENGINES, Components, CuePipeline, Rendered, RenderSettings, RunContext,
                                           compose_cue, compose_score, cue_from_score, make_cue, mix_cue,
                                           render_midi_cue, render_stems)

__all__ = ["ENGINES", "Components", "CuePipeline", "Rendered", "RenderSettings", "RunContext", "compose_cue",
           "compose_score", "cue_from_score", "make_cue", "mix_cue", "render_midi_cue", "render_stems"]
