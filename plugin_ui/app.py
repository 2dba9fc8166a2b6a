"""`mtm-panel` (and `mtm ui`): open the panel.

    mtm-panel                         # the panel, with your saved settings
    mtm-panel clip.mp4                # ... and describe a file (or a text idea) straight away
    mtm-panel --settings panel.ini    # settings in a file of their own
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtm-panel", description="The mtm panel: drag in a picture, "
                                     "words or sound; edit the description; generate; drag stems into your DAW.")
    parser.add_argument("source", nargs="?", help="a video, image, audio or MIDI file, or a text idea, to describe")
    parser.add_argument("--settings", help="a settings file (.ini) instead of the user's saved settings")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    from plugin_ui.main_window import MainWindow
    from plugin_ui.settings import PanelSettings
    from plugin_ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mtm panel")
    app.setOrganizationName("mtm_daw")
    apply_theme(app)
    window = MainWindow(PanelSettings(args.settings))
    window.show()
    if args.source:
        window.load_source(args.source)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
