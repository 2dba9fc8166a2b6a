"""The picture: a video preview (QtMultimedia where a window system exists) above a timeline of frames
with cut and hit-point markers; a still image is shown as it is.

Markers come from the description: its cuts (the shot list: a hard cut is a line, a dissolve or
fade a shaded band over its length with a dashed line at its middle) and its hit points (the cuts
and motion onsets the cue accents, at most one a beat); a cut without a hit is a soft hit.
"""
from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from mtm_daw.description import Cut, MusicDescription
from plugin_ui.playback import video_widget_allowed
from plugin_ui.theme import MARKER_CUT, MARKER_HIT, MUTED


def frame_image(frame: dict) -> QImage:
    """A thumbnail from the engine ({width, height, rgb bytes}) as a QImage that owns its pixels."""
    image = QImage(frame["rgb"], frame["width"], frame["height"], frame["width"] * 3, QImage.Format.Format_RGB888)
    return image.copy()


class Timeline(QWidget):
    """Frames side by side, cut markers (blue), hit markers (orange triangles), a playhead."""

    seek_requested = pyqtSignal(float)  # seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frames: list[QImage] = []
        self.duration = 0.0
        self.cuts: list[Cut] = []
        self.hits: list[tuple[float, float]] = []
        self.position = -1.0  # seconds
        self.setMinimumHeight(74)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Frames of the video; blue lines: hard cuts, blue bands: dissolves and fades; "
                        "orange marks: hit points (accents in the cue). Click to seek")

    def set_content(self, frames: list[QImage], duration: float, cuts: list[Cut],
                    hits: list[tuple[float, float]]) -> None:
        self.frames, self.duration, self.cuts, self.hits = frames, duration, cuts, hits
        self.update()

    def set_position(self, seconds: float) -> None:
        self.position = seconds
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.duration > 0:
            fraction = min(1.0, max(0.0, event.position().x() / max(1, self.width())))
            self.seek_requested.emit(fraction * self.duration)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1a1c20"))
        width, strip = self.width(), self.height() - 16
        if self.frames:
            cell = width / len(self.frames)
            for index, image in enumerate(self.frames):
                target = QRectF(index * cell, 0, cell - 1, strip)
                painter.drawImage(target, image)
        else:
            painter.setPen(QColor(MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a video to see its cuts and hit points")
        if self.duration <= 0:
            return
        # ruler: a tick each second, a label every few
        painter.setPen(QColor(MUTED))
        step = max(1, int(self.duration / 10))
        for second in range(0, int(self.duration) + 1):
            x = second / self.duration * width
            painter.drawLine(int(x), strip, int(x), strip + (5 if second % step == 0 else 2))
            if second % step == 0 and second < self.duration - 0.5:
                painter.drawText(QRectF(x + 2, strip + 2, 40, 14), Qt.AlignmentFlag.AlignLeft, f"{second}s")
        for cut in self.cuts:
            x = cut.time / self.duration * width
            pen = QPen(QColor(MARKER_CUT))
            if cut.kind != "hard":
                band = QColor(MARKER_CUT)
                band.setAlpha(60)
                half = cut.seconds / 2 / self.duration * width
                painter.fillRect(QRectF(x - half, 0, 2 * half, strip), band)
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, 0), QPointF(x, strip))
        painter.setPen(Qt.PenStyle.NoPen)
        for time, strength in self.hits:
            x = time / self.duration * width
            size = 5 + 4 * strength
            colour = QColor(MARKER_HIT)
            painter.setBrush(colour)
            painter.drawPolygon(QPolygonF([QPointF(x - size, 0), QPointF(x + size, 0), QPointF(x, size * 1.4)]))
            colour.setAlpha(140)
            painter.setPen(colour)
            painter.drawLine(QPointF(x, 0), QPointF(x, strip))
            painter.setPen(Qt.PenStyle.NoPen)
        if self.position >= 0:
            painter.setPen(QColor("#ffffff"))
            x = self.position / self.duration * width
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


class PicturePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.preview = QLabel("No picture: drop a video or an image")
        self.preview.setObjectName("notice")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(90)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.preview, 1)
        self.video = None  # QVideoWidget + QMediaPlayer, made when a video arrives and a window system exists
        self._player = None
        self.timeline = Timeline()
        self.timeline.seek_requested.connect(self.seek)
        layout.addWidget(self.timeline)
        self.images: list[QImage] = []
        self.frame_times: list[float] = []
        self.kind = ""

    def clear(self) -> None:
        self.kind = ""
        self.images, self.frame_times = [], []
        self.timeline.set_content([], 0.0, [], [])
        self._show_video(False)
        self.preview.setPixmap(QPixmap())
        self.preview.setText("No picture: drop a video or an image")

    def set_picture(self, kind: str, source: str, frames: list[dict], description: dict) -> None:
        """kind 'video' or 'image'; frames from the engine; description: MusicDescription.to_dict()."""
        self.kind = kind
        self.images = [frame_image(frame) for frame in frames]
        self.frame_times = [frame["time"] for frame in frames]
        if kind == "video":
            cuts = MusicDescription.from_dict({"cuts": description.get("cuts", [])}).cuts
            hits = [(h["time"], h.get("strength", 1.0)) for h in description.get("hit_points", [])]
            self.timeline.set_content(self.images, float(description["duration"]), cuts, hits)
            self.timeline.show()
            if video_widget_allowed():
                self._load_video(source)
        else:
            self.timeline.hide()
            self._show_video(False)
        self._show_still(0)

    def _show_still(self, index: int) -> None:
        if not self.images or (self.video is not None and self.video.isVisible()):
            return
        pixmap = QPixmap.fromImage(self.images[min(index, len(self.images) - 1)])
        target = self.preview.size()
        self.preview.setPixmap(pixmap.scaled(target.width() - 4, target.height() - 4,
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def _load_video(self, source: str) -> None:
        from PyQt6.QtMultimedia import QMediaPlayer
        from PyQt6.QtMultimediaWidgets import QVideoWidget

        if self.video is None:
            self.video = QVideoWidget()
            self.layout().insertWidget(0, self.video, 1)
            self._player = QMediaPlayer(self)
            self._player.setVideoOutput(self.video)
            self._player.positionChanged.connect(lambda ms: self.timeline.set_position(ms / 1000.0))
        self._player.setSource(QUrl.fromLocalFile(source))
        self._player.pause()  # shows the first frame
        self._show_video(True)

    def _show_video(self, shown: bool) -> None:
        if self.video is not None:
            self.video.setVisible(shown)
            if not shown and self._player is not None:
                self._player.stop()
        self.preview.setVisible(not shown)

    def seek(self, seconds: float) -> None:
        self.timeline.set_position(seconds)
        if self._player is not None and self.video is not None and self.video.isVisible():
            self._player.setPosition(int(seconds * 1000))
        elif self.frame_times:
            nearest = min(range(len(self.frame_times)), key=lambda i: abs(self.frame_times[i] - seconds))
            self._show_still(nearest)

    def play_video(self, playing: bool, seconds: float = 0.0) -> None:
        """Follow the audio transport: the video plays (muted) with the cue."""
        if self._player is None or self.video is None or not self.video.isVisible():
            return
        self._player.setPosition(int(seconds * 1000))
        self._player.play() if playing else self._player.pause()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.kind and self.images:
            self._show_still(0)
