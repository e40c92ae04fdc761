"""A session's whole training state as a deep CPU copy (a checkpoint), and putting it back."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import hyperparameters as hpm
from .history import History
from .session import Session

__all__ = ["Checkpoint", "capture", "restore", "truncated"]

# attributes of a module that are not training state: torch's own bookkeeping (weights
# and buffers travel in the state dict), what the session owns or rebuilds
_SKIPPED = {"config", "data", "optimizers", "rng", "training"}
_TORCH_OWN = set(vars(torch.nn.Module()))
_PLAIN = (int, float, bool, str, type(None), np.ndarray, np.generic, torch.Tensor)


def _is_state(value: Any) -> bool:
    """Whether ``value`` is plain training state (numbers, tensors, arrays, generators,
    and containers of them) that :func:`capture` copies."""
    if isinstance(value, (*_PLAIN, torch.Generator, np.random.Generator)):
        return True
    if isinstance(value, list | tuple | deque):
        return all(_is_state(v) for v in value)
    if isinstance(value, dict):
        return all(_is_state(v) for v in value.values())
    return False


def _cpu_copy(value: Any) -> Any:
    """A deep copy of ``value`` with every tensor cloned to the CPU (no aliasing)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, torch.Generator):
        return ("generator", value.get_state())
    if isinstance(value, dict):
        return {k: _cpu_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple | deque):
        return type(value)(_cpu_copy(v) for v in value)
    return copy.deepcopy(value)


def _nbytes(value: Any) -> int:
    """Bytes of the tensors and arrays in ``value``."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, list | tuple | deque):
        return sum(_nbytes(v) for v in value)
    return 0


def _to_device(value: Any, device: torch.device) -> Any:
    """A copy of captured ``value`` with its tensors on ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device, copy=True)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, list | tuple | deque):
        return type(value)(_to_device(v, device) for v in value)
    return copy.deepcopy(value)


def _hidden_state(model: torch.nn.Module) -> dict[tuple[str, str], Any]:
    """Every module's plain attributes that are not weights or buffers: replay buffers,
    persistent chains, counters, extra generators (keyed by module path and name)."""
    out = {}
    for path, module in model.named_modules():
        for name, value in vars(module).items():
            if name in _TORCH_OWN or (module is model and name in _SKIPPED):
                continue
            if isinstance(value, torch.nn.Module) or not _is_state(value):
                continue
            out[(path, name)] = _cpu_copy(value)
    return out


@dataclass(frozen=True)
class Checkpoint:
    """A session's whole training state at one step, on the CPU.

    Attributes:
        step: the step count it was taken after.
        model_name, dataset_name, seed: which run it belongs to.
        config: the hyperparameters in force (live changes included).
        weights: the model's ``state_dict`` (parameters and buffers), cloned.
        optimizers: each optimiser's ``state_dict``, tensors cloned.
        hidden: the modules' other state (see :func:`capture`).
        rng: the model's training generator state; data_rng: the batches' generator state.
        last_terms: the loss terms of ``step``; watch: a copy of the divergence watch.
    """

    step: int
    model_name: str
    dataset_name: str
    seed: int
    config: Any
    weights: dict[str, torch.Tensor]
    optimizers: dict[str, dict]
    hidden: dict[tuple[str, str], Any]
    rng: torch.Tensor
    data_rng: torch.Tensor
    last_terms: dict[str, float]
    watch: Any = None
    nbytes: int = field(default=0, compare=False)


def capture(session: Session) -> Checkpoint:
    """A deep CPU copy of ``session``'s training state: weights and buffers, optimiser
    states, the model's and the data stream's generators, every other plain attribute of
    the model's modules (tensors, numbers, arrays, generators and containers of them:
    a persistent chain, a replay buffer), the step count and the config. Nothing aliases
    the live session."""
    model = session.model
    weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    optimizers = {k: _cpu_copy(opt.state_dict()) for k, opt in model.optimizers.items()}
    hidden = _hidden_state(model)
    parts = (weights, optimizers, hidden)
    return Checkpoint(
        step=session.step_count,
        model_name=session.model_name,
        dataset_name=session.dataset_name,
        seed=session.seed,
        config=session.config,  # configs are replaced on change, never mutated
        weights=weights,
        optimizers=optimizers,
        hidden=hidden,
        rng=model.rng.get_state(),
        data_rng=session._data_rng.get_state(),
        last_terms=dict(session.last_terms),
        watch=copy.deepcopy(session.divergence_watch),
        nbytes=sum(_nbytes(p) for p in parts),
    )


def truncated(history: History, step: int) -> History:
    """A copy of ``history`` without the entries recorded after ``step``."""
    out = History()
    for name, (steps, values) in history.as_arrays().items():
        n = int(np.searchsorted(steps, step, side="right"))
        if n:
            _fill(out, name, steps[:n], values[:n])
    return out


def _fill(history: History, name: str, steps: np.ndarray, values: np.ndarray) -> None:
    """Put a whole curve into an empty ``history`` (its arrays, with room to grow)."""
    n = len(steps)
    size = max(1024, 1 << (n - 1).bit_length())
    history._steps[name] = np.resize(steps.astype(np.int64), size)
    history._values[name] = np.resize(values.astype(np.float64), size)
    history._len[name] = n


def restore(session: Session, checkpoint: Checkpoint) -> None:
    """Put ``session`` back exactly at ``checkpoint``: weights, optimisers, generators,
    hidden state, config, step count; its history loses every entry after the step.

    Raises:
        ValueError: the checkpoint belongs to another model, dataset or seed, or to a
            model of another architecture (a non-live field changed since).
    """
    mine = (session.model_name, session.dataset_name, session.seed)
    theirs = (checkpoint.model_name, checkpoint.dataset_name, checkpoint.seed)
    if mine != theirs:
        raise ValueError(f"checkpoint of {theirs} cannot restore a session of {mine}")
    rebuilt = hpm.needs_reset(checkpoint.config, session.config)
    if rebuilt:
        raise ValueError(
            f"the model was rebuilt since this checkpoint ({', '.join(rebuilt)} changed)"
        )
    model, device = session.model, session.device
    session.config = checkpoint.config
    model.apply_live(checkpoint.config)
    with torch.no_grad():
        model.load_state_dict(checkpoint.weights)
    for key, opt in model.optimizers.items():
        opt.load_state_dict(_to_device(checkpoint.optimizers[key], device))
    modules = dict(model.named_modules())
    for path, name in set(_hidden_state(model)) - set(checkpoint.hidden):
        delattr(modules[path], name)  # made after the checkpoint (a lazy buffer): undone
    for (path, name), value in checkpoint.hidden.items():
        module = modules[path]
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "generator":
            getattr(module, name).set_state(value[1])
        else:
            setattr(module, name, _to_device(value, device))
    model.rng.set_state(checkpoint.rng)
    session._data_rng.set_state(checkpoint.data_rng)
    session.step_count = checkpoint.step
    session.history = truncated(session.history, checkpoint.step)
    session.divergence_watch = copy.deepcopy(checkpoint.watch)
    session.last_terms = dict(checkpoint.last_terms)
