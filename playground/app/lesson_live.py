"""A lesson's live step in the window: train ``steps`` steps with a watchdog, and play the
step's recording (made when the lesson was built) in place of the views when live training
is too slow or diverges. A mixin of :class:`~.lesson_player.LessonPlayer`."""

from __future__ import annotations

from typing import Any

from .lesson_playback import RecordingPlayback, check_gif
from .lesson_run import RunDriver

__all__ = ["LiveStep", "DEFAULT_BUDGET_SECONDS", "BUDGET_FACTOR"]

#: a run step without ``seconds`` may take this long live, or BUDGET_FACTOR times what it
#: took when the lesson was built, whichever is longer (only where there is a recording)
DEFAULT_BUDGET_SECONDS = 30.0
BUDGET_FACTOR = 3.0


class LiveStep:
    """Run steps (the player owns ``window``, ``lesson``, ``step``, ``awaiting``,
    :meth:`say` and :meth:`show_view`)."""

    def init_live(self) -> None:
        """The run driver and the lesson's recordings (an unreadable index: none, said once)."""
        from ..core.lessons import LessonError, read_recordings

        self.playback: RecordingPlayback | None = None
        self.deferred: Any = None
        self.driver = RunDriver(self.window, self)  # goes with the player
        self.driver.finished.connect(self._on_run_finished)
        self.driver.too_slow.connect(self._on_too_slow)
        self.driver.failed.connect(self._on_run_failed)
        self.driver.interrupted.connect(self._on_run_interrupted)
        self.recordings_problem = ""
        try:
            self.recordings = read_recordings(self.lesson)
        except LessonError as e:
            self.recordings = {}
            self.recordings_problem = str(e)

    def leave_live(self) -> None:
        """Stop the run (training stays paused where it is) and take the recording off."""
        self.deferred = None
        if self.driver.running:
            self.driver.stop()
        if self.playback is not None:
            self.playback.remove()
            self.playback = None

    def recording_for(self, step: Any) -> tuple[Any, str]:
        """The usable recording of run ``step`` and ``""``, or ``None`` and why there is
        none (missing, stale, unplayable)."""
        rec = self.recordings.get(step.index)
        if rec is None:
            why = self.recordings_problem or (
                "no recording of this step was built (python -m playground lesson build "
                f"{self.lesson.path.name})"
            )
            return None, why
        if rec.stale:
            return None, "this step's recording is stale (the lesson changed after the build)"
        try:
            check_gif(rec.path)
        except ValueError as e:
            return None, str(e)
        return rec, ""

    def budget_for(self, step: Any) -> float | None:
        """The live budget of run ``step`` in seconds: its ``seconds``; else, where it has
        a recording, :data:`DEFAULT_BUDGET_SECONDS` or :data:`BUDGET_FACTOR` times the
        build's time, whichever is longer; else none (there is nothing to fall back on)."""
        if step.seconds is not None:
            return float(step.seconds)
        rec, _ = self.recording_for(step)
        if rec is None:
            return None
        return max(DEFAULT_BUDGET_SECONDS, BUDGET_FACTOR * rec.seconds)

    def _do_run(self, step: Any) -> None:
        self.show_view(step.view)
        if self.awaiting is not None:
            self.deferred = step
            self.say("Waiting for the session to open, then training\u2026")
            return
        self._start_run(step)

    def start_deferred_run(self) -> None:
        """The session a run step waited for is open: train now."""
        step, self.deferred = self.deferred, None
        if step is not None and step is self.step:
            self._start_run(step)

    def _start_run(self, step: Any) -> None:
        if not self.driver.start(step.steps, self.budget_for(step)):
            self.say("No session to train: the session did not open.")
            return
        rec, why = self.recording_for(step)
        end = self.driver.target
        text = f"Training {step.steps:,} steps live, to step {end:,}."
        self.say(text if rec is not None else f"{text} No fallback: {why}.")

    def _on_run_finished(self, step: int, seconds: float) -> None:
        done = step - self.driver.start_step
        self.say(f"Trained {done:,} steps live in {seconds:.1f} s (now at step {step:,}).")

    def _on_run_interrupted(self) -> None:
        self.say("The session was reset or replaced during the run: the run stopped.")

    def _on_too_slow(self, projected: float) -> None:
        reason = f"Live training was too slow here (projected {projected:.0f} s"
        budget = self.driver.projection.budget
        self._fall_back(f"{reason}, the budget is {budget:.0f} s)", keep_training=True)

    def _on_run_failed(self, message: str) -> None:
        self._fall_back(f"Live training stopped here ({message})", keep_training=False)

    def _fall_back(self, reason: str, keep_training: bool) -> None:
        """Play the step's recording in place of the views, with a notice; without a usable
        recording, say so (a slow run trains on)."""
        step = self.step
        if step is None or step.kind != "run":
            return
        rec, why = self.recording_for(step)
        if rec is None:
            goes_on = "training goes on live" if keep_training else "the session stays paused"
            self.say(f"{reason}; {goes_on}: {why}.")
            return
        at = self.driver.stop()
        view = self.window.views.get(rec.view)
        title = view.title if view is not None else rec.view
        try:
            self.playback = RecordingPlayback(
                self.window.tabs,
                rec.path,
                f"Recording made when this lesson was built: {title}, {rec.steps:,} "
                f"steps to step {rec.final_step:,} ({rec.frames} frames). The live session "
                f"stopped at step {at:,}.",
            )
        except ValueError as e:  # checked above; the file changed since
            self.say(f"{reason}; the recording cannot be played: {e}.")
            return
        notice = f"{reason}; playing the recording made when this lesson was built."
        self.show_banner(notice, "warning")
        self.say(notice, in_bar=False)  # the banner says it, right above the recording
