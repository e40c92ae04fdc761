"""The command line: list, train (JSON on the last line), exit code 2 for bad names."""

import json
import subprocess
import sys

import pytest

from playground.cli import main


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    cat = json.loads(capsys.readouterr().out)
    assert {"realnvp", "maf", "iaf", "planar", "glow"} <= set(cat["models"])
    assert {"moons", "8gaussians", "ring8", "grid25", "U1"} <= set(cat["datasets"])
    assert "density" in cat["models"]["realnvp"]["capabilities"]
    assert cat["datasets"]["line"]["exact_density"] is False


def test_list_text(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "realnvp" in out and "moons" in out


def test_train_prints_one_json_object_last():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "playground",
            "train",
            "realnvp",
            "moons",
            "--steps",
            "20",
            "--set",
            "batch_size=64",
            "--eval-samples",
            "500",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for key in (
        "model",
        "dataset",
        "steps",
        "seed",
        "seconds",
        "steps_per_s",
        "nll",
        "entropy",
        "nll_gap",
    ):
        assert key in out
    assert out["steps"] == 20 and out["hyperparameters"]["batch_size"] == 64
    assert "20/20" in result.stderr


def test_train_reverse_kl_reports_it(capsys):
    assert main(["train", "planar", "U1", "--steps", "5", "--eval-samples", "200"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["objective"] == "reverse_kl" and out["reverse_kl"] > 0


@pytest.mark.parametrize(
    "argv, listed",
    [
        (["train", "nosuchmodel", "moons"], "realnvp"),
        (["train", "realnvp", "nosuchdata"], "moons"),
        (["train", "realnvp", "moons", "--set", "nosuchkey=1"], "lr"),
        (["train", "realnvp", "moons", "--set", "lr=abc"], "lr"),
    ],
)
def test_bad_names_exit_2_with_the_valid_ones(argv, listed, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and listed in err


@pytest.mark.parametrize(
    "model, dataset, keys",
    [
        ("vae", "shapes", ("elbo", "iwae_nll", "kl", "mutual_info", "active_units", "factor_r")),
        ("vq-vae", "digits", ("elbo", "iwae_nll", "kl", "active_units", "perplexity")),
        ("gan", "digits", ("classes_captured", "class_kl", "classifier_accuracy")),
    ],
)
def test_train_prints_the_family_metrics(model, dataset, keys, capsys):
    from playground.cli import main

    argv = ["train", model, dataset, "--steps", "3", "--set", "batch_size=16"]
    assert main([*argv, "--eval-samples", "400"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in keys:
        assert key in out, key
    assert "objective" not in out
    if "factor_r" in out:
        assert set(out["factor_r"]) == {"shape", "scale", "rotation", "x", "y"}
