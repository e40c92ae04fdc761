"""The curves picture and view: names sorted into at most four panels by meaning, units on
the axes, the data's entropy and MMD noise floor drawn where they belong, one step axis,
a log toggle, and items reused from frame to frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.core.snapshots.base import Snapshot
from playground.core.snapshots.curves import MAX_PANELS, PANELS, arrange, term_of

pytest.importorskip("pytestqt")

import pyqtgraph as pg  # noqa: E402

from playground.app import theme  # noqa: E402
from playground.app.views.curves import CurvesView  # noqa: E402

#: the names each family records (train 3 steps, evaluate once: see the module's report)
FAMILY_NAMES = {
    "realnvp/ring8": "loss nll heldout_nll entropy nll_gap modes_captured high_quality mode_kl",
    "iaf/ring8": "loss reverse_kl heldout_nll entropy nll_gap heldout_reverse_kl "
    "modes_captured high_quality mode_kl",
    "gan/ring8": "loss_d loss_d_real loss_d_fake loss_g grad_norm_g modes_captured "
    "high_quality mode_kl",
    "wgan-gp/digits": "loss_d loss_d_real loss_d_fake gradient_penalty wasserstein loss_g "
    "grad_norm_g classifier_accuracy classes_captured class_kl",
    "infogan/digits": "loss_d loss_d_real loss_d_fake info_loss_d loss_g info_loss "
    "grad_norm_g mutual_information mi_categorical mi_continuous classifier_accuracy "
    "classes_captured class_kl category_purity categories_distinct",
    "vae/ring8": "loss elbo reconstruction kl beta test_elbo test_reconstruction test_kl "
    "iwae_nll_1 iwae_nll_10 iwae_nll mutual_info marginal_kl active_units heldout_nll "
    "entropy nll_gap modes_captured high_quality mode_kl",
    "hvae/shapes": "loss reconstruction kl_1 kl_2 kl elbo beta test_elbo test_reconstruction "
    "test_kl iwae_nll_1 iwae_nll_10 iwae_nll mutual_info marginal_kl active_units "
    "factor_r_shape factor_r_scale factor_r_rotation factor_r_x factor_r_y",
    "vq-vae/ring8": "loss reconstruction kl elbo codebook commitment perplexity test_elbo "
    "test_reconstruction test_kl iwae_nll_1 iwae_nll_10 iwae_nll active_units heldout_nll "
    "entropy nll_gap modes_captured high_quality mode_kl",
    "gumbel-vae/digits": "loss reconstruction kl elbo temperature test_elbo "
    "test_reconstruction test_kl iwae_nll_1 iwae_nll_10 iwae_nll active_units",
    "ebm/ring8": "loss energy_data energy_negative energy_reg cd_gap mmd mmd_data "
    "modes_captured high_quality mode_kl",
    "ncsn/ring8": "loss mmd mmd_data modes_captured high_quality mode_kl acceptance_rate",
    "ddpm/gmm82": "loss mmd mmd_data mode_weights_0 mode_weights_1 modes_captured "
    "high_quality mode_kl guidance_accuracy",
    "ddpm/digits": "loss classifier_accuracy classes_captured class_kl",
}
EVALS = np.array([50, 100, 150, 200])
STEPS = np.arange(1, 201)


def fake_history(names: str, seed: int = 0, n_steps: int = 200) -> dict:
    """Curves of ``names`` as the history records them: training terms every step,
    evaluation metrics at :data:`EVALS` (values in (0.5, 1.5), entropy 2.5, mmd_data
    scattering about 0, ``loss`` a copy of the first term when it is a copy)."""
    rng = np.random.default_rng(seed)
    steps, evals = np.arange(1, n_steps + 1), EVALS[EVALS <= n_steps]
    out = {}
    for name in names.split():
        kind = term_of(name).kind
        s = steps if kind == "line" else evals
        out[name] = (s.copy(), 0.5 + rng.random(len(s)))
    if "entropy" in out:
        out["entropy"] = (evals, np.full(len(evals), 2.5))
    if "mmd_data" in out:
        out["mmd_data"] = (evals, np.array([2e-4, -1e-4, 3e-4, -2e-4])[: len(evals)])
    if "elbo" in out:
        out["elbo"] = (steps, -out["loss"][1])  # a VAE's loss is -elbo
    return out


def panel_of(picture, name: str) -> str:
    return picture.curves[name].panel


@pytest.mark.parametrize("family", sorted(FAMILY_NAMES))
def test_every_family_fits_in_four_panels_with_every_name_drawn(family):
    names = FAMILY_NAMES[family]
    picture = arrange(fake_history(names), 64 if family.endswith("digits") else None)
    assert 1 <= len(picture.panels) <= MAX_PANELS == 4
    assert [p.key for p in picture.panels] == [
        k for k in PANELS if k in {p.key for p in picture.panels}
    ]
    drawn = {n for p in picture.panels for n in p.names}
    assert drawn == set(picture.curves) >= set(names.split()) - {"loss"}
    assert all(len(p.units) <= 2 for p in picture.panels)


def test_terms_land_in_the_panels_of_their_meaning():
    vae = arrange(fake_history(FAMILY_NAMES["vae/ring8"]))
    assert "loss" not in vae.curves  # -elbo: drawn once, as the elbo
    for name in ("elbo", "reconstruction", "kl", "test_elbo", "test_kl", "mutual_info"):
        assert panel_of(vae, name) == "objective", name
    for name in ("iwae_nll", "iwae_nll_10", "heldout_nll", "entropy", "nll_gap", "mode_kl"):
        assert panel_of(vae, name) == "fit", name
    for name in ("modes_captured", "high_quality"):
        assert panel_of(vae, name) == "coverage", name
    assert panel_of(vae, "beta") == panel_of(vae, "active_units") == "diagnostics"
    # a held-out twin of a training term joins it, in its colour (host) and units
    assert vae.curves["test_elbo"].host == "elbo" and vae.curves["test_elbo"].kind == "heldout"
    flow = arrange(fake_history(FAMILY_NAMES["realnvp/ring8"]))
    assert panel_of(flow, "heldout_nll") == panel_of(flow, "nll") == "objective"
    assert panel_of(flow, "entropy") == "objective"  # the reference follows heldout_nll
    ddpm = arrange(fake_history(FAMILY_NAMES["ddpm/gmm82"]))
    assert panel_of(ddpm, "mmd") == panel_of(ddpm, "mmd_data") == "fit"
    assert panel_of(ddpm, "mode_weights_1") == "coverage"
    assert ddpm.panels[1].units == ("MMD\u00b2", "nats")  # mode_kl on the right axis


def test_unknown_names_go_to_the_objective_panel_as_losses():
    picture = arrange(fake_history("loss my_new_term"))
    assert [p.key for p in picture.panels] == ["objective"]
    assert picture.panels[0].units == ("loss",)
    assert set(picture.panels[0].names) == {"loss", "my_new_term"}


def test_image_likelihoods_are_in_bits_per_dim():
    history = fake_history(FAMILY_NAMES["gumbel-vae/digits"])
    picture = arrange(history, image_dim=64)
    curve = picture.curves["iwae_nll"]
    assert curve.unit == "bits/dim"
    np.testing.assert_allclose(curve.values, history["iwae_nll"][1] / (64 * math.log(2)))
    assert picture.curves["elbo"].unit == "nats"  # the objective stays per example
    assert next(p for p in picture.panels if p.key == "fit").units == ("bits/dim",)


def test_a_real_session_is_arranged_and_keeps_its_mapping():
    from playground.core.training import Session

    s = Session("vae", "moons", {"batch_size": 64}, device="cpu")
    s.run(3)
    s.evaluate(n=400)
    snap = s.snapshot(["curves"])
    assert len(snap.curves.panels) <= MAX_PANELS
    steps, values = snap.curves["elbo"]
    assert list(steps) == [1, 2, 3] and np.isfinite(values).all()
    assert set(snap.curves) >= {"loss", "elbo", "test_elbo", "heldout_nll", "entropy"}
    assert "loss" not in snap.curves.curves  # recorded, but drawn once: as the elbo


# ----------------------------------------------------------------------------- the view
@pytest.fixture
def view(qtbot):
    theme.apply(pg.mkQApp())
    v = CurvesView()
    qtbot.addWidget(v)
    v.resize(1100, 650)
    v.show()
    return v


def show(view: CurvesView, history: dict, step: int = 200, image_dim=None) -> None:
    view.show_snapshot(Snapshot(step, (0, 1, 0, 1), curves=arrange(history, image_dim)))


def scene_items(view: CurvesView) -> int:
    return len(view.canvas.scene().items())


def test_the_entropy_is_a_dashed_line_on_the_nll_panel(view):
    show(view, fake_history(FAMILY_NAMES["iaf/ring8"]))
    fit = view.panels["fit"]
    line = fit.items["entropy"]
    assert isinstance(line, pg.InfiniteLine) and line.value() == pytest.approx(2.5)
    assert line.pen.style() == pg.QtCore.Qt.PenStyle.DashLine
    assert "heldout_nll" in fit.items and "entropy" not in view.panels["objective"].items
    lo, hi = fit.plot.getViewBox().viewRange()[1]
    assert lo < 2.5 < hi  # the reference is in view


def test_the_mmd_noise_floor_is_a_band_on_the_mmd_panel(view):
    show(view, fake_history(FAMILY_NAMES["ebm/ring8"]))
    fit = view.panels["fit"]
    band = fit.items["mmd_data"]
    assert isinstance(band, pg.LinearRegionItem) and "mmd" in fit.items
    np.testing.assert_allclose(band.getRegion(), (-3e-4, 3e-4))
    assert fit.plot.getAxis("left").labelText == "MMD\u00b2"
    assert fit.plot.getAxis("right").labelText == "nats"  # mode_kl


def test_axes_carry_units_and_every_panel_shows_the_step(view):
    show(view, fake_history(FAMILY_NAMES["vae/ring8"]))
    assert list(view.panels) == ["objective", "fit", "coverage", "diagnostics"]
    left = {k: p.plot.getAxis("left").labelText for k, p in view.panels.items()}
    assert left == {
        "objective": "nats",
        "fit": "nats",
        "coverage": "modes",
        "diagnostics": "\u03b2",
    }
    assert view.panels["coverage"].plot.getAxis("right").labelText == "fraction"
    for panel in view.panels.values():
        assert panel.plot.getAxis("bottom").labelText == "step"
        assert panel.title.text  # a title per panel
    coverage = view.panels["coverage"]
    lo, hi = coverage.right.viewRange()[1]
    assert lo < 0 and hi > 1  # a fraction's axis shows 0 to 1


def test_held_out_points_share_the_step_axis_of_the_training_terms(view):
    show(view, fake_history(FAMILY_NAMES["vae/ring8"]))
    ranges = {tuple(p.plot.getViewBox().viewRange()[0]) for p in view.panels.values()}
    assert len(ranges) == 1 and ranges.pop()[1] >= 200
    objective = view.panels["objective"]
    held_out, train = objective.items["test_elbo"], objective.items["elbo"]
    assert held_out.getViewBox() is train.getViewBox()
    assert list(held_out.getData()[0]) == list(EVALS)  # at the steps it was measured
    assert held_out.opts["symbol"] == "o" and train.opts["symbol"] is None
    assert objective.colors["test_elbo"] == objective.colors["elbo"]
    # the right axis of a panel follows the same steps
    coverage = view.panels["coverage"]
    assert coverage.right.viewRange()[0] == coverage.plot.getViewBox().viewRange()[0]


def test_log_toggle_changes_positive_panels_only(view):
    history = fake_history(FAMILY_NAMES["vae/ring8"])
    show(view, history)
    view.log_button.setChecked(True)
    fit, objective = view.panels["fit"], view.panels["objective"]
    assert fit.log and fit.plot.getAxis("left").logMode
    assert fit.items["entropy"].value() == pytest.approx(math.log10(2.5))
    assert not objective.log and not objective.plot.getAxis("left").logMode  # elbo < 0
    assert "Linear now" in view.log_button.toolTip()
    show(view, history)  # a refresh keeps the mode
    assert fit.plot.getAxis("left").logMode
    view.log_button.setChecked(False)
    assert not fit.plot.getAxis("left").logMode
    assert fit.items["entropy"].value() == pytest.approx(2.5)


def test_a_refresh_reuses_every_item(view):
    show(view, fake_history(FAMILY_NAMES["gan/ring8"], seed=0, n_steps=150), step=150)
    items, count = dict(view.curves), scene_items(view)
    before = np.array(view.curves["loss_d"].getData()[1], copy=True)
    show(view, fake_history(FAMILY_NAMES["gan/ring8"], seed=1, n_steps=200), step=200)
    assert scene_items(view) == count
    assert all(view.curves[k] is v for k, v in items.items())
    after = view.curves["loss_d"].getData()[1]
    assert len(after) == 200 and not np.array_equal(after[:150], before)
    assert view.curves["modes_captured"].getData()[0][-1] == 200


def test_colours_are_the_same_after_a_new_session(view):
    history = fake_history(FAMILY_NAMES["vq-vae/ring8"])
    show(view, history)
    colors = {k: v.name() for k, v in view.panels["objective"].colors.items()}
    view.clear()
    show(view, history)
    assert {k: v.name() for k, v in view.panels["objective"].colors.items()} == colors
    assert len(set(colors.values())) == len({c for c in colors if not c.startswith("test_")})


def test_legends_sit_above_their_plots_and_fit_the_view(view):
    show(view, fake_history(FAMILY_NAMES["vae/ring8"]))
    pg.mkQApp().processEvents()
    for panel in view.panels.values():
        box = panel.plot.getViewBox().sceneBoundingRect()
        legend = panel.legend.sceneBoundingRect()
        assert legend.bottom() <= box.top() + 1  # never over the lines
        assert legend.right() <= view.canvas.width()
    labels = [label.text for _, label in view.panels["objective"].legend.items]
    assert "elbo" in labels and "test_elbo" not in labels  # a twin: colour and dots say it


def test_a_refresh_is_quick(view):
    import time

    history = fake_history(FAMILY_NAMES["vae/ring8"], n_steps=2000)
    show(view, history)
    start = time.perf_counter()
    for _ in range(10):
        show(view, history)
    assert (time.perf_counter() - start) / 10 < 0.05  # s per frame, without painting
