"""A reference file, MIDI or audio, read as the control signal the ControlFormer follows.

    signal = load_reference("groove.mid", strength=0.7)    # or a loop, a song

MIDI is read as notes (quantised to the sixteenth grid); audio is beat-tracked and its notes are
transcribed (basic-pitch, mtm_daw.engine.transcriber), so both land on the cue's beat grid.
"""
from __future__ import annotations

import numpy as np

from mtm_daw.analysis._signal import ANALYSIS_RATE
from mtm_daw.analysis.key import estimate_key
from mtm_daw.analysis.tempo import HOP_LENGTH, estimate_tempo
from mtm_daw.engine.control import CONTROL_FEATURES, ControlSignal, control_from_score
from mtm_daw.engine.transcriber import Transcriber
from mtm_daw.errors import MtmError
from mtm_daw.media import detect_kind, load_audio
from mtm_daw.media.paths import check_input_file
from mtm_daw.score.midi import load_midi_score
from mtm_daw.score.roll import STEPS_PER_BEAT, quantize_score
from mtm_daw.score.transcription import seconds_to_beats, skyline


def control_from_audio(path, max_seconds: float = 600.0) -> np.ndarray:
    """An audio reference: onsets (rhythm), chroma relative to its own key and the melody contour,
    on its beat grid.

    Beats come from beat tracking, so the features are in beats, not seconds: a reference at 90 BPM
    steers a 120 BPM cue beat for beat (tempo-warped); tracked beats fall on steps 0, 4, 8, ...
    Notes come from the transcriber (mtm_daw.engine.transcriber): their top line (skyline) gives the
    melody onsets (feature 3) and contour (16, 17, scaled as control_from_score does). Where notes
    sound, their pitch classes are the chroma; elsewhere (unpitched or too faint for the
    transcriber) the constant-Q chroma's classes at half the step's strongest or more stand in.
    """
    import librosa  # imported when an audio reference is read: it takes a while to load

    audio = load_audio(path, sample_rate=ANALYSIS_RATE, mono=True, max_seconds=max_seconds)
    y = audio.samples[0]
    tempo = estimate_tempo(y, ANALYSIS_RATE)
    if tempo.bpm <= 0 or len(tempo.beat_times) < 4:
        raise MtmError(f"{path}: no steady beat found, so it cannot guide rhythm on the cue's grid")
    tonic = estimate_key(y, ANALYSIS_RATE).key.tonic
    notes = Transcriber.default().transcribe(y, ANALYSIS_RATE)

    def to_steps(times) -> np.ndarray:
        beats = seconds_to_beats(times, tempo.bpm, tempo.beat_times)  # time 0 within half a beat of 0
        return np.maximum(0, np.round(beats * STEPS_PER_BEAT)).astype(int)

    frame_times = librosa.frames_to_time(np.arange(1 + len(y) // HOP_LENGTH), sr=ANALYSIS_RATE, hop_length=HOP_LENGTH)
    frame_steps = to_steps(frame_times)
    steps = int(frame_steps.max()) + 1
    features = np.zeros((steps, CONTROL_FEATURES), dtype=np.float32)

    # 1. onsets of any sound (rhythm)
    onsets = librosa.onset.onset_detect(y=y, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH, units="frames")
    features[frame_steps[np.clip(onsets, 0, len(frame_steps) - 1)], 0] = 1.0

    # 2. chroma relative to the tonic: constant-Q where no transcribed note sounds
    chroma = librosa.feature.chroma_cqt(y=y, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH)  # (12, frames)
    frames = min(chroma.shape[1], len(frame_steps))
    totals = np.zeros((steps, 12), dtype=np.float32)
    counts = np.zeros(steps, dtype=np.float32)
    np.add.at(totals, frame_steps[:frames], chroma[:, :frames].T)
    np.add.at(counts, frame_steps[:frames], 1.0)
    mean = totals / np.maximum(counts, 1.0)[:, None]
    relative = np.roll(mean, -tonic, axis=1)  # column 0 = the reference's own tonic
    features[:, 4:16] = relative >= 0.5 * relative.max(axis=1, keepdims=True).clip(1e-6)
    features[counts == 0, 4:16] = 0.0
    if not notes:
        return features
    starts = np.clip(to_steps([n.start_s for n in notes]), 0, steps - 1)
    stops = np.clip(np.maximum(starts + 1, to_steps([n.end_s for n in notes])), 1, steps)
    note_chroma = np.zeros((steps, 12), dtype=np.float32)
    for start, stop, n in zip(starts, stops, notes):
        note_chroma[start:stop, (n.pitch - tonic) % 12] = 1.0
    with_notes = note_chroma.any(axis=1)
    features[with_notes, 4:16] = note_chroma[with_notes]

    # 3. the melody (the notes' top line): onsets and contour
    melody_pitch = np.full(steps, np.nan, dtype=np.float32)
    top = skyline([n.start_s for n in notes], [n.end_s for n in notes], [n.pitch for n in notes])
    for start, stop, n, is_top in zip(starts, stops, notes, top):
        if is_top:
            features[start, 3] = 1.0
            melody_pitch[start:stop] = np.fmax(melody_pitch[start:stop], n.pitch - tonic)
    sounding = ~np.isnan(melody_pitch)
    features[:, 16] = sounding
    features[sounding, 17] = (melody_pitch[sounding] - 66.0) / 18.0
    return features


def load_reference(path, strength: float) -> ControlSignal:
    """A reference file (MIDI or audio) as a control signal."""
    path = check_input_file(path, "reference")
    kind = detect_kind(path)
    if kind == "midi":
        features = control_from_score(quantize_score(load_midi_score(path)))
    elif kind == "audio":
        features = control_from_audio(path)
    else:
        raise MtmError(f"{path}: a reference must be audio or MIDI, not {kind}")
    return ControlSignal(features, strength, source=str(path))
