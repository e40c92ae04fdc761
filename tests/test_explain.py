"""The explain panel, offscreen: its content for every view and model, live values, a
preset's notes, presentation mode; the Help menu's shortcuts; the tabs' tooltips."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("matplotlib")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from playground.app.explain.adversarial import GAN_LOSSES, gan_objective  # noqa: E402
from playground.app.explain.energy_score import SCORE_OBJECTIVES, ddpm_objective  # noqa: E402
from playground.app.explain.formulas import formula_png  # noqa: E402
from playground.app.explain.likelihood import FLOW_OBJECTIVES, vae_objective  # noqa: E402
from playground.app.explain.notes import demote_headings  # noqa: E402
from playground.app.explain.objectives import objective_for  # noqa: E402
from playground.app.explain.view_help import VIEW_HELP, help_html  # noqa: E402
from playground.app.views import VIEWS  # noqa: E402
from playground.core.models import MODELS  # noqa: E402
from playground.core.presets import read_preset_info  # noqa: E402

TIMEOUT = 30_000
MOONS = Path(__file__).resolve().parents[1] / "presets" / "realnvp-moons"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _private_settings(private_settings):
    """Recent presets and sessions go to ``private_settings``, never the user's."""
    return private_settings


def keys(window, key: Qt.Key) -> None:
    """Press ``key`` as the user would: through the window, to the focused widget."""
    QTest.keyClick(window.windowHandle(), key)


def step(qtbot, window, times: int = 1) -> None:
    """``times`` training steps, each waited for until its frame is drawn."""
    for _ in range(times):
        before = window.step
        window.transport.step.click()
        qtbot.waitUntil(lambda before=before: window.step > before, timeout=TIMEOUT)


# ------------------------------------------------------------------ content, no window
def test_every_view_has_a_summary_and_a_key():
    for view in VIEWS:
        entry = VIEW_HELP[view.name]
        assert entry.summary and entry.items, view.name
        assert entry.summary in help_html(view.name)
    assert set(VIEW_HELP) == {view.name for view in VIEWS}


def _variants():
    """Every objective the panel can show: each model's default, and each setting's."""
    for name, cls in MODELS.items():
        yield name, objective_for(name, cls.Config())
    for objective in (*FLOW_OBJECTIVES.values(), *SCORE_OBJECTIVES.values()):
        yield objective.title, objective
    for loss in GAN_LOSSES:
        config = dataclasses.replace(MODELS["gan"].Config(), loss=loss)
        yield loss, gan_objective("gan", config, exact_density=True)
    fgan = MODELS["fgan"].Config()
    yield "saddle", objective_for("fgan", dataclasses.replace(fgan, generator_form="saddle"))
    vae = dataclasses.replace(MODELS["vae"].Config(), capacity=5.0)
    yield "capacity", vae_objective(vae)
    ddpm = dataclasses.replace(MODELS["ddpm"].Config(), guidance="classifier")
    yield "classifier", ddpm_objective(ddpm)


def test_every_model_has_an_objective_whose_formulas_render():
    seen = set()
    for name, objective in _variants():
        assert objective is not None, name
        assert objective.title and objective.source and objective.lines, name
        assert any(line.term for line in objective.lines), f"{name}: no live value at all"
        for line in objective.lines:
            if line.tex not in seen:
                seen.add(line.tex)
                assert formula_png(line.tex, 13.0, 96.0).startswith(PNG_SIGNATURE), line.tex
    assert objective_for("no-such-model") is None


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_term_shown_is_one_the_model_returns(model):
    """With the model's defaults, each line's term is a real term of ``train_step`` (a
    line with no term shows no number: nothing is made up)."""
    from playground.core.data import ALL_DATASETS
    from playground.core.training import Session

    fits = [d for d, cls in ALL_DATASETS.items() if d != "folder" and MODELS[model].fits(cls)]
    session = Session(model, "moons" if "moons" in fits else fits[0], device="cpu")
    session.run(1)
    objective = objective_for(model, session.model.config)
    terms = {line.term for line in objective.lines if line.term}
    assert terms and terms <= set(session.last_terms), terms - set(session.last_terms)


def test_demoted_headings_leave_code_alone():
    text = "# Title\n\ntext\n\n```bash\n# a comment\n```\n## Part"
    assert demote_headings(text) == "### Title\n\ntext\n\n```bash\n# a comment\n```\n#### Part"


# ------------------------------------------------------------------ in the window
def test_the_panel_toggles_and_shows_the_live_terms(qtbot, open_window):
    window = open_window("vae", "moons")
    panel = window.explain
    assert not panel.isVisible() and not panel.toggle.isChecked()
    assert panel.toggle in window.view_menu.actions()
    keys(window, Qt.Key.Key_F1)
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT)
    assert panel.toggle.isChecked()
    assert "ELBO" in panel.objective.lines[0].tex
    assert all(label.pixmap() is not None for _, label, _ in panel.formulas.rows)

    step(qtbot, window)
    first = dict(panel.values)
    step(qtbot, window, 2)
    terms = window.frame.snapshot.terms
    for term in ("elbo", "reconstruction", "kl", "loss"):
        assert panel.values[term] == pytest.approx(terms[term])
    assert panel.values["elbo"] != first["elbo"]  # it follows training
    shown = [value.text() for line, _, value in panel.formulas.rows if line.term == "kl"]
    assert shown and "nats" in shown[0]
    # a definition has no number beside it
    definitions = [v for line, _, v in panel.formulas.rows if line.term is None]
    assert all(v.text() == "" for v in definitions)

    window.tabs.setCurrentWidget(window.views["samples"])
    qtbot.waitUntil(lambda: "Samples" in panel.view_title.text(), timeout=TIMEOUT)
    assert "model samples" in panel.view_text.text()

    panel.toggle.trigger()
    assert not panel.isVisible() and not panel.toggle.isChecked()


def test_on_a_narrow_screen_the_panel_folds_the_side_panel_and_gives_it_back(qtbot, open_window):
    window = open_window("realnvp", "moons")
    area = window.screen().availableGeometry()
    # the offscreen screen (800 px) cannot hold the side panel, the views and the panel
    assert area.width() < window.centralWidget().minimumSizeHint().width() + 480
    assert window.side_panel.isVisible()
    window.explain.toggle.trigger()
    qtbot.waitUntil(window.explain.isVisible, timeout=TIMEOUT)
    assert not window.side_panel.isVisible() and "folded" in window.statusBar().currentMessage()
    window.explain.toggle.trigger()
    qtbot.waitUntil(lambda: not window.explain.isVisible(), timeout=TIMEOUT)
    assert window.side_panel.isVisible()


def test_the_panel_shows_an_open_presets_notes(qtbot, open_window):
    window = open_window("realnvp", "8gaussians")
    panel = window.explain
    panel.toggle.trigger()
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT)
    assert "No preset open" in panel.preset_label.text()
    assert not panel.notes.isVisible()
    window.presets.open_preset(str(MOONS))
    qtbot.waitUntil(lambda: window.presets.last_open_seconds is not None, timeout=TIMEOUT)
    info = read_preset_info(MOONS)
    qtbot.waitUntil(lambda: info.title in panel.preset_label.text(), timeout=TIMEOUT)
    assert panel.notes.isVisible()
    assert "Eight affine coupling layers" in panel.notes.toPlainText()
    assert "moons" in panel.session_label.text()
    assert panel.objective.title.startswith("Maximum likelihood")


def test_help_menu_tooltips_and_presentation_mode(qtbot, open_window):
    window = open_window("gan", "8gaussians")
    panel = window.explain
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help"
    texts = [a.text() for a in panel.help_menu.actions()]
    assert any("Keyboard shortcuts" in t for t in texts) and any("About" in t for t in texts)

    shortcuts = next(a for a in panel.help_menu.actions() if "Keyboard" in a.text())
    shortcuts.trigger()
    dialog = panel.help_menu.shortcuts_dialog
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows)
    assert "Space" in rows and "F11" in rows and "F1" in rows
    assert rows["Space"].startswith("Play") and "Presentation" in rows["F11"]
    assert "Ctrl+O" in rows and "1 \u2026 9" in rows
    assert "checkpoint" in rows["["] and "live" in rows["End"]  # the timeline's keys
    assert all(rows.values()), [k for k, v in rows.items() if not v]  # every key explained
    assert dialog.table.rowCount() == len(dialog.rows)
    dialog.close()

    tips = [window.tabs.tabToolTip(i) for i in range(window.tabs.count())]
    assert all(tips) and VIEW_HELP["critic"].summary in tips

    panel.toggle.trigger()
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT)
    height = panel.formulas.formula_height(0)
    assert height > 0
    assert "D^{*}" in panel.formulas.rows[-1][0].tex  # the optimal discriminator
    keys(window, Qt.Key.Key_F11)
    assert window.presentation_mode.on
    qtbot.waitUntil(lambda: panel.formulas.formula_height(0) > height, timeout=TIMEOUT)
    assert panel.isVisible() and not window.side_panel.isVisible()
    keys(window, Qt.Key.Key_F11)
    assert not window.presentation_mode.on
    qtbot.waitUntil(lambda: panel.formulas.formula_height(0) == height, timeout=TIMEOUT)
    assert panel.isVisible()


def test_the_gallery_shows_a_presets_whole_description_and_notes(qtbot):
    from playground.app.panels.gallery import PATH_ROLE, PresetGallery

    gallery = PresetGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    item = next(i for i in gallery.items() if Path(i.data(PATH_ROLE)).name == MOONS.name)
    gallery.list.setCurrentItem(item)
    info = read_preset_info(MOONS)
    text = gallery.details.toPlainText()
    assert info.title in text and info.description in text
    assert "Eight affine coupling layers" in text  # the notes
    assert info.description in item.toolTip()
