"""Lessons: the file format and its checks, the recordings index and its digests, the
shipped lessons and their recordings, the builder and the ``lesson`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from playground.cli import main
from playground.core.lessons import (
    CompareStep,
    LessonError,
    NoteStep,
    PredictStep,
    PresetStep,
    RunStep,
    SessionStep,
    TabStep,
    find_lesson,
    load_lesson,
    normalised,
    read_recordings,
    recording_name,
    shipped_lessons,
    step_digest,
    write_recordings_index,
)

TOML = """
title = "A test lesson"
description = "two sessions"

[[step]]
kind = "preset"
preset = "realnvp-moons"
view = "trajectory"

[[step]]
kind = "note"
title = "Change of variables"
text = "log p(x) = log p(z) + log |det J|"

[[step]]
kind = "session"
model = "realnvp"
dataset = "moons"
seed = 3
hyperparameters = { lr = 0.001 }
view = "density"

[[step]]
kind = "tab"
view = "samples"

[[step]]
kind = "predict"
question = "Where will the samples go?"
view = "samples"

[[step]]
kind = "run"
steps = 200
view = "density"
seconds = 10

[[step]]
kind = "compare"
left = "gan-ring8"
right = { model = "gan", dataset = "ring8", hyperparameters = { pack = 4 } }
view = "modes"
"""


def write(tmp_path: Path, text: str, name: str = "lesson.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_lesson_loads_into_typed_steps(tmp_path):
    lesson = load_lesson(write(tmp_path, TOML))
    assert lesson.title == "A test lesson" and lesson.description == "two sessions"
    kinds = [type(s) for s in lesson.steps]
    assert kinds == [PresetStep, NoteStep, SessionStep, TabStep, PredictStep, RunStep, CompareStep]
    assert [s.index for s in lesson.steps] == list(range(7))
    preset, _, session, _, predict, run, compare = lesson.steps
    assert preset.preset.name == "realnvp-moons" and (preset.preset / "config.json").is_file()
    assert session.seed == 3 and session.hyperparameters == {"lr": 0.001}
    assert predict.reveal == "" and run.steps == 200 and run.seconds == 10.0
    assert [s.is_live for s in lesson.steps] == [False] * 5 + [True, False]
    assert isinstance(compare.left, PresetStep) and isinstance(compare.right, SessionStep)
    assert compare.right.hyperparameters == {"pack": 4}
    assert lesson.recordings_dir == tmp_path / "lesson.recordings"


def test_a_json_lesson_is_the_same_lesson(tmp_path):
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    toml = load_lesson(write(tmp_path, TOML))
    data = tomllib.loads(TOML)
    from_json = load_lesson(write(tmp_path, json.dumps(data), "lesson.json"))
    assert [normalised(s) for s in from_json.steps] == [normalised(s) for s in toml.steps]


def test_a_preset_path_is_relative_to_the_lesson(tmp_path):
    import shutil

    from playground.core.presets import SHIPPED_PRESETS

    shutil.copytree(SHIPPED_PRESETS / "planar-U1", tmp_path / "mine" / "p")
    text = 'title = "t"\n[[step]]\nkind = "preset"\npreset = "mine/p"\nview = "density"\n'
    step = load_lesson(write(tmp_path, text)).steps[0]
    assert step.preset == tmp_path / "mine" / "p" and step.name == "mine/p"


HEAD = 'title = "t"\n[[step]]\nkind = "session"\nmodel = "realnvp"\ndataset = "moons"\n'


@pytest.mark.parametrize(
    "text, expected",
    [
        (HEAD + '[[step]]\nkind = "dance"\n', "step 2: unknown kind 'dance'"),
        (
            HEAD + '[[step]]\nkind = "run"\nsteps = -5\n',
            "step 2 (run): steps must be a positive integer, got -5",
        ),
        (HEAD + '[[step]]\nkind = "run"\nsteps = 2.5\n', "step 2 (run): steps must be"),
        (
            HEAD + '[[step]]\nkind = "run"\nsteps = 10\nspeed = 2\n',
            "step 2 (run): unknown field 'speed'",
        ),
        (
            HEAD + '[[step]]\nkind = "tab"\nview = "densty"\n',
            "step 2 (tab): unknown view 'densty'; did you mean 'density'?",
        ),
        (
            HEAD + '[[step]]\nkind = "tab"\nview = "score_field"\n',
            "step 2 (tab): view 'score_field' is not shown by realnvp on moons",
        ),
        (
            HEAD + '[[step]]\nkind = "preset"\npreset = "gan-ring9"\n',
            "step 2 (preset): preset: no preset 'gan-ring9'",
        ),
        (
            'title = "t"\n[[step]]\nkind = "session"\nmodel = "realnvpp"\ndataset = "moons"\n',
            "step 1 (session): model: unknown model 'realnvpp'; did you mean 'realnvp'?",
        ),
        (
            'title = "t"\n[[step]]\nkind = "session"\nmodel = "realnvp"\ndataset = "moon"\n',
            "step 1 (session): dataset:",
        ),
        (
            HEAD + 'hyperparameters = { lr = "fast" }\n',
            "step 1 (session): hyperparameters: lr: expected float",
        ),
        (
            HEAD + "hyperparameters = { wings = 2 }\n",
            "step 1 (session): hyperparameters: unknown hyperparameter 'wings'",
        ),
        (
            'title = "t"\n[[step]]\nkind = "run"\nsteps = 10\n',
            "step 1 (run): no session is open yet",
        ),
        (HEAD + '[[step]]\nkind = "note"\n', "step 2 (note): text is missing"),
        (
            HEAD + '[[step]]\nkind = "compare"\nleft = "gan-ring8"\n',
            "step 2 (compare): right is missing",
        ),
        (
            HEAD + '[[step]]\nkind = "compare"\nleft = "gan-ring8"\nright = { model = "gan" }\n',
            "step 2 (compare): right: dataset is missing",
        ),
        ('[[step]]\nkind = "note"\ntext = "x"\n', "title is missing"),
        ('title = "t"\n', "a lesson needs at least one step"),
        (
            'title = "t"\nauthor = "me"\n[[step]]\nkind = "note"\ntext = "x"\n',
            "unknown field 'author'",
        ),
        ('title = "t"\n[[step\nkind = "note"\n', "not valid TOML"),
    ],
)
def test_bad_input_gives_one_clear_message(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert expected in message


def test_a_lesson_too_big_or_of_another_kind_is_refused_before_parsing(tmp_path):
    big = write(tmp_path, HEAD + "# " + "x" * (1 << 20) + "\n")
    with pytest.raises(LessonError, match=r"lesson\.toml: .*MB, more than the 1\.0 MB a lesson"):
        load_lesson(big)
    with pytest.raises(LessonError, match=r"a lesson is a \.toml or \.json file"):
        load_lesson(write(tmp_path, HEAD, "lesson.yaml"))
    with pytest.raises(LessonError, match="not valid JSON"):
        load_lesson(write(tmp_path, "{", "lesson.json"))
    with pytest.raises(LessonError, match="missing"):
        load_lesson(tmp_path / "nothere.toml")


def test_the_digest_covers_a_step_and_every_step_before_it(tmp_path):
    lesson = load_lesson(write(tmp_path, TOML))
    changed = load_lesson(write(tmp_path, TOML.replace("steps = 200", "steps = 300"), "b.toml"))
    assert step_digest(lesson, 4) == step_digest(changed, 4)
    assert step_digest(lesson, 5) != step_digest(changed, 5)
    assert step_digest(lesson, 6) != step_digest(changed, 6)
    seeded = load_lesson(write(tmp_path, TOML.replace("seed = 3", "seed = 4"), "c.toml"))
    assert step_digest(lesson, 1) == step_digest(seeded, 1)
    assert step_digest(lesson, 5) != step_digest(seeded, 5)
    with pytest.raises(IndexError):
        step_digest(lesson, 7)


def test_the_recordings_index_marks_a_changed_lesson_stale(tmp_path):
    path = write(tmp_path, TOML)
    lesson = load_lesson(path)
    assert read_recordings(lesson) == {}
    entry = {"steps": 200, "seconds": 4.5, "frames": 11, "view": "density", "final_step": 200}
    write_recordings_index(lesson, {5: entry})
    assert read_recordings(lesson) == {}  # the index without its GIF lists nothing
    (lesson.recordings_dir / recording_name(5)).write_bytes(b"GIF89a")
    info = read_recordings(lesson)[5]
    assert info.path.name == "step-06.gif" and info.frames == 11 and not info.stale
    path.write_text(TOML.replace("seed = 3", "seed = 9"), encoding="utf-8")
    assert read_recordings(load_lesson(path))[5].stale
    index = lesson.recordings_dir / "recordings.json"
    data = json.loads(index.read_text())
    data["steps"]["06"]["frames"] = -1
    index.write_text(json.dumps(data))
    with pytest.raises(LessonError, match=r"recordings\.json: steps\.06: frames must be"):
        read_recordings(lesson)
    data["steps"]["06"]["frames"] = 11
    index.write_text(json.dumps(data))
    gif = lesson.recordings_dir / "step-06.gif"
    gif.unlink()
    gif.symlink_to(tmp_path / "lesson.toml")
    with pytest.raises(LessonError, match="step-06.gif: a link that leads out of its folder"):
        read_recordings(lesson)
    data["steps"]["06"]["file"] = "../../etc/passwd"
    index.write_text(json.dumps(data))
    with pytest.raises(LessonError, match="file must be 'step-06.gif'"):
        read_recordings(lesson)


SHIPPED = ("diffusion", "flows", "gans")


def test_the_three_shipped_lessons_load():
    lessons = {p.stem: load_lesson(p) for p in shipped_lessons()}
    assert sorted(lessons) == list(SHIPPED)
    for lesson in lessons.values():
        assert 8 <= len(lesson.steps) <= 15
        kinds = {s.kind for s in lesson.steps}
        assert {"note", "run", "predict"} <= kinds
        assert all(s.seconds for s in lesson.steps if isinstance(s, RunStep))
    gans = lessons["gans"]
    assert any(getattr(s, "view", None) == "dirac_field" for s in gans.steps)
    assert find_lesson("flows") == lessons["flows"].path


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_recording_is_there_up_to_date_and_opens(name):
    import imageio.v3 as iio

    lesson = load_lesson(find_lesson(name))
    runs = [s for s in lesson.steps if isinstance(s, RunStep)]
    recordings = read_recordings(lesson)
    assert sorted(recordings) == [s.index for s in runs]
    for step in runs:
        info = recordings[step.index]
        assert not info.stale, f"{info.path}: rebuild with python -m playground lesson build"
        assert info.steps == step.steps and info.view == (step.view or info.view)
        assert info.path.stat().st_size <= 1_600_000
        frames = iio.imread(info.path, index=None)
        assert frames.shape[0] == info.frames and frames.shape[1:] == (360, 480, 3)
        assert frames.dtype == np.uint8
        assert not np.array_equal(frames[0], frames[-1])  # training moved the picture
    total = sum(p.stat().st_size for p in lesson.recordings_dir.iterdir())
    assert total <= 5_000_000


TINY = """
title = "Tiny"
[[step]]
kind = "session"
model = "dirac-gan"
dataset = "dirac"
view = "dirac_field"
[[step]]
kind = "run"
steps = 40
"""


def test_building_a_lesson_records_its_run_step(tmp_path, qapp):
    import imageio.v3 as iio

    from playground.app.lesson_build import build_lesson

    calls = []
    report = build_lesson(
        write(tmp_path, TINY), lambda d, t, s: calls.append((d, t)), frames=4, size=(320, 240)
    )
    assert calls == [(0, 2), (1, 2), (2, 2)]
    [rec] = report.recordings
    assert rec.recording == tmp_path / "lesson.recordings" / "step-02.gif" and rec.steps == 40
    info = read_recordings(report.lesson)[1]
    assert not info.stale and info.final_step == 40 and info.view == "dirac_field"
    frames = iio.imread(info.path, index=None)
    assert frames.shape == (info.frames, 240, 320, 3) and info.frames == 5


def test_a_build_that_diverges_keeps_the_old_recordings(tmp_path, qapp, monkeypatch):
    from playground.app import recording
    from playground.app.lesson_build import build_lesson
    from playground.core.models.errors import NonFiniteLossError

    path = write(tmp_path, TINY + '[[step]]\nkind = "run"\nsteps = 20\n')
    folder = tmp_path / "lesson.recordings"
    folder.mkdir()
    (folder / "step-02.gif").write_bytes(b"old")
    real, calls = recording.record_headless, []

    def diverging(session, *args, **kwargs):
        calls.append(session.step_count)
        if len(calls) == 2:
            raise NonFiniteLossError("loss_d", float("nan"), session.step_count)
        return real(session, *args, **kwargs)

    monkeypatch.setattr(recording, "record_headless", diverging)
    with pytest.raises(LessonError, match=r"step 3 \(run\): training diverged: .*loss_d"):
        build_lesson(path, frames=2, size=(160, 120))
    assert calls == [0, 40]
    assert (folder / "step-02.gif").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.recordings", "lesson.toml"]


def test_lesson_check_prints_the_steps_and_recordings(tmp_path, capsys):
    assert main(["lesson", "check", str(write(tmp_path, TOML))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A test lesson")
    assert out[1].split() == ["1.", "preset", "realnvp-moons", "[trajectory]"]
    assert "  6. run     train 200 steps, live budget 10 s [density]" in out
    assert out[-1] == "recording of step 6: missing (python -m playground lesson build FILE)"


def test_lesson_command_line_errors_exit_2(tmp_path, capsys):
    assert main(["lesson", "check", str(write(tmp_path, HEAD + 'view = "x"\n'))]) == 2
    assert "step 1 (session): unknown view 'x'" in capsys.readouterr().err
    assert main(["lesson", "dance", "flows"]) == 2
    assert "expected `lesson FILE`" in capsys.readouterr().err
    assert main(["lesson", "check", "no-such-lesson"]) == 2
    assert "shipped lessons: diffusion, flows, gans" in capsys.readouterr().err


def test_playing_a_lesson_without_a_display_exits_2_before_qt(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["lesson", "flows"]) == 2
    assert "display" in capsys.readouterr().err.lower()
