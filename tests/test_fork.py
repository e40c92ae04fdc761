""" "Fork here" in the app (issue 17): two branches of a run side by side in a Compare
window, the "as run" side replaying the run bit for bit, the other side's curves overlaid.
The core's exactness (restore, replay, fork) is tested in test_checkpoints.py."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from playground.app.commands import StartFrom  # noqa: E402
from playground.app.fork import describe_changes, fork_problem, open_fork  # noqa: E402
from playground.app.fork_dialog import ForkDialog  # noqa: E402
from playground.app.views.curves import CurvesView  # noqa: E402
from playground.core.snapshots.base import Snapshot  # noqa: E402
from playground.core.snapshots.curves import arrange  # noqa: E402
from playground.core.training import Session  # noqa: E402
from playground.core.training.checkpoints import CheckpointRing, fork_point  # noqa: E402

TIMEOUT = 30_000
TINY = {"hidden": 16, "depth": 1, "batch_size": 64}
#: the VAE's training terms (one objective panel)
TERMS = ("elbo", "reconstruction", "kl")


def _trained(steps: int, dataset: str = "moons", **kw) -> tuple[Session, CheckpointRing]:
    """A tiny VAE trained ``steps`` steps, saving into a ring of four checkpoints (so a
    fork point between two of them is replayed from the one before)."""
    torch.set_num_threads(1)
    session = Session("vae", dataset, TINY, seed=3, device="cpu", **kw)
    ring = CheckpointRing(max_count=4)
    ring.maybe_save(session)
    for _ in range(steps):
        session.step()
        ring.maybe_save(session)
    return session, ring


def _weights(session: Session) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in session.model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_fork_runs_as_run_and_changed_branch_side_by_side(qtbot, open_window):
    # drawn data: a pane cannot be built on bare "points"; it starts on a plane set
    points = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    session, ring = _trained(30, "points", points=points)
    point = fork_point(session, ring, 23)
    assert point.checkpoint.step < 23  # the branches replay from an earlier checkpoint
    window = open_window("vae", "moons")
    asked = []
    window.choose_fork_changes = lambda p, config: asked.append(config.lr) or {"lr": 1e-4}
    compare = open_fork(window, point)
    assert asked == [session.config.lr] and compare in window.presets.tool_windows
    assert "fork at step 23" in compare.windowTitle() and "lr 0.0001" in compare.windowTitle()
    left, right = compare.panes
    try:
        qtbot.waitUntil(lambda: not compare.both.waiting, timeout=TIMEOUT)
        assert compare.step_counts == [23, 23]
        for pane in compare.panes:
            qtbot.waitUntil(lambda p=pane: p.info.dataset == "points", timeout=TIMEOUT)
            assert torch.equal(pane.worker.session.points, session.points)
        assert left.worker.session.config.lr == session.config.lr
        assert right.worker.session.config.lr == 1e-4
        assert "as run" in left.banner.text() and "fork: lr 0.0001" in left.banner.text()
        left.tabs.setCurrentIndex(left.tab_names.index("curves"))
        assert right.visible_view == "curves"  # the same view on both sides
        compare.play.click()  # lock-step
        qtbot.waitUntil(lambda: min(compare.step_counts) >= 40, timeout=TIMEOUT)
        compare.play.click()
        qtbot.waitUntil(lambda: compare.playing == [False, False], timeout=TIMEOUT)
        end = compare.step_counts[0]
        assert compare.step_counts == [end, end]
        # the as-run side is the original run, bit for bit; the fork has left it
        session.run(end - session.step_count)
        assert _same(_weights(left.worker.session), _weights(session))
        assert not _same(_weights(right.worker.session), _weights(session))
        # each side's curves view draws the other's curves, dashed, up to its last step
        curves = left.views["curves"]

        def overlaid() -> bool:  # the training terms (held-out dots end at an evaluation)
            panel = curves.panels.get("objective")
            if panel is None:
                return False
            items = [panel.other_items.get(n) for n in TERMS] + [panel.items.get(n) for n in TERMS]
            ends = [i.xData[-1] if i is not None and i.xData is not None else None for i in items]
            return ends == [end] * len(items)  # the other side's and this side's last frames

        qtbot.waitUntil(overlaid, timeout=TIMEOUT)
        panel = curves.panels["objective"]
        labels = [label.text for _, label in panel.legend.items]
        assert "dashed: fork: lr 0.0001" in labels
        assert panel.fork_line is not None and panel.fork_line.value() == 23
        item, mine = panel.other_items["kl"], panel.items["kl"]
        assert item.opts["pen"].style() != mine.opts["pen"].style()  # dashed vs solid
        assert np.array_equal(item.xData, mine.xData)  # one step axis
        assert np.array_equal(item.yData[:20], mine.yData[:20])  # one run before the fork
        assert not np.array_equal(item.yData[-3:], mine.yData[-3:])  # two after it
        qtbot.waitUntil(
            lambda: "dashed: as run" in [t.text for _, t in right_legend(right)], timeout=TIMEOUT
        )
    finally:
        compare.close()
    assert window.presets.tool_windows == []


def right_legend(pane):
    panels = [p for p in pane.views["curves"].panels.values() if p.other_items]
    return panels[0].legend.items if panels else []


def test_a_fork_that_would_rebuild_is_refused_with_a_clear_message(qtbot, open_window):
    session, ring = _trained(8)
    point = fork_point(session, ring, 6)
    window = open_window("vae", "moons")
    assert open_fork(window, point, {"hidden": 32}) is None
    assert window.presets.tool_windows == []
    assert "hidden" in window.banner.text() and "live" in window.banner.text()
    assert open_fork(window, point, {"lr": -1.0}) is None  # a bad value: the core's words
    assert "lr" in window.banner.text() and "minimum" in window.banner.text()
    window.choose_fork_changes = lambda p, config: None  # cancelled: nothing happens
    assert open_fork(window, point) is None and window.presets.tool_windows == []
    # the worker refuses such a branch too, and keeps its session
    before = window.worker.session
    window.worker.post(StartFrom(point, {"hidden": 32}))
    qtbot.waitUntil(lambda: "Cannot start the branch at step 6" in window.banner.text())
    assert "hidden" in window.banner.text() and window.worker.session is before


def test_the_overlay_goes_when_the_other_branch_goes(qtbot):
    session, _ = _trained(12)
    mine = arrange(session.history.as_arrays())
    session.run(5)
    other = arrange(session.history.as_arrays())
    view = CurvesView()
    qtbot.addWidget(view)
    view.show_snapshot(Snapshot(12, (0, 1, 0, 1), curves=mine))
    view.set_other(other, "fork: lr 0.0001", fork_step=10)
    panel = view.panels["objective"]
    assert set(panel.other_items) == {"elbo", "reconstruction", "kl"}
    assert panel.other_items["kl"].xData[-1] == 17 and panel.fork_line.value() == 10
    assert "dashed: fork: lr 0.0001" in [label.text for _, label in panel.legend.items]
    view.set_other(None)
    assert panel.other_items == {} and panel.fork_line is None
    assert [label.text for _, label in panel.legend.items] == ["elbo", "reconstruction", "kl"]


def test_the_dialog_offers_live_fields_and_returns_only_the_changes(qtbot):
    session, _ = _trained(0)
    dialog = ForkDialog(500, session.config)
    qtbot.addWidget(dialog)
    assert "lr" in dialog.editors and "hidden" not in dialog.editors  # hidden rebuilds
    assert dialog.changes() == {}
    dialog.editors["lr"].setValue(1e-4)
    dialog.editors["batch_size"].setValue(32)
    assert dialog.changes() == {"lr": 1e-4, "batch_size": 32}
    assert describe_changes(dialog.changes()) == "lr 0.0001, batch_size 32"
    assert fork_problem(session.config, dialog.changes()) is None
    assert "500" in dialog.windowTitle()
