"""The Scoreboard window's two widgets: the ranked table and the grid of each model's samples
(a scatter over the data on the plane, a mosaic of images on an image set)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from . import theme
from .scoreboard_folder import Row, Scoreboard
from .views.images import mosaic

__all__ = ["ScoreTable", "SampleGrid", "metric_header", "data_overlay", "CELL_PIXELS"]

#: each model's sample plot is a square: as large as lets every model show without
#: scrolling, between these sizes in pixels; when even the smallest does not, this size
#: (four across a 1366-pixel screen) and the grid scrolls
MIN_CELL, MAX_CELL, CELL_PIXELS = 220, 420, 300
#: model images shown in a mosaic (8 x 8, the contract's 64)
MOSAIC_SIDE = 8
#: data points drawn under each model's samples
DATA_POINTS = 1000
#: an error longer than this is cut in its cell (its tooltip has all of it)
ERROR_CHARS = 90
ERROR_BRUSH = QBrush(QColor(253, 219, 199))
BEST_BRUSH = QBrush(QColor(209, 229, 240))


def metric_header(name: str, better: str) -> str:
    """A metric's column title: its name and an arrow to the better end (``fid ↓``)."""
    arrow = "\u2193" if better == "lower" else "\u2191"
    return f"{name} {arrow}"


def _cell(text: str, align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    align = Qt.AlignmentFlag.AlignRight if align_right else Qt.AlignmentFlag.AlignLeft
    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    return item


def _format(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.4g}"


class ScoreTable(QTableWidget):
    """Rank, model, steps, seconds, each metric (its header says which way is better; the
    best value of each column is shaded blue and bold) and, where a run failed, its error
    (the row shaded red)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_board(self, board: Scoreboard) -> None:
        """Fill the table from ``board`` (empty when it has no rows)."""
        with_errors = any(r.error for r in board.rows)
        heads = ["Rank", "Model", "Steps", "Seconds"]
        heads += [metric_header(name, better) for name, better in board.metrics]
        heads += ["Error"] if with_errors else []
        self.clear()
        self.setColumnCount(len(heads))
        self.setRowCount(len(board.rows))
        self.setHorizontalHeaderLabels(heads)
        for c, (name, better) in enumerate(board.metrics, start=4):
            self.horizontalHeaderItem(c).setToolTip(f"{name}: {better} is better")
        for r, row in enumerate(board.rows):
            self._fill_row(r, row, board, with_errors)
        self._mark_best(board)
        self.resizeRowsToContents()
        # no taller than its rows: the samples below get the rest of the window
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()))
        scroll = self.horizontalScrollBar().sizeHint().height()
        height = self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth()
        self.setMaximumHeight(height + scroll)

    def _fill_row(self, r: int, row: Row, board: Scoreboard, with_errors: bool) -> None:
        texts = [
            "\u2014" if row.rank is None else str(row.rank),
            row.model,
            "\u2014" if row.steps is None else f"{row.steps:,}",
            "\u2014" if row.seconds is None else f"{row.seconds:.1f}",
        ]
        texts += [_format(row.values.get(name)) for name, _ in board.metrics]
        for c, text in enumerate(texts):
            self.setItem(r, c, _cell(text, align_right=c != 1))
        if with_errors:
            error = row.error or ""
            short = error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "\u2026"
            item = _cell(short, align_right=False)
            item.setToolTip(row.error or "")
            self.setItem(r, len(texts), item)
        if row.error:
            for c in range(self.columnCount()):
                self.item(r, c).setBackground(ERROR_BRUSH)

    def _mark_best(self, board: Scoreboard) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        for c, (name, better) in enumerate(board.metrics, start=4):
            values = [(row.values.get(name), r) for r, row in enumerate(board.rows)]
            values = [(v, r) for v, r in values if v is not None]
            if not values:
                continue
            best = min(values)[0] if better == "lower" else max(values)[0]
            for v, r in values:
                if v == best:
                    self.item(r, c).setFont(bold)
                    self.item(r, c).setBackground(BEST_BRUSH)


def data_overlay(dataset: str | None) -> tuple[np.ndarray | None, tuple | None]:
    """``(points, box)`` of a plane dataset named in a scoreboard: :data:`DATA_POINTS`
    samples of a fixed seed (``None`` for a target without a sampler) and its plotting box;
    ``(None, None)`` for a name that is not a 2D density (nothing is read from disk)."""
    import torch

    from ..core.data import DATASETS, UnknownDatasetError, make_dataset, parse_dataset_spec

    try:
        name, _ = parse_dataset_spec(dataset or "")
        if name not in DATASETS:
            return None, None
        density = make_dataset(dataset)
    except (UnknownDatasetError, ValueError):
        return None, None
    if not density.can_sample:
        return None, tuple(density.box)
    points = density.sample(DATA_POINTS, torch.Generator().manual_seed(0))
    return points.numpy().astype(np.float32), tuple(density.box)


def _box_of(arrays: list[np.ndarray]) -> tuple[float, float, float, float]:
    points = np.concatenate(arrays)
    lo, hi = np.percentile(points, 0.5, axis=0), np.percentile(points, 99.5, axis=0)
    pad = np.maximum(0.1 * (hi - lo), 0.1)
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _image_mosaic(images: np.ndarray) -> np.ndarray:
    """``(n, C, H, W)`` images as one ``(rows, cols)`` (grey) or ``(rows, cols, 3)`` array,
    :data:`MOSAIC_SIDE` tiles a side at most."""
    n = min(len(images), MOSAIC_SIDE * MOSAIC_SIDE)
    side = int(np.ceil(np.sqrt(n)))
    tiles = np.ones((side * side, *images.shape[1:]), np.float32)
    tiles[:n] = images[:n]
    grid = tiles.reshape(side, side, *images.shape[1:])  # (rows, cols, C, H, W)
    channels = [mosaic(grid[:, :, c]) for c in range(images.shape[1])]
    return channels[0] if len(channels) == 1 else np.stack(channels, axis=-1)


class SampleGrid(QScrollArea):
    """One square plot per model, titled with its rank and name, in rank order, as many
    across as the width allows (it scrolls down). A model without samples (its run failed,
    its file is missing) gets a panel that says so, never blank axes."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.inner = QWidget()
        self.layout_ = QGridLayout(self.inner)
        self.layout_.setSpacing(8)
        self.layout_.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self.inner)
        self.cells: list[QWidget] = []
        #: model name to its plot (models with samples only)
        self.plots: dict[str, pg.PlotItem] = {}
        self._columns: tuple[int, int] | None = None

    def show_board(self, board: Scoreboard) -> None:
        """Draw one cell per row of ``board`` (or per samples file, without rows)."""
        for cell in self.cells:
            self.layout_.removeWidget(cell)
            cell.deleteLater()
        self.cells, self.plots = [], {}
        data, box = data_overlay(board.dataset) if board.kind == "plane" else (None, None)
        if board.kind == "plane" and box is None and board.samples:
            box = _box_of(list(board.samples.values()))
        rows = board.rows or [Row(None, m, None, None, None, {}) for m in board.samples]
        for row in rows:
            title = row.model if row.rank is None else f"#{row.rank}  {row.model}"
            samples = board.samples.get(row.model)
            if samples is None:
                why = f"run failed: {row.error}" if row.error else "no samples file"
                self.cells.append(self._message_cell(title, why))
            elif samples.ndim == 2:
                self.cells.append(self._scatter_cell(row.model, title, samples, data, box))
            else:
                self.cells.append(self._image_cell(row.model, title, samples))
        self._columns = None
        self._relayout()

    def _canvas(self, model: str, title: str) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem]:
        canvas = pg.GraphicsLayoutWidget()
        canvas.setFixedSize(CELL_PIXELS, CELL_PIXELS)
        plot = theme.make_plot(title=title)
        for name in ("left", "bottom"):
            plot.hideAxis(name)
        canvas.addItem(plot)
        self.plots[model] = plot
        return canvas, plot

    def _scatter_cell(self, model, title, samples, data, box) -> QWidget:
        canvas, plot = self._canvas(model, title)
        if data is not None:
            plot.addItem(
                pg.ScatterPlotItem(
                    pos=data, size=4, pen=None, brush=theme.brush(theme.DATA_COLOR, 90)
                )
            )
        points = samples[:2000]
        plot.addItem(
            pg.ScatterPlotItem(
                pos=points, size=4, pen=None, brush=theme.brush(theme.MODEL_COLOR, 160)
            )
        )
        theme.fix_range(plot, box)
        return canvas

    def _image_cell(self, model: str, title: str, images: np.ndarray) -> QWidget:
        canvas, plot = self._canvas(model, title)
        image = pg.ImageItem(_image_mosaic(images), axisOrder="row-major", levels=(0.0, 1.0))
        plot.addItem(image)
        vb = plot.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        vb.setMouseEnabled(x=False, y=False)
        vb.autoRange(padding=0.01)
        return canvas

    def _message_cell(self, title: str, why: str) -> QWidget:
        label = QLabel(f"<b>{title}</b><br><br>{why}")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFixedSize(CELL_PIXELS, CELL_PIXELS)
        label.setFrameShape(QFrame.Shape.Box)
        label.setStyleSheet("background:#fddbc7; color:black; padding:12px;")
        label.setToolTip(why)
        return label

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._relayout()

    def cell_size(self) -> tuple[int, int]:
        """``(pixels, columns)``: the largest square cell from :data:`MIN_CELL` to
        :data:`MAX_CELL` that shows every cell without scrolling, or :data:`CELL_PIXELS`."""
        spacing = self.layout_.spacing()
        width = self.viewport().width() - 2 * spacing
        height = self.viewport().height() - 2 * spacing
        n = max(len(self.cells), 1)
        for size in range(MAX_CELL, MIN_CELL - 1, -10):
            columns = max(1, width // (size + spacing))
            if -(-n // columns) * (size + spacing) <= height:
                return size, columns
        return CELL_PIXELS, max(1, width // (CELL_PIXELS + spacing))

    def _relayout(self) -> None:
        size, columns = self.cell_size()
        if (size, columns) == self._columns:
            return
        self._columns = (size, columns)
        for cell in self.cells:
            self.layout_.removeWidget(cell)
        for i, cell in enumerate(self.cells):
            cell.setFixedSize(size, size)
            self.layout_.addWidget(cell, i // columns, i % columns)
