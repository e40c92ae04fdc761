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


# ------------------------------------------------------------------ presets: eval, open
@pytest.fixture
def saved_preset(tmp_path):
    from playground.core.presets import save_preset
    from playground.core.training import Session

    session = Session("realnvp", "moons", {"batch_size": 32, "hidden": 8, "n_layers": 2}, seed=2)
    session.run(3)
    return save_preset(session, tmp_path / "moons")


def test_eval_json_prints_the_metrics_of_the_preset(saved_preset, capsys):
    from playground.cli import _json_value
    from playground.core.presets import load_preset

    assert main(["eval", str(saved_preset), "--json", "--eval-samples", "300"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = load_preset(saved_preset, device="cpu").evaluate(n=300, record=False)
    assert {k: out[k] for k in ("model", "dataset", "steps", "seed")} == {
        "model": "realnvp", "dataset": "moons", "steps": 3, "seed": 2
    }  # fmt: skip
    assert {k: out[k] for k in expected} == json.loads(json.dumps(_json_value(expected)))


def test_eval_prints_one_line_per_metric(saved_preset, capsys):
    assert main(["eval", str(saved_preset), "--eval-samples", "300"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"nll", "entropy", "nll_gap"} <= set(names)
    assert all(len(line.split()) == 2 for line in lines)
    float(lines[0].split()[1])


@pytest.mark.parametrize("command", ["eval", "record"])
def test_a_broken_preset_exits_2_naming_the_file(saved_preset, capsys, command):
    (saved_preset / "model.safetensors").write_bytes(b"\x80\x04 a pickle")
    extra = ["--view", "density", "--steps", "1", "--out", "x.gif"] if command == "record" else []
    assert main([command, str(saved_preset), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "model.safetensors: not a safetensors file" in err


def test_train_out_writes_title_notes_and_a_preview(tmp_path, capsys):
    notes = tmp_path / "notes.md"
    notes.write_text("# What this shows\n")
    out = tmp_path / "preset"
    argv = ["train", "realnvp", "moons", "--steps", "2", "--set", "batch_size=16"]
    argv += ["--set", "hidden=8", "--set", "n_layers=2", "--eval-samples", "200"]
    argv += ["--out", str(out), "--title", "Two moons", "--description", "a line"]
    assert main([*argv, "--notes", str(notes)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["title"] == "Two moons" and cfg["description"] == "a line"
    assert cfg["view"] == "density" and cfg["family"] == "flow"
    assert (out / "notes.md").read_text() == "# What this shows\n"
    assert "without a preview" not in capsys.readouterr().err
    preview = out / "preview.png"
    assert preview.is_file() and preview.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "p", "--view", "nosuchview"], "nosuchview"),
        (["--out", "p", "--notes", "/nonexistent/notes.md"], "notes.md"),
        (["--title", "T"], "--out"),
    ],
)
def test_train_preset_options_are_checked_before_training(extra, message, tmp_path, capsys):
    argv = ["train", "realnvp", "moons", "--steps", "1000000"]
    assert main([*argv, *[str(tmp_path / a) if a == "p" else a for a in extra]]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.fixture
def fake_app(monkeypatch):
    """Stand-ins for the app's ``launch`` and ``record_headless``: no Qt starts."""
    import types

    calls: dict[str, list] = {"launch": [], "record": []}
    main_module = types.ModuleType("playground.app.main")
    main_module.launch = lambda **kwargs: calls["launch"].append(kwargs) or 0
    recording = types.ModuleType("playground.app.recording")

    def record_headless(session, view, out, *, steps, fps=10.0, progress=None):
        calls["record"].append((session.step_count, view, out, steps, fps))
        for done in range(1, 4):
            progress(done, 3)
        return types.SimpleNamespace(path=out, frames=3, steps=steps)

    recording.record_headless = record_headless
    monkeypatch.setitem(sys.modules, "playground.app.main", main_module)
    monkeypatch.setitem(sys.modules, "playground.app.recording", recording)
    return calls


@pytest.mark.parametrize("bad", ["missing", "not-json", "module-path"])
def test_open_a_bad_preset_exits_2_before_qt(saved_preset, tmp_path, fake_app, capsys, bad):
    path = tmp_path / "nosuch"
    if bad == "not-json":
        path = saved_preset
        (path / "config.json").write_text("{")
    elif bad == "module-path":
        path = saved_preset
        cfg = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps({**cfg, "model": "os:system"}))
    assert main(["open", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(path) in err
    assert not fake_app["launch"]


def test_open_launches_the_app_paused_on_the_preset(saved_preset, fake_app):
    assert main(["open", str(saved_preset), "--device", "cpu"]) == 0
    assert fake_app["launch"] == [{"preset": str(saved_preset), "device": "cpu", "paused": True}]


def test_record_prints_one_json_line(saved_preset, tmp_path, fake_app, capsys):
    out = str(tmp_path / "moons.gif")
    argv = ["record", str(saved_preset), "--view", "density", "--steps", "4", "--out", out]
    assert main([*argv, "--fps", "5"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out.strip()) == {"out": out, "frames": 3, "steps": 4}
    assert fake_app["record"] == [(3, "density", out, 4, 5.0)]
    # progress on stderr: a plain line per frame where stderr is not a terminal
    assert printed.err.splitlines() == [f"recording: frame {i}/3" for i in (1, 2, 3)]


def test_record_progress_rewrites_one_line_on_a_terminal():
    import io

    from playground.cli import _progress_printer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = _progress_printer(stream)
    for done in (1, 2, 3):
        progress(done, 3)
    lines = "".join(f"\rrecording: frame {i}/3" for i in (1, 2, 3))
    assert stream.getvalue() == lines + "\n"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--view", "density", "--steps", "2", "--out", "x.avi"], ".gif"),
        (["--view", "nosuchview", "--steps", "2", "--out", "x.gif"], "nosuchview"),
        (["--view", "density", "--steps", "-1", "--out", "x.gif"], "--steps"),
    ],
)
def test_record_bad_options_exit_2(saved_preset, fake_app, capsys, extra, message):
    assert main(["record", str(saved_preset), *extra]) == 2
    assert message in capsys.readouterr().err and not fake_app["record"]


# ------------------------------------------------------------------ checks before torch
def _bare_env(**extra):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    return {**env, **extra}


def test_an_unknown_model_answers_before_torch_is_imported():
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from playground.cli import main\n"
        "rc = main(['train', 'realnvpp', 'moons'])\n"
        "print(rc, 'torch' in sys.modules, time.perf_counter() - t)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    rc, torch_imported, seconds = result.stdout.split()
    assert rc == "2" and torch_imported == "False", result.stderr
    assert float(seconds) < 1.0
    err = result.stderr.strip()
    assert (
        err.startswith("error: unknown model 'realnvpp'")
        and "did you mean realnvp or realnvp-image?" in err
    )
    assert len(err.splitlines()) == 1


def test_python_m_playground_train_a_typo_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "playground", "train", "realnvpp", "moons"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "did you mean realnvp or realnvp-image?" in result.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "realnvp", "moonz"], "did you mean moons?"),
        (["train", "realnvp", "moons", "--set", "lrr=1"], "did you mean lr?"),
        (["train", "realnvp", "moons", "--set", "lr=5"], "above the maximum"),
        (["train", "realnvp", "digits"], "cannot train on the image set digits"),
        (["gui", "--model", "realnvpp"], "did you mean realnvp or realnvp-image?"),
        (["--dataset", "moonz"], "did you mean moons?"),
    ],
)
def test_bad_values_exit_2_without_torch(argv, message, monkeypatch, capsys):
    # the checks import nothing that imports torch: with torch unimportable they still answer
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["trian", "realnvp", "moons"], "unknown command 'trian'; did you mean train?"),
        (["nosuchcommand"], "unknown command 'nosuchcommand'; the commands: gui, list"),
    ],
)
def test_an_unknown_command_says_so_in_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: " + message) and len(err.strip().splitlines()) == 1


def test_options_without_a_command_still_open_the_app(fake_app):
    assert main(["--model", "maf", "--paused", "--device", "cpu"]) == 0
    assert fake_app["launch"][0]["model"] == "maf" and fake_app["launch"][0]["paused"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "playground"],
        ["-c", "import sys; from playground.app.main import launch; sys.exit(launch())"],
    ],
)
def test_no_display_says_so_in_one_sentence(argv):
    result = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=120, env=_bare_env()
    )
    assert result.returncode == 2
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: no display") and "QT_QPA_PLATFORM=offscreen" in err
    assert "X server" in err


# ------------------------------------------------------------------ --threads
@pytest.fixture
def thread_calls(monkeypatch):
    import torch

    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    return calls


@pytest.mark.parametrize("threads, expected", [(None, [1]), ("3", [3]), ("0", [])])
def test_train_sets_torch_threads(threads, expected, thread_calls, capsys):
    argv = ["train", "realnvp", "moons", "--steps", "0", "--eval-samples", "100"]
    assert main(argv + (["--threads", threads] if threads else [])) == 0
    assert thread_calls == expected
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert isinstance(out["threads"], int) and out["threads"] >= 1


def test_eval_and_record_set_torch_threads(saved_preset, tmp_path, fake_app, thread_calls):
    assert main(["eval", str(saved_preset), "--eval-samples", "100"]) == 0
    assert main(["eval", str(saved_preset), "--eval-samples", "100", "--threads", "2"]) == 0
    out = str(tmp_path / "x.gif")
    argv = ["record", str(saved_preset), "--view", "density", "--steps", "1", "--out", out]
    assert main([*argv, "--threads", "0"]) == 0
    assert thread_calls == [1, 2]


def test_negative_threads_exit_2(capsys):
    assert main(["train", "realnvp", "moons", "--threads", "-1"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_train_progress_shows_the_models_own_loss_terms(capsys):
    argv = ["train", "gan", "8gaussians", "--steps", "5", "--set", "batch_size=32"]
    assert main([*argv, "--eval-samples", "200"]) == 0
    bar = capsys.readouterr().err.split("\r")[-1]
    assert bar.startswith("[##############################] 5/5 loss_d ")
    assert "  loss_g " in bar and "nan" not in bar and "loss_d_real" not in bar


def test_progress_terms():
    from playground.cli import shown_terms

    assert shown_terms({"loss": 1.0, "nll": 1.0}) == ["loss"]
    gan = {"loss_d": 1.0, "loss_d_real": 0.5, "loss_d_fake": 0.5, "loss_g": 0.7}
    assert shown_terms({**gan, "grad_norm_g": 0.1}) == ["loss_d", "loss_g"]
    assert shown_terms({"elbo": -3.0, "kl": 0.1}) == ["elbo"]
    assert shown_terms({}) == []
