"""The training thread's schedule (app/pacing.py), without Qt: given costs and times, when the
next evaluation and snapshot are due, the rate caps, and the views that move while paused."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from playground.app.pacing import Pacing

APP = Path(__file__).resolve().parents[1] / "playground" / "app"


@dataclass(frozen=True)
class Entry:
    """A registry entry as the pacing reads it."""

    rate: float | None = None
    live: bool = False
    reads_model: bool = True


PICTURES = {
    "cheap": Entry(),
    "slow": Entry(rate=2.0),
    "moving": Entry(live=True),
    "record": Entry(reads_model=False),
}


def pacing(*views: str, **kw) -> Pacing:
    """A schedule over the made-up registry, with round numbers."""
    defaults = dict(
        snapshot_rate=10.0,
        min_rate=5.0,
        snapshot_share=0.25,
        eval_seconds=3.0,
        eval_share=0.05,
        chunk_seconds=0.02,
    )
    return Pacing(PICTURES, views=views, **{**defaults, **kw})


def test_the_module_needs_neither_qt_nor_torch():
    heavy = "{'PySide6', 'torch'}"
    code = f"import sys, playground.app.pacing; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_chunk_lasts_chunk_seconds():
    assert pacing("cheap").chunk_end(100.0) == pytest.approx(100.02)


def test_evaluation_every_eval_seconds_or_rarer_after_a_slow_one():
    p = pacing("cheap")
    assert p.evaluation_due(0.0)  # the first comes at once
    p.evaluated(10.0, cost=0.03)  # 1% of 3 s: the clock decides
    assert not p.evaluation_due(12.9) and p.evaluation_due(13.0)
    p.evaluated(13.5, cost=0.5)  # 0.5 s at 5%: one every 10 s
    assert p.evaluation_period == pytest.approx(10.0)
    assert not p.evaluation_due(23.4) and p.evaluation_due(23.5)


def test_play_after_pause_and_a_restart_wait_a_whole_period():
    p = pacing("cheap")
    p.evaluated(0.0, cost=1.0)  # a DDPM's: every 20 s
    p.postpone_evaluation(15.0)  # pressing play at 15 s does not evaluate at 20 s
    assert not p.evaluation_due(34.9) and p.evaluation_due(35.0)
    p.restarted(40.0)  # a new run: its cost is not known yet
    assert p.evaluation_cost == 0.0 and p.evaluation_due(43.0) and not p.evaluation_due(42.9)


def test_a_snapshot_is_forced_at_first_then_follows_the_clock_while_playing():
    p = pacing("cheap")
    assert p.snapshot_due(0.0, playing=False)  # the first picture, even paused
    p.snapshot_taken(0.0, cost=0.001)
    assert not p.snapshot_due(5.0, playing=False)  # paused: nothing moves
    assert not p.snapshot_due(0.09, playing=True)
    assert p.snapshot_due(0.1, playing=True)  # at most 10 per second
    p.request_snapshot()  # a step, a pause, new settings
    assert p.snapshot_due(0.0, playing=False)


def test_new_views_are_snapshot_at_once():
    p = pacing("cheap")
    p.snapshot_taken(0.0, cost=0.001)
    p.set_views(("slow",))
    assert p.snapshot_due(0.0, playing=False) and p.views == ("slow",)


def test_costly_snapshots_keep_their_share_but_uncapped_views_their_minimum_rate():
    p = pacing("cheap")
    assert p.snapshot_period(0.001) == pytest.approx(0.1)  # the rate cap
    assert p.snapshot_period(0.04) == pytest.approx(0.16)  # 40 ms at 25%
    assert p.snapshot_period(0.05) == pytest.approx(0.2)  # never below 5 per second
    # ... unless that keeps the snapshot thread more than a quarter busy: its share
    assert p.snapshot_period(0.06) == pytest.approx(0.24)
    assert p.snapshot_period(1.0) == pytest.approx(4.0)


def test_a_pictures_own_rate_cap_holds_and_lets_slow_ones_keep_their_share():
    p = pacing("cheap", "slow")
    assert p.rate_cap == 2.0
    assert p.snapshot_period(0.001) == pytest.approx(0.5)
    assert p.snapshot_period(1.0) == pytest.approx(4.0)  # no minimum rate: its share
    assert pacing("cheap", snapshot_rate=4.0).rate_cap == 4.0


def test_live_views_move_on_the_clock_while_paused_but_not_in_slow_motion():
    p = pacing("moving")
    assert p.live and not pacing("cheap", "record").live
    p.snapshot_taken(0.0, cost=0.001)
    assert not p.snapshot_due(0.05, playing=False)
    assert p.snapshot_due(0.1, playing=False)
    # slow motion: once per half step (requested), never on the clock
    assert not p.snapshot_due(0.1, playing=True, slow=True)
    p.request_snapshot()
    assert p.snapshot_due(0.1, playing=True, slow=True)


def test_the_training_record_is_split_from_the_models_pictures():
    p = pacing("cheap", "record", "unknown")
    assert p.record_views == ("record",)
    assert p.model_views == ("cheap", "unknown")  # unknown names: no cap, from the model


def test_caps_live_views_and_the_record_come_from_the_core_registry():
    from playground.core.snapshots import PICTURES as REGISTRY

    assert any(p.rate for p in REGISTRY.values()) and any(p.live for p in REGISTRY.values())
    for name, picture in REGISTRY.items():
        p = Pacing(views=(name,), snapshot_rate=10.0)
        assert p.rate_cap == min(10.0, picture.rate or 10.0), name
        assert p.live == picture.live, name
        assert p.record_views == (() if picture.reads_model else (name,)), name


@pytest.mark.parametrize("module", ["worker.py", "pacing.py"])
def test_the_worker_and_its_pacing_name_no_view(module):
    from playground.core.snapshots import PICTURES as REGISTRY

    tree = ast.parse((APP / module).read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert sorted(strings & set(REGISTRY)) == []


def test_the_drawing_counts_with_the_snapshot_and_follows_new_measurements():
    p = pacing("slow")
    assert p.snapshot_period(0.5) == pytest.approx(2.0)
    for _ in range(40):
        p.drawn(0.1)  # 100 ms of GUI time per frame
    assert p.draw_cost == pytest.approx(0.1, rel=1e-3)
    assert p.snapshot_period(0.5) == pytest.approx(2.4, rel=1e-3)
    p.drawn(0.0)
    assert 0.0 < p.draw_cost < 0.1  # an average: one cheap frame does not reset it


def test_new_views_learn_their_drawing_cost_afresh():
    p = pacing("cheap")
    for _ in range(40):
        p.drawn(0.1)
    p.set_views(("record",))
    assert p.draw_cost == 0.0 and p.snapshot_period(0.0) == pytest.approx(0.1)
