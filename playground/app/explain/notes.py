"""A preset's notes in the explain panel: Markdown, as tall as its text, wrapped to the
panel's width (code too), its headings a size below the panel's own."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QFrame, QTextBrowser, QWidget

__all__ = ["NotesBrowser", "demote_headings"]


def demote_headings(markdown: str, levels: int = 2) -> str:
    """``markdown`` with every ATX heading ``levels`` deeper (``#`` -> ``###``), outside
    code fences: a preset's title heading should not outshout the panel's own."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def wrap_code(document: QTextDocument) -> None:
    """Let code blocks wrap (Markdown's code is unbreakable): the panel is narrow."""
    cursor = QTextCursor(document)
    block = document.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.nonBreakableLines():
            fmt.setNonBreakableLines(False)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(fmt)
        block = block.next()


class NotesBrowser(QTextBrowser):
    """Markdown notes with no scroll bars of their own: the panel around them scrolls.

    Attributes:
        source: the Markdown on show (``None``: none yet).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source: str | None = None
        self.setOpenExternalLinks(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)

    def show_notes(self, markdown: str) -> None:
        """Show ``markdown`` (nothing is redone when it is already on show)."""
        if markdown == self.source:
            return
        self.source = markdown
        self.setMarkdown(demote_headings(markdown))
        wrap_code(self.document())

    def _fit(self, *_: object) -> None:
        height = self.document().size().height()
        self.setFixedHeight(int(height) + 2 * self.frameWidth() + 4)
