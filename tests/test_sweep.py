"""Sweeps and scoreboards: the grid, the engines (local, Dask), the table and the folder."""

from __future__ import annotations

import json
import math

import pytest

from playground import cli
from playground.cli_sweep import check_sweep
from playground.core.sweep import engines
from playground.core.sweep.engines import run_all
from playground.core.sweep.grid import grid, load_spec, parse_seeds, parse_sets
from playground.core.sweep.runs import RunSpec
from playground.core.sweep.scoreboard import rank_rows
from playground.core.sweep.table import read_csv, write_table

#: two tiny seeded runs: 3 GAN steps on moons, metrics on few samples
TINY = [RunSpec("gan", "moons", seed=s, steps=3, eval_samples=200) for s in (0, 1)]


def _metrics(rows):
    return [
        {k: v for k, v in r.items() if k not in ("seconds",) and not k.startswith("_")}
        for r in rows
    ]


def test_seeds_and_sets_parse_into_the_product():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert grid(parse_sets(["beta=1,4,8", "lr=1e-3,3e-3"])) == [
        {"beta": b, "lr": lr} for b in ("1", "4", "8") for lr in ("1e-3", "3e-3")
    ]
    for bad in ("3-1", "a", ""):
        with pytest.raises(ValueError):
            parse_seeds(bad)
    args = cli._parser().parse_args(
        ["sweep", "vae", "moons", "--seeds", "0-1", "--set", "beta=1,4,8", "--steps", "2"]
    )
    runs = check_sweep(args)
    assert [(r.hyperparameters["beta"], r.seed) for r in runs] == [
        (b, s) for b in ("1", "4", "8") for s in (0, 1)
    ]
    assert all(r.label == {"beta": r.hyperparameters["beta"]} for r in runs)


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "no-such-model", "moons", "--steps", "1"],
        ["sweep", "vae", "no-such-set", "--steps", "1"],
        ["sweep", "vae", "moons", "--set", "betta=1,2", "--steps", "1"],
        ["sweep", "vae", "moons", "--set", "beta=1,-4", "--steps", "1"],
        ["scoreboard", "moons", "--minutes", "0.01", "--models", "gan,nope"],
    ],
)
def test_a_bad_name_fails_before_any_run(argv, monkeypatch, capsys):
    def no_run(*a, **k):
        raise AssertionError("a run started")

    monkeypatch.setattr(engines, "run_one", no_run)
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_failing_run_gives_an_error_row_and_the_others_go_on():
    bad = RunSpec("gan", "moons", hyperparameters={"batch_size": "0"}, steps=2)
    rows = run_all([bad, TINY[0]], workers=0)
    assert rows[0]["error"].startswith("HyperparameterError")
    assert rows[1]["error"] is None and rows[1]["steps"] == 3
    assert math.isfinite(rows[1]["grid_kl"])


def test_local_and_dask_engines_give_the_same_table(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = run_all(TINY, workers=0)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_all(TINY, address=cluster.scheduler_address)
    assert _metrics(local) == _metrics(remote)
    assert [r["seed"] for r in remote] == [0, 1]
    assert local[0]["grid_kl"] != local[1]["grid_kl"]  # the seeds differ
    back = read_csv(write_table(local, tmp_path / "t.csv"))
    assert back[1]["grid_kl"] == pytest.approx(local[1]["grid_kl"])


@pytest.mark.slow
def test_the_process_pool_gives_the_same_table():
    assert _metrics(run_all(TINY, workers=2)) == _metrics(run_all(TINY, workers=0))


def test_parquet_needs_pyarrow(tmp_path):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="pyarrow"):
            write_table([{"a": 1.0}], tmp_path / "t.parquet")
    else:
        assert write_table([{"a": 1.0}], tmp_path / "t.parquet").exists()


def test_ranking_is_the_mean_of_per_metric_ranks():
    rows = [
        {"model": "a", "nll_gap": 0.1, "grid_kl": 0.9, "error": None},  # ranks 1, 3
        {"model": "b", "nll_gap": 0.3, "grid_kl": 0.1, "error": None},  # ranks 2, 1
        {"model": "c", "grid_kl": 0.5, "error": None},  # no density: rank 2 on grid_kl only
        {"model": "d", "nll_gap": 0.0, "grid_kl": 0.0, "error": "NonFiniteLossError: x"},
    ]
    ranked = rank_rows(rows, ["nll_gap", "grid_kl"])
    assert [r["model"] for r in ranked] == ["b", "a", "c", "d"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]
    assert [r["mean_rank"] for r in ranked] == [1.5, 2.0, 2.0, None]
    assert ranked[-1]["nll_gap"] is None  # a failed run's metrics are null


def test_scoreboard_writes_the_contract_folder(tmp_path, capsys):
    from safetensors.numpy import load_file

    out = tmp_path / "sb"
    argv = ["scoreboard", "moons", "--minutes", "0.002", "--models", "gan,made"]
    argv += ["--workers", "0", "--eval-samples", "200", "--out", str(out)]
    assert cli.main(argv) == 0
    board = json.loads((out / "scoreboard.json").read_text())
    assert board["dataset"] == "moons" and board["kind"] == "plane" and board["seed"] == 0
    assert board["minutes"] == 0.002 and board["wall_seconds"] > 0
    names = [m["name"] for m in board["metrics"]]
    assert "grid_kl" in names and {"name": "grid_kl", "better": "lower"} in board["metrics"]
    assert sorted(r["model"] for r in board["rows"]) == ["gan", "made"]
    assert [r["rank"] for r in board["rows"]] == [1, 2]
    for r in board["rows"]:
        assert r["error"] is None and r["steps"] >= 1 and r["seconds"] >= 0.1
        assert (load_file(out / "samples" / f"{r['model']}.safetensors")["samples"].shape) == (
            2000,
            2,
        )
    assert len(read_csv(out / "scoreboard.csv")) == 2
    assert (out / "scoreboard.png").stat().st_size > 1000
    assert "| 1 |" in capsys.readouterr().out


def test_the_shipped_locatello_spec():
    spec = load_spec("locatello")
    assert spec.dataset == "shapes" and spec.seeds == list(range(10))
    assert [m.name for m in spec.methods] == ["beta-VAE", "beta-TCVAE", "FactorVAE"]
    args = cli._parser().parse_args(["sweep", "--spec", "locatello", "--steps", "1"])
    runs = check_sweep(args)  # every name and value is valid
    assert len(runs) == 30 and {r.steps for r in runs} == {1}
    assert {r.label["method"] for r in runs} == {"beta-VAE", "beta-TCVAE", "FactorVAE"}


@pytest.mark.slow
def test_a_spec_sweep_runs_and_plots(tmp_path):
    out, plot = tmp_path / "l.csv", tmp_path / "l.png"
    argv = ["sweep", "--spec", "locatello", "--steps", "2", "--seeds", "0", "--workers", "0"]
    assert cli.main([*argv, "--eval-samples", "400", "--out", str(out), "--plot", str(plot)]) == 0
    rows = read_csv(out)
    assert [r["method"] for r in rows] == ["beta-VAE", "beta-TCVAE", "FactorVAE"]
    assert all(r["error"] is None for r in rows) and plot.stat().st_size > 1000
