"""f-GAN and InfoGAN: every divergence trains, the MI bound holds, and the codes steer samples."""

import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models.gans.divergences import DIVERGENCES
from playground.core.models.gans.fgan import FGAN
from playground.core.models.gans.infogan import InfoGAN


def build(cls, **values):
    """Build a model the way the Session does, with small networks for speed."""
    values = {"hidden": 32, "depth": 2, "batch_size": 64, **values}
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, values), make_dataset("8gaussians"))
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def state(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


def batch(model, g):
    return model.data.sample(model.config.batch_size * model.batches_per_step, g)


CASES = [(d, "practical") for d in DIVERGENCES] + [("gan", "saddle"), ("js", "saddle")]


@pytest.mark.parametrize("divergence, form", CASES, ids=[f"{d}-{f}" for d, f in CASES])
def test_fgan_trains_finitely_and_reports_its_bound(divergence, form):
    model = build(FGAN, divergence=divergence, generator_form=form)
    z = model.sample_latent(16, torch.Generator().manual_seed(3))
    before = model.generate(z).detach()
    g = torch.Generator().manual_seed(2)
    for _ in range(30):
        terms = model.train_step(batch(model, g))
        assert {"loss_d", "loss_d_real", "loss_d_fake", "loss_g", "divergence_estimate"} <= set(
            terms
        )
        assert all(math.isfinite(v) for v in terms.values())
        # the critic's bound on D_f(P || Q) is minus its loss (float32 rounding apart)
        assert math.isclose(
            terms["divergence_estimate"], -terms["loss_d"], rel_tol=1e-6, abs_tol=1e-6
        )
    after = model.generate(z).detach()
    assert (after - before).abs().max() > 1e-4
    assert model.critic(torch.randn(5, 2)).shape == (5,)
    assert model.has_probability == (divergence == "gan")


def test_fgan_bound_leaves_out_the_r1_penalty():
    """With R1 on, ``loss_d`` carries the penalty but the divergence estimate does not."""
    model = build(FGAN, divergence="kl", generator_form="practical", r1=10.0)
    g = torch.Generator().manual_seed(2)
    for _ in range(5):
        terms = model.train_step(batch(model, g))
        bound = -(terms["loss_d_real"] + terms["loss_d_fake"])
        assert terms["divergence_estimate"] == bound
        assert terms["r1_penalty"] > 0
        assert math.isclose(
            -terms["loss_d"], bound - terms["r1_penalty"], rel_tol=1e-5, abs_tol=1e-6
        )


def test_fgan_gan_divergence_is_the_non_saturating_gan():
    model = build(FGAN, divergence="gan")
    v = torch.randn(32)
    assert torch.allclose(model.generator_loss(v), torch.nn.functional.softplus(-v).mean())
    loss, real, fake = model.critic_loss(v, v.flip(0))
    assert torch.allclose(loss, real + fake)


def test_infogan_code_shapes():
    model = build(InfoGAN, categories=5, continuous_codes=2)
    g = torch.Generator().manual_seed(0)
    assert model.sample_latent(7, g).shape == (7, 2 + 5 + 2)
    x, c, c_cont = model.sample_with_codes(7, g)
    assert x.shape == (7, 2) and c.shape == (7,) and c_cont.shape == (7, 2)
    assert c.dtype == torch.long and 0 <= c.min() and c.max() < 5
    assert c_cont.abs().max() <= 1
    probs, means = model.infer_codes(x)
    assert probs.shape == (7, 5) and means.shape == (7, 2)
    assert torch.allclose(probs.sum(1), torch.ones(7))
    # the manifold view passes the noise alone; the critic view the full latent
    assert model.generate(torch.randn(4, 2)).shape == (4, 2)
    assert model.sample(9, g).shape == (9, 2)
    assert model.critic(x).shape == (7,)


@pytest.mark.slow
def test_infogan_mutual_information_is_bounded_and_grows():
    model = build(InfoGAN, lr_generator=1e-3, lr_critic=1e-3)
    k, n_cont = model.config.categories, model.config.continuous_codes
    bound = math.log(k) + n_cont * (math.log(2) - 0.5 * math.log(2 * math.pi))
    g = torch.Generator().manual_seed(2)
    mi = []
    for _ in range(200):
        terms = model.train_step(batch(model, g))
        assert terms["mutual_information"] <= bound + 1e-6
        assert terms["mi_categorical"] <= math.log(k) + 1e-6
        assert math.isclose(
            terms["mutual_information"],
            terms["mi_categorical"] + terms["mi_continuous"],
            rel_tol=1e-5,
            abs_tol=1e-6,
        )
        weighted = terms["mi_categorical"] + model.config.continuous_weight * terms["mi_continuous"]
        assert math.isclose(terms["info_loss"], -weighted, rel_tol=1e-4, abs_tol=1e-6)
        mi.append(terms["mutual_information"])
    first, last = sum(mi[:20]) / 20, sum(mi[-20:]) / 20
    assert last > first + 0.3, (first, last)


def test_infogan_steps_change_only_their_networks():
    model = build(InfoGAN)
    g = torch.Generator().manual_seed(2)
    nets = {"generator": model.generator_net, "q": model.q_head, "critic": model.critic_net}
    before = {k: state(v) for k, v in nets.items()}
    model.generator_step(batch(model, g))
    moved = {k for k, v in nets.items() if changed(before[k], state(v))}
    assert moved == {"generator", "q"}

    before = {k: state(v) for k, v in nets.items()}
    model.critic_step(batch(model, g))
    after = state(model.critic_net)
    moved = {k for k, v in nets.items() if changed(before[k], state(v))}
    assert moved == {"critic"}
    # the shared body moves with the critic's head
    assert any(k.startswith("body") for k in changed(before["critic"], after))


def test_infogan_fixed_code_and_noise_reproduce_the_sample():
    model = build(InfoGAN)
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(4))
    c = torch.tensor([0, 1, 2, 3, 4, 7])
    c_cont = torch.linspace(-1, 1, 6)[:, None]
    x = model.generate_with_codes(z, c, c_cont)
    assert torch.equal(x, model.generate_with_codes(z.clone(), c.clone(), c_cont.clone()))
    assert torch.equal(x, model.generate(model.join_latent(z, c, c_cont)))
    other = model.generate_with_codes(z, (c + 1) % 8, c_cont)
    assert (other - x).abs().max() > 1e-6
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(model.sample_with_codes(8, g1)[0], model.sample_with_codes(8, g2)[0])
