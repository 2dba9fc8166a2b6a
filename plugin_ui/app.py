"""`mtm-panel` (and `mtm ui`): open the panel.

    mtm-panel                         # the panel, with your saved settings
    mtm-panel clip.mp4                # ... and describe a file (or a text idea) straight away
    mtm-panel --settings panel.ini    # settings in a file of their own
    mtm-panel --screenshot panel.png  # open, save a picture of the window, close (for bug reports)
    mtm-panel --send-to ID            # opened by a DAW plugin instance: "Send to plugin" sends there
"""
from __future__ import annotations

import argparse
import sys

SCREENSHOT_DELAY_MS = 500  # let the window lay itself out and paint before the picture


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtm-panel", description="The mtm panel: drag in a picture, "
                                     "words or sound; edit the description; generate; drag stems into your DAW.")
    parser.add_argument("source", nargs="?", help="a video, image, audio or MIDI file, or a text idea, to describe")
    parser.add_argument("--settings", help="a settings file (.ini) instead of the user's saved settings")
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the opened window there and close")
    parser.add_argument("--send-to", metavar="INSTANCE", help="the DAW plugin instance that opened the panel: "
                        "Send to plugin sends the cue there")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from plugin_ui.main_window import MainWindow
    from plugin_ui.settings import PanelSettings
    from plugin_ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mtm panel")
    app.setOrganizationName("mtm_daw")
    apply_theme(app)
    window = MainWindow(PanelSettings(args.settings))
    window.plugin_instance = args.send_to or ""
    window.show()
    if args.source:
        window.load_source(args.source)
    if args.screenshot:
        def save_and_quit() -> None:
            saved = window.grab().save(args.screenshot)
            app.exit(0 if saved else 1)

        QTimer.singleShot(SCREENSHOT_DELAY_MS, save_and_quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
