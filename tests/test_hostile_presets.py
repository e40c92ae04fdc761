"""Hostile or unlucky presets: every file of a preset is read through ``core/files.py``, so
each case below is a one-line PresetError that names the file, raised at once (never a
traceback, a hang or memory taken on the file's word), and nothing is written or left
behind. Saving never leaves a preset's path empty or half-written.

Each test makes its own small hostile file; sizes that would be large on disk are sparse
files (their size is checked before a byte is read) or tiny stand-in caps."""

import errno
import json
import os
import re
import shutil
import struct
import threading
import time
import zipfile
from pathlib import Path

import pytest
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from playground.core import files
from playground.core import preset_files as preset_files_module
from playground.core import presets as presets_module
from playground.core.files import FileRefusedError
from playground.core.presets import (
    DESCRIPTION_MAX_CHARS,
    HISTORY_MAX_LOADED_POINTS,
    HISTORY_MAX_POINTS,
    MAX_STEPS,
    TITLE_MAX_CHARS,
    PresetError,
    load_preset,
    read_preset_info,
    save_preset,
)
from playground.core.training import Session


def _png(width: int, height: int, pixels: bool = True) -> bytes:
    """A grey PNG of ``width`` x ``height`` (8-bit), or only its header (``pixels=False``)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    head = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    )
    if not pixels:
        return head
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return head + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png(1, 1)
DEEP = b"[" * 10**5 + b"]" * 10**5


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One tiny real preset (a folder), saved once for the module."""
    session = Session("realnvp", "8gaussians", {"batch_size": 16, "hidden": 8, "n_layers": 2})
    session.run(2)
    root = tmp_path_factory.mktemp("saved")
    return session, save_preset(session, root / "tiny", preview=PNG, notes="# tiny\n")


@pytest.fixture
def preset(saved, tmp_path):
    """A fresh copy of the tiny preset in ``tmp_path / "p"`` to break."""
    return shutil.copytree(saved[1], tmp_path / "p")


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in root.rglob("*")}


def _call(fn, *args, timeout: float = 10.0, **kwargs):
    """``fn(*args)`` in a thread: a regression that blocks fails the test, never hangs it.
    Returns the exception raised (``None`` if none)."""
    out: dict[str, BaseException | None] = {"error": None}

    def run():
        try:
            fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{fn.__name__}{args} blocked for more than {timeout} s"
    return out["error"]


def _refused(fn, path: Path, file: str, match: str, *, root: Path | None = None) -> str:
    """Call ``fn(path)``: it raises, within seconds, a one-line PresetError that starts with
    the preset's path, names ``file`` and matches ``match``; nothing under ``root`` (default:
    the preset's folder) was written. Returns the message."""
    root = root or path.parent
    before = _tree(root)
    error = _call(fn, path)
    assert isinstance(error, PresetError), repr(error)
    message = str(error)
    assert "\n" not in message and message.startswith(str(path)), message
    assert file in message, message
    assert re.search(match, message), message
    assert _tree(root) == before
    return message


def _edit_config(path: Path, **changes) -> None:
    cfg = json.loads((path / "config.json").read_text())
    cfg.update(changes)
    (path / "config.json").write_text(json.dumps(cfg))


def _sparse(file: Path, size: int) -> None:
    """``file`` replaced by a sparse file of ``size`` bytes (nothing on disk)."""
    file.unlink(missing_ok=True)
    with open(file, "wb") as f:
        f.truncate(size)


def _bundle(path: Path, members: dict[str, bytes], **kwargs) -> Path:
    with zipfile.ZipFile(path, "w", **kwargs) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _patch_headers(bundle: Path, *, flags: int | None = None, method: int | None = None) -> None:
    """Set every member's general-purpose flags and/or compression method in both its
    local header and its central-directory entry (what ``zipfile`` will not write)."""
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as z:
        locals_ = [info.header_offset for info in z.infolist()]
        at = z.start_dir
    entries = []
    for _ in locals_:
        assert data[at : at + 4] == b"PK\x01\x02"
        entries.append(at)
        n, m, k = struct.unpack("<HHH", data[at + 28 : at + 34])
        at += 46 + n + m + k
    for local in locals_:
        if flags is not None:
            data[local + 6 : local + 8] = struct.pack("<H", flags)
        if method is not None:
            data[local + 8 : local + 10] = struct.pack("<H", method)
    for entry in entries:
        if flags is not None:
            data[entry + 8 : entry + 10] = struct.pack("<H", flags)
        if method is not None:
            data[entry + 10 : entry + 12] = struct.pack("<H", method)
    bundle.write_bytes(bytes(data))


def _members(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ------------------------------------------------------------------------ 1. the error
def test_a_preset_error_is_a_refused_file():
    assert issubclass(PresetError, FileRefusedError) and issubclass(PresetError, ValueError)
    assert presets_module.PresetError is preset_files_module.PresetError


# ------------------------------------------------------------------- 2. nesting depth
@pytest.mark.parametrize("file", ["config.json", "history.json"])
def test_json_nested_a_hundred_thousand_levels_is_refused(preset, file):
    (preset / file).write_bytes(DEEP)
    _refused(load_preset, preset, file, "nested 100000 levels deep")
    if file == "config.json":
        _refused(read_preset_info, preset, file, "nested 100000 levels deep")


def test_optimizer_metadata_nested_a_hundred_thousand_levels_is_refused(preset):
    file = preset / "optimizer.safetensors"
    save_file(load_file(str(file)), str(file), metadata={"optimizers": DEEP.decode()})
    _refused(load_preset, preset, "optimizer.safetensors", "nested 100000 levels deep")


# ---------------------------------------------------------------------- 3. bundles
@pytest.mark.parametrize(
    "patch, match",
    [
        (dict(flags=1), "member 'config.json' is encrypted"),
        (dict(method=99), "member 'config.json' uses compression method 99"),
    ],
)
def test_encrypted_or_unknown_compression_members_are_refused(preset, tmp_path, patch, match):
    bundle = _bundle(tmp_path / "b.dgmpreset", {"config.json": b"\x13garbage\x37" * 8})
    _patch_headers(bundle, **patch)
    for read in (load_preset, read_preset_info):
        _refused(read, bundle, "b.dgmpreset", match)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_members_are_refused(preset, tmp_path, method):
    bundle = _bundle(tmp_path / "b.dgmpreset", _members(preset), compression=method)
    for read in (load_preset, read_preset_info):
        _refused(read, bundle, "b.dgmpreset", f"compression method {method}")


def test_a_bundle_of_thousands_of_members_is_refused_from_its_count(tmp_path):
    bundle = _bundle(tmp_path / "many.dgmpreset", {f"m{i}": b"" for i in range(5000)})
    for read in (load_preset, read_preset_info):
        t0 = time.perf_counter()
        _refused(read, bundle, "many.dgmpreset", "lists 5000 members")
        assert time.perf_counter() - t0 < 0.5


# ------------------------------------------------------------- 4. memory on the file's word
@pytest.mark.parametrize(
    "file, size, match",
    [
        ("config.json", 200 * 10**6, "200.0 MB, more than the 1.0 MB a config file may take"),
        ("history.json", 220 * 10**6, "220.0 MB, more than the 4.2 MB a history file"),
        ("model.safetensors", 300 * 10**6, "300.0 MB, more than the 268.4 MB a weights file"),
        ("optimizer.safetensors", 600 * 10**6, "600.0 MB, more than the 536.9 MB"),
    ],
)
def test_a_file_over_its_cap_is_refused_before_it_is_read(preset, file, size, match):
    _sparse(preset / file, size)  # sparse: its size is all that is there
    t0 = time.perf_counter()
    _refused(load_preset, preset, file, match)
    assert time.perf_counter() - t0 < 2


def test_a_safetensors_header_that_claims_50_mb_is_refused(preset):
    (preset / "model.safetensors").write_bytes(struct.pack("<Q", 50 * 10**6) + b"{" * 100)
    _refused(load_preset, preset, "model.safetensors", "header of 50.0 MB, more than the 4.2 MB")


def test_a_bundle_whose_config_unpacks_past_its_cap_is_refused_unread(
    preset, tmp_path, monkeypatch
):
    monkeypatch.setitem(files.LIMITS, "config", 10_000)  # a stand-in for 1 MiB
    members = _members(preset)
    cfg = json.loads(members["config.json"])
    cfg["description"] = "x" * 100_000  # deflates to a few hundred bytes
    members["config.json"] = json.dumps(cfg).encode()
    bundle = _bundle(tmp_path / "bomb.dgmpreset", members, compression=zipfile.ZIP_DEFLATED)
    assert bundle.stat().st_size < 20_000
    for read in (load_preset, read_preset_info):
        _refused(read, bundle, "'config.json'", "unpacks to 100.[0-9] kB, more than the 10.0 kB")


def test_a_bundle_member_that_lies_about_its_size_is_cut_at_the_cap(preset, tmp_path, monkeypatch):
    monkeypatch.setitem(files.LIMITS, "notes", 1000)
    bundle = _bundle(tmp_path / "liar.dgmpreset", {**_members(preset), "notes.md": b"n" * 5000})
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as z:
        info = z.getinfo("notes.md")
        at = z.start_dir
    while data[at + 46 : at + 46 + 8] != b"notes.md":  # its central-directory entry
        n, m, k = struct.unpack("<HHH", data[at + 28 : at + 34])
        at += 46 + n + m + k
    data[at + 24 : at + 28] = struct.pack("<I", 10)  # claims 10 bytes unpacked
    data[info.header_offset + 22 : info.header_offset + 26] = struct.pack("<I", 10)
    bundle.write_bytes(bytes(data))
    _refused(read_preset_info, bundle, "'notes.md'", "damaged|unpacks to more than")


@pytest.mark.parametrize(
    "history, match",
    [
        (
            {"loss": [[i, 0.5] for i in range(HISTORY_MAX_LOADED_POINTS + 1)]},
            f"curve 'loss' has {HISTORY_MAX_LOADED_POINTS + 1} points, more than the "
            f"{HISTORY_MAX_LOADED_POINTS} a preset may hold \\(it saves {HISTORY_MAX_POINTS}\\)",
        ),
        ({"loss": [[1, "x"]]}, "curve 'loss', point 0: value 'x' is not a number"),
        ({"loss": [[1, [2.0]]]}, "value \\[2.0\\] is not a number"),
        ({"loss": [[-1, 0.5]]}, "step -1 is not a step count"),
        ({"loss": [[10**30, 0.5]]}, "step 10{30} is not a step count"),
        ({"loss": [[1.5, 0.5]]}, "step 1.5 is not a step count"),
        ({"loss": [[True, 0.5]]}, "step True is not a step count"),
        ({"loss": [[1, 2, 3]]}, "point 0 is \\[1, 2, 3\\], not \\[step, value\\]"),
        ({"loss": {"1": 2}}, "curve 'loss' is not a list of points"),
        ({f"c{i}": [] for i in range(101)}, "101 curves, more than the 100"),
    ],
)
def test_a_history_is_checked_point_by_point(preset, history, match):
    (preset / "history.json").write_text(json.dumps(history))
    _refused(load_preset, preset, "history.json", match)


def test_a_history_of_millions_of_values_is_refused_before_it_is_parsed(preset):
    (preset / "history.json").write_bytes(b"[" + b"0," * 500_000 + b"0]")
    _refused(load_preset, preset, "history.json", "more than 200000 points")


def test_the_gallery_reads_a_folder_of_hostile_presets_fast(saved, tmp_path):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name, file, size in [
        ("huge-config", "config.json", 200 * 10**6),
        ("huge-history", "history.json", 10**9),
        ("huge-weights", "model.safetensors", 10**10),
        ("huge-preview", "preview.png", 10**9),
        ("huge-notes", "notes.md", 10**9),
    ]:
        folder = shutil.copytree(saved[1], gallery / name)
        _sparse(folder / file, size)
    (gallery / "deep").mkdir()
    (gallery / "deep" / "config.json").write_bytes(DEEP)
    _bundle(gallery / "many.dgmpreset", {f"m{i}": b"" for i in range(5000)})
    t0 = time.perf_counter()
    outcomes = {}
    for path in sorted(gallery.iterdir()):
        try:
            outcomes[path.name] = read_preset_info(path).title
        except PresetError as e:
            assert "\n" not in str(e) and str(e).startswith(str(path))
            outcomes[path.name] = None
    assert time.perf_counter() - t0 < 2
    # weights and history are not read for the gallery: those two still show
    assert outcomes == {
        "deep": None, "huge-config": None, "huge-history": "realnvp on 8gaussians",
        "huge-notes": None, "huge-preview": None, "huge-weights": "realnvp on 8gaussians",
        "many.dgmpreset": None,
    }  # fmt: skip


# -------------------------------------------------------------------------- 5. FIFOs
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize(
    "file",
    ["model.safetensors", "config.json", "history.json", "optimizer.safetensors"],
)
def test_a_fifo_in_a_preset_is_refused_at_once(preset, file):
    (preset / file).unlink()
    os.mkfifo(preset / file)
    _refused(load_preset, preset, file, "a FIFO \\(named pipe\\), not a file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("file", ["config.json", "notes.md", "preview.png"])
def test_a_fifo_is_refused_by_the_gallery_at_once(preset, file):
    (preset / file).unlink()
    os.mkfifo(preset / file)
    _refused(read_preset_info, preset, file, "a FIFO \\(named pipe\\), not a file")


# -------------------------------------------------------------------------- 6. links
def test_notes_linked_out_of_the_preset_are_refused(preset, tmp_path):
    secret = tmp_path / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (preset / "notes.md").unlink()
    (preset / "notes.md").symlink_to(secret)
    _refused(read_preset_info, preset, "notes.md", "a link that leads out of its folder")


@pytest.mark.parametrize("file", ["model.safetensors", "config.json", "history.json"])
def test_any_file_linked_out_of_the_preset_is_refused(preset, tmp_path, file):
    outside = tmp_path / f"outside-{file}"
    (preset / file).rename(outside)
    (preset / file).symlink_to(outside)
    _refused(load_preset, preset, file, "a link that leads out of its folder")


def test_a_link_inside_the_preset_is_followed(preset):
    (preset / "notes.md").unlink()
    (preset / "elsewhere.md").write_text("# inside\n")
    (preset / "notes.md").symlink_to("elsewhere.md")
    assert read_preset_info(preset).notes == "# inside\n"


# ---------------------------------------------------------------- 7. non-finite tensors
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("file", ["model.safetensors", "optimizer.safetensors"])
def test_non_finite_weights_or_optimizer_state_are_refused(preset, file, value):
    path = preset / file
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(path))
    name = sorted(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1)[0]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[1] = value
    save_file(tensors, str(path), metadata=metadata)
    _refused(load_preset, preset, file, f"tensor '{name}' holds non-finite values")
    if file == "optimizer.safetensors":  # without the optimizer state it still opens
        assert load_preset(preset, optimizer=False).step_count == 2


# --------------------------------------------------------------------- 8. config fields
@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(steps=-1), "field 'steps' is -1, outside 0..1000000000000"),
        (dict(steps=10**30), f"field 'steps' is {10**30}, outside 0..{MAX_STEPS}"),
        (dict(steps=1.5), "field 'steps' is not an integer: 1.5"),
        (dict(seed=2**64), "field 'seed' is 18446744073709551616, outside"),
        (dict(title="t" * (TITLE_MAX_CHARS + 1)), "field 'title' is 201 characters"),
        (
            dict(description="d" * (DESCRIPTION_MAX_CHARS + 1)),
            f"field 'description' is {DESCRIPTION_MAX_CHARS + 1} characters, more than",
        ),
        (dict(description=["x"] * 10_000), "field 'description' is not text: \\['x', "),
        (dict(model="m" * 1000), "field 'model' is 1000 characters"),
    ],
)
def test_config_counters_and_texts_are_range_checked(preset, changes, match):
    _edit_config(preset, **changes)
    for read in (load_preset, read_preset_info):
        _refused(read, preset, "config.json", match)


@pytest.mark.parametrize(
    "digits, match",
    [
        (4000, "field 'seed' is an integer of 13288 bits, outside"),
        (5000, "config.json: not valid JSON .*4300"),  # Python's parser stops at 4300 digits
    ],
)
def test_a_seed_of_thousands_of_digits_is_refused_briefly(preset, digits, match):
    text = (preset / "config.json").read_text()
    assert '"seed": 0' in text
    (preset / "config.json").write_text(text.replace('"seed": 0', f'"seed": {"9" * digits}'))
    message = _refused(load_preset, preset, "config.json", match)
    assert len(message) < len(str(preset)) + 300


def test_saving_refuses_a_title_or_description_it_could_not_read(saved, tmp_path):
    session, _ = saved
    with pytest.raises(ValueError, match="description: 2001 characters, more than the 2000"):
        save_preset(session, tmp_path / "x", description="d" * (DESCRIPTION_MAX_CHARS + 1))
    with pytest.raises(ValueError, match="title: 201 characters"):
        save_preset(session, tmp_path / "x", title="t" * (TITLE_MAX_CHARS + 1))
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------- 9. saving
def test_a_failed_swap_puts_the_old_preset_back(saved, tmp_path, monkeypatch):
    session, _ = saved
    path = save_preset(session, tmp_path / "p", notes="old")
    old = _tree(tmp_path)
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # path -> aside worked; new -> path fails
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    error = _call(save_preset, session, path, notes="new")
    monkeypatch.undo()
    assert isinstance(error, PresetError) and "\n" not in str(error)
    assert str(error) == f"cannot save preset to {path}: Input/output error"
    assert len(calls) == 3  # the old preset was put back
    assert _tree(tmp_path) == old and (path / "notes.md").read_text() == "old"
    assert load_preset(path).step_count == 2


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _safetensor_error(*args, **kwargs):
    raise SafetensorError("Error while serializing: I/O error\nNo space left on device")


@pytest.mark.parametrize(
    "target, attribute, failure, reason",
    [
        (presets_module, "save_file", _enospc, "No space left on device"),
        (Path, "write_text", _enospc, "No space left on device"),
        (
            presets_module,
            "save_file",
            _safetensor_error,
            "Error while serializing: I/O error No space left on device",
        ),
    ],
)
@pytest.mark.parametrize("name", ["p", "p.dgmpreset"])
def test_a_full_disk_is_one_line_and_leaves_the_old_preset(
    saved, tmp_path, monkeypatch, target, attribute, failure, reason, name
):
    session, _ = saved
    scratch = tmp_path / "scratch"  # where the bundle's temporary folder goes
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    path = save_preset(session, tmp_path / "presets" / name, notes="old")
    before = _tree(tmp_path)
    monkeypatch.setattr(target, attribute, failure)
    error = _call(save_preset, session, path, notes="new")
    monkeypatch.undo()
    assert isinstance(error, PresetError), repr(error)
    assert str(error) == f"cannot save preset to {path}: {reason}"
    assert _tree(tmp_path) == before  # nothing half-written, no temporary file left
    assert read_preset_info(path).notes == "old"


def test_a_full_disk_while_zipping_leaves_the_old_bundle(saved, tmp_path, monkeypatch):
    session, _ = saved
    bundle = save_preset(session, tmp_path / "b.dgmpreset")
    before, data = _tree(tmp_path), bundle.read_bytes()
    monkeypatch.setattr(zipfile.ZipFile, "write", _enospc)
    error = _call(save_preset, session, bundle)
    monkeypatch.undo()
    assert str(error) == f"cannot save preset to {bundle}: No space left on device"
    assert isinstance(error, PresetError)
    assert _tree(tmp_path) == before and bundle.read_bytes() == data


@pytest.mark.parametrize("under", ["a_file/x", "a_file/deeper/x", "a_file/x.dgmpreset"])
def test_saving_under_a_file_is_one_line(saved, tmp_path, under):
    (tmp_path / "a_file").write_text("not a folder")
    before = _tree(tmp_path)
    path = tmp_path / under
    error = _call(save_preset, saved[0], path)
    assert isinstance(error, PresetError), repr(error)
    assert str(error) == f"cannot save preset to {path}: {tmp_path / 'a_file'} is not a folder"
    assert _tree(tmp_path) == before


def test_saving_never_replaces_a_folder_that_is_not_a_preset(saved, tmp_path):
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "thesis.tex").write_text("years of work")
    before = _tree(tmp_path)
    error = _call(save_preset, saved[0], tmp_path / "documents")
    assert isinstance(error, PresetError) and "a folder that is not a preset" in str(error)
    assert "'thesis.tex'" in str(error) and _tree(tmp_path) == before
    (tmp_path / "thesis.tex").write_text("years of work")
    error = _call(save_preset, saved[0], tmp_path / "thesis.tex")
    assert str(error) == (
        f"cannot save preset to {tmp_path / 'thesis.tex'}: a file that is not a preset is there"
    )
    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_a_saved_preset_replaces_the_old_one_whole(saved, tmp_path):
    session, _ = saved
    path = save_preset(session, tmp_path / "p", notes="old", preview=PNG)
    save_preset(session, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    info = read_preset_info(path)
    assert info.notes is None and info.preview is None
    assert load_preset(path).step_count == 2


def test_a_preview_claiming_huge_dimensions_is_refused_unread(preset):
    """A small preview.png whose header states 13000 x 13000 pixels (676 MB decoded) is
    refused from its IHDR chunk; no decoder sees it."""
    (preset / "preview.png").write_bytes(_png(13000, 13000, pixels=False))
    with pytest.raises(PresetError) as info:
        read_preset_info(preset)
    assert "13000 x 13000 pixels" in str(info.value) and "\n" not in str(info.value)
