"""Presets: a saved session opens with the same weights, optimiser state and history; bad
or hostile presets are clear errors that name the file; saving is atomic."""

import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from playground.core import hyperparameters as hpm
from playground.core import preset_schema
from playground.core import presets as presets_module
from playground.core.catalog import catalog
from playground.core.data.base import box_grid
from playground.core.models import MODELS
from playground.core.presets import (
    HISTORY_MAX_POINTS,
    SHIPPED_PRESETS,
    PresetError,
    PresetInfo,
    load_preset,
    read_preset_info,
    save_preset,
    shipped_presets,
)
from playground.core.training import Session

#: a 1 x 1 grey PNG (a preview's signature and IHDR header are what a preset checks)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cch\x00\x00\x00\x82\x00\x81w\xcdr\xb6\x00\x00\x00\x00IEND\xaeB`\x82"
)


#: the held-out metrics of the ``preset`` fixture's session, computed by its first use
_HELDOUT: dict[str, float] = {}


@pytest.fixture
def preset(tmp_path):
    s = Session("realnvp", "moons", {"batch_size": 64}, seed=1)
    s.run(10)
    # seeded, the session and so its held-out metrics are the same in every test: evaluated
    # once (an MMD permutation test, ~0.25 s of the fixture's ~0.3 s), then recorded as
    # evaluate() records them
    if _HELDOUT:
        s.record_evaluation(s.step_count, _HELDOUT)
    else:
        _HELDOUT.update(s.evaluate(n=200))
    return s, save_preset(s, tmp_path / "moons")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_round_trip_restores_density_step_and_history(preset):
    s, path = preset
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "history.json",
        "model.safetensors",
        "optimizer.safetensors",
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


# ------------------------------------------------------------- every registered model
#: tiny values for the hyperparameters that set a model's size or cost (clamped to bounds)
TINY = {
    "batch_size": 16,
    "hidden": 8,
    "depth": 1,
    "n_layers": 2,
    "n_blocks": 2,
    "flow_layers": 1,
    "prior_flow_layers": 1,
    "prior_components": 2,
    "langevin_steps": 2,
    "buffer_size": 64,
    "sampler_steps": 2,
    "steps_per_level": 2,
    "levels": 3,
    "T": 10,
    "k": 2,
    "codebook_size": 8,
    "categories": 4,
}


def _tiny_session(model: str, seed: int = 0) -> Session:
    cat = catalog()
    fields = cat["models"][model]["hyperparameters"]
    values = {}
    for key, value in TINY.items():
        if key in fields:
            low, high = fields[key].get("low"), fields[key].get("high")
            values[key] = min(max(value, low if low is not None else value), high or value)
    datasets = cat["trainable"][model]
    dataset = "moons" if "moons" in datasets else datasets[0]
    return Session(model, dataset, values, seed=seed, device="cpu")


def _optimizer_tensors(session: Session) -> dict[str, torch.Tensor]:
    out = {}
    for name, opt in session.model.optimizers.items():
        for index, state in opt.state_dict()["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    out[f"{name}.{index}.{key}"] = value
    return out


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_round_trips_weights_config_steps_and_optimizer(model, tmp_path):
    session = _tiny_session(model)
    session.run(2)
    path = save_preset(session, tmp_path / model)
    loaded = load_preset(path, device="cpu")
    assert loaded.model_name == model and loaded.step_count == 2
    assert hpm.to_dict(loaded.config) == hpm.to_dict(session.config)
    before, after = session.model.state_dict(), loaded.model.state_dict()
    assert list(before) == list(after)
    for name, tensor in before.items():
        assert torch.equal(tensor, after[name]), name
    saved, restored = _optimizer_tensors(session), _optimizer_tensors(loaded)
    # plain gradient descent (the Dirac-GAN's SGD without momentum) keeps no state
    stateless = all(
        isinstance(o, torch.optim.SGD) and not o.defaults["momentum"]
        for o in session.model.optimizers.values()
    )
    assert (saved or stateless) and saved.keys() == restored.keys()
    for name, tensor in saved.items():
        assert torch.equal(tensor, restored[name]), name
    for name, opt in session.model.optimizers.items():
        groups = loaded.model.optimizers[name].state_dict()["param_groups"]
        assert groups == opt.state_dict()["param_groups"], name
    # without the optimiser state: fresh optimisers, same weights
    fresh = load_preset(path, device="cpu", optimizer=False)
    assert not _optimizer_tensors(fresh)


def test_play_continues_from_the_saved_optimizer_state(tmp_path):
    a = Session("realnvp", "moons", {"batch_size": 32, "hidden": 8, "n_layers": 2}, seed=3)
    a.run(3)
    b = load_preset(save_preset(a, tmp_path / "p"), device="cpu")
    # the data stream restarts from the seed: give both the same next batch
    batch = a.data.sample(32, torch.Generator().manual_seed(7))
    a.model.train(), b.model.train()
    a.model.train_step(batch), b.model.train_step(batch)
    after_a, after_b = a.model.state_dict(), b.model.state_dict()
    for name, tensor in after_a.items():
        torch.testing.assert_close(tensor, after_b[name], msg=name)
    # fresh optimisers (Adam's first step) would have moved the weights differently
    c = load_preset(tmp_path / "p", device="cpu", optimizer=False)
    c.model.train()
    c.model.train_step(batch)
    assert any(not torch.equal(t, c.model.state_dict()[k]) for k, t in after_a.items())


def test_config_records_title_family_view_and_device(tmp_path):
    s = _tiny_session("wgan-gp")
    path = save_preset(
        s,
        tmp_path / "p",
        preview=PNG,
        notes="# WGAN-GP\n",
        title="Critic",
        description="one line",
        view="critic",
        optimizer=False,
    )
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["title"] == "Critic" and cfg["description"] == "one line"
    assert cfg["family"] == "gan" and cfg["view"] == "critic" and cfg["device"] == "cpu"
    assert {"schema_version", "playground_version", "model", "dataset", "seed", "steps"} <= set(cfg)
    assert (path / "preview.png").read_bytes() == PNG
    assert (path / "notes.md").read_text() == "# WGAN-GP\n"
    assert not (path / "optimizer.safetensors").exists()
    default = json.loads((save_preset(s, tmp_path / "q") / "config.json").read_text())
    assert default["title"] == "wgan-gp on moons" and default["description"] == ""
    assert default["view"] is None


def test_saving_refuses_a_non_png_preview_and_an_unknown_view(tmp_path):
    s = _tiny_session("realnvp")
    with pytest.raises(ValueError, match="PNG"):
        save_preset(s, tmp_path / "p", preview=b"GIF89a")
    with pytest.raises(ValueError, match="nosuchview"):
        save_preset(s, tmp_path / "p", view="nosuchview")
    assert not list(tmp_path.iterdir())


def test_history_is_capped_and_readable(tmp_path):
    s = _tiny_session("realnvp")
    for step in range(1, 5001):
        s.history.record(step, {"loss": float(step)})
    s.step_count = 5000
    path = save_preset(s, tmp_path / "p")
    loaded = load_preset(path, device="cpu")
    assert 0 < len(loaded.history) <= HISTORY_MAX_POINTS
    steps, values = loaded.history.as_arrays()["loss"]
    # averaged over bins of 3 consecutive steps, labelled by the last one
    assert steps[0] == 3 and values[0] == pytest.approx(2.0) and steps[-1] > 4990


def test_a_preset_trained_on_a_gpu_opens_on_the_cpu(preset):
    _, path = preset
    cfg = json.loads((path / "config.json").read_text())
    cfg["device"] = "cuda:0"
    (path / "config.json").write_text(json.dumps(cfg))
    loaded = load_preset(path, device="cpu")
    assert loaded.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in loaded.model.parameters())


# --------------------------------------------------------------------- broken presets
def _edit_config(path, **changes):
    cfg = json.loads((path / "config.json").read_text())
    cfg.update(changes)
    (path / "config.json").write_text(json.dumps(cfg))


def _truncate(file: Path) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p / "model.safetensors").unlink(), "model.safetensors: missing"),
        (lambda p: (p / "config.json").unlink(), "config.json: missing"),
        (
            lambda p: (p / "model.safetensors").write_bytes(b"\x80\x04garbage"),
            "model.safetensors: not a safetensors file",
        ),
        (
            lambda p: (p / "model.safetensors").write_bytes(
                pickle.dumps({"weight": torch.zeros(3)})
            ),
            "model.safetensors: not a safetensors file",
        ),
        (
            lambda p: _truncate(p / "model.safetensors"),
            "model.safetensors: not a safetensors file",
        ),
        (
            lambda p: _truncate(p / "optimizer.safetensors"),
            "optimizer.safetensors: not a safetensors file",
        ),
        (lambda p: (p / "config.json").write_text("{not json"), "config.json: not valid JSON"),
        (lambda p: _edit_config(p, schema_version=99), "unknown schema version 99"),
        (lambda p: _edit_config(p, model="nosuch"), "config.json: unknown model 'nosuch'"),
        (lambda p: _edit_config(p, model="os:system"), "config.json: unknown model 'os:system'"),
        (
            lambda p: _edit_config(p, model="playground.core.models.flows:RealNVP"),
            "config.json: unknown model 'playground.core.models.flows:RealNVP'",
        ),
        (lambda p: _edit_config(p, model=["os", "system"]), "config.json: field 'model'"),
        (lambda p: _edit_config(p, dataset="nosuchdata"), "config.json: .*nosuchdata"),
        (lambda p: _edit_config(p, hyperparameters={"lr": "x"}), "config.json: .*lr"),
        (
            lambda p: save_file({"x": torch.zeros(3)}, str(p / "model.safetensors")),
            "model.safetensors: tensors do not fit",
        ),
        (
            lambda p: save_file({"x": torch.zeros(3)}, str(p / "optimizer.safetensors")),
            "optimizer.safetensors: no optimizer metadata",
        ),
        (lambda p: (p / "history.json").write_text("[1, 2]"), "history.json: not a metric"),
    ],
)
def test_broken_presets_are_clear_errors(preset, tmp_path, monkeypatch, breakage, message):
    _, path = preset
    breakage(path)
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    before = _tree(tmp_path)
    with pytest.raises(PresetError, match=message):
        load_preset(path)
    assert not calls and _tree(tmp_path) == before


def test_wrong_shape_names_the_tensor(preset):
    _, path = preset
    state = load_file(str(path / "model.safetensors"))
    name = next(k for k, v in state.items() if v.dim() > 0)
    state[name] = torch.zeros(*[d + 1 for d in state[name].shape])
    save_file(state, str(path / "model.safetensors"))
    with pytest.raises(PresetError, match=f"model.safetensors: tensor '{name}' has shape"):
        load_preset(path)


def _rewrite_optimizer(path: Path, edit) -> None:
    file = path / "optimizer.safetensors"
    with safe_open(str(file), "pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(file))
    edit(tensors)
    save_file(tensors, str(file), metadata=metadata)


def test_an_optimizer_state_of_the_wrong_shape_is_refused(preset):
    _, path = preset

    def grow(tensors):
        name = next(k for k, v in tensors.items() if v.dim() > 0)
        tensors[name] = torch.zeros(*[d + 1 for d in tensors[name].shape])

    _rewrite_optimizer(path, grow)
    with pytest.raises(PresetError, match=r"optimizer\.safetensors: tensor 'model\..*' has shape"):
        load_preset(path)
    # without the optimiser state it still opens
    assert load_preset(path, optimizer=False).step_count == 10


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.update({"model.999.exp_avg": torch.zeros(2)}), "names no parameter"),
        (lambda t: t.update({"nosuch.0.exp_avg": torch.zeros(2)}), "unexpected tensors"),
    ],
)
def test_optimizer_tensors_that_fit_no_parameter_are_refused(preset, edit, message):
    _, path = preset
    _rewrite_optimizer(path, edit)
    with pytest.raises(PresetError, match=f"optimizer.safetensors: .*{message}"):
        load_preset(path)


def test_an_optimizer_of_another_model_is_refused(preset, tmp_path):
    _, path = preset
    gan = save_preset(_tiny_session("gan"), tmp_path / "gan")
    (path / "optimizer.safetensors").write_bytes((gan / "optimizer.safetensors").read_bytes())
    with pytest.raises(PresetError, match="optimizer.safetensors: optimizers .* do not fit"):
        load_preset(path)


# ------------------------------------------------------------------ interrupted saves
def _failing_save_file(real):
    """A ``save_file`` that writes half of the file, then fails (a crash mid-write)."""

    def save(tensors, filename, metadata=None):
        real(tensors, filename, metadata=metadata)
        _truncate(Path(filename))
        raise OSError("disk full")

    return save


@pytest.mark.parametrize("where", ["weights", "history"])
def test_an_interrupted_save_leaves_the_old_preset_intact(preset, tmp_path, monkeypatch, where):
    session, path = preset
    old, tree = _files(path), _tree(tmp_path)
    session.run(2)
    if where == "weights":
        monkeypatch.setattr(presets_module, "save_file", _failing_save_file(save_file))
    else:
        monkeypatch.setattr(
            presets_module, "_history_json", lambda h: (_ for _ in ()).throw(OSError("crash"))
        )
    with pytest.raises(PresetError, match="cannot save preset to"):
        save_preset(session, path, notes="new")
    assert _files(path) == old and _tree(tmp_path) == tree
    assert load_preset(path).step_count == 10


def test_an_interrupted_bundle_save_leaves_the_old_bundle_intact(preset, tmp_path, monkeypatch):
    session, _ = preset
    bundle = save_preset(session, tmp_path / "moons.dgmpreset")
    old, tree = bundle.read_bytes(), _tree(tmp_path)
    scratch = tmp_path.parent / f"{tmp_path.name}-scratch"  # where temporary folders go
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    session.run(2)
    monkeypatch.setattr(presets_module, "save_file", _failing_save_file(save_file))
    with pytest.raises(PresetError, match="disk full"):
        save_preset(session, bundle)
    monkeypatch.undo()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def crash(self, *args, **kwargs):
        raise OSError("crash while zipping")

    monkeypatch.setattr(zipfile.ZipFile, "write", crash)
    with pytest.raises(PresetError, match="moons.dgmpreset: crash while zipping"):
        save_preset(session, bundle)
    assert bundle.read_bytes() == old and _tree(tmp_path) == tree
    assert not list(scratch.iterdir())


# -------------------------------------------------------------------- .dgmpreset bundles
def test_bundle_round_trip_gives_identical_weights(preset, tmp_path):
    session, _ = preset
    bundle = save_preset(session, tmp_path / "moons.dgmpreset", preview=PNG, notes="n")
    assert bundle.is_file() and zipfile.is_zipfile(bundle)
    assert sorted(zipfile.ZipFile(bundle).namelist()) == [
        "config.json", "history.json", "model.safetensors", "notes.md",
        "optimizer.safetensors", "preview.png",
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
    for read in (load_preset, read_preset_info):
        with pytest.raises(PresetError, match="evil.dgmpreset: member .* not a preset file"):
            read(bundle)
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_symlink_member_is_refused(preset, tmp_path):
    _, folder = preset
    bundle = tmp_path / "link.dgmpreset"
    with zipfile.ZipFile(bundle, "w") as z:
        for p in sorted(folder.iterdir()):
            if p.name != "model.safetensors":
                z.writestr(p.name, p.read_bytes())
        link = zipfile.ZipInfo("model.safetensors")
        link.create_system = 3  # unix: the high 16 bits are st_mode
        link.external_attr = 0o120777 << 16  # a symbolic link
        z.writestr(link, "/etc/passwd")
    before = _tree(tmp_path)
    for read in (load_preset, read_preset_info):
        with pytest.raises(
            PresetError, match=r"link\.dgmpreset: member 'model.safetensors' is a link"
        ):
            read(bundle)
    assert _tree(tmp_path) == before


def test_bundle_breakages_are_clear_errors(preset, tmp_path):
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
    with pytest.raises(PresetError, match="not a .dgmpreset bundle"):
        read_preset_info(notzip)


# ------------------------------------------------------------------ gallery information
def test_read_preset_info_of_a_folder_and_a_bundle(preset, tmp_path):
    session, _ = preset
    kwargs = dict(preview=PNG, notes="# Moons\n", title="T", description="D", view="samples")
    for path in (tmp_path / "info", tmp_path / "info.dgmpreset"):
        save_preset(session, path, **kwargs)
        info = read_preset_info(path)
        assert info == PresetInfo(
            path=path,
            title="T",
            description="D",
            family="flow",
            model="realnvp",
            dataset="moons",
            steps=10,
            view="samples",
            preview=PNG,
            notes="# Moons\n",
        )
    # nothing was extracted beside the bundle
    assert {p.name for p in tmp_path.iterdir()} == {"moons", "info", "info.dgmpreset"}


def test_read_preset_info_gives_old_presets_defaults(preset):
    _, path = preset
    cfg = json.loads((path / "config.json").read_text())
    for key in ("title", "description", "family", "view"):
        cfg.pop(key)
    (path / "config.json").write_text(json.dumps(cfg))
    info = read_preset_info(path)
    assert (info.title, info.description, info.family, info.view) == (
        "realnvp on moons", "", "flow", None
    )  # fmt: skip
    assert info.preview is None and info.notes is None
    _edit_config(path, model="gone")
    assert read_preset_info(path).family == "unknown"


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p / "config.json").unlink(), "config.json: missing"),
        (lambda p: (p / "config.json").write_text("[]"), "config.json: unknown schema"),
        (lambda p: (p / "preview.png").write_bytes(b"GIF89a"), "preview.png: not a PNG"),
        (lambda p: (p / "notes.md").write_bytes(b"\xff\xfe\x00"), "notes.md: not UTF-8"),
    ],
)
def test_read_preset_info_of_a_broken_preset(preset, breakage, message):
    session, path = preset
    save_preset(session, path, preview=PNG, notes="n")
    breakage(path)
    with pytest.raises(PresetError, match=message):
        read_preset_info(path)
    with pytest.raises(PresetError, match="not a preset folder"):
        read_preset_info(path / "nosuch")


def test_shipped_presets_lists_the_preset_folders():
    shipped = shipped_presets()
    assert len(shipped) >= 3
    assert shipped == sorted(shipped, key=lambda p: p.name)
    assert {"realnvp-moons", "maf-8gaussians", "planar-U1"} <= {p.name for p in shipped}
    for path in shipped:
        assert path.parent == SHIPPED_PRESETS and (path / "config.json").is_file()
        info = read_preset_info(path)
        assert info.model in MODELS and info.steps > 0 and info.title


@pytest.mark.parametrize(
    "name, metric, bound",
    [
        ("realnvp-moons", "nll_gap", 0.08),
        ("maf-8gaussians", "nll_gap", 0.15),
        ("planar-U1", "reverse_kl", 0.1),
    ],
)
def test_shipped_presets_open_trained(name, metric, bound):
    session = load_preset(SHIPPED_PRESETS / name, device="cpu")
    assert session.step_count >= 2000 and len(session.history) > 0
    assert session.evaluate(n=2000, record=False)[metric] <= bound


#: one shipped preset per phenomenon the lecture shows (issue 6's list)
SHIPPED_NAMES = {
    "realnvp-moons", "planar-U1", "planar-U2", "planar-U3", "planar-U4",
    "realnvp-gmm82-forward-kl", "realnvp-gmm82-reverse-kl", "maf-8gaussians",
    "iaf-8gaussians", "gan-ring8", "gan-ring8-pack4", "wgan-gp-grid25",
    "vae-gaussian2d-axis", "vae-gaussian2d-rotated", "vae-digits", "vae-shapes-beta4",
    "ebm-8gaussians", "ncsn-gmm82", "ddpm-moons",
}  # fmt: skip


def test_every_shipped_preset_is_small_complete_and_listed():
    readme = (SHIPPED_PRESETS / "README.md").read_text()
    shipped = {p.name: p for p in shipped_presets()}
    assert SHIPPED_NAMES <= set(shipped)
    for name, path in shipped.items():
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        assert size < 2**20, f"{name}: {size} bytes"
        info = read_preset_info(path)
        assert info.preview is not None and info.preview.startswith(b"\x89PNG")
        assert info.notes and f"--out presets/{name}" in info.notes
        assert info.description and info.view is not None
        assert f"`{name}`" in readme and f"--out presets/{name}" in readme


def test_every_shipped_preset_fits_well_within_the_file_caps():
    from playground.core import files
    from playground.core.preset_files import MEMBER_KINDS

    for path in shipped_presets():
        for file in path.iterdir():
            assert 8 * file.stat().st_size < files.LIMITS[MEMBER_KINDS[file.name]], file
        history = preset_schema.check_history((path / "history.json").read_bytes(), "h")
        assert len(history) <= HISTORY_MAX_POINTS
