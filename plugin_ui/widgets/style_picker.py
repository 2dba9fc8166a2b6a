"""The style picker: the style library grouped by family, with type-to-search.

Family names are headers that cannot be chosen; typing filters by any part of a style's name, its
family or its spellings ("bass" finds drum-and-bass, "lofi" finds lo-fi). The tooltip and the line
under the picker give the chosen style's tempo range, feel and signature.
"""
from __future__ import annotations

from PyQt6.QtCore import QStringListModel, Qt, pyqtSignal
from PyQt6.QtGui import QFont, QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import QComboBox, QCompleter, QWidget

from mtm_daw.score.styles import Style, library, styles_by_family

STYLE_ROLE = Qt.ItemDataRole.UserRole


def style_line(style: Style) -> str:
    """'118-128 BPM, straight: four-on-the-floor kick, ...' for tooltips and the summary."""
    return f"{style.tempo_text} BPM, {style.feel_text}: {style.summary}"


class StylePicker(QComboBox):
    style_chosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        model = QStandardItemModel(self)
        header_font = QFont()
        header_font.setBold(True)
        search_words = []
        for family, styles in styles_by_family().items():
            header = QStandardItem(family)
            header.setFlags(Qt.ItemFlag.NoItemFlags)  # a header: seen, not chosen
            header.setFont(header_font)
            model.appendRow(header)
            for style in styles:
                item = QStandardItem(f"  {style.name}")
                item.setData(style.name, STYLE_ROLE)
                item.setToolTip(style_line(style))
                model.appendRow(item)
                search_words.append(self._search_entry(style))
        self.setModel(model)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(QStringListModel(search_words, self), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.activated.connect(self._completed)
        self.setCompleter(completer)
        self.currentIndexChanged.connect(self._index_changed)
        self.lineEdit().editingFinished.connect(self._typed)
        self.set_style("pop")

    @staticmethod
    def _search_entry(style: Style) -> str:
        return f"{style.name} — {style.family}: {', '.join(style.aliases[:4])}"

    def style(self) -> str:
        return self.currentData(STYLE_ROLE) or "pop"

    def set_style(self, name: str) -> None:
        index = self.findData(name, STYLE_ROLE)
        if index >= 0:
            self.setCurrentIndex(index)
            self._show(name)

    def _show(self, name: str) -> None:
        self.lineEdit().setText(name)
        self.setToolTip(f"Style: {style_line(library()[name])}. Type to search by name, family or spelling.")

    def _completed(self, entry: str) -> None:
        self.set_style(entry.split(" — ")[0])

    def _typed(self) -> None:
        """Typed text that names a style (or is the start of just one) chooses it; anything else is undone."""
        text = self.lineEdit().text().strip().lower()
        matches = [name for name, style in library().items()
                   if text and (text == name or text in style.aliases)] or \
                  [name for name in library() if text and name.startswith(text)]
        self.set_style(matches[0] if len(matches) == 1 or (matches and matches[0] == text) else self.style())

    def _index_changed(self, index: int) -> None:
        name = self.itemData(index, STYLE_ROLE)
        if name:
            self._show(name)
            self.style_chosen.emit(name)
