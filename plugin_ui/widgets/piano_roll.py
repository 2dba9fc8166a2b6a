"""A piano-roll view of the generated score: pitched parts above, a drum lane below, bars and beats.

The notes are rasterised with numpy (one pass per stem, however many notes: a 10-minute cue has
15,000) into an image per score and size; paint only copies it and draws the playhead.
"""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QSizePolicy, QWidget

from plugin_ui.theme import MUTED, role_colour

DRUM_LANE = 0.22  # share of the height for drums
LEFT = 34  # pixels for the pitch labels
TOP = 2
BACKGROUND = (0x1A, 0x1C, 0x20)


def _notes(track: dict) -> np.ndarray:
    return np.asarray(track["notes"], dtype=np.float64).reshape(-1, 4)  # onset, duration, pitch, velocity


def _spans(onsets: np.ndarray, ends: np.ndarray, beats: float, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Note starts and ends as pixel columns, at least one pixel wide."""
    x0 = np.clip(np.floor(onsets / beats * width).astype(int), 0, width - 1)
    x1 = np.clip(np.ceil(ends / beats * width).astype(int), x0 + 1, width)
    return x0, x1


def _occupancy(rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, count: int, width: int) -> np.ndarray:
    """(count, width) bool: which pixel columns each row's notes cover (a difference array, summed)."""
    size = count * (width + 1)
    diff = (np.bincount(rows * (width + 1) + x0, minlength=size) -
            np.bincount(rows * (width + 1) + x1, minlength=size)).reshape(count, width + 1)
    return np.cumsum(diff, axis=1)[:, :width] > 0


def _to_pixels(occupancy: np.ndarray, height: int) -> np.ndarray:
    """Rows (top = first) stretched or merged onto `height` pixel rows."""
    count = occupancy.shape[0]
    starts = np.floor(np.arange(height) * count / height).astype(int)
    if count >= height:
        return np.maximum.reduceat(occupancy, starts, axis=0)
    return occupancy[starts]


def roll_image(score: dict, width: int, height: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The notes as an (height, width, 3) uint8 image, where notes are (bool), and the geometry the
    grid and labels need."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    covered = np.zeros((height, width), dtype=bool)
    beats = max(1e-6, float(score["length_beats"]))
    tracks = score["tracks"]
    pitched = [(t, _notes(t)) for t in tracks if not t["is_drum"]]
    all_pitches = np.concatenate([n[:, 2] for _, n in pitched]) if pitched else np.zeros(0)
    low = int(all_pitches.min()) - 2 if all_pitches.size else 46
    high = int(all_pitches.max()) + 2 if all_pitches.size else 86
    has_drums = any(t["is_drum"] and len(t["notes"]) for t in tracks)
    drum_top = int(height * (1 - DRUM_LANE)) if has_drums else height
    pitch_height = max(1, drum_top - 4)
    count = high - low + 1
    for track, notes in pitched:
        if not len(notes):
            continue
        x0, x1 = _spans(notes[:, 0], notes[:, 0] + notes[:, 1], beats, width)
        mask = _to_pixels(_occupancy((high - notes[:, 2]).astype(int), x0, x1, count, width), pitch_height)
        image[:pitch_height][mask] = role_colour(track["role"]).getRgb()[:3]
        covered[:pitch_height] |= mask
    for track in tracks:
        notes = _notes(track)
        if not track["is_drum"] or not len(notes):
            continue
        keys, rows = np.unique(notes[:, 2].astype(int), return_inverse=True)
        tick = max(2.0, width / beats / 6)
        x0, x1 = _spans(notes[:, 0], notes[:, 0] + tick / width * beats, beats, width)
        lane = _to_pixels(_occupancy(rows, x0, x1, len(keys), width), height - drum_top - 1)
        image[drum_top:height - 1][lane] = role_colour(track["role"]).getRgb()[:3]
        covered[drum_top:height - 1] |= lane
    return image, covered, {"low": low, "high": high, "pitch_height": pitch_height, "drum_top": drum_top if has_drums else None}


class PianoRoll(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score: dict | None = None
        self.position = -1.0  # playhead, 0..1 of the cue
        self.length_seconds = 0.0
        self._pixmap: QPixmap | None = None
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The score: one colour per stem, bars as lines; drag the MIDI file out to edit it in your DAW")

    def set_score(self, score: dict | None, length_seconds: float = 0.0) -> None:
        """score: Score.to_dict() (notes as lists or one array per track); length_seconds: the audio's length."""
        self.score = score
        self.length_seconds = length_seconds
        self._pixmap = None
        self.update()

    def set_position(self, fraction: float) -> None:
        self.position = fraction
        self.update()

    def resizeEvent(self, event) -> None:
        self._pixmap = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._pixmap is None or self._pixmap.size() != self.size():
            self._pixmap = self._draw()
        painter.drawPixmap(0, 0, self._pixmap)
        if self.score and self.position >= 0 and self.length_seconds > 0:
            beats = self.score["length_beats"]
            seconds_per_beat = 60.0 / self.score["tempo"]
            x = LEFT + (self.position * self.length_seconds / seconds_per_beat) / beats * (self.width() - LEFT - 4)
            painter.setPen(QColor("#ffffff"))
            painter.drawLine(int(x), 0, int(x), self.height())

    def _draw(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(*BACKGROUND))
        painter = QPainter(pixmap)
        width, height = self.width() - LEFT - 4, self.height() - TOP - 2
        if not self.score or width <= 10 or height <= 10:
            painter.setPen(QColor(MUTED))
            painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "The score appears here after Generate")
            painter.end()
            return pixmap
        score = self.score
        beats = max(1e-6, score["length_beats"])
        numerator, denominator = score["time_signature"]
        beats_per_bar = numerator * 4.0 / denominator
        image, covered, geometry = roll_image(score, width, height)
        # grid under the notes: beats (when there is room), bars, a line at each C
        pixels_per_beat = width / beats
        for beat in np.arange(0.0, beats + 1e-6, 1.0 if pixels_per_beat >= 4 else beats_per_bar):
            bar_line = abs(beat / beats_per_bar - round(beat / beats_per_bar)) < 1e-6
            painter.setPen(QColor("#3a3f48" if bar_line else "#25282e"))
            x = int(LEFT + beat * pixels_per_beat)
            painter.drawLine(x, TOP, x, TOP + height)
        row = geometry["pitch_height"] / max(1, geometry["high"] - geometry["low"] + 1)
        octaves = [(pitch, TOP + (geometry["high"] - pitch + 0.5) * row)
                   for pitch in range(geometry["low"], geometry["high"] + 1) if pitch % 12 == 0]
        painter.setPen(QColor("#2c3037"))
        for _, y in octaves:
            painter.drawLine(LEFT, int(y), LEFT + width, int(y))
        # the notes, see-through where there are none
        alpha = covered.astype(np.uint8) * np.uint8(220)
        notes = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        mask = QImage(alpha.data, width, height, width, QImage.Format.Format_Grayscale8)
        notes.setAlphaChannel(mask)
        painter.drawImage(LEFT, TOP, notes)
        painter.setFont(QFont(painter.font().family(), 7))
        painter.setPen(QColor(MUTED))
        for pitch, y in octaves:
            painter.drawText(QRectF(0, y - 7, LEFT - 4, 14), Qt.AlignmentFlag.AlignRight, f"C{pitch // 12 - 1}")
        if geometry["drum_top"] is not None:
            painter.drawText(QRectF(0, TOP + geometry["drum_top"], LEFT - 4, 14), Qt.AlignmentFlag.AlignRight, "drums")
        painter.end()
        return pixmap
