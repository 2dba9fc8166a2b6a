"""Export a Cue for a DAW: 24-bit WAV stems of equal length from time 0, the mix, type-1 MIDI,
and a description/sidecar JSON. File names carry tempo and key: cue_120bpm_Dmin_bass.wav."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Callable

from mtm_daw import __version__, provenance
from mtm_daw.cue import Cue
from mtm_daw.errors import MtmError
from mtm_daw.export.files import FileSet, prepare_output_folder
from mtm_daw.export.wav import WavTags, write_wav
from mtm_daw.score.midi import score_to_midi

_UNSAFE = re.compile(r"[^A-Za-z0-9._#-]+")
SIDECAR_SUFFIX = "_description.json"


def audio_file_name(prefix: str, part: str) -> str:
    """The WAV of one stem (or of the mix, part "mix") among a cue's files."""
    return f"{prefix}_{part.replace(' ', '-')}.wav"


def write_preview(cue: Cue, path: Path) -> dict:
    """A preview cue's mix (its first bars, see mtm_daw.pipeline.RunContext) as a 16-bit WAV at `path`, written
    whole before it is renamed into place, so a player never opens half a file: {path, seconds (the file),
    music_seconds (where its bars end, before the release tail: where the whole cue goes on)}."""
    partial = path.with_name(path.name + ".part")
    try:
        write_wav(partial, cue.mix, cue.sample_rate, bit_depth=16)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return {"path": str(path), "seconds": cue.mix.shape[1] / cue.sample_rate,
            "music_seconds": cue.score.length_seconds}


def file_prefix(cue: Cue, name: str = "cue") -> str:
    clean = _UNSAFE.sub("-", name).strip("-.") or "cue"
    tempo = f"{cue.score.tempo:g}".replace(".", "p")
    return f"{clean}_{tempo}bpm_{cue.score.parsed_key.tag}"


def sidecar(cue: Cue, name: str | None = None) -> dict:
    """Everything needed to know (and later redo, `mtm reproduce`) how the cue was made: its recipe,
    the models with version and checksum, the SoundFont, the references with their source and licence,
    and the software it ran on."""
    parameters = {key: value for key, value in cue.parameters.items() if key != "recipe"}
    recipe = cue.parameters.get("recipe")
    document = {
        "sidecar_version": provenance.SIDECAR_VERSION,
        "mtm_daw_version": __version__,
        "name": name,
        "engine": cue.engine,
        "renderer": cue.renderer,
        "seed": cue.seed,
        "sample_rate": cue.sample_rate,
        "loudness_lufs": round(cue.loudness_lufs, 2) if math.isfinite(cue.loudness_lufs) else None,  # silence: null
        "loop_bars": cue.loop_bars,
        "parameters": parameters,
        "description": cue.description.to_dict(),
        "score": {"tempo": cue.score.tempo, "time_signature": list(cue.score.time_signature),
                  "key": cue.score.key, "bars": cue.score.bars, "length_beats": cue.score.length_beats},
        "stems": {role: {"program": stem.program, "samples": stem.audio.shape[1]} for role, stem in cue.stems.items()},
        "recipe": recipe,
        "models": {},
        "soundfont": provenance.soundfont_used(cue.renderer, parameters.get("render", {})),
        "references": [],
        "environment": provenance.environment(),
    }
    if recipe is not None:
        parsed = provenance.Recipe.from_dict(recipe)
        document["models"] = provenance.models_used(parsed, parameters)
        document["references"] = provenance.references_used(parsed)
    return document


def export_cue(cue: Cue, folder: str | Path, name: str = "cue", overwrite: bool = False,
               progress: Callable[[float], None] = lambda fraction: None, picture: Path | None = None,
               dawproject: bool = False, mix_original_db: float | None = None) -> list[Path]:
    """Write every file of the cue or none of them. Returns the written paths.

    picture: a video to copy with the mix as its soundtrack (`<prefix>_scored.mp4`); the clip's own sound
    stays as a second track, and with mix_original_db is also mixed under the cue (mux.mux_soundtrack).
    dawproject: also write `<prefix>.dawproject`, the cue as a DAW session (mtm_daw.export.dawproject).
    """
    lengths = {stem.audio.shape[1] for stem in cue.stems.values()} | {cue.mix.shape[1]}
    if len(lengths) != 1:
        raise MtmError(f"internal: stems differ in length ({sorted(lengths)})")
    folder = prepare_output_folder(folder)
    prefix = file_prefix(cue, name)
    files = FileSet(folder, overwrite)
    score = cue.score
    key = score.parsed_key
    beats = int(round(score.grid.beats(cue.mix.shape[1] / cue.sample_rate)))

    def tags(part: str, pitched: bool) -> WavTags:
        return WavTags(title=f"{prefix} {part}", genre=cue.description.genre,
                       comment=f"{score.tempo:g} BPM, {key.name}, {part}. {cue.description.sentence}".strip(),
                       software=f"mtm_daw {__version__}", tempo=score.tempo, beats=beats, meter=score.time_signature,
                       root_note=60 + key.tonic if pitched else None,
                       loop=(0, cue.mix.shape[1]) if cue.loop_bars else None)

    for role, stem in cue.stems.items():
        files.add(audio_file_name(prefix, role),
                  lambda path, audio=stem.audio, t=tags(role, role != "drums"): write_wav(path, audio, cue.sample_rate,
                                                                                          tags=t))
    files.add(audio_file_name(prefix, "mix"), lambda path: write_wav(path, cue.mix, cue.sample_rate, tags=tags("mix", True)))
    midi = score_to_midi(cue.score, title=prefix, loop=(0.0, score.length_beats) if cue.loop_bars else None)
    files.add(f"{prefix}.mid", lambda path: midi.save(str(path)))
    if picture is not None:
        # deferred: only this path needs SciPy, soxr, pyloudnorm
        from mtm_daw.export.mux import mux_soundtrack, muxed_suffix

        files.add(f"{prefix}_scored{muxed_suffix(picture)}",
                  lambda path: mux_soundtrack(picture, cue.mix, cue.sample_rate, path, mix_original_db))
    if dawproject:
        # deferred: dawproject imports this package (a circle at module level)
        from mtm_daw.export.dawproject import write_dawproject

        files.add(f"{prefix}.dawproject", lambda path: write_dawproject(path, cue, prefix, tags))
    document = json.dumps(sidecar(cue, name), indent=2)
    files.add(prefix + SIDECAR_SUFFIX, lambda path: path.write_text(document, encoding="utf-8"))
    return files.commit(progress)
