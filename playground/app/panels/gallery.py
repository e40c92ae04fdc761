"""The preset gallery: preview thumbnails with titles, filtered by family, and the chosen
preset's full description and notes below them; opens one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..explain.notes import demote_headings, wrap_code

__all__ = ["PresetGallery", "THUMBNAIL_PIXELS"]

#: thumbnail side in pixels: a preview stays readable in a grid of four per row
THUMBNAIL_PIXELS = 200
#: room under a thumbnail for its title and three lines of description (the rest: the
#: tooltip and the details below the grid)
TEXT_PIXELS = 100
#: item roles: the preset's path, its family ("" when it cannot be read)
PATH_ROLE = Qt.ItemDataRole.UserRole
FAMILY_ROLE = Qt.ItemDataRole.UserRole + 1
ALL_FAMILIES = "all"


def fallback_icon(text: str, broken: bool = False) -> QIcon:
    """A plain thumbnail for a preset without a preview: a grey tile with ``text``."""
    pixmap = QPixmap(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(250, 225, 225) if broken else QColor(232, 232, 236))
    painter.setPen(QColor(150, 150, 160))
    painter.drawRoundedRect(4, 4, THUMBNAIL_PIXELS - 8, THUMBNAIL_PIXELS - 8, 14, 14)
    font = painter.font()
    font.setPointSize(16)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor(178, 24, 43) if broken else QColor(90, 90, 100))
    painter.drawText(
        pixmap.rect().adjusted(12, 12, -12, -12),
        Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
        text,
    )
    painter.end()
    return QIcon(pixmap)


def preview_icon(preview: bytes | None, fallback: str) -> QIcon:
    """The preview PNG as a square thumbnail (letterboxed), or :func:`fallback_icon` (its
    title on a grey tile) when there is none."""
    pixmap = QPixmap()
    if not preview or not pixmap.loadFromData(preview):
        return fallback_icon(fallback)
    scaled = pixmap.scaled(
        THUMBNAIL_PIXELS,
        THUMBNAIL_PIXELS,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    tile = QPixmap(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS)
    tile.fill(Qt.GlobalColor.white)
    painter = QPainter(tile)
    painter.drawPixmap(
        (THUMBNAIL_PIXELS - scaled.width()) // 2, (THUMBNAIL_PIXELS - scaled.height()) // 2, scaled
    )
    painter.end()
    return QIcon(tile)


class PresetGallery(QDialog):
    """A grid of presets: preview, title and one-line description, filterable by family;
    below it :attr:`details`, the current preset's title, full description, model, data,
    steps and notes (Markdown), which the grid's tiles have no room for.

    Double-clicking a preset (or Open) emits :attr:`preset_chosen` with its path and
    closes the dialog. A preset that cannot be read is listed greyed, its error as the
    tooltip; it cannot be chosen.

    Arguments:
        paths: the presets to list; ``None``: the shipped ones (``shipped_presets()``).
        extra: more presets (the recent ones), listed after ``paths`` without duplicates.
        parent: the owning window.
    """

    preset_chosen = Signal(str)

    def __init__(
        self,
        paths: Iterable[str | Path] | None = None,
        extra: Iterable[str | Path] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Preset gallery")
        if paths is None:
            from ...core.presets import shipped_presets

            paths = shipped_presets()
        seen: set[Path] = set()
        self.paths: list[Path] = []
        for path in [*paths, *extra]:
            resolved = Path(path).resolve()
            if resolved not in seen:
                seen.add(resolved)
                self.paths.append(Path(path))

        self.family = QComboBox()
        self.family.setToolTip("Show the presets of one model family")
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        self.list.setGridSize(QSize(THUMBNAIL_PIXELS + 60, THUMBNAIL_PIXELS + TEXT_PIXELS))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(6)
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(True)
        self.details.setPlaceholderText("Choose a preset to read its description and notes.")
        self._infos: dict[str, object] = {}
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Family"))
        top.addWidget(self.family)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)

        families = self._fill()
        self.family.addItems([ALL_FAMILIES, *sorted(families)])
        self.family.currentTextChanged.connect(self.filter_family)
        self.list.itemDoubleClicked.connect(self._choose)
        self.list.currentItemChanged.connect(self._update_open)
        self.list.currentItemChanged.connect(self._show_details)
        self.buttons.accepted.connect(lambda: self._choose(self.list.currentItem()))
        self.buttons.rejected.connect(self.reject)
        self._update_open()
        self.resize(4 * (THUMBNAIL_PIXELS + 60) + 60, 2 * (THUMBNAIL_PIXELS + TEXT_PIXELS) + 320)

    def _fill(self) -> set[str]:
        """One item per preset; returns the families present."""
        from ...core.presets import read_preset_info

        families: set[str] = set()
        for path in self.paths:
            item = QListWidgetItem()
            item.setData(PATH_ROLE, str(path))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            try:
                info = read_preset_info(path)
            except Exception as e:  # noqa: BLE001 - a broken preset is listed, never fatal
                item.setText(f"{path.name}\n(cannot be opened)")
                item.setIcon(fallback_icon("cannot be opened", broken=True))
                item.setToolTip(str(e))
                item.setData(FAMILY_ROLE, "")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            else:
                families.add(info.family)
                title = info.title or path.name
                description = info.description or ""
                item.setText(f"{title}\n{description}" if description else title)
                item.setIcon(preview_icon(info.preview, f"{info.model}\non {info.dataset}"))
                tip = [f"<b>{title}</b>", description]
                tip.append(f"{info.model} on {info.dataset}, {info.steps:,} steps ({info.family})")
                tip.append(f"<small>{path}</small>")
                item.setToolTip("<br>".join(t for t in tip if t))
                item.setData(FAMILY_ROLE, info.family)
                self._infos[str(path)] = info
            self.list.addItem(item)
        return families

    def items(self) -> list[QListWidgetItem]:
        """Every listed preset's item, in order (hidden ones too)."""
        return [self.list.item(i) for i in range(self.list.count())]

    def visible_paths(self) -> list[str]:
        """The paths of the presets the filter shows."""
        return [i.data(PATH_ROLE) for i in self.items() if not i.isHidden()]

    def filter_family(self, family: str) -> None:
        """Show only the presets of ``family`` (``"all"``: every preset)."""
        for item in self.items():
            item.setHidden(family != ALL_FAMILIES and item.data(FAMILY_ROLE) != family)
        current = self.list.currentItem()
        if current is not None and current.isHidden():
            self.list.setCurrentItem(None)
        self._update_open()

    def details_markdown(self, path: str) -> str:
        """The details of the preset at ``path``: title, full description, model on data
        and steps, then its notes; empty for a preset that cannot be read."""
        info = self._infos.get(str(path))
        if info is None:
            return ""
        parts = [f"**{info.title or Path(path).name}**"]
        if info.description:
            parts.append(info.description)
        parts.append(f"*{info.model} on {info.dataset}, {info.steps:,} steps ({info.family})*")
        if info.notes:
            parts.append(demote_headings(info.notes))
        return "\n\n".join(parts)

    def _show_details(self, item: QListWidgetItem | None, *_) -> None:
        text = self.details_markdown(item.data(PATH_ROLE)) if item is not None else ""
        if text:
            self.details.setMarkdown(text)
            wrap_code(self.details.document())
        else:
            self.details.setPlainText(item.toolTip() if item is not None else "")

    def _update_open(self, *_) -> None:
        item = self.list.currentItem()
        enabled = item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(enabled)

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return
        self.preset_chosen.emit(item.data(PATH_ROLE))
        self.accept()
