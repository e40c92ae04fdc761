"""Presets: a saved session opens with the same density; bad bundles are clear errors."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from playground.core.data.base import box_grid
from playground.core.presets import PresetError, load_preset, save_preset
from playground.core.training import Session


@pytest.fixture
def preset(tmp_path):
    s = Session("realnvp", "moons", {"batch_size": 64}, seed=1)
    s.run(10)
    s.evaluate(n=200)
    return s, save_preset(s, tmp_path / "moons")


def test_round_trip_restores_density_step_and_history(preset):
    s, path = preset
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "history.json",
        "model.safetensors",
    ]
    loaded = load_preset(path, device="cpu")
    x, _, _ = box_grid(s.data.box, 16)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.log_prob(x), s.model.log_prob(x))
    assert loaded.step_count == 10
    assert loaded.history.last("heldout_nll") == pytest.approx(s.history.last("heldout_nll"))
    loaded.step()
    assert loaded.step_count == 11


def test_saving_over_a_preset_replaces_it_whole(preset, tmp_path):
    s, path = preset
    s.run(2)
    save_preset(s, path)
    assert load_preset(path).step_count == 12
    assert [p.name for p in tmp_path.iterdir()] == ["moons"]


def _edit_config(path, **changes):
    cfg = json.loads((path / "config.json").read_text())
    cfg.update(changes)
    (path / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p / "model.safetensors").unlink(), "model.safetensors: missing"),
        (lambda p: (p / "model.safetensors").write_bytes(b"\x80\x04garbage"), "safetensors"),
        (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda p: _edit_config(p, schema_version=99), "unknown schema version 99"),
        (lambda p: _edit_config(p, model="nosuch"), "nosuch"),
        (
            lambda p: save_file({"x": torch.zeros(3)}, str(p / "model.safetensors")),
            "do not fit",
        ),
    ],
)
def test_broken_presets_are_clear_errors(preset, breakage, message):
    _, path = preset
    breakage(path)
    with pytest.raises(PresetError, match=message):
        load_preset(path)


def test_wrong_shape_names_the_tensor(preset):
    _, path = preset
    from safetensors.torch import load_file

    state = load_file(str(path / "model.safetensors"))
    name = next(k for k, v in state.items() if v.dim() > 0)
    state[name] = torch.zeros(*[d + 1 for d in state[name].shape])
    save_file(state, str(path / "model.safetensors"))
    with pytest.raises(PresetError, match=f"tensor '{name}' has shape"):
        load_preset(path)


SHIPPED = Path(__file__).resolve().parents[1] / "presets"


@pytest.mark.parametrize(
    "name, metric, bound",
    [
        ("realnvp-moons", "nll_gap", 0.08),
        ("maf-8gaussians", "nll_gap", 0.15),
        ("planar-U1", "reverse_kl", 0.1),
    ],
)
def test_shipped_presets_open_trained(name, metric, bound):
    session = load_preset(SHIPPED / name, device="cpu")
    assert session.step_count >= 2000 and len(session.history) == session.step_count
    assert session.evaluate(n=2000, record=False)[metric] <= bound


# ------------------------------------------------------------------ .dgmpreset bundles
def test_bundle_round_trip_gives_identical_weights(preset, tmp_path):
    import zipfile

    session, _ = preset
    bundle = save_preset(session, tmp_path / "moons.dgmpreset")
    assert bundle.is_file() and zipfile.is_zipfile(bundle)
    assert sorted(zipfile.ZipFile(bundle).namelist()) == [
        "config.json", "history.json", "model.safetensors"
    ]  # fmt: skip
    loaded = load_preset(bundle)
    assert loaded.step_count == session.step_count
    for (k, a), (_, b) in zip(
        session.model.state_dict().items(), loaded.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k
    # no temporary file or folder is left beside the bundle
    assert {p.name for p in tmp_path.iterdir()} == {"moons", "moons.dgmpreset"}


def _bundle_with(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_path_traversal_member_is_refused_and_nothing_is_written(preset, tmp_path):
    session, folder = preset
    target = tmp_path / "deep" / "inside"
    target.mkdir(parents=True)
    members = {p.name: p.read_bytes() for p in folder.iterdir()}
    members["../../escaped.txt"] = b"owned"
    bundle = _bundle_with(target / "evil.dgmpreset", members)
    with pytest.raises(PresetError, match="not a preset file"):
        load_preset(bundle)
    assert not (tmp_path / "escaped.txt").exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def test_bundle_breakages_are_clear_errors(preset, tmp_path):
    import pickle

    _, folder = preset
    members = {p.name: p.read_bytes() for p in folder.iterdir()}
    # a pickle renamed to model.safetensors is never unpickled: it is not safetensors
    members["model.safetensors"] = pickle.dumps({"weight": [1.0, 2.0]})
    bad = _bundle_with(tmp_path / "pickled.dgmpreset", members)
    with pytest.raises(PresetError, match=r"pickled\.dgmpreset.*not a safetensors file"):
        load_preset(bad)
    notzip = tmp_path / "notzip.dgmpreset"
    notzip.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(PresetError, match="not a .dgmpreset bundle"):
        load_preset(notzip)
