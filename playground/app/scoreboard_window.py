"""The Scoreboard window: a scoreboard folder's ranked table and every model's samples side by
side, and a run of ``python -m playground scoreboard`` in a child process that opens when done
(the main window's menu actions that open it: :mod:`.scoreboard_menu`)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from . import theme
from .qt_util import weakly
from .scoreboard_folder import Scoreboard, read_scoreboard
from .scoreboard_widgets import SampleGrid, ScoreTable

__all__ = ["ScoreboardWindow", "scoreboard_command", "default_out", "PACKAGE_ROOT"]

#: the folder holding the ``playground`` package: the child process runs there
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
#: the most seconds a closing window waits for a killed run to end
KILL_WAIT_MS = 2000
_BANNER = {
    "error": "background:#b2182b; color:white; padding:8px; font-weight:bold;",
    "info": "background:#d1e5f0; color:black; padding:8px;",
}


def default_out(dataset: str) -> Path:
    """Where a run's folder goes: ``scoreboards/DATASET`` under the working folder (the
    command's own default), with a spec's ``:``, ``=`` and ``,`` made ``_``."""
    return (Path.cwd() / "scoreboards" / re.sub(r"[^A-Za-z0-9._-]", "_", dataset)).resolve()


def scoreboard_command(
    dataset: str,
    minutes: float,
    out: str | Path,
    seed: int | None = None,
    models: list[str] | None = None,
    python: str = "",
) -> list[str]:
    """The command line of a scoreboard run: ``python -m playground scoreboard DATASET
    --minutes M --out DIR [--seed S] [--models A,B]`` (the contract of the sweep command;
    no ``--models``: every model that trains on the dataset).

    Raises:
        ValueError: ``minutes`` is not positive or ``dataset`` is empty.
    """
    if not dataset:
        raise ValueError("a scoreboard needs a dataset")
    if not minutes > 0:
        raise ValueError(f"minutes per model must be > 0, got {minutes}")
    argv = [python or sys.executable, "-m", "playground", "scoreboard", dataset]
    argv += ["--minutes", f"{minutes:g}", "--out", str(out)]
    argv += ["--seed", str(seed)] if seed is not None else []
    return argv + (["--models", ",".join(models)] if models else [])


class ScoreboardWindow(QMainWindow):
    """A scoreboard folder: a one-line summary, the ranked table above and every model's
    samples below (a splitter between them), fitting a 1366 x 768 screen (the samples
    scroll). A broken or partial folder shows one banner saying what is missing, and the
    rest. :meth:`run` runs the scoreboard command in a ``QProcess`` (never on this
    thread), shows its output as it comes and opens its folder when it ends; closing the
    window kills it.

    Attributes:
        board: the :class:`~.scoreboard_folder.Scoreboard` on show, or ``None``.
        process: the running (or last) ``QProcess``, or ``None``.
        out: the folder the run writes.
    """

    #: the window closed (its menu forgets it)
    closed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Scoreboard")
        self.board: Scoreboard | None = None
        self.process: QProcess | None = None
        self.out: Path | None = None
        self._started = 0.0
        self.banner = theme.caption_label()
        self.banner.hide()
        self.summary = theme.caption_label()
        self.summary.setStyleSheet(f"font-size:{theme.FONT_POINTS + 3}pt; font-weight:bold;")
        self.legend = QLabel(
            f"<span style='color:{theme.MODEL_COLOR.name()}'>\u25cf model samples</span>"
            f"&nbsp;&nbsp;<span style='color:{theme.DATA_COLOR.name()}'>\u25cf data</span>"
        )
        self.table = ScoreTable()
        self.grid = SampleGrid()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setMaximumHeight(110)
        self.log.setPlaceholderText("The command's output (its first line once a model is trained)")
        self.progress = theme.caption_label()
        self.stop_button = QPushButton("Stop run")
        self.stop_button.clicked.connect(self.stop)
        self.run_panel = QWidget()
        run_layout = QVBoxLayout(self.run_panel)
        run_layout.setContentsMargins(0, 0, 0, 0)
        for part in (self.progress, self.log, self.stop_button):
            run_layout.addWidget(part)
        self.run_panel.hide()
        # the table and the samples: hidden until a folder is shown (no empty frames)
        self.body = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.legend)
        lower_layout.addWidget(self.grid)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        central = QWidget()
        layout = QVBoxLayout(central)
        for part in (self.banner, self.summary, self.run_panel):
            layout.addWidget(part)
        layout.addWidget(splitter, 1)
        # until the table shows, the parts above keep to the top
        layout.addStretch(1)
        self._layout = layout
        self.summary.hide()
        splitter.hide()
        self.setCentralWidget(central)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._show_progress)
        self._last_line = ""
        self._make_menu()
        self.resize(1300, 700)

    def _make_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        opened = menu.addAction("&Open scoreboard folder\u2026")
        opened.setShortcut(QKeySequence("Ctrl+O"))
        opened.triggered.connect(weakly(self, lambda w, *_: w.ask_and_open()))
        close = menu.addAction("&Close")
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)

    # ------------------------------------------------------------- showing a folder
    def ask_and_open(self) -> None:
        """Ask for a scoreboard folder and open it."""
        start = self.out or Path.cwd() / "scoreboards"
        path = QFileDialog.getExistingDirectory(self, "Open a scoreboard folder", str(start))
        if path:
            self.open_folder(path)

    def open_folder(self, folder: str | Path) -> Scoreboard:
        """Read ``folder`` and show it (a banner says what could not be read)."""
        board = read_scoreboard(folder)
        self.board = board
        self.setWindowTitle(f"Scoreboard \u2014 {board.dataset or board.folder.name}")
        self.summary.setText(_summary(board))
        self.summary.show()
        self.body.show()
        self._layout.setStretch(self._layout.count() - 1, 0)
        self.legend.setVisible(board.kind == "plane")
        self.table.show_board(board)
        self.grid.show_board(board)
        if board.message:
            self.show_banner(board.message, "error")
        elif self.process is None or self.process.state() == QProcess.ProcessState.NotRunning:
            self.banner.hide()
        return board

    def show_banner(self, text: str, kind: str = "info") -> None:
        """Show ``text`` above the table (``kind``: ``error`` or ``info``)."""
        self.banner.setStyleSheet(_BANNER[kind])
        self.banner.setText(text)
        self.banner.show()

    # ------------------------------------------------------------- running the command
    def run(
        self,
        dataset: str,
        minutes: float,
        out: str | Path,
        models: list[str] | None = None,
        command: list[str] | None = None,
    ) -> QProcess:
        """Run the scoreboard of ``dataset`` (``minutes`` per model; ``models``, or all)
        into ``out`` in a child process, or ``command`` instead (tests); returns the
        ``QProcess``. A run still going is stopped first.

        Raises:
            ValueError: as :func:`scoreboard_command`.
        """
        argv = command or scoreboard_command(dataset, minutes, out, models=models)
        self.stop()
        self.out = Path(out)
        process = QProcess(self)
        process.setWorkingDirectory(str(PACKAGE_ROOT))
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")  # each progress line as it is printed
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_output)
        process.readyReadStandardError.connect(self._read_output)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        self.process = process
        self.log.clear()
        self._last_line = ""
        self._started = time.monotonic()
        self._what = f"{dataset}, {minutes:g} min per model"
        self.run_panel.show()
        self.stop_button.setEnabled(True)
        self.show_banner(f"Running the scoreboard of {self._what} \u2026", "info")
        self._show_progress()
        self._timer.start()
        process.start(argv[0], argv[1:])
        return process

    def stop(self) -> None:
        """Kill the run, if one is going, and wait (at most 2 s) for it to end."""
        process = self.process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(KILL_WAIT_MS)
        self._timer.stop()

    @property
    def running(self) -> bool:
        """Whether a run is going."""
        p = self.process
        return p is not None and p.state() != QProcess.ProcessState.NotRunning

    def _read_output(self) -> None:
        process = self.process
        if process is None:
            return
        raw = bytes(process.readAllStandardError()) + bytes(process.readAllStandardOutput())
        text = raw.decode("utf-8", errors="replace")
        # progress bars redraw with \r: keep each bar's last state only
        lines = [part.split("\r")[-1] for part in text.replace("\r\n", "\n").split("\n")]
        lines = [line for line in lines if line.strip()]
        if lines:
            self.log.appendPlainText("\n".join(lines))
            self._last_line = lines[-1]
            self._show_progress()

    def _show_progress(self) -> None:
        seconds = int(time.monotonic() - self._started)
        line = f"{self._what}: {seconds // 60}:{seconds % 60:02d} elapsed"
        self.progress.setText(f"{line}  \u2014  {self._last_line}" if self._last_line else line)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_output()
        self._timer.stop()
        self.stop_button.setEnabled(False)
        out = self.out
        if out is not None and out.is_dir():
            self.open_folder(out)
        crashed = status != QProcess.ExitStatus.NormalExit
        if code != 0 or crashed:
            last = self._last_line or "no output"
            how = "was stopped" if crashed else f"failed (exit {code})"
            self.show_banner(f"The scoreboard run {how}: {last}", "error")
        elif self.board is not None and not self.board.message:
            self.run_panel.hide()  # done: the room goes to the samples
            self.show_banner(f"Scoreboard written to {out}", "info")

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._timer.stop()
            self.show_banner(
                f"Could not start the scoreboard command: {self.process.errorString()}", "error"
            )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Kill a running scoreboard before closing."""
        self.stop()
        super().closeEvent(event)
        self.closed.emit(self)


def _summary(board: Scoreboard) -> str:
    parts = [board.dataset or board.folder.name]
    if board.kind:
        parts[0] += f" ({board.kind})"
    n = len(board.rows) or len(board.samples)
    parts.append(f"{n} model{'s' if n != 1 else ''}")
    if board.minutes is not None:
        parts.append(f"{board.minutes:g} min each")
    if board.seed is not None:
        parts.append(f"seed {board.seed}")
    if board.wall_seconds is not None:
        parts.append(f"{board.wall_seconds / 60:.1f} min in all")
    return "  \u00b7  ".join(parts)
