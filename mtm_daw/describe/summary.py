"""`mtm analyze FILE`: what a file holds, by kind — audio analysis, MIDI contents, image or video facts, a
description's fields."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.media import detect_kind, load_image, probe_video
from mtm_daw.score.gm import kit_name, program_name
from mtm_daw.score.midi import load_midi_score

MAX_TEXT_BYTES = 1_000_000


def analyze_file(path: str | Path) -> dict:
    """A JSON-friendly report; raises MtmError for anything unreadable."""
    path = Path(path)
    kind = detect_kind(path)
    report: dict = {"file": str(path), "kind": kind}
    if kind == "audio":
        # deferred: only this path needs SciPy, soxr, pyloudnorm
        from mtm_daw.analysis.audio import analyze_audio

        report.update(analyze_audio(path).to_dict())
    elif kind == "midi":
        score = load_midi_score(path)
        report.update(tempo=score.tempo, time_signature=f"{score.time_signature[0]}/{score.time_signature[1]}",
                      key=score.key, bars=score.bars, duration=round(score.length_seconds, 3),
                      tracks=[f"{role}: {kit_name(t.program) if t.is_drum else program_name(t.program)}, {len(t.notes)} notes"
                              for role, t in score.tracks.items()])
    elif kind == "image":
        image = load_image(path)
        report.update(width=image.source_size[0], height=image.source_size[1])
    elif kind == "video":
        info = asdict(probe_video(path))
        info.pop("path", None)
        report.update(info)
    else:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise MtmError(f"{path}: {path.stat().st_size // 1024} KB is too long for a text idea")
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.lstrip().startswith("{"):  # JSON: a description (or a cue's sidecar), never a text idea
            description = MusicDescription.load(path)
            report.update(kind="description", genre=description.genre, mood=description.mood,
                          tempo=description.tempo, key=description.key,
                          time_signature=f"{description.time_signature[0]}/{description.time_signature[1]}",
                          duration=description.duration, roles=list(description.roles),
                          sentence=description.sentence or description.to_sentence())
        else:
            report.update(characters=len(text), words=len(text.split()))
    report["file"] = str(path)
    return report
