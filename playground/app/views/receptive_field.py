"""The receptive field view of an autoregressive model: for a chosen output pixel (or time
step), how strongly its conditional depends on each input. On images a map over the image
(click a pixel, or set its row and column), the pixels it cannot see before it crossed; on
sequences a curve over the past, the reach of the model shaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .receptive_field_panels import FLOOR, ImageMap, SequenceCurve

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.receptive_field import ReceptiveField

__all__ = ["ReceptiveFieldView", "default_target", "FLOOR"]


def default_target(field: ReceptiveField) -> int:
    """Where the view starts: on an image the pixel two thirds down and a quarter across
    (its blind spot, up and to the right, fits in the image); on a sequence the last step."""
    if field.kind == "image":
        h, w = field.shape
        return (2 * h // 3) * w + w // 4
    return field.shape[0] - 1


class ReceptiveFieldView(View):
    """Where an autoregressive model looks: for the chosen output (framed in red), the
    dependence of ``log p(x_i | x_<i)`` on each input, ``|d log p / d x_j|`` (or, for a model
    whose input is looked up in an embedding, the change when ``x_j`` moves), relative to
    the strongest, on a log scale. Grey: the output and what comes after it (the model must
    not read it); blue crosses: pixels before it that it does not see. PixelCNN's blind spot
    is the wedge of crosses up and to the right; Gated PixelCNN has none.

    Source: van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
    NeurIPS 2016, figure 1.
    """

    name = "receptive_field"
    title = "Receptive field"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.field: ReceptiveField | None = None
        #: the flattened index of the chosen output (``None``: the default of the data)
        self.target: int | None = None
        self.row_box, self.col_box, self.step_box = QSpinBox(), QSpinBox(), QSpinBox()
        self.image_controls = QWidget()
        controls = QHBoxLayout(self.image_controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("output pixel: row"))
        controls.addWidget(self.row_box)
        controls.addWidget(QLabel("column"))
        controls.addWidget(self.col_box)
        controls.addWidget(QLabel("(or click the map)"))
        controls.addStretch(1)
        self.sequence_controls = QWidget()
        controls = QHBoxLayout(self.sequence_controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("output time step t"))
        controls.addWidget(self.step_box)
        controls.addWidget(QLabel("(or click the plot)"))
        controls.addStretch(1)
        for box in (self.row_box, self.col_box, self.step_box):
            box.valueChanged.connect(self._boxes_changed)
        self.map = ImageMap(self._clicked_pixel)
        self.curve = SequenceCurve(self._clicked_step)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.map.canvas)
        self.stack.addWidget(self.curve.canvas)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image_controls)
        layout.addWidget(self.sequence_controls)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.caption)
        self.sequence_controls.hide()

    # ------------------------------------------------------------ controls
    def choose(self, target: int) -> None:
        """Show output ``target`` (a flattened index) and redraw from the last picture."""
        self.target = int(target)
        self._sync_boxes()
        self._draw()

    def _clicked_pixel(self, pixel: tuple[int, int] | None) -> None:
        if pixel is not None and self.field is not None and self.field.kind == "image":
            self.choose(pixel[0] * self.field.shape[1] + pixel[1])

    def _clicked_step(self, step: int | None) -> None:
        if step is not None and self.field is not None and self.field.kind == "sequence":
            self.choose(step)

    def _boxes_changed(self, _value: int) -> None:
        if self.field is None:
            return
        if self.field.kind == "image":
            target = self.row_box.value() * self.field.shape[1] + self.col_box.value()
        else:
            target = self.step_box.value()
        self.choose(target)

    def _sync_boxes(self) -> None:
        field = self.field
        if field is None or self.target is None:
            return
        with signals_blocked(self.row_box, self.col_box, self.step_box):
            if field.kind == "image":
                h, w = field.shape
                self.row_box.setRange(0, h - 1)
                self.col_box.setRange(0, w - 1)
                r, c = divmod(self.target, w)
                self.row_box.setValue(r)
                self.col_box.setValue(c)
            else:
                self.step_box.setRange(0, field.shape[0] - 1)
                self.step_box.setValue(self.target)

    # ------------------------------------------------------------ drawing
    def clear(self) -> None:
        """Forget the session's picture and the chosen output."""
        self.field, self.target = None, None
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.receptive_field`` (a core ``ReceptiveField``) at the chosen output."""
        field = snapshot.receptive_field
        if field is None:
            return
        old = self.field
        self.field = field
        if old is None or old.shape != field.shape or self.target is None:
            self.target = default_target(field)
        is_image = field.kind == "image"
        self.image_controls.setVisible(is_image)
        self.sequence_controls.setVisible(not is_image)
        self.stack.setCurrentIndex(0 if is_image else 1)
        self._sync_boxes()
        self._draw()

    def _draw(self) -> None:
        field = self.field
        if field is None or self.target is None:
            return
        i = int(field.targets[field.nearest(self.target)])
        what = (
            "|d log p(x_i | x_<i) / d x_j|"
            if field.method == "gradient"
            else "|change of log p(x_i | x_<i)| when x_j moves"
        )
        over = f"mean over {field.examples} test example" + ("s" if field.examples > 1 else "")
        if field.kind == "image":
            seen, unseen = self.map.draw(field, i)
            r, c = divmod(i, field.shape[1])
            blind = (
                f"; {unseen} it cannot see (\u00d7: blind spot or beyond reach)"
                if unseen
                else "; no blind spot"
            )
            text = (
                f"output pixel ({r}, {c}) sees {seen} of the {seen + unseen} pixels before it"
                f"{blind}. Colour: {what}, {over}."
            )
        else:
            reach = self.curve.draw(field, i)
            text = (
                f"output step t = {i} sees the {reach} steps before it "
                f"(t \u2212 {reach} .. t \u2212 1, shaded: its receptive field) and nothing from t "
                f"on. Curve: {what}, {over}."
            )
        self.caption.setText(text)
