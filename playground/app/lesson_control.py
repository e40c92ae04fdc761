"""The lesson player: a lesson's steps played in the main window, one key at a time.

Page Down, the right and down arrows go to the next step (what presenter clickers send);
Page Up, left and up go back; Esc leaves the lesson. A bar along the bottom shows where the
lesson is (``3 / 12 — Forward KL``). Each step does what the lesson format says
(:mod:`playground.core.lessons`): open a preset or a fresh session, show a tab, put a note in
the explain panel, train live (:mod:`.lesson_run`, with the recording made when the lesson
was built as its fallback, :mod:`.lesson_playback`), hide a view behind a "predict, then
reveal" card (:mod:`.lesson_card`), or compare two sides in a window of their own.

Going back is predictable: steps that only show something (tab, note, predict, compare) are
shown again; steps that change training (preset, session, run) are not redone going back
(the status says so): the session stays where it is.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from .lesson_card import LessonBar, LessonNote, PredictCard
from .lesson_steps import BACK_KEYS, NEXT_KEYS, StepActions, step_title

__all__ = [
    "LessonPlayer",
    "open_lesson_in",
    "play_lesson",
    "current_player",
    "NEXT_KEYS",
    "BACK_KEYS",
]


class LessonPlayer(StepActions, QObject):
    """A lesson played in a main window: a part the window owns while the lesson runs.

    Arguments:
        window: the :class:`~.main_window.MainWindow`.
        lesson: a :class:`~playground.core.lessons.Lesson`.

    Signals:
        step_entered(int): a step (its 0-based index) is on show.
        finished(): the player left the lesson (Esc, :meth:`leave`).

    Attributes:
        index: the step on show (0-based; ``-1`` before :meth:`start`).
        revealed: a predict step's card was taken off (its view revealed).
        bar: the :class:`~.lesson_card.LessonBar`; ``note`` the
            :class:`~.lesson_card.LessonNote` in the explain panel.
        card, playback, compare: the predict card, the recording played in place of the
            views, the compare window on show (each ``None`` when there is none).
        driver: the :class:`~.lesson_run.RunDriver` of run steps.
        recordings: step index to :class:`~playground.core.lessons.RecordingInfo`.
        notice: what the current step says (also in the bar and the status bar).
    """

    step_entered = Signal(int)
    finished = Signal()

    def __init__(self, window: Any, lesson: Any):
        QObject.__init__(self, window)
        self.window, self.lesson = window, lesson
        self.index = -1
        self.revealed = False
        self.card: PredictCard | None = None
        self.notice = ""
        self._active = True
        self.bar = LessonBar(lesson.title, len(lesson.steps))
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.bar)
        content = window.explain.widget().widget()  # the panel's scroll area's content
        self.note = LessonNote(content, lesson.title)
        self.init_actions()
        self._keys = self.add_keys(window, NEXT_KEYS, BACK_KEYS)
        # the window's own Right (one training step) gives way to "next" while the lesson runs
        ours = set(self._keys)
        self._silenced = [
            s
            for s in window.findChildren(QShortcut)
            if s not in ours
            and s.isEnabled()
            and s.key().matches(QKeySequence(Qt.Key.Key_Right))
            == QKeySequence.SequenceMatch.ExactMatch
        ]
        for shortcut in self._silenced:
            shortcut.setEnabled(False)

    # ------------------------------------------------------------------ moving
    @property
    def active(self) -> bool:
        """Whether the lesson is still being played (not left)."""
        return self._active

    @property
    def step(self) -> Any:
        """The step on show (``None`` before :meth:`start`)."""
        return self.lesson.steps[self.index] if self.index >= 0 else None

    def start(self) -> None:
        """Show the first step."""
        self.go_to(0)

    def next(self) -> None:
        """The next key: reveal a predict step's view, else go to the next step."""
        if not self._active:
            return
        if self.card is not None and not self.revealed:
            self.reveal()
        elif self.index + 1 < len(self.lesson.steps):
            self.go_to(self.index + 1)
        else:
            self.say("The end of the lesson: Esc leaves it (the session stays).")

    def back(self) -> None:
        """The back key: the step before (see the module's note on going back)."""
        if not self._active:
            return
        if self.index <= 0:
            self.say("This is the first step.")
        else:
            self.go_to(self.index - 1)

    def go_to(self, index: int) -> None:
        """Show step ``index`` (0-based): done afresh going forward, only shown again
        going back (see the module's note). A jump ahead over a preset or session step
        opens the last one skipped first, so the step acts on the session it is meant for.

        Raises:
            IndexError: ``index`` is not a step of the lesson.
        """
        steps = self.lesson.steps
        if not 0 <= index < len(steps):
            raise IndexError(f"step index {index} outside 0..{len(steps) - 1}")
        backwards = index < self.index
        self.leave_step()
        skipped = steps[self.index + 1 : index]
        opening = [s for s in skipped if s.kind in ("preset", "session")]
        if opening:  # a jump ahead: the target step acts on the session it would have
            self.do(opening[-1])
        self.index, self.revealed = index, False
        step = steps[index]
        self.bar.show_step(index + 1, len(steps), step_title(step))
        self.say("")
        self.show_latest_note()
        if backwards and not self.shows_only(step):
            self.show_again(step)
        else:
            self.do(step)
        self.step_entered.emit(index)

    def say(self, text: str, in_bar: bool = True) -> None:
        """Show what the step says in the bar (unless not ``in_bar``) and the status bar
        (``""``: nothing)."""
        self.notice = text
        self.bar.say(text if in_bar else "")
        if text:
            self.window.statusBar().showMessage(text, 15_000)

    def show_latest_note(self) -> None:
        """The explain panel shows the note of the last note step up to this one (none:
        the lesson's note is hidden)."""
        notes = [s for s in self.lesson.steps[: self.index + 1] if s.kind == "note"]
        if not notes:
            self.note.hide()
            return
        self.note.show_note(notes[-1].title, notes[-1].text)
        if not self.window.explain.isVisible():
            self.window.explain.show()

    def leave(self) -> None:
        """Leave the lesson: stop its run, take its card, recording, compare window, note,
        bar and keys away; the window and its session stay as they are."""
        if not self._active:
            return
        self._active = False
        self.leave_step()
        for shortcut in self._keys:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        for shortcut in self._silenced:
            shortcut.setEnabled(True)
        self.window.removeToolBar(self.bar)
        self.bar.deleteLater()
        self.note.hide()
        self.note.deleteLater()
        self.window.statusBar().showMessage("Left the lesson; the session stays.", 10_000)
        self.finished.emit()
        self.deleteLater()


def current_player(window: QWidget) -> LessonPlayer | None:
    """The lesson being played in ``window``, if any."""
    players = [p for p in window.findChildren(LessonPlayer) if p.active]
    return players[-1] if players else None


def play_lesson(window: Any, lesson: Any) -> LessonPlayer:
    """Play ``lesson`` in ``window`` (one left there before is left first); returns the
    :class:`LessonPlayer`, on its first step."""
    old = current_player(window)
    if old is not None:
        old.leave()
    player = LessonPlayer(window, lesson)
    player.start()
    return player


def open_lesson_in(window: Any, path: str | None = None) -> LessonPlayer | None:
    """File > Open lesson: ask for a lesson file (``path``: this one), check it and play it
    in ``window``; a bad file says why in a message box and changes nothing."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from ..core.lessons import SHIPPED_LESSONS, LessonError, load_lesson

    if path is None:
        start = str(SHIPPED_LESSONS) if SHIPPED_LESSONS.is_dir() else ""
        path, _ = QFileDialog.getOpenFileName(
            window, "Open a lesson", start, "Lessons (*.toml *.json);;All files (*)"
        )
    if not path:
        return None
    try:
        lesson = load_lesson(path)
    except LessonError as e:
        QMessageBox.warning(window, "Cannot open the lesson", str(e))
        return None
    return play_lesson(window, lesson)
