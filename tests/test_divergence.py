"""The divergence watch: a loss that grows by orders of magnitude pauses training, as a
NaN does; normal training in every family never trips it. And the non-finite check names
the model's own term (a GAN's ``loss_d`` / ``loss_g``, not ``loss``)."""

import math
import pickle

import numpy as np
import pytest
import torch

from playground.core.models.base import DivergingLossError, NonFiniteLossError
from playground.core.training import Session
from playground.core.training.history import DivergenceWatch, History, is_loss_term


def feed(values, name="nll", watch=None, extra=None):
    """Feed ``values`` (one per step) to a watch as the term ``name`` (beside a copy named
    ``loss`` when ``name`` is a flow's ``nll``, as a flow reports it); the first error, or
    None."""
    watch = watch or DivergenceWatch()
    for step, v in enumerate(values, 1):
        copy = {"loss": float(v)} if name == "nll" else {}
        terms = {**copy, name: float(v), **(extra(step) if extra else {})}
        error = watch.observe(step, terms)
        if error is not None:
            return error
    return None


# ---------------------------------------------------------------- the rule itself
def test_steady_and_noisy_losses_never_trip_it():
    rng = np.random.default_rng(0)
    assert feed(np.full(3000, 3.7)) is None
    # log-normal noise, a factor of e either way, around a decaying loss
    decay = 5 * np.exp(-np.arange(3000) / 500) + 0.2
    assert feed(decay * np.exp(rng.normal(0, 1, 3000))) is None
    # heavy tails: one step in 50 is 1000x its neighbours (a minibatch of outliers)
    spiky = np.full(3000, 2.0)
    spiky[::50] = 2000.0
    assert feed(spiky) is None
    # a loss that starts huge and falls (an image VAE's first steps)
    assert feed(np.geomspace(1e5, 10, 3000)) is None


def test_a_slowly_rising_loss_does_not_trip_it():
    # a GAN generator loss climbing 100-fold while its critic wins: not a divergence
    assert feed(np.geomspace(0.7, 70, 5000), name="loss_g") is None


def test_an_exploding_loss_trips_it_naming_step_term_and_growth():
    values = np.concatenate([np.full(300, 2.0), 2.0 * 1.5 ** np.arange(1, 200)])
    error = feed(values)
    assert isinstance(error, DivergingLossError) and isinstance(error, NonFiniteLossError)
    assert error.term == "nll" and error.start == pytest.approx(2.0)
    # the window median passes 2e4 once half the window has: 2 * 1.5^k > 2e4 at k = 23
    assert 300 + 23 <= error.step <= 300 + 23 + 25 + 10
    assert error.value > 1e4 * 2.0
    text = str(error)
    assert text.startswith(f"loss diverging at step {error.step}: nll grew from 2 to ")
    assert text.endswith("lower the learning rate") and "\n" not in text


def test_one_absurd_value_trips_it_at_once():
    values = [3.0] * 120 + [5e9]
    error = feed(values)
    assert error is not None and error.step == 121 and error.value == 5e9


def test_a_loss_that_explodes_at_the_first_steps_trips_it():
    # RealNVP at lr=1: 3.9, then 4e8, then 9e17
    error = feed([3.92, 4.2e8, 8.6e17, 1e19, 4e7])
    assert error is not None and error.step in (2, 3)


@pytest.mark.parametrize(
    "values",
    [
        # a WGAN critic loss: about zero, changing sign, drifting to -30
        lambda rng: np.linspace(0, -30, 4000) + rng.normal(0, 0.5, 4000),
        # an EBM's contrastive loss: small, both signs
        lambda rng: rng.normal(-0.05, 0.3, 4000),
        # an ELBO: negative, improving
        lambda rng: -(3.0 + 40 * np.exp(-np.arange(4000) / 300)) + rng.normal(0, 0.1, 4000),
    ],
)
def test_negative_and_sign_changing_losses_do_not_trip_it(values):
    assert feed(values(np.random.default_rng(1)), name="loss_d") is None


def test_a_negative_loss_exploding_trips_it():
    values = np.concatenate([np.full(100, -0.5), -(3.0 ** np.arange(1, 60))])
    error = feed(values, name="loss_d")
    assert error is not None and error.term == "loss_d" and error.value < -1e4


def test_terms_that_are_not_losses_are_not_watched():
    for name in ("grad_norm_g", "beta", "temperature", "perplexity", "lr_critic", "mi_continuous"):
        assert not is_loss_term(name)
    # parts of a loss are not watched either: only what an optimiser minimises
    for name in ("codebook", "kl", "reconstruction", "energy_data", "loss_d_real", "nll"):
        assert not is_loss_term(name)
    for name in ("loss", "loss_d", "loss_g", "classifier_loss", "info_loss"):
        assert is_loss_term(name)
    exploding = 1.5 ** np.arange(300)
    assert feed(exploding, name="grad_norm_g") is None
    # a non-loss term exploding beside a steady loss
    assert feed(np.full(300, 1.0), extra=lambda s: {"grad_norm_g": 1.5**s}) is None


def test_non_finite_values_are_left_to_the_non_finite_check():
    assert feed([1.0] * 50 + [math.nan, math.inf, -math.inf] + [1.0] * 50) is None


@pytest.mark.parametrize("level", [1e6, 1e13])
def test_the_watch_starts_afresh_after_it_trips(level):
    watch = DivergenceWatch()
    values = np.concatenate([np.full(100, 1.0), np.full(400, level)])
    error = feed(values, watch=watch)
    assert error is not None and error.step < 200
    # going on at the diverged level is judged against that level: no second error...
    assert feed(np.full(400, level), watch=watch) is None
    # ...unless it grows by orders of magnitude more
    assert feed(np.full(100, level * 1e5), watch=watch) is not None


def test_a_loss_absurd_from_its_first_value_trips_it():
    # a WGAN-GP at lr=1: its first step (five critic updates) already reports 1e13
    error = feed([1.1e13, 1e11, 6.7e10], name="loss_d")
    assert error is not None and error.step == 1 and math.isnan(error.start)
    assert str(error) == (
        "loss diverging at step 1: loss_d = 1.1e+13, far too large from the start; "
        "lower the learning rate"
    )
    assert feed([1e7] * 100) is None  # large, but not absurd


def test_the_error_pickles_and_names_the_step():
    error = DivergingLossError("loss_d", 8.6e17, None, 1.3, 100)
    at = error.at_step(812)
    assert type(at) is DivergingLossError and at.step == 812
    assert str(at) == (
        "loss diverging at step 812: loss_d grew from 1.3 to 8.6e+17 over 100 steps; "
        "lower the learning rate"
    )
    back = pickle.loads(pickle.dumps(at))
    assert type(back) is DivergingLossError and str(back) == str(at)
    assert (back.term, back.value, back.step, back.start, back.over) == (
        "loss_d", 8.6e17, 812, 1.3, 100
    )  # fmt: skip
    plain = pickle.loads(pickle.dumps(NonFiniteLossError("nll", math.nan, 3)))
    assert type(plain) is NonFiniteLossError and plain.step == 3


# ------------------------------------------------------------------ in a Session
SMALL = {"batch_size": 64}  # (the lr=1 runs keep their default batches)


@pytest.mark.parametrize(
    "model, dataset, sets, term, within",
    [
        ("realnvp", "moons", {"lr": 1.0}, "nll", 10),
        ("vae", "moons", {"lr": 1.0}, None, 10),
        ("gan", "8gaussians", {"lr_critic": 1.0, "lr_generator": 1.0}, None, 40),
    ],
)
def test_an_absurd_learning_rate_pauses_training(model, dataset, sets, term, within):
    s = Session(model, dataset, sets, seed=0, device="cpu")
    with pytest.raises(DivergingLossError) as info:
        s.run(within)
    error = info.value
    assert error.step == s.step_count <= within  # the step was taken and recorded
    assert term is None or error.term == term
    assert error.term in s.history.names() and error.term != "grad_norm_g"
    assert f"at step {error.step}: {error.term} grew from" in str(error)


def test_the_watch_restarts_with_the_session():
    s = Session("realnvp", "moons", {**SMALL, "hidden": 8, "n_layers": 2}, seed=0, device="cpu")
    s.run(20)

    def trips() -> bool:
        """Whether the watch still holds the loss's reference (about 3.5): then 5e11 is
        absurd; a fresh watch takes its first value, 1e4, as the reference instead."""
        step = s.step_count
        assert s.divergence_watch.observe(step + 1, {"loss": 1e4, "nll": 1e4}) is None
        return s.divergence_watch.observe(step + 2, {"loss": 5e11, "nll": 5e11}) is not None

    assert trips()  # (and tripping started it afresh)
    for restart in (s.reset, lambda: s.set_seed(3), lambda: setattr(s, "history", History())):
        s.run(20)
        restart()
        assert not trips()
    s.run(20)
    s.set_hyperparameters({"hidden": 16}, allow_reset=True)  # a rebuild
    assert not trips()


def test_the_watch_can_be_turned_off():
    s = Session("realnvp", "moons", {"lr": 1.0}, seed=0, device="cpu")
    s.divergence_watch = None
    s.run(3)  # no DivergingLossError (the loss is 1e17, still finite)
    assert s.step_count == 3


FAMILIES = [
    ("realnvp", "moons"),  # flow
    ("gan", "8gaussians"),  # gan
    ("vae", "moons"),  # vae
    ("ebm", "8gaussians"),  # energy
    ("ncsn", "moons"),  # score
    ("ddpm", "moons"),  # diffusion
]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("model, dataset", FAMILIES)
def test_normal_training_never_trips_it(model, dataset, seed):
    torch.set_num_threads(1)
    s = Session(model, dataset, seed=seed, device="cpu")
    s.run(300)  # default hyperparameters: no DivergingLossError
    assert s.step_count == 300


# ------------------------------------------- the non-finite check names the model's term
def test_a_nan_critic_step_names_loss_d(monkeypatch):
    s = Session("gan", "8gaussians", SMALL, seed=0, device="cpu")
    s.run(2)
    monkeypatch.setattr(s.data, "sample", lambda n, g: torch.full((n, 2), math.nan))
    with pytest.raises(NonFiniteLossError) as info:
        s.step("critic")
    assert info.value.term == "loss_d" and "loss_d = nan" in str(info.value)
    assert info.value.step == 3 and s.step_count == 2


def test_a_nan_generator_step_names_loss_g(monkeypatch):
    s = Session("gan", "8gaussians", SMALL, seed=0, device="cpu")
    s.run(2)
    monkeypatch.setattr(
        s.model,
        "sample_latent",
        lambda n, rng=None: torch.full((n, s.model.config.latent_dim), math.nan),
    )
    with pytest.raises(NonFiniteLossError) as info:
        s.step("generator")
    assert info.value.term == "loss_g"


def test_a_flow_names_nll_and_a_total_alone_names_loss(monkeypatch):
    s = Session("realnvp", "moons", SMALL, seed=0, device="cpu")
    monkeypatch.setattr(s.data, "sample", lambda n, g: torch.full((n, 2), math.nan))
    with pytest.raises(NonFiniteLossError) as info:
        s.step()
    assert info.value.term == "nll"
    d = Session("ddpm", "moons", SMALL, seed=0, device="cpu")  # reports its total alone
    monkeypatch.setattr(d.data, "sample", lambda n, g: torch.full((n, 2), math.nan))
    with pytest.raises(NonFiniteLossError) as info:
        d.step()
    assert info.value.term == "loss"


def test_a_part_that_grows_while_the_total_stays_put_is_not_a_divergence():
    """A VQ-VAE's codebook term rises 10^6-fold from 0.008 before its dead codes are
    restarted (benchmarks/divergence_watch.md) while its total loss stays within 10^3."""
    watch = DivergenceWatch()
    for step in range(1, 301):
        codebook = 0.008 * 1.06 ** min(step, 250)  # ~0.008 -> ~1.6e4
        terms = {"loss": 40.0 + codebook, "codebook": codebook, "reconstruction": 40.0}
        assert watch.observe(step, terms) is None


def test_a_flow_is_named_by_its_own_term():
    watch = DivergenceWatch()
    error = None
    for step in range(1, 200):
        value = 3.0 if step < 60 else 3.0 * 10.0 ** (step - 59)
        error = watch.observe(step, {"loss": value, "nll": value})
        if error is not None:
            break
    assert error is not None and error.term == "nll"
