"""The Scoreboard window: a contract folder's table and sample grid, broken folders, the run."""

import json
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

from playground.app.scoreboard_folder import read_scoreboard
from playground.app.scoreboard_menu import ScoreboardMenu
from playground.app.scoreboard_widgets import metric_header
from playground.app.scoreboard_window import ScoreboardWindow, default_out, scoreboard_command

PLANE_METRICS = [
    {"name": "mmd", "better": "lower"},
    {"name": "grid_js", "better": "lower"},
    {"name": "mmd_p_value", "better": "higher"},
]


def write_board(folder, kind="plane", rows=None, samples=None, dataset=None):
    """A scoreboard folder exactly as the contract says (json, csv, samples/*.safetensors)."""
    rng = np.random.default_rng(0)
    dataset = dataset or ("moons" if kind == "plane" else "digits")
    if rows is None:
        rows = [
            {"rank": 1, "model": "realnvp", "steps": 900, "seconds": 3.0, "error": None,
             "mmd": 0.001, "grid_js": 0.05, "mmd_p_value": 0.4},
            {"rank": 2, "model": "gan", "steps": 1500, "seconds": 3.0, "error": None,
             "mmd": 0.02, "grid_js": 0.2, "mmd_p_value": 0.005},
            {"rank": 3, "model": "wgan", "steps": 12, "seconds": 0.4,
             "error": "diverged at step 12: loss_d grew 1e8 times",
             "mmd": None, "grid_js": None, "mmd_p_value": None},
        ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "samples").mkdir(exist_ok=True)
    board = {"dataset": dataset, "minutes": 0.05, "seed": 0, "wall_seconds": 7.5, "kind": kind,
             "metrics": PLANE_METRICS, "rows": rows}  # fmt: skip
    (folder / "scoreboard.json").write_text(json.dumps(board))
    names = ["rank", "model", "steps", "seconds", "error"] + [m["name"] for m in PLANE_METRICS]
    lines = [",".join(names)] + [",".join(str(r.get(k, "")) for k in names) for r in rows]
    (folder / "scoreboard.csv").write_text("\n".join(lines))
    for row in rows:
        if row["error"] is not None:
            continue
        if samples is not None:
            array = samples
        elif kind == "plane":
            array = rng.normal(size=(2000, 2)).astype(np.float32)
        else:
            array = rng.uniform(size=(64, 1, 8, 8)).astype(np.float32)
        save_file({"samples": array}, str(folder / "samples" / f"{row['model']}.safetensors"))
    return folder


@pytest.fixture
def window(qtbot):
    tool = ScoreboardWindow()
    qtbot.addWidget(tool)
    tool.resize(1366, 740)
    tool.show()
    yield tool
    tool.stop()


def _column(tool, title):
    heads = [tool.table.horizontalHeaderItem(c).text() for c in range(tool.table.columnCount())]
    return heads.index(title)


def test_a_plane_board_fills_the_table_in_rank_order_and_the_sample_grid(window, tmp_path):
    folder = write_board(tmp_path / "moons")
    data = json.loads((folder / "scoreboard.json").read_text())
    data["rows"] = data["rows"][::-1]  # out of order in the file: shown by rank
    (folder / "scoreboard.json").write_text(json.dumps(data))
    board = window.open_folder(folder)
    table = window.table
    assert board.message is None and not window.banner.isVisible()
    assert table.rowCount() == 3
    assert [table.item(r, 1).text() for r in range(3)] == ["realnvp", "gan", "wgan"]
    assert [table.item(r, 0).text() for r in range(3)] == ["1", "2", "3"]
    assert _column(window, "grid_js \u2193") == 5 and _column(window, "mmd_p_value \u2191") == 6
    assert table.item(1, 2).text() == "1,500"
    error = _column(window, "Error")
    assert "diverged" in table.item(2, error).text()
    assert table.item(2, 4).text() == "\u2014"  # a failed run has no metrics
    assert table.item(0, 4).font().bold() and not table.item(1, 4).font().bold()
    assert table.item(0, 6).font().bold() and not table.item(1, 6).font().bold()  # highest
    # the grid: two plots (scatter over the data) and one panel saying why there is none
    assert set(window.grid.plots) == {"realnvp", "gan"}
    assert "#1" in window.grid.plots["realnvp"].titleLabel.text
    scatters = window.grid.plots["gan"].listDataItems()
    assert len(scatters) == 2 and len(scatters[1].data) == 2000  # data, then the model's
    assert len(window.grid.cells) == 3
    assert "diverged" in window.grid.cells[2].text()
    assert "moons" in window.summary.text() and "3 models" in window.summary.text()


def test_an_image_board_shows_a_mosaic_per_model(window, tmp_path):
    folder = write_board(tmp_path / "digits", kind="image")
    board = window.open_folder(folder)
    assert board.kind == "image" and board.message is None
    image = next(i for i in window.grid.plots["gan"].items if hasattr(i, "image"))
    assert image.image.shape[0] > 8 * 8 and image.image.ndim == 2  # 8 x 8 tiles, enlarged
    assert not window.legend.isVisible()


def test_colour_images_make_an_rgb_mosaic(window, tmp_path):
    rgb = np.random.default_rng(1).uniform(size=(64, 3, 6, 6)).astype(np.float32)
    folder = write_board(tmp_path / "faces", kind="image", samples=rgb, dataset="folder:x")
    window.open_folder(folder)
    image = next(i for i in window.grid.plots["realnvp"].items if hasattr(i, "image"))
    assert image.image.ndim == 3 and image.image.shape[-1] == 3


def test_a_corrupt_json_gives_one_message_and_shows_the_samples(window, tmp_path):
    folder = write_board(tmp_path / "moons")
    (folder / "scoreboard.json").write_text('{"dataset": "moons", "rows": [')
    board = window.open_folder(folder)
    assert window.banner.isVisible()
    assert "scoreboard.json: not valid JSON" in window.banner.text()
    assert board.message.count("\n") == 0
    assert window.table.rowCount() == 0
    assert set(window.grid.plots) == {"gan", "realnvp"}  # the samples files found


def test_missing_samples_and_a_wrong_shape_are_named(window, tmp_path):
    folder = write_board(tmp_path / "moons")
    (folder / "samples" / "gan.safetensors").unlink()
    save_file(
        {"samples": np.zeros((10, 3), np.float32)},
        str(folder / "samples" / "realnvp.safetensors"),
    )
    board = window.open_folder(folder)
    text = window.banner.text()
    assert "samples/gan.safetensors is missing" in text
    assert "samples/realnvp.safetensors: F32 (10, 3), not float32 (n, 2)" in text
    assert window.table.rowCount() == 3 and not board.samples
    assert len(window.grid.cells) == 3 and not window.grid.plots


def test_a_pickle_or_garbage_samples_file_is_refused_without_unpickling(tmp_path):
    folder = write_board(tmp_path / "moons")
    (folder / "samples" / "gan.safetensors").write_bytes(b"\x80\x04\x95" + b"x" * 40)
    board = read_scoreboard(folder)
    assert "gan" not in board.samples and "realnvp" in board.samples
    assert any(p.startswith("samples/gan.safetensors") for p in board.problems)


def test_a_missing_folder_and_bad_rows_do_not_crash(window, tmp_path):
    board = window.open_folder(tmp_path / "nowhere")
    assert "no such folder" in window.banner.text() and not board.rows
    folder = write_board(tmp_path / "moons")
    data = json.loads((folder / "scoreboard.json").read_text())
    data["rows"].append({"rank": 4, "model": "../../etc/passwd", "error": None})
    data["rows"][0]["mmd"] = "high"
    (folder / "scoreboard.json").write_text(json.dumps(data))
    board = window.open_folder(folder)
    assert "row 4 has no valid model name" in board.message
    assert window.table.rowCount() == 3 and window.table.item(0, 4).text() == "\u2014"


def test_the_run_command_line_follows_the_contract(tmp_path):
    argv = scoreboard_command("moons", 0.5, tmp_path / "out", python="py")
    assert argv == ["py", "-m", "playground", "scoreboard", "moons", "--minutes", "0.5",
                    "--out", str(tmp_path / "out")]  # fmt: skip
    assert scoreboard_command("digits", 2, "o", seed=3)[-2:] == ["--seed", "3"]
    assert scoreboard_command("moons", 1, "o", models=["gan", "vae"])[-2:] == [
        "--models",
        "gan,vae",
    ]
    assert scoreboard_command("moons", 1, "o")[0] == sys.executable
    assert default_out("shapes:size=20").name == "shapes_size_20"
    with pytest.raises(ValueError, match="minutes"):
        scoreboard_command("moons", 0, "o")
    assert metric_header("fid", "lower") == "fid \u2193"


def test_a_finished_run_opens_its_folder(window, qtbot, tmp_path):
    made, out = write_board(tmp_path / "made"), tmp_path / "run"
    script = (
        "import shutil; print('gan 1/2 done', flush=True); "
        f"shutil.copytree({str(made)!r}, {str(out)!r})"
    )
    window.run("moons", 0.05, out, command=[sys.executable, "-c", script])
    assert window.running and window.run_panel.isVisible()
    qtbot.waitUntil(lambda: not window.running and window.board is not None, timeout=20_000)
    assert window.table.rowCount() == 3
    assert "gan 1/2 done" in window.log.toPlainText()
    assert "Scoreboard written" in window.banner.text()


def test_a_failed_run_says_so_and_closing_kills_a_running_one(window, qtbot, tmp_path):
    fail = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('error: no such model'); sys.exit(2)",
    ]
    window.run("moons", 1, tmp_path / "none", command=fail)
    qtbot.waitUntil(lambda: not window.running, timeout=20_000)
    qtbot.waitUntil(lambda: "exit 2" in window.banner.text(), timeout=5_000)
    assert "no such model" in window.banner.text()
    process = window.run(
        "moons", 1, tmp_path / "x", command=[sys.executable, "-c", "import time; time.sleep(60)"]
    )
    qtbot.waitUntil(lambda: process.state() == process.ProcessState.Running, timeout=10_000)
    window.close()
    assert process.state() == process.ProcessState.NotRunning


def test_the_menu_actions_open_a_folder_and_start_a_run(qtbot, tmp_path):
    from PySide6.QtWidgets import QMainWindow

    main = QMainWindow()
    qtbot.addWidget(main)
    menu = ScoreboardMenu(main.menuBar().addMenu("&File"), main)
    assert [a.text() for a in menu.actions] == ["Score&board\u2026", "R&un scoreboard\u2026"]
    folder = write_board(tmp_path / "moons")
    menu.choose_folder = lambda: str(folder)
    menu.actions[0].trigger()
    assert len(menu.windows) == 1 and menu.windows[0].table.rowCount() == 3
    menu.choose_run = lambda: ("moons", 0.0, str(tmp_path / "o"), [])  # refused: no process
    menu.actions[1].trigger()
    assert "minutes per model must be > 0" in menu.windows[1].banner.text()
    assert menu.windows[1].process is None
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    process = menu.windows[1].run("moons", 1, tmp_path / "x", command=sleeper)
    menu.stop_all()  # what quitting the app does
    assert process.state() == process.ProcessState.NotRunning
    for tool in list(menu.windows):
        tool.close()
    assert not menu.windows


def test_the_run_dialog_defaults_to_the_session_dataset_and_parses_models(qtbot):
    from playground.app.scoreboard_menu import RunDialog

    dialog = RunDialog(["moons", "8gaussians", "digits"], "8gaussians")
    qtbot.addWidget(dialog)
    assert dialog.choice()[0] == "8gaussians"
    assert dialog.choice()[2].endswith("scoreboards/8gaussians")
    dialog.dataset.setCurrentText("digits")  # the folder follows the dataset
    dialog.models.setText(" gan, vae ,")
    dataset, minutes, out, models = dialog.choice()
    assert (dataset, minutes, models) == ("digits", 1.0, ["gan", "vae"])
    assert out.endswith("scoreboards/digits")
