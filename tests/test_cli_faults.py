"""The command line when things go wrong: a full disk or a path under a file at ``--out``
(the run's JSON is still printed, one line says what was not saved, exit 2), a ``--notes``
that is not a readable file (refused at once), a refused preset or an OS error on a user
file (one line, exit 2), training stopped by a non-finite or diverging loss (one line,
exit 1). Every case runs ``playground.cli.main`` in-process."""

import errno
import json
import os
import shutil
import subprocess
import time

import pytest
import torch

from playground.cli import main

#: a small, quick RealNVP run
TRAIN = ["train", "realnvp", "moons", "--steps", "3", "--eval-samples", "200"]
TRAIN += ["--set", "batch_size=32", "--set", "hidden=8", "--set", "n_layers=2"]


def run(argv, capsys):
    """``main(argv)``: the exit code, stdout, and stderr's lines (progress bars, which end
    in carriage returns, left out)."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.split("\n") if line and "\r" not in line]
    return code, captured.out, lines


def the_json(out: str) -> dict:
    result = json.loads(out.strip().splitlines()[-1])
    assert result["model"] == "realnvp" and result["steps"] == 3 and "nll" in result
    return result


def no_preview(monkeypatch):
    """Skip drawing the preview (Qt) in tests about saving."""
    import playground.cli_presets as cli_presets

    monkeypatch.setattr(cli_presets, "preview", lambda session, view: None)


# ---------------------------------------------------------------- a full disk at --out
def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("name", ["preset", "preset.dgmpreset"])
def test_a_full_disk_keeps_the_metrics_and_says_what_was_not_saved(
    name, tmp_path, monkeypatch, capsys
):
    import playground.core.presets as presets

    no_preview(monkeypatch)
    monkeypatch.setattr(presets, "save_file", _disk_full)
    out = tmp_path / name
    code, stdout, err = run([*TRAIN, "--out", str(out)], capsys)
    assert code == 2
    the_json(stdout)
    assert err == [f"error: preset not saved to {out}: No space left on device"]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary left behind


def test_a_full_disk_raising_a_safetensors_error_is_one_line(tmp_path, monkeypatch, capsys):
    from safetensors import SafetensorError

    import playground.core.presets as presets

    def full(*args, **kwargs):
        raise SafetensorError(
            'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No '
            'space left on device" })'
        )

    no_preview(monkeypatch)
    monkeypatch.setattr(presets, "save_file", full)
    out = tmp_path / "preset"
    code, stdout, err = run([*TRAIN, "--out", str(out)], capsys)
    assert code == 2 and the_json(stdout)
    assert len(err) == 1 and err[0].startswith(f"error: preset not saved to {out}: ")
    assert "No space left on device" in err[0]


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 16 KiB tmpfs, where the system allows mounting one (root on Linux)."""
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root on Linux")
    where = tmp_path / "tiny"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", str(where)], capture_output=True)


@pytest.mark.parametrize("name", ["preset", "preset.dgmpreset"])
def test_a_really_full_disk(name, tiny_disk, monkeypatch, capsys):
    no_preview(monkeypatch)
    out = tiny_disk / name
    # the default RealNVP's weights (about 100 kB) cannot fit in 16 KiB
    argv = ["train", "realnvp", "moons", "--steps", "2", "--eval-samples", "200"]
    code, stdout, err = run([*argv, "--out", str(out)], capsys)
    assert code == 2 and json.loads(stdout.strip().splitlines()[-1])["steps"] == 2
    assert len(err) == 1 and err[0].startswith(f"error: preset not saved to {out}: ")
    assert "No space left on device" in err[0]
    assert not out.exists()


def test_a_path_under_a_file_says_so(tmp_path, monkeypatch, capsys):
    no_preview(monkeypatch)
    file = tmp_path / "notes.txt"
    file.write_text("a file, not a folder")
    out = file / "preset"
    code, stdout, err = run([*TRAIN, "--out", str(out)], capsys)
    assert code == 2
    the_json(stdout)
    assert err == [f"error: preset not saved to {out}: {file} is a file, not a folder"]
    assert file.read_text() == "a file, not a folder"


def test_a_title_too_long_is_refused_before_training(tmp_path, capsys):
    from playground.core import presets

    cap = getattr(presets, "TITLE_MAX_CHARS", None)
    if cap is None:
        pytest.skip("presets have no title limit")
    argv = ["train", "realnvp", "moons", "--steps", "1000000", "--out", str(tmp_path / "p")]
    code, stdout, err = run([*argv, "--title", "x" * (cap + 1)], capsys)
    assert code == 2 and stdout == ""
    assert err == [f"error: --title: {cap + 1} characters, more than the {cap} allowed"]


# ---------------------------------------------------------------------------- --notes
@pytest.mark.parametrize("kind", ["fifo", "folder", "too-large", "not-utf8", "missing"])
def test_a_bad_notes_file_is_refused_at_once_before_training(kind, tmp_path, capsys):
    notes = tmp_path / "notes.md"
    if kind == "fifo":
        os.mkfifo(notes)  # nobody writes to it: reading it would block for ever
    elif kind == "folder":
        notes.mkdir()
    elif kind == "too-large":
        notes.write_bytes(b"#" * (2**20 + 1))
    elif kind == "not-utf8":
        notes.write_bytes(b"\xff\xfe notes")
    argv = ["train", "realnvp", "moons", "--steps", "1000000", "--out", str(tmp_path / "p")]
    t0 = time.perf_counter()
    code, stdout, err = run([*argv, "--notes", str(notes)], capsys)
    assert time.perf_counter() - t0 < 30  # no training, no waiting on the FIFO
    assert code == 2 and stdout == ""
    assert len(err) == 1 and err[0].startswith(f"error: --notes {notes}: ")
    assert not (tmp_path / "p").exists()


def test_notes_are_read_as_utf8(tmp_path, monkeypatch, capsys):
    no_preview(monkeypatch)
    notes = tmp_path / "notes.md"
    notes.write_text("# Étude\n", encoding="utf-8")
    out = tmp_path / "p"
    code, stdout, err = run([*TRAIN, "--out", str(out), "--notes", str(notes)], capsys)
    assert code == 0 and (out / "notes.md").read_text(encoding="utf-8") == "# Étude\n"


# ------------------------------------------------ refused presets and OS errors: one line
@pytest.fixture
def preset(tmp_path):
    from playground.core.presets import save_preset
    from playground.core.training import Session

    session = Session("realnvp", "moons", {"batch_size": 32, "hidden": 8, "n_layers": 2})
    session.run(2)
    return save_preset(session, tmp_path / "preset")


def _refusals():
    from playground.core.files import FileRefusedError
    from playground.core.presets import PresetError

    return [
        (FileRefusedError("p/config.json: a FIFO (named pipe), not a file"), "p/config.json"),
        (PresetError("p/model.safetensors: tensor 'w' has a bad shape\n[1, -2]"), "bad shape"),
        (PermissionError(errno.EACCES, "Permission denied", "p/history.json"), "Permission"),
        (OSError(errno.EIO, "Input/output error"), "Input/output error"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_eval_turns_a_refused_preset_or_an_os_error_into_one_line(
    case, preset, monkeypatch, capsys
):
    import playground.core.presets as presets

    error, words = _refusals()[case]

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(presets, "load_preset", refuse)
    code, stdout, err = run(["eval", str(preset)], capsys)
    assert code == 2 and stdout == ""
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


@pytest.mark.parametrize("case", range(4))
def test_open_turns_a_refused_preset_or_an_os_error_into_one_line(
    case, preset, monkeypatch, capsys
):
    import playground.cli as cli
    import playground.core.presets as presets

    error, words = _refusals()[case]

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli, "_check_display", lambda: None)
    monkeypatch.setattr(presets, "read_preset_info", refuse)
    code, stdout, err = run(["open", str(preset)], capsys)
    assert code == 2 and stdout == ""
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


def test_eval_of_a_preset_with_a_fifo_for_its_config_is_refused(preset, capsys):
    """The real thing: nothing waits on the FIFO (the presets' guarded reads)."""
    (preset / "config.json").unlink()
    os.mkfifo(preset / "config.json")
    code, stdout, err = run(["eval", str(preset)], capsys)
    assert code == 2 and len(err) == 1 and "config.json" in err[0]


# ----------------------------------------------------- training stopped: exit 1, one line
def test_a_diverging_loss_stops_training_with_one_line(capsys):
    argv = ["train", "realnvp", "moons", "--set", "lr=1", "--steps", "200"]
    code, stdout, err = run([*argv, "--eval-samples", "200"], capsys)
    assert code == 1 and stdout == ""
    assert len(err) == 1
    assert err[0].startswith("error: loss diverging at step ") and ": nll " in err[0]
    assert err[0].endswith("lower the learning rate; training stopped")


def test_a_non_finite_loss_stops_training_with_one_line(monkeypatch, capsys):
    from playground.core.data import make_dataset

    moons = type(make_dataset("moons"))
    monkeypatch.setattr(moons, "_sample", lambda self, n, rng: torch.full((n, 2), float("nan")))
    code, stdout, err = run(["train", "realnvp", "moons", "--steps", "5"], capsys)
    assert code == 1 and stdout == ""
    assert err == ["error: non-finite loss at step 1: nll = nan; training stopped"]


def test_the_error_starts_its_own_line_after_the_progress_bar(monkeypatch, capsys):
    argv = ["train", "realnvp", "moons", "--set", "lr=1", "--steps", "200"]
    assert main([*argv, "--eval-samples", "200"]) == 1
    err = capsys.readouterr().err
    assert "\nerror: loss diverging" in err or err.startswith("error: loss diverging")
