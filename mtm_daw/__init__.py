"""mtm_daw: offline multimodal music generation for DAW users.

    from mtm_daw import MusicDescription, compose_cue, export_cue
    cue = compose_cue(MusicDescription(genre="jazz", tempo=96, key="Bb major", duration=30), seed=1)
    export_cue(cue, "out/")
"""
__version__ = "0.2.0"

from mtm_daw.description import HitPoint, MusicDescription, Section  # noqa: E402
from mtm_daw.errors import Cancelled, MtmError  # noqa: E402
from mtm_daw.score.score import Note, Score, Track  # noqa: E402


def __getattr__(name: str):
    # The audio stack (pedalboard, FluidSynth) loads only when the pipeline is asked for.
    if name in ("compose_cue", "render_midi_cue", "RenderSettings"):
        from mtm_daw import pipeline

        return getattr(pipeline, name)
    if name == "export_cue":
        from mtm_daw.export import export_cue

        return export_cue
    raise AttributeError(f"module 'mtm_daw' has no attribute {name!r}")


__all__ = ["__version__", "MusicDescription", "Section", "HitPoint", "Score", "Track", "Note", "MtmError",
           "Cancelled", "compose_cue", "render_midi_cue", "RenderSettings", "export_cue"]
