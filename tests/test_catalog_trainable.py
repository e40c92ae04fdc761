"""The catalog's ``trainable`` (the app's dataset picker, ``list``, the command line's
checks) is exactly what trains: every pair it lists builds a Session and takes a step with
finite terms; every pair it leaves out is refused when the Session is built."""

import math

import pytest

import playground.core.training.session as session_module
from playground.core.catalog import catalog
from playground.core.data import ALL_DATASETS, make_dataset
from playground.core.training import Session

CATALOG = catalog()
#: ``folder`` needs a folder of the user's images; it is tested in test_image_data.py;
#: ``points`` needs a user's CSV file; it is tested in test_points_data.py
SKIPPED = {"folder", "points"}
PAIRS = [
    (model, dataset)
    for model, datasets in CATALOG["trainable"].items()
    for dataset in datasets
    if dataset not in SKIPPED
]
_DATASETS: dict[str, object] = {}


@pytest.fixture
def shared_datasets(monkeypatch):
    """Each dataset built once for the whole module (image sets take a while)."""

    def cached(spec: str, points=None):
        if points is not None:  # drawn points: nothing to share
            return make_dataset(spec, points)
        if spec not in _DATASETS:
            _DATASETS[spec] = make_dataset(spec)
        return _DATASETS[spec]

    monkeypatch.setattr(session_module, "make_dataset", cached)


def test_every_model_trains_on_something_and_folder_only_where_images_do():
    assert set(CATALOG["trainable"]) == set(CATALOG["models"])
    for model, datasets in CATALOG["trainable"].items():
        assert datasets, model
        images = [d for d in datasets if ALL_DATASETS[d].is_image]
        assert ("folder" in datasets) == bool(images), model


@pytest.mark.parametrize("model", sorted(CATALOG["trainable"]))
def test_every_listed_pair_builds_and_every_other_is_refused(model, shared_datasets):
    listed = set(CATALOG["trainable"][model])
    for dataset in ALL_DATASETS:
        if dataset in SKIPPED:
            continue
        if dataset in listed:
            session = Session(model, dataset, seed=0, device="cpu")
            assert session.step_count == 0
        else:
            with pytest.raises(ValueError, match="cannot train on"):
                Session(model, dataset, seed=0, device="cpu")


@pytest.mark.parametrize("dataset", ["pinwheel", "line", "cos"])
def test_score_trains_on_datasets_without_a_density(dataset):
    """``score`` keeps its own objective where a flow would take forward_kl."""
    session = Session("score", dataset, {"batch_size": 32}, seed=0, device="cpu")
    assert session.config.objective == "denoising"
    assert all(math.isfinite(v) for v in session.step().values())


@pytest.mark.parametrize("model", ["iaf", "planar"])
def test_reverse_kl_flows_fit_the_checkerboard_by_maximum_likelihood(model):
    """Reverse KL is infinite where the target has zero density (off the checkerboard's
    squares), so a flow whose default is reverse KL fits it by forward KL."""
    session = Session(model, "checkerboard", {"batch_size": 32}, seed=0, device="cpu")
    assert session.config.objective == "forward_kl"
    assert all(math.isfinite(v) for v in session.step().values())
    assert Session(model, "moons", seed=0, device="cpu").config.objective == "reverse_kl"


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(CATALOG["trainable"]))
def test_every_listed_pair_takes_a_step_with_finite_terms(model, shared_datasets):
    for dataset in CATALOG["trainable"][model]:
        if dataset in SKIPPED:
            continue
        terms = Session(model, dataset, seed=0, device="cpu").step()
        assert terms, (model, dataset)
        bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
        assert not bad, (model, dataset, bad)
