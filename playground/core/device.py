"""Device choice: every tensor of a session goes through :func:`resolve_device`."""

from __future__ import annotations

import torch

__all__ = ["resolve_device", "available_devices", "DeviceError"]


class DeviceError(ValueError):
    """A device name that this machine cannot run on."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """The device names usable here, ``auto`` first: ``auto``, ``cpu``, ``cuda:0``..., ``mps``."""
    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn a device name into a ``torch.device``.

    Arguments:
        name: ``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.

    Returns:
        The device.

    Raises:
        DeviceError: the name is malformed or the device is not available here; the
            message lists the available ones.
    """
    if isinstance(name, torch.device):
        name = str(name)
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(
            f"unknown device {name!r}; available: {', '.join(available_devices())}"
        ) from None
    ok = (
        device.type == "cpu"
        or (
            device.type == "cuda"
            and torch.cuda.is_available()
            and (device.index or 0) < torch.cuda.device_count()
        )
        or (device.type == "mps" and _mps_available())
    )
    if not ok:
        raise DeviceError(
            f"device {name!r} is not available on this machine; "
            f"available: {', '.join(available_devices())}"
        )
    return device
