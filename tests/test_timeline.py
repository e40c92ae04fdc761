"""The timeline (issue 17): scrubbing back shows the model at the chosen step while the live
run stays where it was; rewinding continues exactly; the ring keeps its budget; a run that
cannot be replayed exactly gets a disabled timeline that says why."""

import pytest
import torch

from playground.app.commands import (
    Play,
    PlayUntil,
    RequestForkPoint,
    ScrubTo,
    SetCheckpointBudget,
    SetHyperparameters,
    Step,
)
from playground.app.timeline import rewind_question
from playground.core.training import Session

#: how long a test waits for the worker (ms): generous, for a loaded machine
WINDOW_TIMEOUT_MS = 30_000


def _state(window):
    return window.timeline.state


def _train_to(qtbot, window, step: int) -> None:
    window.post(PlayUntil(step))
    qtbot.waitUntil(
        lambda: _state(window) is not None and _state(window).live_step == step,
        timeout=WINDOW_TIMEOUT_MS,
    )


def _drawn(qtbot, window, step: int):
    """Wait for the visible view to draw a frame of ``step`` (after the caller's command)."""
    return qtbot.waitSignal(
        window.frame_drawn, timeout=WINDOW_TIMEOUT_MS, check_params_cb=lambda s: s == step
    )


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_scrub_shows_the_step_while_the_live_run_stays(qtbot, open_window):
    window = open_window("vae", "moons")
    _train_to(qtbot, window, 60)
    with _drawn(qtbot, window, 37):
        window.timeline.scrub_to(37)  # as a drag does: coalesced, then ScrubTo(37)
    assert window.worker.session.step_count == 60
    assert window.worker.scrubbed_to == 37
    qtbot.waitUntil(lambda: _state(window).shown_step == 37, timeout=WINDOW_TIMEOUT_MS)
    assert "step 37 of 60" in window.timeline.label.text()
    assert "scrubbed back" in window.timeline.label.text()
    assert window.timeline.live_button.isEnabled()
    # a step while scrubbed back shows the next step of the run; the live run stays
    with _drawn(qtbot, window, 38):
        window.post(Step())
    assert window.worker.session.step_count == 60
    with _drawn(qtbot, window, 60):
        window.timeline.back_to_live()
    qtbot.waitUntil(lambda: _state(window).shown_step is None, timeout=WINDOW_TIMEOUT_MS)
    assert "live" in window.timeline.label.text()
    assert not window.timeline.live_button.isEnabled()


def test_checkpoint_keys_move_one_checkpoint(qtbot, open_window):
    window = open_window("vae", "moons")
    _train_to(qtbot, window, 40)
    marks = _state(window).checkpoints
    assert marks[0] == 0 and len(marks) >= 3
    before = max(c for c in marks if c < 40)
    with _drawn(qtbot, window, before):
        window.timeline.previous_checkpoint()  # "[": the checkpoint before the live step
    qtbot.waitUntil(lambda: _state(window).shown_step == before, timeout=WINDOW_TIMEOUT_MS)
    earlier = max(c for c in marks if c < before)
    with _drawn(qtbot, window, earlier):
        window.timeline.previous_checkpoint()
    qtbot.waitUntil(lambda: _state(window).shown_step == earlier, timeout=WINDOW_TIMEOUT_MS)
    with _drawn(qtbot, window, before):
        window.timeline.next_checkpoint()  # "]": forward one checkpoint
    qtbot.waitUntil(lambda: _state(window).shown_step == before, timeout=WINDOW_TIMEOUT_MS)
    window.timeline.back_to_live()  # End
    qtbot.waitUntil(lambda: _state(window).shown_step is None, timeout=WINDOW_TIMEOUT_MS)


def test_play_while_scrubbed_asks_then_rewinds_exactly(qtbot, open_window):
    window = open_window("gan", "8gaussians")
    asked = []
    window.confirm = lambda question: asked.append(question) or len(asked) > 1
    # a run with a live change of the learning rate and two half steps in it
    _train_to(qtbot, window, 10)
    window.post(SetHyperparameters({"lr_generator": 5e-4}))
    window.post(Step("critic"))
    window.post(Step("generator"))
    qtbot.waitUntil(lambda: _state(window).live_step == 12, timeout=WINDOW_TIMEOUT_MS)
    at_12 = _weights(window.worker.session.model)
    _train_to(qtbot, window, 50)
    with _drawn(qtbot, window, 12):
        window.post(ScrubTo(12))
    assert _equal(_weights(window.worker._scrub.model), at_12)  # the view's copy is exact
    window.post(Play())  # first answer: no -> still scrubbed back, paused, nothing lost
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=WINDOW_TIMEOUT_MS)
    assert asked[0] == rewind_question(12, 50)
    assert "The 38 steps after it are discarded" in asked[0]
    assert window.worker.session.step_count == 50 and not window.worker.playing
    window.post(Play())  # second answer: yes -> Rewind(12), then Play
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=WINDOW_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.worker.playing, timeout=WINDOW_TIMEOUT_MS)
    window.post(PlayUntil(12))  # pauses at once (already past 12 or at it)
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=WINDOW_TIMEOUT_MS)
    assert window.worker.scrubbed_to is None
    # from step 12 the rewound run is the run: train both on and compare
    end = max(30, window.worker.session.step_count) + 5
    _train_to(qtbot, window, end)
    assert max(_state(window).checkpoints) <= end
    fresh = Session("gan", "8gaussians", seed=0, device="cpu")
    fresh.run(10)
    fresh.set_hyperparameters({"lr_generator": 5e-4})
    fresh.step("critic")
    fresh.step("generator")
    fresh.run(end - 12)
    assert _equal(_weights(window.worker.session.model), _weights(fresh.model))


def test_budget_is_respected(qtbot, open_window):
    window = open_window("vae", "moons")
    one = window.worker._ring.nbytes  # the checkpoint of step 0
    window.post(SetCheckpointBudget(5 * one))
    _train_to(qtbot, window, 100)
    state = _state(window)
    assert state.budget_bytes == 5 * one
    assert 0 < state.nbytes <= 5 * one and len(state.checkpoints) <= 5
    assert state.checkpoints[0] == 0  # still reaching back to the start
    with _drawn(qtbot, window, 3):
        window.timeline.scrub_to(3)  # replayed from step 0


def test_fork_here_sends_the_fork_point_of_the_step_shown(qtbot, open_window):
    window = open_window("vae", "moons")
    _train_to(qtbot, window, 30)
    with qtbot.waitSignal(window.worker.fork_point_ready, timeout=WINDOW_TIMEOUT_MS) as got:
        window.worker.fork_point_ready.disconnect(window.timeline.open_fork)
        window.post(RequestForkPoint(17))
    point = got.args[0]
    assert point.step == 17 and point.checkpoint.step == 17  # no replay left to do
    fresh = Session("vae", "moons", seed=0, device="cpu")
    fresh.run(17)
    assert _equal(point.checkpoint.weights, _weights(fresh.model))


@pytest.mark.parametrize("dropout", [0.3])
def test_a_run_with_dropout_has_a_disabled_timeline(qtbot, open_window, dropout):
    window = open_window("pixelcnn", "digits")
    qtbot.waitUntil(lambda: _state(window) is not None, timeout=WINDOW_TIMEOUT_MS)
    assert window.worker.session.config.dropout == dropout
    assert _state(window).problem is not None
    assert not window.timeline.isEnabled()
    assert "cannot be replayed" in window.timeline.label.text()
    assert "dropout" in window.timeline.slider.toolTip()
    window.post(ScrubTo(0))
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=WINDOW_TIMEOUT_MS)
    assert "dropout" in window.banner.text()


def test_cli_checkpoint_budget(capsys):
    from playground.cli import _parser, main

    assert _parser().parse_args(["gui", "--checkpoint-mb", "64"]).checkpoint_mb == 64
    assert _parser().parse_args(["gui"]).checkpoint_mb == 256
    assert main(["gui", "--checkpoint-mb", "0"]) != 0
    assert "--checkpoint-mb must be > 0" in capsys.readouterr().err


def test_slider_moves_snap_to_checkpoints(qtbot, open_window):
    """A drag shows the checkpoint nearest the slider (no replay): the views follow the
    hand; near the live end the slider goes back to live."""
    window = open_window("vae", "moons")
    _train_to(qtbot, window, 60)
    marks = _state(window).checkpoints
    assert len(marks) >= 3
    between = marks[1] + 1 if marks[2] - marks[1] > 2 else marks[1]
    with _drawn(qtbot, window, marks[1]):
        window.timeline.slider.setValue(between)
    assert window.timeline.slider.value() == marks[1]
    qtbot.waitUntil(lambda: window.worker.scrubbed_to == marks[1], timeout=WINDOW_TIMEOUT_MS)
    assert window.worker.last_scrub[1] == 0  # shown from the checkpoint itself
    qtbot.waitUntil(lambda: not window.timeline._timer.isActive(), timeout=5000)
    window.timeline.slider.setValue(60)
    qtbot.waitUntil(lambda: window.worker.scrubbed_to is None, timeout=WINDOW_TIMEOUT_MS)
