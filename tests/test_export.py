"""Take it home: a session exported as a script and as a notebook rebuilds it exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from playground.core.training import Session
from playground.core.training.export import (
    SessionRecipe,
    session_notebook,
    session_script,
    write_notebook,
    write_script,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = {"n_layers": 2, "hidden": 16, "batch_size": 64}


@pytest.fixture(scope="module")
def trained() -> Session:
    torch.set_num_threads(1)
    session = Session("realnvp", "moons", TINY, seed=5, device="cpu")
    session.run(30)
    return session


def code_cells(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_script_is_python_with_the_session_in_it(trained):
    src = session_script(trained)
    compile(src, "exported.py", "exec")
    assert "from playground.core.training import Session" in src
    assert "torch.set_num_threads(1)" in src
    assert "STEPS = 30" in src and "SEED = 5" in src and "DATASET = 'moons'" in src
    assert "live hyperparameter\nchanges made mid-run are not replayed" in src.lower()
    namespace: dict = {}
    # the constants cell alone: the changed and the full hyperparameters as dicts
    consts = next(c for c in code_cells(session_notebook(trained)) if c.startswith("MODEL"))
    exec(consts.split("session = ")[0], namespace)
    assert namespace["CHANGED"] == {"n_layers": 2, "hidden": 16, "batch_size": 64}
    assert Session("realnvp", "moons", namespace["HYPERPARAMETERS"]).config == trained.config


def test_notebook_validates_and_holds_the_same_code(trained):
    nb = session_notebook(trained)
    nbformat.validate(nb)
    src = session_script(trained)
    cells = code_cells(nb)
    assert all(cell in src for cell in cells[:-1])  # every cell but the plot
    assert "plt." in cells[-1] and "plt." not in src
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Real NVP" in markdown  # the paper, from the model's docstring
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4


def test_notebook_cells_run_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    recipe = SessionRecipe("realnvp", "moons", 0, 3, dict(TINY), "cpu")
    path = write_notebook(recipe, tmp_path / "s.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    namespace: dict = {}
    for cell in code_cells(nb):
        exec(compile(cell, "cell", "exec"), namespace)
    assert namespace["session"].step_count == 3
    assert set(namespace["metrics"]) >= {"nll"}
    import matplotlib.pyplot as plt

    assert plt.gcf().axes and plt.gcf().axes[0].collections  # the scatter was drawn
    plt.close("all")


@pytest.mark.parametrize(("model", "dataset"), [("vae", "digits"), ("ebm", "moons")])
def test_plot_cells_of_other_kinds_compile(model, dataset):
    from playground.core import hyperparameters as hpm
    from playground.core.models import get_model_class

    config = hpm.to_dict(get_model_class(model).Config())
    nb = session_notebook(SessionRecipe(model, dataset, 1, 10, config))
    nbformat.validate(nb)
    for cell in code_cells(nb):
        compile(cell, "cell", "exec")


@pytest.mark.slow
def test_script_reproduces_the_sessions_metrics(trained, tmp_path):
    path = write_script(trained, tmp_path / "session.py")
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    mine = trained.evaluate(record=False)
    assert theirs.keys() == mine.keys()
    for key, value in mine.items():
        assert theirs[key] == pytest.approx(value, abs=1e-6, nan_ok=True), key


def test_unwritable_path_raises_oserror(trained, tmp_path):
    with pytest.raises(OSError):
        write_script(trained, tmp_path / "missing" / "s.py")


# ------------------------------------------------------------------ the menu
def test_menu_exports_the_window_session(qtbot, open_window, tmp_path):
    pytest.importorskip("pytestqt")
    window = open_window("realnvp", "moons")
    window.transport.play.click()  # train a few steps, then pause on a drawn frame
    qtbot.waitUntil(lambda: window.step >= 3, timeout=30_000)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=30_000)
    assert window.step == window.worker.session.step_count > 0
    exports = window.presets.exports
    texts = [a.text() for a in window.presets.file_menu.actions()]
    assert "Export as &Python script\u2026" in texts and "Export as &notebook\u2026" in texts
    exports.choose_path = lambda kind: str(tmp_path / f"out_{kind}")
    exports.actions[0].trigger()
    script = tmp_path / "out_script.py"
    src = script.read_text()
    compile(src, str(script), "exec")
    assert f"STEPS = {window.step}" in src and "MODEL = 'realnvp'" in src
    exports.actions[1].trigger()
    nbformat.validate(nbformat.read(tmp_path / "out_notebook.ipynb", as_version=4))
    assert exports.last_path == tmp_path / "out_notebook.ipynb"


def test_menu_export_to_unwritable_path_shows_a_message(qtbot, open_window, tmp_path):
    pytest.importorskip("pytestqt")
    window = open_window("realnvp", "moons")
    exports = window.presets.exports
    exports.choose_path = lambda kind: str(tmp_path / "no_such_folder" / "s.py")
    assert exports.export("script") is None
    assert "Could not export" in window.banner.text()
    assert window.banner.isVisible()


# ------------------------------------------------------------------ the user's points
def _drawn_session() -> Session:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(4)
    points = torch.randn(40, 2, generator=g) * torch.tensor([1.0, 0.3])
    return Session("gan", "points", {"batch_size": 32, "hidden": 16}, seed=2, points=points)


def test_a_points_session_exports_its_points_beside_the_script(tmp_path):
    session = _drawn_session()
    session.run(2)
    path = write_script(session, tmp_path / "mine.py")
    csv = tmp_path / "mine_points.csv"
    from playground.core.data.points import read_points_csv

    assert torch.equal(read_points_csv(csv), session.points)
    src = path.read_text()
    compile(src, str(path), "exec")
    assert "POINTS_CSV = Path(__file__).with_name('mine_points.csv')" in src
    # the script, run without its training and evaluation, rebuilds the same session
    head = src.split("session.run(STEPS)")[0]
    namespace: dict = {"__file__": str(path)}
    exec(compile(head, str(path), "exec"), namespace)
    rebuilt = namespace["session"]
    assert torch.equal(rebuilt.data.points, session.points)
    nb_path = write_notebook(session, tmp_path / "mine_nb.ipynb")
    assert (tmp_path / "mine_nb_points.csv").is_file()
    nb = nbformat.read(nb_path, as_version=4)
    assert any("POINTS_CSV = Path('mine_nb_points.csv')" in c for c in code_cells(nb))


@pytest.mark.slow
def test_a_points_script_reproduces_the_sessions_metrics(tmp_path):
    session = _drawn_session()
    session.run(10)
    path = write_script(session, tmp_path / "drawn.py")
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    mine = session.evaluate(record=False)
    assert theirs.keys() == mine.keys()
    for key, value in mine.items():
        assert theirs[key] == pytest.approx(value, abs=1e-6, nan_ok=True), key
