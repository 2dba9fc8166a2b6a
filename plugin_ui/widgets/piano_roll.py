"""A piano-roll view of the generated score: pitched parts above, a drum lane below, bars and beats.

The notes are drawn once into a pixmap per score and size; paint only copies it and the playhead.
"""
from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QPixmap
from PyQt6.QtWidgets import QSizePolicy, QWidget

from plugin_ui.theme import MUTED, role_colour

DRUM_LANE = 0.22  # share of the height for drums
LEFT = 34  # pixels for the pitch labels


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
        """score: Score.to_dict(); length_seconds: the audio's length (the playhead's scale)."""
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
        pixmap.fill(QColor("#1a1c20"))
        painter = QPainter(pixmap)
        width, height = self.width() - LEFT - 4, self.height() - 4
        if not self.score or width <= 10 or height <= 10:
            painter.setPen(QColor(MUTED))
            painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "The score appears here after Generate")
            painter.end()
            return pixmap
        score = self.score
        beats = max(1e-6, score["length_beats"])
        numerator, denominator = score["time_signature"]
        beats_per_bar = numerator * 4.0 / denominator
        tracks = score["tracks"]
        pitched = [n for t in tracks if not t["is_drum"] for n in t["notes"]]
        low = min((n[2] for n in pitched), default=48) - 2
        high = max((n[2] for n in pitched), default=84) + 2
        drum_top = 2 + height * (1 - DRUM_LANE) if any(t["is_drum"] for t in tracks) else 2 + height
        pitch_height = drum_top - 6

        def x_of(beat: float) -> float:
            return LEFT + beat / beats * width

        # grid: beats faint, bars stronger, octaves (C) as horizontal lines with labels
        painter.setFont(QFont(painter.font().family(), 7))
        beat = 0.0
        while beat <= beats + 1e-6:
            bar_line = abs(beat / beats_per_bar - round(beat / beats_per_bar)) < 1e-6
            painter.setPen(QColor("#3a3f48" if bar_line else "#25282e"))
            painter.drawLine(int(x_of(beat)), 2, int(x_of(beat)), 2 + height)
            beat += 1.0
        row = pitch_height / max(1, high - low)
        for pitch in range(low, high + 1):
            if pitch % 12 == 0:
                y = 2 + (high - pitch) * row
                painter.setPen(QColor("#2c3037"))
                painter.drawLine(LEFT, int(y), LEFT + width, int(y))
                painter.setPen(QColor(MUTED))
                painter.drawText(QRectF(0, y - 7, LEFT - 4, 14), Qt.AlignmentFlag.AlignRight, f"C{pitch // 12 - 1}")
        # notes
        for track in tracks:
            colour = role_colour(track["role"])
            if track["is_drum"]:
                keys = sorted({n[2] for n in track["notes"]}) or [36]
                lane = (height + 2 - drum_top) / len(keys)
                for onset, duration, pitch, velocity in track["notes"]:
                    colour.setAlpha(90 + int(velocity))
                    painter.fillRect(QRectF(x_of(onset), drum_top + keys.index(pitch) * lane, max(2.0, width / beats / 6),
                                            max(1.5, lane - 1)), colour)
                continue
            for onset, duration, pitch, velocity in track["notes"]:
                colour.setAlpha(90 + int(velocity))
                painter.fillRect(QRectF(x_of(onset), 2 + (high - pitch) * row - row / 2,
                                        max(1.5, duration / beats * width - 1), max(1.5, row)), colour)
        painter.setPen(QColor(MUTED))
        if drum_top < 2 + height:
            painter.drawText(QRectF(0, drum_top, LEFT - 4, 14), Qt.AlignmentFlag.AlignRight, "drums")
        painter.end()
        return pixmap
