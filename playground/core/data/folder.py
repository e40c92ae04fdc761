"""A user's folder of PNG and JPEG images as an image set, read through
:mod:`playground.core.files` (regular files only, size and pixel caps checked before any
image is decoded); the set itself is an :class:`~.images.ImageDataset`."""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..files import FileRefusedError, read_file
from .images import ImageDataset

__all__ = [
    "Folder",
    "EmptyFolderError",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "MAX_FOLDER_IMAGES",
    "MAX_FOLDER_ENTRIES",
]

#: image file endings a folder is read for
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: the most pixels (width x height, from the file's header) an image of a folder may have:
#: 4096 x 4096 = 16.8 MP, which decodes to at most 64 MiB (RGBA, 8 bits a channel) plus
#: about 200 MiB of float32 arrays while it is made gray. A larger image is skipped before
#: it is decoded (a 13000 x 13000 PNG of 20 kB would otherwise take 1.5 GB).
MAX_IMAGE_PIXELS = 4096 * 4096
#: the most image files of one folder that are read (the first ones in name order)
MAX_FOLDER_IMAGES = 20_000
#: the most entries of one folder that are listed (names only, nothing is stat'ed); a
#: folder with more is listed up to here, in the order the file system gives
MAX_FOLDER_ENTRIES = 200_000
#: Pillow modes of a 16-bit grayscale PNG (older Pillows open one as ``I``), scaled by
#: 65535; every other mode is 8 bits a channel (Pillow reads a 16-bit colour PNG as 8-bit
#: RGB or RGBA) and is scaled by 255, whatever the pixels hold
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


class EmptyFolderError(ValueError):
    """A folder holds no readable PNG or JPEG image."""


class _Skip(Exception):
    """An image of a folder that is skipped; the message is the reason (one short line)."""


def _one_line(e: BaseException, limit: int = 120) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _decode_gray(data: bytes) -> np.ndarray:
    """A PNG's or JPEG's bytes as a float32 ``(h, w)`` luminance array in ``[0, 1]``.

    The size is read from the header first: more than :data:`MAX_IMAGE_PIXELS` pixels is
    refused before anything is decoded, and so is what Pillow itself calls a decompression
    bomb. 16-bit grayscale (:data:`SIXTEEN_BIT_MODES`) is divided by 65535 and everything
    else (8 bits a channel: Pillow reads a 16-bit colour PNG as 8-bit RGB) by 255, whatever
    the pixels hold. Colour becomes luminance with the ITU-R 601 weights; a transparent
    pixel counts as black (composited on black by its alpha).

    Raises:
        _Skip: not a PNG or JPEG, too many pixels, or damaged; the message says which.
    """
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings(record=True) as caught:
        # Pillow warns past Image.MAX_IMAGE_PIXELS (89 MP) and raises past twice that
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=("PNG", "JPEG"))  # reads the header
        except Image.DecompressionBombError as e:
            raise _Skip(f"too many pixels ({_one_line(e)})") from None
        except UnidentifiedImageError:
            raise _Skip("not a PNG or JPEG image") from None
        except Exception as e:  # a damaged header
            raise _Skip(f"not a readable PNG or JPEG ({_one_line(e)})") from None
    with im:
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            side = math.isqrt(MAX_IMAGE_PIXELS)
            raise _Skip(
                f"{w} x {h} pixels, more than the {MAX_IMAGE_PIXELS / 1e6:.1f} MP "
                f"({side} x {side}) an image may have"
            )
        bomb = [x for x in caught if issubclass(x.category, Image.DecompressionBombWarning)]
        if bomb:
            raise _Skip(f"too many pixels ({_one_line(bomb[0].message)})")
        if w == 0 or h == 0:
            raise _Skip(f"{w} x {h} pixels: empty")
        try:
            im.load()
            return _to_gray(im)
        except _Skip:
            raise
        except Exception as e:  # truncated or damaged pixel data, an odd chunk
            raise _Skip(f"damaged ({_one_line(e)})") from None


def _to_gray(im: Any) -> np.ndarray:
    """A loaded PIL image (``Any``: PIL is imported lazily) as float32 luminance in
    ``[0, 1]`` (see :func:`_decode_gray`)."""
    mode = im.mode
    if mode in SIXTEEN_BIT_MODES:
        return np.asarray(im).astype(np.float32) / np.float32(65535)
    if mode == "L":
        return np.asarray(im).astype(np.float32) / np.float32(255)
    if mode == "F":
        raise _Skip("floating-point pixels (not a PNG or JPEG mode)")
    if mode not in ("RGB", "RGBA"):  # 1, P, PA, LA, CMYK, YCbCr, ...
        alpha = "A" in mode or "transparency" in im.info
        im = im.convert("RGBA" if alpha else "RGB")
    a = np.asarray(im)
    gray = a[..., 0] * np.float32(0.299 / 255)
    gray += a[..., 1] * np.float32(0.587 / 255)
    gray += a[..., 2] * np.float32(0.114 / 255)
    if a.shape[2] == 4:  # composite on black by alpha
        gray *= a[..., 3] * np.float32(1 / 255)
    return gray


def _list_images(folder: Path) -> tuple[list[Path], str]:
    """The image files of ``folder`` to read, in name order, and a note for the user when
    a cap cut the list short (``""`` otherwise). Only names are listed: nothing is stat'ed,
    and at most :data:`MAX_FOLDER_ENTRIES` entries are looked at.

    Raises:
        EmptyFolderError: the folder cannot be listed.
    """
    names, entries, note = [], 0, ""
    try:
        with os.scandir(folder) as it:
            for entry in it:
                entries += 1
                if entries > MAX_FOLDER_ENTRIES:
                    note = (
                        f"the folder has more than {MAX_FOLDER_ENTRIES:,} entries: looked at "
                        f"the first {MAX_FOLDER_ENTRIES:,} only"
                    )
                    break
                if os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                    names.append(entry.name)
    except OSError as e:
        raise EmptyFolderError(
            f"folder {str(folder)!r} cannot be listed ({e.strerror or e})"
        ) from None
    names.sort()
    if len(names) > MAX_FOLDER_IMAGES:
        note = (f"{note}; " if note else "") + (
            f"the folder holds {len(names):,} image files: read the first "
            f"{MAX_FOLDER_IMAGES:,} in name order"
        )
        names = names[:MAX_FOLDER_IMAGES]
    return [folder / name for name in names], note


def _skipped_text(skipped: dict[str, str]) -> str:
    shown = [f"{name} ({reason})" for name, reason in list(skipped.items())[:5]]
    return f"{len(skipped)} unreadable: {', '.join(shown)}" + (" ..." if len(skipped) > 5 else "")


class Folder(ImageDataset):
    """A user's folder of PNG and JPEG images, read as grayscale and resized.

    Each image is converted to luminance (ITU-R 601 weights; transparent pixels count as
    black; 16-bit grayscale PNGs are scaled by 65535, everything else by 255),
    centre-cropped to a square and resized to ``size x size`` with anti-aliasing. Every
    file is read through :func:`~playground.core.files.read_file` (kind ``image``, with the
    folder as its root), so a file is skipped at once, and counted with its reason in
    :attr:`message` and :attr:`skipped_reasons`, if it is not a regular file (a FIFO, a
    device, a folder), a link that leads out of the folder, larger than
    ``LIMITS["image"]`` (32 MiB), more than :data:`MAX_IMAGE_PIXELS` pixels by its header
    (checked before decoding), or not a readable PNG or JPEG. At most
    :data:`MAX_FOLDER_IMAGES` image files are read (the first in name order) and at most
    :data:`MAX_FOLDER_ENTRIES` entries listed; :attr:`message` says so when a cap applies.

    The split is the digits' rule: file ``i`` of the images read, in sorted order, is a
    test image if ``i % 5 == 4``; with 2 to 4 images the last one is the test image, and
    with one image it is both the training and the test set.

    Arguments:
        path: the folder (not searched recursively).
        size: output side in pixels, 4 to 64.
        binarize: threshold at 0.5.

    Raises:
        EmptyFolderError: the folder does not exist, cannot be listed or holds no readable
            image (the message names the folder and the first files skipped, with why).
        ValueError: ``size`` out of range.
    """

    name = "folder"
    description = "your own folder of PNG/JPEG images, grayscale, resized"
    options = {"path": str, "size": int, "binarize": bool}

    def __init__(self, path: str = "", size: int = 16, binarize: bool = False):
        if not 4 <= int(size) <= 64:
            raise ValueError(f"folder image size must be between 4 and 64 pixels, not {size}")
        folder = Path(path).expanduser()
        if not path or not folder.is_dir():
            raise EmptyFolderError(f"folder {str(folder)!r} does not exist or is not a folder")
        files, note = _list_images(folder)
        images: list[Tensor] = []
        skipped: dict[str, str] = {}
        for p in files:
            try:
                images.append(self._load(p, int(size), folder))
            except _Skip as e:
                skipped[p.name] = str(e)
            except FileRefusedError as e:  # the message starts with the path
                reason = str(e)
                skipped[p.name] = reason.removeprefix(f"{p}: ")
        if not images:
            raise EmptyFolderError(
                f"folder {str(folder)!r} has no readable PNG or JPEG image"
                + (f" ({_skipped_text(skipped)})" if skipped else "")
                + (f" ({note})" if note else "")
            )
        self.path, self.size, self.binarized = str(folder), int(size), bool(binarize)
        self.message = (
            f"read {len(images)} images from {folder}"
            + (f"; skipped {_skipped_text(skipped)}" if skipped else "")
            + (f"; {note}" if note else "")
        )
        #: names of the files skipped, in name order
        self.skipped = tuple(skipped)
        #: each skipped file's name to the reason it was skipped
        self.skipped_reasons = dict(skipped)
        self._split(torch.stack(images), None)

    @staticmethod
    def _load(path: Path, size: int, folder: Path | None = None) -> Tensor:
        """One image as ``(1, size, size)`` float32 in ``[0, 1]``.

        Raises:
            FileRefusedError: :func:`~playground.core.files.read_file` refused the file.
            _Skip: it is not a PNG or JPEG that can be read (see :func:`_decode_gray`).
        """
        data = read_file(path, "image", root=path.parent if folder is None else folder)
        img = torch.from_numpy(_decode_gray(data))
        h, w = img.shape
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        img = img[top : top + s, left : left + s]
        out = F.interpolate(img[None, None], size=(size, size), mode="bilinear", antialias=True)
        return out[0].clamp(0, 1)
