"""The Qt binding keeps None alive: the app calls Python overrides of Qt virtuals at every
repaint, and PySide6 6.12.0 dropped a reference to None on each such call (on Python 3.11
the process then aborts with "deallocating None" after ~10^4 repaints)."""

from __future__ import annotations

import gc
import sys

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRectF  # noqa: E402
from PySide6.QtWidgets import QGraphicsWidget  # noqa: E402

CALLS = 5000


class _Resized(QGraphicsWidget):
    def resizeEvent(self, event):  # a void virtual, overridden in Python as pyqtgraph does
        self.resized += 1


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="None is immortal from Python 3.12: its count cannot be read for this check",
)
def test_void_virtual_overrides_keep_the_reference_count_of_none(qapp):
    widget = _Resized()
    widget.resized = 0
    gc.collect()
    before = sys.getrefcount(None)
    for k in range(CALLS):
        widget.setGeometry(QRectF(0, 0, 10 + k % 2, 10))
    gc.collect()
    drift = sys.getrefcount(None) - before
    assert widget.resized >= CALLS - 1
    # a binding that drops one reference per call drifts by -CALLS
    assert drift > -CALLS // 10, f"None lost {-drift} references in {CALLS} calls"
