"""The checkpoint ring, restore, exact rewind and fork (issue 17)."""

import numpy as np
import pytest
import torch

from playground.core.training.checkpoints import (
    NOT_REPLAYABLE,
    CheckpointRing,
    NotReplayableError,
    capture,
    fork,
    held_bytes,
    restore,
    rewind,
)
from playground.core.training.session import Session

TINY = {
    "realnvp": ("moons", {"n_layers": 2, "hidden": 16, "depth": 1, "batch_size": 64}),
    "gan": ("8gaussians", {"hidden": 16, "depth": 1, "batch_size": 64}),
    "vae": ("moons", {"hidden": 16, "depth": 1, "batch_size": 64}),
}


def _session(model: str, **changes) -> Session:
    dataset, hps = TINY[model]
    torch.set_num_threads(1)
    return Session(model, dataset, {**hps, **changes}, seed=3, device="cpu")


def _train(session: Session, ring: CheckpointRing, steps: int) -> dict[int, dict]:
    """Train ``steps`` steps saving into ``ring``; the loss terms of each step."""
    terms = {}
    ring.maybe_save(session)
    for _ in range(steps):
        out = session.step()
        terms[session.step_count] = _exact(out)
        ring.maybe_save(session)
    return terms


def _exact(terms: dict) -> dict:
    # wall-clock terms are measurements, not state
    return {k: v for k, v in terms.items() if not k.endswith("seconds")}


def _state(session: Session):
    weights = {k: v.clone() for k, v in session.model.state_dict().items()}
    opts = {k: capture(session).optimizers[k] for k in session.model.optimizers}
    return weights, opts


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("model", sorted(TINY))
def test_rewind_replays_bit_for_bit(model):
    session, ring = _session(model), CheckpointRing(max_count=6)
    terms = _train(session, ring, 60)
    weights, opts = _state(session)
    rewind(session, ring, 37)
    assert session.step_count == 37
    replayed = {}
    for _ in range(60 - 37):
        out = session.step()
        replayed[session.step_count] = _exact(out)
    assert replayed == {s: terms[s] for s in range(38, 61)}
    w2, o2 = _state(session)
    assert _same(weights, w2) and _same(opts, o2)


def test_restore_is_deep_and_truncates_history():
    session, ring = _session("realnvp"), CheckpointRing()
    _train(session, ring, 20)
    session.record_evaluation(20, {"nll": 1.0})
    checkpoint = ring.nearest_before(10)
    saved = next(iter(checkpoint.weights.values())).clone()
    with torch.no_grad():
        for p in session.model.parameters():
            p.add_(1.0)  # live changes never reach a checkpoint
    assert torch.equal(next(iter(checkpoint.weights.values())), saved)
    restore(session, checkpoint)
    assert session.step_count == checkpoint.step <= 10
    for steps, _ in session.history.as_arrays().values():
        assert steps.max() <= checkpoint.step
    assert "heldout_nll" not in session.history.names()
    assert torch.equal(next(iter(session.model.state_dict().values())), saved)


def test_fork_unchanged_reproduces_and_lr_fork_differs_only_after():
    session, ring = _session("gan"), CheckpointRing(max_count=4)
    terms = _train(session, ring, 40)
    before = _state(session)
    same = fork(session, ring, 25)
    assert same is not session and same.step_count == 25
    assert _same(_state(session), before) and session.step_count == 40  # untouched
    assert [_exact(same.step()) for _ in range(15)] == [terms[s] for s in range(26, 41)]
    assert _same(_state(same), before)
    faster = fork(session, ring, 25, {"lr_generator": 1e-2})
    hist, orig = faster.history.as_arrays(), session.history.as_arrays()
    name = next(iter(_exact(terms[1])))
    assert np.array_equal(hist[name][1], orig[name][1][:25])  # the same up to the fork
    faster.run(3)
    assert _exact(faster.last_terms) != terms[28]


def test_ring_stays_in_budget_and_spans_the_run():
    session = _session("realnvp")
    session.step()  # Adam's moments exist from the first step: a checkpoint's full size
    one = held_bytes(capture(session))  # its tensors and the objects around them
    assert one > capture(session).nbytes
    session.reset()
    ring = CheckpointRing(budget_bytes=10 * one)
    _train(session, ring, 400)
    assert ring.nbytes <= 10 * one and 5 <= len(ring) <= 10
    assert ring.steps == sorted(ring.steps) and ring.steps[0] == 0
    assert 400 - ring.steps[-1] < ring.spacing <= 400 // 4
    assert ring.nearest_before(ring.steps[-1] + 1).step == ring.steps[-1]
    with pytest.raises(LookupError):
        CheckpointRing().nearest_before(3)


def test_rewind_refuses_what_it_cannot_do(monkeypatch):
    session, ring = _session("vae"), CheckpointRing()
    _train(session, ring, 5)
    with pytest.raises(ValueError, match="run is at 5"):
        rewind(session, ring, 9)
    with pytest.raises(ValueError, match="rebuild"):
        fork(session, ring, 3, {"hidden": 32})
    other = Session("vae", "moons", TINY["vae"][1], seed=4, device="cpu")
    with pytest.raises(ValueError, match="cannot restore"):
        restore(other, ring.nearest_before(5))
    dropout = Session("pixelcnn", "digits", {"channels": 4, "blocks": 1}, device="cpu")
    ring.maybe_save(dropout)
    with pytest.raises(NotReplayableError, match="dropout=0"):
        rewind(dropout, ring, 0)
    monkeypatch.setitem(NOT_REPLAYABLE, "vae", "a test says so")
    with pytest.raises(NotReplayableError, match="a test says so"):
        rewind(session, ring, 2)


def test_pixelcnn_without_dropout_rewinds_bit_for_bit():
    torch.set_num_threads(1)
    hps = {"channels": 4, "blocks": 1, "first_kernel": 3, "dropout": 0.0, "batch_size": 8}
    session, ring = Session("pixelcnn", "digits", hps, device="cpu"), CheckpointRing(max_count=4)
    terms = _train(session, ring, 12)
    weights, opts = _state(session)
    rewind(session, ring, 5)
    assert [_exact(session.step()) for _ in range(7)] == [terms[s] for s in range(6, 13)]
    assert _same((weights, opts), _state(session))


def _plane_models() -> list[str]:
    from playground.core.data import make_dataset
    from playground.core.models import MODELS

    moons = make_dataset("moons")
    return [name for name, cls in MODELS.items() if cls.fits(moons)]


@pytest.mark.slow
@pytest.mark.parametrize("model", _plane_models())
def test_every_plane_model_rewinds_bit_for_bit(model):
    torch.set_num_threads(1)
    session, ring = Session(model, "moons", seed=1, device="cpu"), CheckpointRing(max_count=4)
    terms = _train(session, ring, 30)
    weights, opts = _state(session)
    rewind(session, ring, 11)
    assert [_exact(session.step()) for _ in range(19)] == [terms[s] for s in range(12, 31)]
    assert _same((weights, opts), _state(session))


def test_fork_point_crosses_threads_and_carries_drawn_points():
    """A ForkPoint holds copies: the run going on after it does not change the branch, and a
    branch of a drawn-points run trains on the same points (built in another thread)."""
    import threading

    from playground.core.training.checkpoints import fork_point, session_from

    points = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    session = Session("gan", "points", TINY["gan"][1], seed=3, device="cpu", points=points)
    ring = CheckpointRing(max_count=4)
    terms = _train(session, ring, 30)
    point = fork_point(session, ring, 20)
    assert point.step == 20 and point.checkpoint.step <= 20 and point.points is not None
    session.run(10)  # the original run goes on after the fork point was taken
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(branch=session_from(point)))
    thread.start()
    thread.join()
    branch = out["branch"]
    assert branch.step_count == 20 and torch.equal(branch.data.points, points)
    assert [_exact(branch.step()) for _ in range(10)] == [terms[s] for s in range(21, 31)]
    with pytest.raises(ValueError, match="cannot fork at step 41"):
        fork_point(session, ring, 41)


def test_session_points_need_the_points_dataset():
    with pytest.raises(ValueError, match="points are given with the dataset 'points'"):
        Session("gan", "moons", points=torch.randn(10, 2))
