"""Playback of the mix, a stem or a reference through QtMultimedia — only where an audio output exists.

Without one (CI, offscreen, a machine with no sound device) `available` is False and `notice`
says so; every call is then a no-op, never a crash.
"""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, QUrl, pyqtSignal
from PyQt6.QtGui import QGuiApplication

NO_DEVICE = "Playback off: no audio output device found (files are written as usual)"
NO_MULTIMEDIA = "Playback off: QtMultimedia is not available here (files are written as usual)"


def video_widget_allowed() -> bool:
    """A QVideoWidget needs a real window system; offscreen platforms get the frame strip only."""
    if QGuiApplication.platformName() in ("offscreen", "minimal", "vnc"):
        return False
    try:
        from PyQt6.QtMultimediaWidgets import QVideoWidget  # noqa: F401
    except ImportError:
        return False
    return True


class Playback(QObject):
    position_changed = pyqtSignal(float)  # 0..1 of the playing file
    state_changed = pyqtSignal(bool)  # playing?

    def __init__(self, parent: QObject | None = None, force_off: bool = False) -> None:
        super().__init__(parent)
        self.available = False
        self.notice = NO_DEVICE
        self.current: str | None = None
        self._player = None
        self._start_ms = 0  # where the file being loaded starts playing
        if force_off:
            return
        try:
            from PyQt6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
        except ImportError:
            self.notice = NO_MULTIMEDIA
            return
        if not QMediaDevices.audioOutputs():
            return
        self._player = QMediaPlayer(self)
        self._output = QAudioOutput(QMediaDevices.defaultAudioOutput(), self)
        self._player.setAudioOutput(self._output)
        self._player.positionChanged.connect(self._position)
        self._player.playbackStateChanged.connect(lambda state: self.state_changed.emit(self.playing))
        self._player.mediaStatusChanged.connect(self._loaded)
        self.available = True
        self.notice = ""

    @property
    def playing(self) -> bool:
        if self._player is None:
            return False
        from PyQt6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    @property
    def seconds(self) -> float:
        """Where the playing file is, in seconds (0 when nothing plays)."""
        return self._player.position() / 1000 if self.playing else 0.0

    def play(self, path: str, start_seconds: float = 0.0) -> None:
        """Play a file from `start_seconds` (a cue taking over from its preview at the same time)."""
        if self._player is None or not path or not Path(path).exists():
            return
        self.current = path
        self._start_ms = int(start_seconds * 1000)
        self._player.setSource(QUrl())  # release the old file, so a re-mix can replace it
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.play()

    def _loaded(self, status) -> None:
        from PyQt6.QtMultimedia import QMediaPlayer

        if self._start_ms and status in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia):
            self._player.setPosition(self._start_ms)  # a position set before the file has loaded is lost
            self._start_ms = 0

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())
        self.current = None
        self.position_changed.emit(-1.0)

    def toggle(self, path: str) -> None:
        if self.playing and self.current == path:
            self.stop()
        else:
            self.play(path)

    def _position(self, milliseconds: int) -> None:
        duration = self._player.duration()
        self.position_changed.emit(milliseconds / duration if duration > 0 else -1.0)
