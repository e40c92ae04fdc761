"""The command line's torch-free checks and their manifest, which must match the registries."""

import dataclasses

import pytest

from playground import checks, manifest


def test_the_manifest_matches_the_registries():
    live = checks.build_manifest()
    assert {"models": manifest.MODELS, "datasets": manifest.DATASETS} == live, (
        "playground/manifest.py is stale: run python -m playground.checks --write"
    )
    assert checks.MANIFEST_PATH.read_text(encoding="utf-8") == checks.render_manifest(live), (
        "playground/manifest.py is stale: run python -m playground.checks --write"
    )


def test_the_manifest_lists_the_registered_names():
    from playground.core.data import ALL_DATASETS
    from playground.core.models import MODELS

    assert list(manifest.MODELS) == list(MODELS)
    assert list(manifest.DATASETS) == list(ALL_DATASETS)
    for name, cls in MODELS.items():
        # every field but those the config declares unused (DCGAN's MLP widths)
        fields = [f.name for f in dataclasses.fields(cls.Config)]
        fields = [f for f in fields if f not in getattr(cls.Config, "unused_fields", ())]
        assert list(manifest.MODELS[name]["hyperparameters"]) == fields


@pytest.mark.parametrize(
    "model, dataset, assignments, message",
    [
        ("realnvpp", "moons", [], "did you mean realnvp"),
        ("RealNVP", "moons", [], "did you mean realnvp or realnvp-image?"),
        ("nosuchmodel", "moons", [], "valid: avb, cnf, dcgan, ddpm"),
        ("realnvp", "moonz", [], "did you mean moons?"),
        ("realnvp", "digits", [], "realnvp cannot train on the image set digits"),
        ("realnvp", "moons", ["lrr=1"], "did you mean lr?"),
        ("realnvp", "moons", ["lr"], "expected key=value"),
        ("realnvp", "moons", ["lr=abc"], "lr: expected float"),
        ("realnvp", "moons", ["lr=5"], "above the maximum"),
        ("realnvp", "moons", ["hidden=1.5"], "hidden: expected int"),
        ("realnvp", "moons", ["objective=kl"], "not one of forward_kl, reverse_kl"),
        ("vae", "shapes:sise=20", [], "did you mean size?"),
        ("vae", "shapes:size=big", [], "shapes:size"),
        ("vae", "digits:binarize=maybe", [], "expected true or false"),
    ],
)
def test_check_train_rejects(model, dataset, assignments, message):
    with pytest.raises(ValueError) as e:
        checks.check_train(model, dataset, assignments)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "model, dataset, assignments",
    [
        ("realnvp", "moons", ["lr=1e-3", "batch_size=64", "objective=reverse_kl"]),
        ("planar", "U1", []),
        ("vae", "shapes:size=20", ["beta=4"]),
        ("gumbel-vae", "digits:binarize=true", []),
        ("vae", "folder:~/faces", []),
        ("vae", "folder:path=~/faces,size=16", []),
    ],
)
def test_check_train_accepts(model, dataset, assignments):
    checks.check_train(model, dataset, assignments)


@pytest.mark.parametrize(
    "env, platform, missing",
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux", True),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_missing_display_message(env, platform, missing):
    from playground.app.display import missing_display_message

    message = missing_display_message(env, platform)
    assert (message is not None) == missing
    if missing:
        assert "QT_QPA_PLATFORM=offscreen" in message and "\n" not in message
