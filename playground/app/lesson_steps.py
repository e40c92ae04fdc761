"""What each step of a lesson does in the window: a mixin of
:class:`~.lesson_player.LessonPlayer` (preset, session, tab, note, predict and compare steps;
the live run step is :mod:`.lesson_live`)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from .commands import Rebuild, SetHyperparameters, SetSeed
from .lesson_card import PredictCard
from .lesson_live import LiveStep

__all__ = ["StepActions", "step_title", "fresh_hyperparameters", "NEXT_KEYS", "BACK_KEYS"]

#: the keys that go to the next step (clickers send Page Down) and back
NEXT_KEYS = (Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Down)
BACK_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Up)

#: steps that only show something: shown again when the lesson goes back to them
SHOWING_KINDS = ("tab", "note", "predict", "compare")


def _short(text: str, length: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "\u2026"


def _side_name(side: Any) -> str:
    if side.kind == "preset":
        return side.name or side.preset.name
    return side.model


def step_title(step: Any) -> str:
    """A few words that name ``step`` in the lesson's progress bar."""
    kind = step.kind
    if kind == "preset":
        return f"Preset {step.name or step.preset.name}"
    if kind == "session":
        return f"{step.model} on {step.dataset}"
    if kind == "tab":
        return f"View: {step.view}"
    if kind == "note":
        return _short(step.title or step.text)
    if kind == "run":
        return f"Train {step.steps:,} steps"
    if kind == "predict":
        return f"Predict: {_short(step.question, 40)}"
    return f"Compare {_side_name(step.left)} vs {_side_name(step.right)}"


def fresh_hyperparameters(model: str, dataset: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Every hyperparameter of a fresh ``model`` session on ``dataset`` (the model's
    defaults and those it takes for that data), with ``changes`` on top; the objective
    only where ``changes`` sets it (a rebuild lets it follow the data).

    A rebuild of the same model on data of the same kind keeps the form's values; these
    replace them, so a lesson's session step is the same fresh session wherever it comes.

    Raises:
        KeyError: an unknown model; ValueError: an unknown dataset.
    """
    from ..core import hyperparameters as hpm
    from ..core.data import make_dataset
    from ..core.models import get_model_class

    cls = get_model_class(model)
    values = {**hpm.to_dict(cls.Config()), **cls.defaults_for(make_dataset(dataset))}
    values.pop("objective", None)
    return {**values, **changes}


class StepActions(LiveStep):
    """The steps' actions (the player owns ``window``, ``lesson``, ``index``, ``card``,
    ``revealed``, ``note`` and :meth:`say`)."""

    NEXT_KEYS, BACK_KEYS = NEXT_KEYS, BACK_KEYS

    def add_keys(self, widget: QWidget, next_keys: tuple, back_keys: tuple) -> list[QShortcut]:
        """Shortcuts of ``widget`` (a window) for :meth:`next`, :meth:`back` and Esc
        (:meth:`leave`); they go with the widget."""
        keys = [(k, self.next) for k in next_keys] + [(k, self.back) for k in back_keys]
        keys.append((Qt.Key.Key_Escape, self.leave))
        return [QShortcut(QKeySequence(key), widget, slot) for key, slot in keys]

    def init_actions(self) -> None:
        """Follow the worker: a session or preset answered, a view to show once offered."""
        self.compare: Any = None
        self.compare_view: str | None = None
        self.banner_text = ""  # the banner this step put up
        self.want_view: str | None = None
        #: what the worker is still doing for an earlier step: "preset", "session" or None
        self.awaiting: str | None = None
        worker = self.window.worker
        worker.session_changed.connect(self._on_session)
        worker.preset_opened.connect(self._on_preset_opened)
        worker.config_changed.connect(self._on_config)
        worker.problem.connect(self._on_problem)
        self.init_live()

    def show_banner(self, text: str, kind: str) -> None:
        """Show ``text`` in the window's banner until the step is left (or a command is
        sent, as any banner)."""
        self.banner_text = text
        self.window.show_banner(text, kind)

    # ------------------------------------------------------------------ steps
    @staticmethod
    def shows_only(step: Any) -> bool:
        """Whether ``step`` only shows something (shown again going back)."""
        return step.kind in SHOWING_KINDS

    def do(self, step: Any) -> None:
        """Do ``step`` (entered going forward)."""
        getattr(self, f"_do_{step.kind}")(step)

    def show_again(self, step: Any) -> None:
        """Back at a preset, session or run step: its view, not its training."""
        self.show_view(getattr(step, "view", None))
        session = self.window.worker.session
        at = f" (step {session.step_count:,})" if session is not None else ""
        self.say(
            f"Back at step {step.index + 1} ({step.kind}): not redone going back; "
            f"the session stays as it is{at}."
        )

    def leave_step(self) -> None:
        """Undo what the step on show put up: its card, recording, compare window, run."""
        self.leave_live()
        banner = self.window.banner
        if self.banner_text and banner.isVisible() and banner.text() == self.banner_text:
            banner.hide()  # the step's own banner (a reveal, a fallback) goes with it
        self.banner_text = ""
        if self.card is not None:
            self.card.remove()
            self.card = None
        if self.compare is not None:
            compare, self.compare = self.compare, None
            compare.close()

    def show_view(self, view: str | None) -> None:
        """Show the tab of ``view`` (``None``: leave the tabs), now if the session offers
        it, else once a session that offers it arrives."""
        self.want_view = view
        if view is None:
            return
        names = self.window.tab_names
        if view in names:
            self.window.tabs.setCurrentIndex(names.index(view))
        elif self.awaiting is None and self.window.info is not None:
            self.say(f"This session has no {view} view.")

    def _do_preset(self, step: Any) -> None:
        self.awaiting = "preset"
        self.want_view = step.view
        self.window.presets.open_preset(str(step.preset))

    def _do_session(self, step: Any) -> None:
        window = self.window
        self.awaiting = "session"
        self.want_view = step.view
        changes = fresh_hyperparameters(step.model, step.dataset, dict(step.hyperparameters))
        window.post(Rebuild(step.model, step.dataset))
        window.post(SetSeed(int(step.seed)))
        # the worker answers with config_changed: the session is ready then
        window.post(SetHyperparameters(changes, True))

    def _do_tab(self, step: Any) -> None:
        self.show_view(step.view)

    def _do_note(self, step: Any) -> None:
        self.show_latest_note()

    def _do_predict(self, step: Any) -> None:
        self.show_view(step.view)
        view = self.window.views[step.view]
        self.card = PredictCard(view, step.question, view.title)

    def reveal(self) -> None:
        """Take the predict card off its view and show the step's ``reveal`` text."""
        if self.card is None:
            return
        self.card.remove()
        self.card = None
        self.revealed = True
        reveal = self.step.reveal
        if reveal:
            self.show_banner(reveal, "info")
        self.say(reveal or "Revealed.", in_bar=not reveal)  # the banner says it

    def _do_compare(self, step: Any) -> None:
        from ..core.presets import PresetError
        from .compare import CompareWindow, Side

        window = self.window
        try:
            sides = [self._side(s, Side) for s in (step.left, step.right)]
            tool = CompareWindow.in_temp_folder(
                *sides, prefix="dgm-lesson-compare-", pane=type(window), seed=self._seed(step.left)
            )
        except (ValueError, PresetError) as e:
            self.say(f"Cannot compare: {e}")
            return
        self.compare = tool
        tools = window.presets.tool_windows
        tools.append(tool)  # the window joins its workers when it shuts down
        tool.closed.connect(self._compare_closed)
        self.compare_view = step.view
        for pane in tool.panes:  # a bound method: its slot runs on this (the GUI) thread
            pane.worker.session_changed.connect(self._on_compare_session)
        # the clicker's keys work there too; not the arrows, which its panes use
        self.add_keys(tool, self.NEXT_KEYS[:1], self.BACK_KEYS[:1])
        tool.start()
        tool.fit_screen((window.screen() or tool.screen()).availableGeometry())
        tool.show()
        tool.raise_()
        tool.activateWindow()

    @staticmethod
    def _side(side: Any, cls: type) -> Any:
        if side.kind == "preset":
            return cls.of_preset(side.preset)
        return cls(side.model, side.dataset, dict(side.hyperparameters) or None)

    @staticmethod
    def _seed(side: Any) -> int:
        return int(getattr(side, "seed", 0))

    def _on_compare_session(self, _info: Any) -> None:
        tool = self.compare
        if tool is None:
            return
        if self.compare_view is not None:
            for pane in tool.panes:
                _show_tab(pane, self.compare_view)
        if all(pane.info is not None for pane in tool.panes):
            # the panes' tabs are there now (and, presenting, their large fonts): fit the
            # screen again, stacking the panes where side by side is too wide
            tool.fit_screen((self.window.screen() or tool.screen()).availableGeometry())

    def _compare_closed(self, tool: Any) -> None:
        window = self.window
        window.presets.tool_windows = [w for w in window.presets.tool_windows if w is not tool]
        if self.compare is tool:
            self.compare = None

    # ------------------------------------------------------------------ the worker
    def _ready(self) -> None:
        self.awaiting = None
        self.show_view(self.want_view)
        self.start_deferred_run()

    def _on_session(self, _info: Any) -> None:
        # after the window's own handler (connected first): its tabs are those offered now
        if self.want_view in self.window.tab_names:
            self.show_view(self.want_view)

    def _on_preset_opened(self, _path: str) -> None:
        if self.awaiting == "preset":
            self._ready()

    def _on_config(self, _config: Any) -> None:
        if self.awaiting == "session":
            self._ready()

    def _on_problem(self, message: str) -> None:
        if self.awaiting == "preset" and message.startswith("Cannot open preset"):
            self._ready()  # the old session stays; the window's banner says why


def _show_tab(pane: Any, view: str) -> None:
    if view in pane.tab_names:
        pane.tabs.setCurrentIndex(pane.tab_names.index(view))
