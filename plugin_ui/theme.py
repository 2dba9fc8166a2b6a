"""The panel's look: Fusion with a dark palette, one accent colour, a colour per stem."""
from __future__ import annotations

from PyQt6.QtGui import QColor, QFont, QPalette
from PyQt6.QtWidgets import QApplication

BACKGROUND = "#1c1e22"
PANEL = "#24272d"
RAISED = "#2e323a"
BORDER = "#3a3f48"
TEXT = "#e6e8eb"
MUTED = "#9aa1ac"
ACCENT = "#ff9f43"
ACCENT_DARK = "#c97a2c"
ERROR = "#ef5350"
ROLE_COLOURS = {"drums": "#ef6f6c", "bass": "#f7b955", "harmony": "#6fcf97", "melody": "#56a8f5"}
OTHER_ROLE = "#b39ddb"
MARKER_CUT = "#56a8f5"
MARKER_HIT = "#ff9f43"


def role_colour(role: str) -> QColor:
    return QColor(ROLE_COLOURS.get(role, OTHER_ROLE))


STYLE_SHEET = f"""
QWidget {{ color: {TEXT}; font-size: 10pt; }}
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QFrame#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px; }}
QLabel#cardTitle {{ color: {MUTED}; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#notice {{ color: {MUTED}; font-style: italic; }}
QLabel#brand {{ color: {ACCENT}; font-size: 14pt; font-weight: 700; }}
QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox, QListWidget {{
    background: {RAISED}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 5px;
    selection-background-color: {ACCENT_DARK}; }}
QLineEdit:focus, QPlainTextEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{
    border-color: {ACCENT}; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QListWidget:disabled, QPushButton:disabled,
QToolButton:disabled {{ color: #646a74; }}
QPushButton, QToolButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 4px;
    padding: 4px 10px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
QPushButton#primary {{ background: {ACCENT}; color: #1b1b1b; font-weight: 700; border: none; padding: 6px 16px; }}
QPushButton#primary:disabled {{ background: #5a4a3a; color: #8d8d8d; }}
QToolButton:checked {{ background: {ACCENT_DARK}; color: #101010; border-color: {ACCENT}; }}
QToolButton#mute, QToolButton#solo, QToolButton#play {{ padding: 1px 2px; min-width: 22px; }}
QToolButton#mute:checked {{ background: #8a5a2a; }}
QToolButton#solo:checked {{ background: #c9b02c; }}
QProgressBar {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 4px; text-align: center;
    height: 16px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::handle:horizontal {{ width: 12px; margin: -5px 0; border-radius: 6px; background: {ACCENT}; }}
QSlider::sub-page:horizontal {{ background: {ACCENT_DARK}; border-radius: 2px; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; border-radius: 6px; top: -1px; background: {PANEL}; }}
QTabBar::tab {{ background: {BACKGROUND}; padding: 5px 14px; border: 1px solid {BORDER}; border-bottom: none;
    border-top-left-radius: 6px; border-top-right-radius: 6px; color: {MUTED}; }}
QTabBar::tab:selected {{ background: {PANEL}; color: {TEXT}; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {ACCENT}; padding: 4px; }}
QStatusBar {{ color: {MUTED}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border: 1px solid {ACCENT}; border-radius: 3px; }}
QCheckBox::indicator:unchecked {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 3px; }}
QScrollArea {{ border: none; background: transparent; }}
QFrame#stemRow {{ background: #202328; border-radius: 4px; border: 1px solid transparent; }}
QFrame#stemRow[selected="true"] {{ border-color: {ACCENT_DARK}; }}
QToolButton#about {{ background: transparent; border: none; color: {MUTED}; padding: 1px 4px; }}
QToolButton#about:hover, QToolButton#about:checked {{ background: transparent; color: {ACCENT}; }}
QLabel#stemTitle {{ font-weight: 600; }}
QLabel#stemInstrument {{ color: {MUTED}; font-size: 8.5pt; }}
QLabel#dragHandle {{ border: 1px dashed #5a606b; border-radius: 4px; padding: 3px 8px; }}
QLabel#dragHandle:hover {{ border-color: {ACCENT}; }}
QLabel#dragHandle:disabled {{ color: #646a74; border-color: {BORDER}; }}
"""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: BACKGROUND, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: RAISED, QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED, QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: ACCENT_DARK, QPalette.ColorRole.HighlightedText: "#101010",
        QPalette.ColorRole.ToolTipBase: RAISED, QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED, QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#646a74"))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)
