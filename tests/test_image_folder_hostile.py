"""A ``folder:`` dataset with hostile or odd files: FIFOs, links out of the folder, files
too large on disk or by their header, decompression bombs, 16-bit PNGs, very few images,
very many files. Every hostile file is made here, small, under ``tmp_path``."""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from playground.core import files
from playground.core.data import EmptyFolderError, make_dataset
from playground.core.data import folder as folder_module
from playground.core.data import images as images_module
from playground.core.data.folder import MAX_IMAGE_PIXELS, Folder

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def _png(path: Path, value: int = 128, size: int = 12, mode: str = "L") -> Path:
    Image.new(mode, (size, size), value).save(path)
    return path


def _build_within(spec: str, seconds: float = 10.0, release: Path | None = None):
    """Build ``spec`` in a thread; fail (instead of hanging) if it takes over ``seconds``.
    ``release``: a FIFO to open for writing if the build is stuck on it, so the thread ends."""
    out: dict = {}

    def work():
        try:
            out["data"] = make_dataset(spec)
        except BaseException as e:  # handed to the test
            out["error"] = e

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    stuck = thread.is_alive()
    if stuck and release is not None:  # let a reader blocked in open() go
        try:
            os.close(os.open(release, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        thread.join(5)
    assert not stuck, f"building {spec} did not finish within {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["data"]


def _png_of_zeros(path: Path, width: int, height: int) -> Path:
    """A valid 1-bit grayscale PNG of ``width x height`` black pixels, a few kB on disk,
    streamed to the file without ever holding the image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    z = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def _png_16bit(path: Path, array: np.ndarray, color_type: int) -> Path:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour): ``color_type`` 0
    gray ``(h, w)``, 2 RGB ``(h, w, 3)``."""
    h, w = array.shape[:2]

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


# ------------------------------------------------------------------ not a file, or not ours
@needs_fifo
def test_a_fifo_in_the_folder_is_skipped_at_once(tmp_path):
    _png(tmp_path / "a.png")
    fifo = tmp_path / "zz.png"
    os.mkfifo(fifo)
    d = _build_within(f"folder:path={tmp_path},size=8", release=fifo)
    assert d.skipped == ("zz.png",)
    assert "FIFO" in d.skipped_reasons["zz.png"]
    assert "skipped 1 unreadable: zz.png (a FIFO" in d.message
    # a folder of nothing but a FIFO: one line naming the folder, at once
    os.remove(tmp_path / "a.png")
    with pytest.raises(EmptyFolderError) as info:
        _build_within(f"folder:path={tmp_path},size=8", release=fifo)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message and "FIFO" in message


def test_a_link_out_of_the_folder_is_skipped_a_link_inside_is_read(tmp_path):
    outside = tmp_path / "outside"
    folder = tmp_path / "folder"
    outside.mkdir()
    folder.mkdir()
    _png(outside / "secret.png", 255)
    _png(folder / "a.png", 0)
    try:
        (folder / "out.png").symlink_to(outside / "secret.png")
        (folder / "same.png").symlink_to(folder / "a.png")
    except OSError:
        pytest.skip("cannot make links here")
    d = _build_within(f"folder:path={folder},size=8")
    assert d.skipped == ("out.png",)
    assert "leads out of its folder" in d.skipped_reasons["out.png"]
    images = torch.cat([d.train_images, d.test_images])  # a.png and same.png
    assert images.shape[0] == 2 and float(images.max()) == 0.0  # the secret was not read


def test_a_file_over_the_size_cap_is_skipped_before_reading(tmp_path):
    _png(tmp_path / "a.png")
    big = tmp_path / "big.png"
    with open(big, "wb") as f:  # sparse: takes no disk
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(files.LIMITS["image"] + 1)
    d = _build_within(f"folder:path={tmp_path},size=8")
    assert d.skipped == ("big.png",)
    assert "more than the 33.6 MB" in d.skipped_reasons["big.png"]


def test_a_folder_named_like_an_image_is_skipped(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "b.png").mkdir()
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.skipped == ("b.png",) and "a folder" in d.skipped_reasons["b.png"]


# ------------------------------------------------------------------ too many pixels
def test_a_huge_png_is_skipped_from_its_header_without_decoding(tmp_path, monkeypatch):
    big = _png_of_zeros(tmp_path / "huge.png", 13000, 13000)
    assert big.stat().st_size < 100_000  # 169 MP in about 20 kB
    _png(tmp_path / "small.png", 200)
    from PIL import ImageFile

    loads = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):
        loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    d = _build_within(f"folder:path={tmp_path},size=8", seconds=5)
    assert d.skipped == ("huge.png",)
    assert d.skipped_reasons["huge.png"].startswith("13000 x 13000 pixels, more than the 16.8 MP")
    assert loads and set(loads) == {(12, 12)}  # only the small image was decoded


def test_the_pixel_cap_is_the_named_constant(tmp_path, monkeypatch):
    assert MAX_IMAGE_PIXELS == 4096 * 4096
    _png(tmp_path / "a.png", size=10)  # 100 pixels
    _png(tmp_path / "b.png", size=8)  # 64 pixels
    monkeypatch.setattr(folder_module, "MAX_IMAGE_PIXELS", 64)
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.skipped == ("a.png",) and "10 x 10 pixels" in d.skipped_reasons["a.png"]


@pytest.mark.parametrize("pillow_limit", [60, 40])  # 64 pixels: Pillow warns, Pillow raises
def test_pillows_decompression_bomb_check_is_a_skip_not_a_crash(
    tmp_path, monkeypatch, pillow_limit
):
    _png(tmp_path / "a.png", size=8)  # 64 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    with pytest.raises(EmptyFolderError, match=r"a\.png \(too many pixels"):
        make_dataset(f"folder:path={tmp_path},size=8")


# ------------------------------------------------------------------ bit depth
def test_16_bit_pngs_scale_by_their_bit_depth_not_their_content(tmp_path):
    dark, bright, eight = tmp_path / "dark", tmp_path / "bright", tmp_path / "eight"
    for d in (dark, bright, eight):
        d.mkdir()
    ramp = np.arange(16 * 16).reshape(16, 16)
    Image.fromarray((ramp * 200 // 255).astype(np.uint16)).save(dark / "a.png")  # 0..200
    Image.fromarray(np.full((16, 16), 65535, np.uint16)).save(bright / "a.png")
    Image.fromarray(np.full((16, 16), 3, np.uint8)).save(eight / "a.png")  # dark 8-bit
    with Image.open(dark / "a.png") as im:
        assert im.mode.startswith("I")  # really read as 16-bit
    d = make_dataset(f"folder:path={dark},size=16")
    assert float(d.test_images.max()) == pytest.approx(200 / 65535, abs=1e-5)
    assert 0.0 <= float(d.test_images.min()) < 1e-4
    assert float(make_dataset(f"folder:path={bright},size=16").test_images.min()) == 1.0
    # an 8-bit image is divided by 255 whatever it holds (it was, and still is)
    assert float(make_dataset(f"folder:path={eight},size=16").test_images.mean()) == (
        pytest.approx(3 / 255, abs=1e-6)
    )


def test_16_bit_colour_and_other_modes_read_as_luminance(tmp_path):
    rgb16 = np.zeros((8, 8, 3), np.uint16)
    rgb16[..., 1] = 65535  # pure green: luminance 0.587
    _png_16bit(tmp_path / "a_rgb16.png", rgb16, color_type=2)
    Image.new("LA", (8, 8), (255, 128)).save(tmp_path / "b_la.png")  # white, half transparent
    p = Image.new("P", (8, 8), 1)
    p.putpalette([0, 0, 0, 255, 0, 0])  # index 1: pure red
    p.save(tmp_path / "c_palette.png")
    Image.new("1", (8, 8), 1).save(tmp_path / "d_bits.png")
    Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / "e_blue.jpg", quality=100)
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.skipped == ()
    means = [round(float(x.mean()), 2) for x in torch.cat([d.train_images, d.test_images])]
    # train: a, b, c, d; test: e (the last of five)
    assert means == [0.59, 0.5, 0.3, 1.0, 0.11]


# ------------------------------------------------------------------ few images
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_one_to_four_images_give_a_training_and_a_test_set(tmp_path, n):
    for i in range(n):
        _png(tmp_path / f"{i}.png", 40 * i)
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.test_images.shape[0] == 1
    assert d.train_images.shape[0] == max(n - 1, 1)
    if n > 1:  # the last file is held out
        assert float(d.test_images.mean()) == pytest.approx(40 * (n - 1) / 255, abs=1e-6)


def test_a_16_bit_png_folder_of_four_trains_and_evaluates(tmp_path):
    for i in range(4):
        Image.fromarray(np.full((12, 12), 1000 * (i + 1), np.uint16)).save(tmp_path / f"{i}.png")
    from playground.core.training import Session

    s = Session("vae", f"folder:path={tmp_path},size=8", {}, seed=0)
    s.run(3)  # before: "not enough values to unpack" from the held-out bound of no image
    metrics = s.evaluate(n=200, record=False)
    assert metrics and all(math.isfinite(v) for v in metrics.values() if isinstance(v, float)), (
        metrics
    )


def test_a_gan_on_four_images_trains_with_finite_loss_terms(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray((rng.random((20, 20)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    from playground.core.training import Session

    s = Session("gan", f"folder:path={tmp_path},size=16", {}, seed=0)
    seen: list[dict[str, float]] = []
    s.run(20, lambda step, terms: seen.append(dict(terms)))
    assert len(seen) == 20
    assert all(math.isfinite(v) for terms in seen for v in terms.values()), seen[-1]


# ------------------------------------------------------------------ many files
def test_at_most_the_capped_number_of_images_is_read(tmp_path, monkeypatch):
    for i in range(8):
        _png(tmp_path / f"{i}.png", 30 * i)
    monkeypatch.setattr(folder_module, "MAX_FOLDER_IMAGES", 5)
    reads = []
    real = folder_module.read_file

    def counting(path, kind, **kw):
        reads.append(Path(path).name)
        return real(path, kind, **kw)

    monkeypatch.setattr(folder_module, "read_file", counting)
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert reads == [f"{i}.png" for i in range(5)]  # the first five in name order
    assert d.train_images.shape[0] + d.test_images.shape[0] == 5
    assert "holds 8 image files: read the first 5 in name order" in d.message
    assert folder_module.MAX_FOLDER_IMAGES == 5 and Folder.__doc__ is not None


def test_at_most_the_capped_number_of_entries_is_listed(tmp_path, monkeypatch):
    for i in range(6):
        _png(tmp_path / f"{i}.png")
    monkeypatch.setattr(folder_module, "MAX_FOLDER_ENTRIES", 3)
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.train_images.shape[0] + d.test_images.shape[0] == 3
    assert "more than 3 entries" in d.message


# ------------------------------------------------------------------ digits through read_file
def test_digits_are_read_through_read_file(monkeypatch):
    kinds = []
    real = images_module.read_file

    def recording(path, kind, **kw):
        kinds.append((Path(path).name, kind))
        return real(path, kind, **kw)

    monkeypatch.setattr(images_module, "read_file", recording)
    pixels, labels = images_module._load_digits()
    assert kinds == [("digits.csv.gz", "csv")]
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)


def test_a_gzip_that_unpacks_past_the_csv_cap_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"0," * 10_000))
    monkeypatch.setitem(files.LIMITS, "csv", 1000)
    with pytest.raises(files.FileRefusedError, match="unpacks to more than"):
        images_module._gunzip_text(path)
    path.write_bytes(b"not gzip")
    with pytest.raises(files.FileRefusedError, match="not a gzipped"):
        images_module._gunzip_text(path)
    path.write_bytes(gzip.compress(b"1,2\n3,4\n"))
    assert images_module._gunzip_text(path).read() == "1,2\n3,4\n"
    assert isinstance(images_module._gunzip_text(path), io.StringIO)
