"""The one guarded way the playground reads a file a user gives it.

Every file it reads (a preset's ``config.json``, ``history.json``, ``notes.md``,
``preview.png``, ``model.safetensors`` and ``optimizer.safetensors``, a ``.dgmpreset``
bundle and its members, an image of a ``folder:`` dataset, a CSV, the CLI's ``--notes``)
goes through :func:`read_file` (or :func:`read_member` for a bundle's member):

- regular files only: a FIFO, a device or a folder is refused before anything blocks on it
  (it is opened non-blocking and checked with ``fstat`` on the open descriptor, so it cannot
  be swapped between the check and the read), and a link that leads out of its folder is
  refused;
- a size cap per kind (:data:`LIMITS`), checked on the descriptor before reading, and the
  read itself stops one byte past the cap (a file that grows while read is refused too);
- JSON (:func:`parse_json`) is refused past :data:`JSON_MAX_DEPTH` levels of nesting
  before the parser sees it;
- a safetensors file (:func:`check_safetensors`) has its header size capped and every
  tensor's dtype, shape and offsets checked against the file's real size before a byte of
  tensor data is allocated;
- a zip (:func:`open_zip`) has its member count read from the end-of-central-directory
  record before the central directory is parsed, and every member is checked for
  encryption, compression method, name and size before anything is extracted.

Each failure is a :class:`FileRefusedError` whose message is one line that starts with the
file's path. The module is pure Python (no torch, no Qt): the command line's checks use it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FileRefusedError",
    "LIMITS",
    "JSON_MAX_DEPTH",
    "SAFETENSORS_HEADER_MAX_BYTES",
    "read_file",
    "read_text",
    "parse_json",
    "json_depth",
    "SafetensorsHeader",
    "check_safetensors",
    "open_zip",
    "read_member",
    "human_bytes",
]

MiB = 2**20

#: the most bytes a file of each kind may hold, checked before it is read
LIMITS: dict[str, int] = {
    "config": 1 * MiB,  # config.json: a few hundred bytes in practice
    "history": 4 * MiB,  # history.json: at most 2000 points a curve are saved (~300 kB)
    "notes": 1 * MiB,  # notes.md, --notes
    "preview": 16 * MiB,  # preview.png
    "weights": 256 * MiB,  # model.safetensors
    "optimizer": 512 * MiB,  # optimizer.safetensors (Adam: twice the weights)
    "bundle": 512 * MiB,  # a .dgmpreset zip, compressed
    "image": 32 * MiB,  # one image of a folder: dataset
    "csv": 64 * MiB,
    "points": 16 * MiB,  # points.safetensors: at most 1,000,000 float32 pairs (8 MB)
}
#: JSON nested deeper than this is refused before parsing (Python's parser would recurse)
JSON_MAX_DEPTH = 64
#: the most bytes a safetensors header (its JSON table of tensors) may take
SAFETENSORS_HEADER_MAX_BYTES = 4 * MiB
#: the most members a zip may list (a bundle holds at most six files)
ZIP_MAX_MEMBERS = 64

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class FileRefusedError(ValueError):
    """A file the playground will not read, or cannot write; the message is one line that
    starts with the file's path and says why."""


def human_bytes(n: int) -> str:
    """``n`` bytes as ``"12.3 MB"`` (decimal units, as file managers show them)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _a(word: str) -> str:
    """``word`` with its indefinite article: ``a config``, ``an image``."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_inside(path: Path, root: Path | None) -> None:
    """Refuse ``path`` if it is a link (or under one) that leads out of ``root``."""
    if root is None:
        return
    try:
        real, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError) as e:  # a link loop
        raise FileRefusedError(f"{path}: cannot resolve it ({e})") from None
    if real != base and base not in real.parents:
        raise FileRefusedError(f"{path}: a link that leads out of its folder {root} (to {real})")


def _open_regular(path: Path, kind: str, noun: str) -> tuple[int, os.stat_result]:
    """Open ``path`` non-blocking and check, on the open descriptor, that it is a regular
    file of at most ``LIMITS[kind]`` bytes; the descriptor (the caller closes it) and its
    ``fstat``. ``noun`` names the kind in the message (``"a config file"``).

    Raises:
        FileRefusedError: missing, unopenable, not a regular file, or over the cap.
    """
    limit = LIMITS[kind]
    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_BINARY)
    except FileNotFoundError:
        raise FileRefusedError(f"{path}: missing") from None
    except OSError as e:
        raise FileRefusedError(f"{path}: cannot open it ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefusedError(f"{path}: {_kind_of(st.st_mode)}, not a file")
        if st.st_size > limit:
            raise FileRefusedError(
                f"{path}: {human_bytes(st.st_size)}, more than the {human_bytes(limit)} "
                f"{noun} may take"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_file(
    path: str | os.PathLike, kind: str, *, root: str | os.PathLike | None = None
) -> bytes:
    """The bytes of a regular file of at most ``LIMITS[kind]`` bytes.

    Arguments:
        path: the file.
        kind: a key of :data:`LIMITS` (``config``, ``history``, ``image``, ...).
        root: the folder the file belongs to: a link that resolves outside it is refused
            (``None``: links are followed anywhere, as for a file named on the command line).

    Returns:
        The file's bytes.

    Raises:
        FileRefusedError: missing, unreadable, not a regular file (FIFO, device, folder),
            a link out of ``root``, or larger than the cap (checked before reading).
        KeyError: ``kind`` is not a key of :data:`LIMITS` (a programming error).
    """
    limit = LIMITS[kind]
    path = Path(path)
    _check_inside(path, None if root is None else Path(root))
    fd, _ = _open_regular(path, kind, f"{_a(kind)} file")
    try:
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as e:
        raise FileRefusedError(f"{path}: cannot read it ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise FileRefusedError(
            f"{path}: grew past the {human_bytes(limit)} {_a(kind)} file may take"
        )
    return b"".join(chunks)


def read_text(path: str | os.PathLike, kind: str, *, root: str | os.PathLike | None = None) -> str:
    """:func:`read_file` decoded as UTF-8.

    Raises:
        FileRefusedError: as :func:`read_file`, or the bytes are not UTF-8.
    """
    data = read_file(path, kind, root=root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileRefusedError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(text: bytes) -> int:
    """How deeply ``text`` (JSON) nests lists and objects, counted without parsing it
    (brackets inside strings do not count); linear time, no recursion."""
    depth = deepest = 0
    for match in _JSON_BRACKETS.finditer(_JSON_STRING.sub(b'""', text)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(text: bytes | str, where: str, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """JSON from bytes (UTF-8) or text, refused past ``max_depth`` levels of nesting.

    Arguments:
        text: the JSON.
        where: the file (or ``bundle: member``) named in every error.
        max_depth: the most nested lists and objects allowed.

    Raises:
        FileRefusedError: not UTF-8, nested too deeply, or not valid JSON.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    depth = json_depth(raw)
    if depth > max_depth:
        raise FileRefusedError(f"{where}: JSON nested {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise FileRefusedError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (json.JSONDecodeError, RecursionError, ValueError) as e:
        raise FileRefusedError(f"{where}: not valid JSON ({e})") from None


# ----------------------------------------------------------------- safetensors
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


@dataclass(frozen=True)
class SafetensorsHeader:
    """A checked safetensors header.

    Attributes:
        tensors: name to ``(dtype, shape)``, e.g. ``("F32", (64, 2))``.
        metadata: the ``__metadata__`` strings (empty if none).
    """

    tensors: dict[str, tuple[str, tuple[int, ...]]]
    metadata: dict[str, str]


def check_safetensors(data: bytes, where: str) -> SafetensorsHeader:
    """Check a safetensors file's bytes before any tensor is built from them: the header
    length is at most :data:`SAFETENSORS_HEADER_MAX_BYTES` and within the file, the header
    is shallow JSON, and every tensor has a known dtype, a non-negative shape and offsets
    inside the file that hold exactly ``prod(shape) * itemsize`` bytes (nothing a header
    merely claims is allocated). Format: https://github.com/huggingface/safetensors.

    Raises:
        FileRefusedError: naming ``where`` and the first problem.
    """
    if len(data) < 8:
        raise FileRefusedError(f"{where}: not a safetensors file (shorter than its 8-byte header)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > SAFETENSORS_HEADER_MAX_BYTES:
        raise FileRefusedError(
            f"{where}: a safetensors header of {human_bytes(n)}, more than the "
            f"{human_bytes(SAFETENSORS_HEADER_MAX_BYTES)} allowed"
        )
    if 8 + n > len(data):
        raise FileRefusedError(f"{where}: not a safetensors file (its header runs past the end)")
    header = parse_json(data[8 : 8 + n], where, max_depth=3)
    if not isinstance(header, dict):
        raise FileRefusedError(f"{where}: not a safetensors file (its header is not a table)")
    body = len(data) - 8 - n
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise FileRefusedError(f"{where}: safetensors metadata that is not text")
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, entry in header.items():
        if not isinstance(entry, dict):
            raise FileRefusedError(f"{where}: tensor {name!r} has no entry")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in _DTYPE_BYTES:
            raise FileRefusedError(f"{where}: tensor {name!r} has unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise FileRefusedError(f"{where}: tensor {name!r} has a bad shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= body
        ):
            raise FileRefusedError(
                f"{where}: tensor {name!r} has offsets {offsets!r} outside the file"
            )
        count = 1
        for s in shape:
            count *= s
        if count * _DTYPE_BYTES[dtype] != offsets[1] - offsets[0]:
            raise FileRefusedError(
                f"{where}: tensor {name!r} claims shape {tuple(shape)} of {dtype} but holds "
                f"{offsets[1] - offsets[0]} bytes"
            )
        tensors[name] = (dtype, tuple(shape))
    return SafetensorsHeader(tensors, dict(metadata))


# ----------------------------------------------------------------- zip
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


def _zip_member_count(path: Path, data_tail: bytes, size: int) -> int | None:
    """The member count the end-of-central-directory record states (``None`` if none is
    found: not a zip), read from the file's last bytes without parsing the directory."""
    at = data_tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(data_tail):
        return None
    entries = struct.unpack("<H", data_tail[at + 10 : at + 12])[0]
    if entries == 0xFFFF and at >= 20 and data_tail[at - 20 : at - 16] == _EOCD64_LOCATOR:
        # a zip64 directory: the locator gives the zip64 record's offset in the file
        (offset,) = struct.unpack("<Q", data_tail[at - 12 : at - 4])
        start = size - len(data_tail)
        if start <= offset and offset + 56 <= size and data_tail[offset - start :][:4] == (_EOCD64):
            record = data_tail[offset - start : offset - start + 56]
            return struct.unpack("<Q", record[32:40])[0]
        return 2**32  # the record is not in the tail: more members than a bundle holds
    return entries


class _OwnedZip(zipfile.ZipFile):
    """A ZipFile over a file object it owns: closing it closes the file."""

    def close(self) -> None:
        fp = self.fp
        try:
            super().close()
        finally:
            if fp is not None:
                fp.close()


def open_zip(
    path: str | os.PathLike,
    *,
    kind: str = "bundle",
    allowed: Iterable[str],
    member_limits: dict[str, int],
    max_total: int,
) -> zipfile.ZipFile:
    """Open a zip only after checking it: a regular file of at most ``LIMITS[kind]``
    bytes, at most :data:`ZIP_MAX_MEMBERS` members (counted from its last record, before
    the directory is parsed), and each member a flat, known, unencrypted name stored or
    deflated, not a link, not repeated, of at most its ``member_limits`` size, with at most
    ``max_total`` bytes unpacked in all.

    Arguments:
        path: the zip file.
        kind: its key in :data:`LIMITS`.
        allowed: the member names it may hold (flat names: no folders).
        member_limits: name to the most bytes that member may unpack to.
        max_total: the most bytes all members may unpack to.

    Returns:
        The open :class:`zipfile.ZipFile` (the caller closes it).

    Raises:
        FileRefusedError: one line naming ``path`` and the first problem.
    """
    path = Path(path)
    allowed = tuple(allowed)
    fd, st = _open_regular(path, kind, _a(kind))
    try:
        tail_size = min(st.st_size, 22 + 65535 + 20)
        os.lseek(fd, st.st_size - tail_size, os.SEEK_SET)
        tail = os.read(fd, tail_size)
        count = _zip_member_count(path, tail, st.st_size)
        if count is None:
            raise FileRefusedError(f"{path}: not a zip (no end-of-directory record)")
        if count > ZIP_MAX_MEMBERS:
            raise FileRefusedError(
                f"{path}: lists {count} members (a bundle holds at most {len(allowed)})"
            )
        os.lseek(fd, 0, os.SEEK_SET)
        z = _OwnedZip(os.fdopen(os.dup(fd), "rb"))
    except zipfile.BadZipFile as e:
        raise FileRefusedError(f"{path}: not a zip ({e})") from None
    except OSError as e:
        raise FileRefusedError(f"{path}: cannot read it ({e.strerror or e})") from None
    finally:
        os.close(fd)
    try:
        _check_members(path, z, allowed, member_limits, max_total)
    except BaseException:
        z.close()
        raise
    return z


def _check_members(
    path: Path,
    z: zipfile.ZipFile,
    allowed: tuple[str, ...],
    member_limits: dict[str, int],
    max_total: int,
) -> None:
    infos = z.infolist()
    if len(infos) > ZIP_MAX_MEMBERS:
        raise FileRefusedError(f"{path}: lists {len(infos)} members (at most {len(allowed)})")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name not in allowed or "/" in name or "\\" in name:
            raise FileRefusedError(
                f"{path}: member {name!r} is not a preset file "
                f"(a bundle holds only {', '.join(allowed)}, with no folders)"
            )
        if name in seen:
            raise FileRefusedError(f"{path}: member {name!r} appears twice")
        seen.add(name)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise FileRefusedError(f"{path}: member {name!r} is a link")
        if info.flag_bits & 0x1:
            raise FileRefusedError(f"{path}: member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefusedError(
                f"{path}: member {name!r} uses compression method {info.compress_type} "
                "(a bundle is stored or deflated)"
            )
        cap = member_limits.get(name, max_total)
        if info.file_size > cap:
            raise FileRefusedError(
                f"{path}: member {name!r} unpacks to {human_bytes(info.file_size)}, more "
                f"than the {human_bytes(cap)} it may take"
            )
        total += info.file_size
        if total > max_total:
            raise FileRefusedError(f"{path}: unpacks to more than {human_bytes(max_total)}")


def read_member(z: zipfile.ZipFile, name: str, where: str, limit: int) -> bytes:
    """A member's bytes, reading at most ``limit`` + 1 bytes whatever its header claims.

    Raises:
        FileRefusedError: the member is damaged (bad CRC, truncated, bad data) or unpacks
            to more than ``limit`` bytes.
    """
    try:
        with z.open(name) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as e:
        # a bad CRC, a truncated or corrupt deflate stream (encryption and unknown
        # compression methods were refused by open_zip before any member is read)
        raise FileRefusedError(f"{where}: member {name!r} is damaged ({e})") from None
    if len(data) > limit:
        raise FileRefusedError(
            f"{where}: member {name!r} unpacks to more than the {human_bytes(limit)} it may take"
        )
    return data
