"""The text bridge: video, image, text, audio or MIDI -> an editable MusicDescription."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

from mtm_daw.describe.midi_style import midi_styles
from mtm_daw.description import MAX_DURATION_SECONDS, MusicDescription, fit_tempo_to_duration
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

DESCRIBERS = ("auto", "visual", "vlm")
LISTENING_RATE = 16000  # a MIDI file is heard (style, mood) from a render at this rate
LISTEN_SECONDS = 600.0  # an audio file is described from its first ten minutes
MAX_TEXT_FILE_BYTES = 1_000_000  # as `mtm analyze` (describe.summary.MAX_TEXT_BYTES)
_MEDIA_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".png", ".jpg", ".jpeg", ".gif", ".webp",
                   ".bmp", ".tif", ".tiff", ".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff", ".mid", ".midi",
                   ".txt", ".json"}


def looks_like_path(source: str) -> bool:
    """Is this a file name rather than a text idea? ('clip.mp4', '/x/y', but not 'calm piano, 80 bpm')."""
    candidate = Path(source.strip())
    return candidate.suffix.lower() in _MEDIA_SUFFIXES or (
        ("/" in source or "\\" in source) and " " not in source.strip())


def describe(source: str | Path, describer: str = "auto", model: str | None = None,
             progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
             notes: Callable[[str], None] = lambda line: None, text_encoder="default") -> MusicDescription:
    """Describe a file (video, image, audio, MIDI, text, description JSON) or a text idea.

    describer: "auto"/"visual" use the offline visual analysis; "vlm" adds a local vision-language
    model (`model` = its folder) whose caption refines genre, mood and instruments. notes: receives
    lines on how the input was read that the description has no field for (for audio: the styles,
    mood and instruments heard, with their confidences, and the tempo's and key's). text_encoder: what
    matches words no table knows to a style (the shipped MiniLM by default; None turns it off).
    """
    if describer not in DESCRIBERS:
        raise MtmError(f"unknown describer '{describer}' (choose {', '.join(DESCRIBERS)})")
    if describer == "vlm" and not model:
        raise MtmError("--describer vlm needs --model PATH, a local vision-language model folder")
    if isinstance(source, str) and not _exists(source) and not looks_like_path(source):
        # deferred: describe.text imports this package (a circle at module level)
        from mtm_daw.describe.text import parse_text

        return _with_sentence(parse_text(source, text_encoder).description)

    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.media import detect_kind
    from mtm_daw.media.paths import check_input_file

    path = check_input_file(source, "input")
    kind = detect_kind(path)
    if path.suffix.lower() == ".json":
        description = MusicDescription.load(path)
        try:
            description.validate()
        except MtmError as error:  # the file is the only input: name it
            raise MtmError(f"{path.name}: {error}") from None
    elif kind == "video":
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.describe.from_visual import describe_video

        description = describe_video(path, progress=progress, cancel=cancel)
    elif kind == "image":
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.describe.from_visual import describe_image

        description = describe_image(path)
    elif kind == "audio":
        description = describe_audio(path, notes)
    elif kind == "midi":
        description = describe_midi(path, listen=True)
    else:
        # deferred: describe.text imports this package (a circle at module level)
        from mtm_daw.describe.text import parse_text

        size = path.stat().st_size
        if size > MAX_TEXT_FILE_BYTES:  # an idea is a few lines; don't read a stray gigabyte into memory
            raise MtmError(f"{path.name}: {size // 1024} KB is too long for a text idea")
        text = path.read_text(encoding="utf-8", errors="replace")
        description = parse_text(text, text_encoder).description
    if describer == "vlm" and kind in ("video", "image"):
        # deferred: only this path needs onnxruntime, tokenizers
        from mtm_daw.describe.vlm import refine_with_vlm

        tempo = description.tempo
        description = refine_with_vlm(description, path, kind, model)
        if kind == "video" and description.tempo != tempo:  # describe_video fitted the tempo it chose
            description = fit_to_picture(description)
    return _with_sentence(description)


def fit_to_picture(description: MusicDescription) -> MusicDescription:
    """fit_tempo_to_duration, keeping a caption that is not the generated sentence (a VLM's, a user's)."""
    generated = description.sentence in ("", description.to_sentence())
    fitted = fit_tempo_to_duration(description)
    fitted.sentence = fitted.to_sentence() if generated else description.sentence
    return fitted


def _exists(source: str) -> bool:
    """Whether a file is there; a text idea longer than a file name may be raises ENAMETOOLONG, so: no."""
    try:
        return Path(source).exists()
    except OSError:
        return False


def _with_sentence(description: MusicDescription) -> MusicDescription:
    description.validate()  # first: to_sentence() needs a known genre, mood and key
    if not description.sentence:
        description.sentence = description.to_sentence()
    return description


def describe_audio(path: Path, notes: Callable[[str], None] = lambda line: None) -> MusicDescription:
    """A reference loop or song: its tempo, key and length, and the style and mood it is heard as
    (describe.listening: musicnn's taggers and the joint space); `notes` receives what was heard with
    the confidences."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.analysis.audio import analyze_audio, listen_to_file
    from mtm_daw.describe.listening import RULE_CONFIDENCE, hear

    listening = listen_to_file(path, max_seconds=LISTEN_SECONDS)
    analysis = analyze_audio(listening)
    key = analysis.key or "C major"
    tempo = analysis.bpm if analysis.bpm > 0 else 100.0
    heard = hear(listening.mono, listening.mono_rate, key, tempo)
    styles = ", ".join(f"{name} {confidence:.0%}" for name, confidence in heard.styles[:3])
    mood, confidence = heard.mood
    how = "from mode and tempo" if confidence == RULE_CONFIDENCE else "heard"
    notes(f"heard as {styles} ({' and '.join(heard.listeners)}); mood {mood} ({how}, {confidence:.0%}); "
          f"instruments {', '.join(heard.instruments)}")
    notes(f"tempo confidence {analysis.tempo_confidence:.2f}" + ("" if analysis.bpm > 0 else " (no steady beat: 100 BPM)")
          + (f", key confidence {analysis.key_confidence:.2f}" if analysis.key else ", no key heard (C major)"))
    return MusicDescription(genre=heard.style[0], mood=mood, tempo=round(tempo, 2), key=key,
                            duration=min(max(analysis.duration, 1.0), MAX_DURATION_SECONDS))


def describe_midi(path: Path, score=None, listen: bool = False) -> MusicDescription:
    """What a MIDI file holds, as a description (`score`: the file already read). The style comes from
    its notes (describe.midi_style: drums, tempo, meter, instruments); listen: also render it through the
    General MIDI SoundFont and hear it as audio is heard (style votes averaged, the mood heard), else the
    mood from mode and tempo."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.describe.affect import mood_from_key_and_tempo
    from mtm_daw.score.midi import load_midi_score

    score = score or load_midi_score(path)
    roles = tuple(role for role in ("drums", "bass", "harmony", "melody") if role in score.tracks) or ("melody",)
    mood = mood_from_key_and_tempo(score.key, score.tempo)
    heard_styles = None
    if listen and score.note_count():
        # deferred: only this path needs onnxruntime, pedalboard, PyAV
        from mtm_daw.describe.listening import hear
        from mtm_daw.render import listening_renderer, render_mono

        seconds = min(score.length_seconds + 1.0, LISTEN_SECONDS)
        with contextlib.closing(listening_renderer(LISTENING_RATE)) as renderer:
            audio = render_mono(score, renderer, seconds)  # closed after: a synth holds its SoundFont
        heard = hear(audio, LISTENING_RATE, score.key, score.tempo)
        heard_styles, mood = dict(heard.styles), heard.mood[0]
    ranked = midi_styles(score, heard_styles)
    genre = ranked[0][0] if ranked else "pop"
    return MusicDescription(
        genre=genre, mood=mood, tempo=score.tempo, key=score.key, time_signature=score.time_signature,
        duration=min(score.length_seconds, MAX_DURATION_SECONDS), roles=roles,
        instruments={r: t.program for r, t in score.tracks.items() if r in roles and not t.is_drum})
