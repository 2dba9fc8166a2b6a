"""What the panel remembers between sessions (QSettings): library path, output folder, engine,
SoundFont, VST3 plugins per stem, and the last generation controls.

    settings = PanelSettings()                     # the user's settings (native QSettings location)
    settings = PanelSettings("/tmp/panel.ini")     # a file of its own (tests, benchmarks, --settings)

MTM_PANEL_SETTINGS=/path/panel.ini also chooses a file, for anything that builds PanelSettings().
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from PyQt6.QtCore import QSettings

from mtm_daw.description import MAX_DURATION_SECONDS
from mtm_daw.score.score import ROLES

ENGINES = ("baseline", "dit")  # = mtm_daw.pipeline.ENGINES (a test checks); not imported, to start fast
SETTINGS_ENV = "MTM_PANEL_SETTINGS"


def default_output_folder() -> str:
    import platformdirs

    return str(Path(platformdirs.user_music_dir()) / "mtm_daw")


class PanelSettings:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = path or os.environ.get(SETTINGS_ENV)
        if path:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._store = QSettings("mtm_daw", "panel")

    @property
    def file_name(self) -> str:
        return self._store.fileName()

    def _text(self, key: str, default: str = "") -> str:
        value = self._store.value(key, default)
        return value if isinstance(value, str) else default

    def _number(self, key: str, default: float) -> float:
        try:
            return float(self._store.value(key, default))
        except (TypeError, ValueError):
            return default

    def sync(self) -> None:
        self._store.sync()

    # --- the settings ---------------------------------------------------------------------------
    @property
    def library_path(self) -> str:
        """'' = the library's default location."""
        return self._text("library/path")

    @library_path.setter
    def library_path(self, value: str) -> None:
        self._store.setValue("library/path", str(value or ""))

    @property
    def output_folder(self) -> str:
        return self._text("output/folder") or default_output_folder()

    @output_folder.setter
    def output_folder(self, value: str) -> None:
        self._store.setValue("output/folder", str(value or ""))

    @property
    def engine(self) -> str:
        engine = self._text("generate/engine", "dit")
        return engine if engine in ENGINES else "dit"

    @engine.setter
    def engine(self, value: str) -> None:
        self._store.setValue("generate/engine", value if value in ENGINES else "dit")

    @property
    def soundfont(self) -> str:
        """'' = find one on the system."""
        return self._text("render/soundfont")

    @soundfont.setter
    def soundfont(self, value: str) -> None:
        self._store.setValue("render/soundfont", str(value or ""))

    @property
    def vst3_plugins(self) -> dict[str, list[str]]:
        """Per stem, VST3 effects appended to its chain: {"melody": ["/path/Reverb.vst3"]}."""
        try:
            data = json.loads(self._text("render/vst3", "{}"))
        except json.JSONDecodeError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {role: [str(p) for p in paths] for role, paths in data.items()
                if role in ROLES and isinstance(paths, list) and paths}

    @vst3_plugins.setter
    def vst3_plugins(self, value: dict[str, list[str]]) -> None:
        self._store.setValue("render/vst3", json.dumps({r: list(p) for r, p in value.items() if p}))

    @property
    def steps(self) -> int:
        return int(min(200, max(1, self._number("generate/steps", 20))))

    @steps.setter
    def steps(self, value: int) -> None:
        self._store.setValue("generate/steps", int(value))

    @property
    def key_lock(self) -> bool:
        return self._text("generate/key_lock", "true") != "false"

    @key_lock.setter
    def key_lock(self, value: bool) -> None:
        self._store.setValue("generate/key_lock", "true" if value else "false")

    @property
    def duration(self) -> float:
        return min(MAX_DURATION_SECONDS, max(1.0, self._number("generate/duration", 30.0)))

    @duration.setter
    def duration(self, value: float) -> None:
        self._store.setValue("generate/duration", float(value))

    @property
    def geometry(self):
        return self._store.value("window/geometry")

    @geometry.setter
    def geometry(self, value) -> None:
        self._store.setValue("window/geometry", value)
