"""Drawn or imported 2D points travel inside a preset (points.safetensors, never a pickle)
and a hostile points file is refused with one clear line."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import save, save_file

from playground.core.data.points import MAX_POINTS, write_points_csv
from playground.core.preset_files import POINTS, PresetError
from playground.core.preset_points import read_points, session_points
from playground.core.presets import load_preset, save_preset
from playground.core.training import Session

torch.set_num_threads(1)


def _drawn(n: int = 64, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g) * 0.5 + torch.tensor([1.0, -2.0])


@pytest.fixture
def drawn_preset(tmp_path):
    points = _drawn()
    session = Session("gan", "points", {"batch_size": 32}, seed=5, points=points)
    session.run(3)
    path = save_preset(session, tmp_path / "drawn")
    return path, points, session


def test_drawn_points_round_trip_through_a_preset_folder_and_bundle(drawn_preset, tmp_path):
    path, points, session = drawn_preset
    assert (path / POINTS).is_file()
    loaded = load_preset(path, device="cpu")
    assert loaded.dataset_name == "points"
    assert torch.equal(loaded.points, points)
    assert loaded.step_count == 3
    for name, value in session.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)
    bundle = save_preset(loaded, tmp_path / "drawn.dgmpreset")
    again = load_preset(bundle, device="cpu")
    assert torch.equal(again.points, points)
    # the loaded session trains on the points: its data batches come from them
    batch = again.data.sample(500, torch.Generator().manual_seed(0))
    assert {tuple(p) for p in batch.tolist()} <= {tuple(p) for p in points.tolist()}


def test_a_csv_session_stores_its_points_and_opens_without_the_file(tmp_path):
    csv = tmp_path / "mine.csv"
    points = _drawn(20, seed=7)
    write_points_csv(csv, points)
    session = Session("gan", f"points:path={csv}", seed=1)
    assert torch.equal(session_points(session), points)
    path = save_preset(session, tmp_path / "csv_preset")
    csv.unlink()  # another machine: the CSV file is not there
    loaded = load_preset(path, device="cpu")
    assert loaded.dataset_name == "points" and torch.equal(loaded.points, points)


def test_other_datasets_write_no_points_file(tmp_path):
    session = Session("gan", "moons", seed=0)
    assert session_points(session) is None
    path = save_preset(session, tmp_path / "moons")
    assert not (path / POINTS).exists()


def _rewrite(path, tensors):
    (path / POINTS).unlink()
    save_file(tensors, str(path / POINTS))


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ({"points": torch.zeros(10, 3)}, "not (n, 2)"),
        ({"points": torch.zeros(10, 2, dtype=torch.float64)}, "not float32"),
        ({"points": torch.zeros(1, 2)}, "outside the 2..1,000,000"),
        ({"other": torch.zeros(10, 2)}, "not one tensor 'points'"),
        ({"points": torch.tensor([[0.0, 1.0], [float("nan"), 2.0]])}, "NaN or infinity"),
        ({"points": torch.tensor([[0.0, 1.0], [float("inf"), 2.0]])}, "NaN or infinity"),
    ],
)
def test_a_hostile_points_file_is_refused_with_one_line(drawn_preset, tensors, message):
    path, _, _ = drawn_preset
    _rewrite(path, tensors)
    with pytest.raises(PresetError, match=r"points\.safetensors") as error:
        load_preset(path, device="cpu")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_points_file_of_drawn_points_is_refused(drawn_preset):
    path, _, _ = drawn_preset
    (path / POINTS).unlink()
    with pytest.raises(PresetError, match="points.safetensors: missing"):
        load_preset(path, device="cpu")


def test_a_header_claiming_too_many_points_is_refused_before_allocating():
    n = MAX_POINTS + 1
    # a header that claims (n, 2) float32 over a body of only 16 bytes: never allocated
    header = {"points": {"dtype": "F32", "shape": [n, 2], "data_offsets": [0, n * 8]}}
    raw = json.dumps(header).encode()
    data = struct.pack("<Q", len(raw)) + raw + bytes(16)
    with pytest.raises(PresetError, match="outside the file"):
        read_points(data, "p.safetensors")
    # a real file of one point too many (8 MB, under the size cap) is refused on its shape
    data = save({"points": torch.zeros(n, 2)})
    with pytest.raises(PresetError, match="1,000,001 points, outside"):
        read_points(data, "p.safetensors")


def test_a_points_file_over_its_size_cap_is_refused_unread(drawn_preset):
    path, _, _ = drawn_preset
    with open(path / POINTS, "r+b") as f:
        f.truncate(17 * 2**20)  # sparse: 17 MiB claimed, past the 16 MiB cap
    with pytest.raises(PresetError, match="points.safetensors"):
        load_preset(path, device="cpu")


def test_a_preset_folder_with_a_points_file_is_still_a_preset_to_replace(drawn_preset):
    path, points, session = drawn_preset
    save_preset(session, path)  # replacing it is allowed: points.safetensors is its own
    assert torch.equal(load_preset(path, device="cpu").points, points)
