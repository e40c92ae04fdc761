"""Hyperparameter dataclasses: parsing, ranges, choices, liveness."""

from dataclasses import dataclass

import pytest

from playground.core import hyperparameters as hpm


@dataclass
class Config:
    lr: float = hpm.hp(1e-3, low=1e-6, high=1.0, log=True, live=True, help="learning rate")
    layers: int = hpm.hp(4, low=1, high=16, help="coupling layers")
    objective: str = hpm.hp("forward_kl", choices=("forward_kl", "reverse_kl"))
    clamp: bool = hpm.hp(True)


def test_fields_info_reads_metadata():
    info = {i.name: i for i in hpm.fields_info(Config)}
    assert info["lr"].type is float and info["lr"].live and info["lr"].log
    assert info["layers"].type is int and (info["layers"].low, info["layers"].high) == (1, 16)
    assert info["objective"].choices == ("forward_kl", "reverse_kl")
    assert not info["layers"].live


def test_from_dict_parses_strings():
    c = hpm.from_dict(Config, {"lr": "5e-3", "layers": "8", "clamp": "false"})
    assert (c.lr, c.layers, c.clamp, c.objective) == (5e-3, 8, False, "forward_kl")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"nope": 1}, "unknown hyperparameter 'nope'; valid: lr, layers, objective, clamp"),
        ({"lr": 2.0}, "above the maximum"),
        ({"lr": "nan"}, "expected float"),
        ({"layers": 0}, "below the minimum"),
        ({"layers": "2.5"}, "expected int"),
        ({"objective": "mmd"}, "not one of forward_kl, reverse_kl"),
        ({"clamp": "maybe"}, "expected bool"),
    ],
)
def test_bad_values_are_clear_errors(values, message):
    with pytest.raises(hpm.HyperparameterError, match=message):
        hpm.from_dict(Config, values)


def test_parse_assignments_and_needs_reset():
    assert hpm.parse_assignments(Config, ["lr=0.01", "layers=2"]) == {"lr": 0.01, "layers": 2}
    with pytest.raises(hpm.HyperparameterError, match="key=value"):
        hpm.parse_assignments(Config, ["lr"])
    old = Config()
    assert hpm.needs_reset(old, hpm.replace(old, {"lr": 0.1})) == []
    assert hpm.needs_reset(old, hpm.replace(old, {"lr": 0.1, "layers": 3})) == ["layers"]


def test_with_defaults_changes_only_the_defaults():
    Fast = hpm.with_defaults(Config, lr=1e-2, objective="reverse_kl")
    assert issubclass(Fast, Config) and Fast.__name__ == "Config"
    old, new = hpm.fields_info(Config), hpm.fields_info(Fast)
    assert [i.name for i in new] == [i.name for i in old]  # same fields, same order
    for a, b in zip(old, new, strict=True):
        changed = {"lr": 1e-2, "objective": "reverse_kl"}
        assert b.default == changed.get(a.name, a.default)
        assert (a.type, a.low, a.high, a.log, a.choices, a.help, a.live) == (
            b.type, b.low, b.high, b.log, b.choices, b.help, b.live
        )  # fmt: skip
    assert Config().lr == 1e-3 and Fast().lr == 1e-2
    # the checks of a value apply to the new default, and a subclass adds its own fields
    assert type(hpm.with_defaults(Config, lr=1)().lr) is float

    @dataclass
    class More(hpm.with_defaults(Config, layers=8)):
        width: int = hpm.hp(64, low=1, high=512)

    assert [i.name for i in hpm.fields_info(More)][-2:] == ["clamp", "width"]
    assert hpm.from_dict(More, {"width": "32"}).layers == 8


@pytest.mark.parametrize(
    "defaults, message",
    [({"nope": 1}, "unknown hyperparameter 'nope'"), ({"layers": 99}, "above the maximum")],
)
def test_with_defaults_refuses_unknown_names_and_bad_values(defaults, message):
    with pytest.raises(hpm.HyperparameterError, match=message):
        hpm.with_defaults(Config, **defaults)


def test_wgan_keeps_the_gan_fields_with_the_papers_defaults():
    from playground.core.models.gans import WGAN
    from playground.core.models.gans.config import GANConfig

    shared = {i.name: i for i in hpm.fields_info(GANConfig)}
    wgan = {i.name: i for i in hpm.fields_info(WGAN.Config)}
    assert list(wgan) == [*shared, "clip"]
    assert wgan["optimizer_critic"].choices == shared["optimizer_critic"].choices
    assert (wgan["lr_critic"].default, wgan["n_critic"].default) == (5e-5, 5)
    assert wgan["lr_critic"].live and wgan["lr_critic"].help == shared["lr_critic"].help
