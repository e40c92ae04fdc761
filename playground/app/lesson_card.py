"""What a lesson puts over the window: an :class:`Overlay` that covers a widget and follows
its size, the "predict, then reveal" :class:`PredictCard`, and the :class:`LessonNote` the
explain panel shows for a note step."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from .explain.notes import NotesBrowser

__all__ = ["Overlay", "PredictCard", "LessonNote", "LessonBar", "CARD_FONT_SCALE", "KEYS_HINT"]

#: the keys, as the bar names them
KEYS_HINT = "PgDn / \u2192 next \u00b7 PgUp / \u2190 back \u00b7 Esc leave"

#: the card's question, relative to the application font: read from the back of the hall
CARD_FONT_SCALE = 2.0


class Overlay(QWidget):
    """A widget drawn over ``target`` (a child of it, raised), always exactly its size.

    Arguments:
        target: the widget to cover (a view, the tabs).

    Attributes:
        target: the covered widget.
    """

    def __init__(self, target: QWidget):
        super().__init__(target)
        self.target = target
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)
        target.installEventFilter(self)
        self.setGeometry(target.rect())
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Follow the target's size."""
        if watched is self.target and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.target.rect())
        return False

    def remove(self) -> None:
        """Take the overlay off its target and delete it."""
        self.target.removeEventFilter(self)
        self.hide()
        self.setParent(None)
        self.deleteLater()


def _big(label: QLabel, scale: float) -> QLabel:
    font = QFont(label.font())
    size = font.pointSizeF() if font.pointSizeF() > 0 else 13.0
    font.setPointSizeF(size * scale)
    label.setFont(font)
    return label


class PredictCard(Overlay):
    """ "Predict, then reveal": a card over a view that asks a question in large type and
    hides the view's picture until :meth:`remove` (the next key).

    Arguments:
        view: the view widget to hide.
        question: the question (plain text).
        title: the view's title, named under the question ("Samples is hidden ...").

    Attributes:
        question: the question's label (its text is ``question``).
    """

    def __init__(self, view: QWidget, question: str, title: str = ""):
        super().__init__(view)
        self.setObjectName("predict_card")
        self.setStyleSheet("#predict_card { background: #23395d; } QLabel { color: white; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        heading = _big(QLabel("Predict"), 1.2)
        heading.setStyleSheet("color: #fdb863; font-weight: bold;")
        self.question = _big(QLabel(question), CARD_FONT_SCALE)
        self.question.setWordWrap(True)
        self.question.setTextFormat(Qt.TextFormat.PlainText)
        hint = QLabel(
            (f"{title} is hidden until you reveal it. " if title else "")
            + "Page Down (or \u2192) reveals it."
        )
        hint.setWordWrap(True)
        for label in (heading, self.question, hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(heading)
        layout.addWidget(self.question)
        layout.addSpacing(24)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.show()


class LessonNote(QWidget):
    """A lesson's note at the top of the explain panel: its title and Markdown text.

    Arguments:
        parent: the panel's content widget (the note goes first in its layout).
        lesson_title: the lesson's title, named in small type above the note.

    Attributes:
        title: the heading label; ``text``: the :class:`~.explain.notes.NotesBrowser`.
    """

    def __init__(self, parent: QWidget, lesson_title: str = ""):
        super().__init__(parent)
        self.setObjectName("lesson_note")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        self.lesson = QLabel(f"Lesson: {lesson_title}" if lesson_title else "")
        self.lesson.setWordWrap(True)
        self.lesson.setTextFormat(Qt.TextFormat.PlainText)
        self.lesson.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.lesson)  # parented first: shown alone it were a window
        self.lesson.setVisible(bool(lesson_title))
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.text = NotesBrowser()
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        content = parent.layout()
        if content is not None:
            content.insertWidget(0, self)
        self.hide()

    def show_note(self, title: str, markdown: str) -> None:
        """Show ``title`` (may be empty) and ``markdown``."""
        # a heading relative to the panel's font: it grows with presentation mode's
        self.title.setText(f"<h2 style='color:#23395d'>{html.escape(title)}</h2>")
        self.title.setVisible(bool(title))
        self.text.show_notes(markdown)
        self.show()

    @property
    def markdown(self) -> str:
        """The Markdown of the note last shown (``""``: none)."""
        return self.text.source or ""


class LessonBar(QToolBar):
    """The lesson's bar along the bottom of the window: a progress bar across the width that
    reads ``3 / 12 \u2014 Forward KL`` and the keys beside it; under them, what the step says
    (a notice, hidden when there is none). The lesson's title is the bar's tooltip.

    Its labels take the application font, so presentation mode enlarges them with the rest;
    nothing in it asks for width (the notice wraps), so it never widens the window.

    Attributes:
        progress: the :class:`~PySide6.QtWidgets.QProgressBar` (value: the step's number).
        notice: the step's notice (:meth:`say`).
        keys: the keys' hint.
    """

    def __init__(self, title: str, steps: int):
        super().__init__("Lesson")
        self.setObjectName("lesson_bar")
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolTip(title)
        self.progress = QProgressBar()
        self.progress.setRange(0, max(1, steps))
        self.progress.setTextVisible(True)
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress.setMinimumWidth(120)
        self.keys = QLabel(KEYS_HINT)
        self.keys.setStyleSheet("color: palette(dark); padding: 0 8px;")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice.hide()
        box = QWidget()
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QGridLayout(box)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.progress, 0, 0)
        layout.addWidget(self.keys, 0, 1)
        layout.addWidget(self.notice, 1, 0, 1, 2)
        layout.setColumnStretch(0, 1)
        self.addWidget(box)
        self._step: tuple[int, int, str] = (0, max(1, steps), "")
        self.progress.installEventFilter(self)

    def say(self, text: str) -> None:
        """Show ``text`` under the progress bar (``""``: hide the line)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_step(self, number: int, total: int, title: str) -> None:
        """Show step ``number`` (1-based) of ``total`` and its ``title`` (cut with an
        ellipsis where the bar is too narrow for it)."""
        self._step = (number, total, title)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(number)
        self._render()

    def _render(self) -> None:
        number, total, title = self._step
        prefix = f"{number} / {total} \u2014 "
        metrics = self.progress.fontMetrics()
        room = self.progress.width() - 24 - metrics.horizontalAdvance(prefix)
        title = metrics.elidedText(title, Qt.TextElideMode.ElideRight, max(room, 40))
        # % starts QProgressBar's format codes (%v, %m, %p): a title's own % is doubled
        self.progress.setFormat((prefix + title).replace("%", "%%"))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Cut the title anew when the progress bar is resized or its font changes."""
        if watched is self.progress and event.type() in (
            QEvent.Type.Resize,
            QEvent.Type.FontChange,
        ):
            self._render()
        return False

    @property
    def text(self) -> str:
        """What the progress bar reads."""
        return self.progress.text()
