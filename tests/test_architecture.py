"""The house rules a reviewer would otherwise check by hand: imports only go down the
layers, with no cycles; the core never probes a model for what it is; every picture of the
core has a view in the app and every view a picture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "playground"

#: the layers, lowest first: a module may import its own layer and those below it.
#: ``base`` holds the core's small leaf modules that every layer uses.
LAYERS = (
    "base",
    "data",
    "sampling",
    "models",
    "metrics",
    "snapshots",
    "training",
    "presets",
    "sweep",
    "lessons",
    "app",
    "cli",
)
_BASE = {"hyperparameters", "device", "chain_settings", "specs", "files"}


def module_name(path: Path) -> str:
    """``playground/core/data/toy.py`` -> ``playground.core.data.toy`` (packages: their name)."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer of a ``playground`` module."""
    parts = module.split(".")[1:]
    if not parts:  # playground/__init__.py: the version only
        return "base"
    if parts[0] == "app":
        return "app"
    if parts[0] != "core":  # the command line and its helpers
        return "cli"
    if len(parts) == 1:  # playground.core
        return "base"
    name = parts[1]
    if name in _BASE:
        return "base"
    if name in ("presets", "preset_files", "preset_schema", "preset_points", "catalog"):
        return "presets"
    return name


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _source(node: ast.ImportFrom, package: str) -> str:
    """The absolute module a ``from ... import`` statement reads from."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """Every ``playground`` module ``module`` imports: at the top, inside functions and
    under ``TYPE_CHECKING`` alike (``from pkg import name`` counts as ``pkg.name`` when that
    is a module, else as ``pkg``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            source = _source(node, package)
            names = [f"{source}.{a.name}" for a in node.names]
            out.update(n for n in names if n in MODULES)
            if source in MODULES and not all(n in MODULES for n in names):
                out.add(source)
    out.discard(module)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_layers_cover_every_module():
    assert {layer_of(m) for m in MODULES} <= set(LAYERS)
    assert len(MODULES) > 100


def test_no_upward_import():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = sorted(
        f"{m} ({layer_of(m)}) imports {t} ({layer_of(t)})"
        for m, targets in GRAPH.items()
        for t in targets
        if rank[layer_of(t)] > rank[layer_of(m)]
    )
    assert upward == [], "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_package_reexports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its own submodules is not a cycle: drop the
    edges from a package to its own submodules."""
    return {
        m: {t for t in targets if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
        for m, targets in graph.items()
    }


def test_no_import_cycle():
    cycles = _cycles(_without_package_reexports(GRAPH))
    assert cycles == [], "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# ------------------------------------------------------------------------ the protocol

_MODEL_CLASSES = None


def _model_class_names() -> set[str]:
    global _MODEL_CLASSES
    if _MODEL_CLASSES is None:
        from playground.core.models import MODELS

        names = set()
        for cls in MODELS.values():
            names.update(c.__name__ for c in cls.__mro__)
        names -= {"object", "Module", "GenerativeModel", "ABC"}
        _MODEL_CLASSES = names
    return _MODEL_CLASSES


def probes(path: Path) -> list[str]:
    """``getattr``/``hasattr`` on something named like a model, and ``isinstance`` against
    a model class, in one file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in ("getattr", "hasattr") and node.args:
            subject = ast.unparse(node.args[0])
            if "model" in subject.lower():
                out.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
        if node.func.id == "isinstance" and len(node.args) == 2:
            classes = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            classes |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
            if classes & _model_class_names():
                out.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return out


def test_the_core_never_probes_a_model():
    core = ROOT / "core"
    found = [
        p
        for path in sorted(core.rglob("*.py"))
        if "models" not in path.relative_to(core).parts
        for p in probes(path)
    ]
    assert found == [], "\n".join(found)


def test_the_probe_finder_finds_probes(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(model, x):\n"
        "    a = getattr(model, 'sigmas', None)\n"
        "    b = hasattr(self.model, 'score')\n"
        "    c = isinstance(x, DDPM)\n"
        "    return getattr(x, 'name', '')\n"
    )
    assert [p.split(": ", 1)[1] for p in probes(bad)] == [
        "getattr(model, 'sigmas', None)",
        "hasattr(self.model, 'score')",
        "isinstance(x, DDPM)",
    ]


# ------------------------------------------------------------------------ the registries


def test_every_picture_has_a_view_and_every_view_a_picture():
    pytest.importorskip("PySide6")
    from playground.app.views import VIEWS
    from playground.core.snapshots import PICTURES

    names = [v.name for v in VIEWS]
    assert len(names) == len(set(names)), "two views share a name"
    read = {p for v in VIEWS for p in v.reads()}
    assert sorted(set(PICTURES) - read) == [], "pictures no view draws"
    assert sorted(read - set(PICTURES)) == [], "views reading no picture"
    assert sorted(set(names) - set(PICTURES)) == [], "views without a picture of their name"
    assert all(v.title for v in VIEWS), "every view has a tab title"
    for v in VIEWS:  # View declares neither: each view draws and forgets its own way
        assert callable(getattr(v, "show_snapshot", None)), v.__name__
        assert callable(getattr(v, "clear", None)), v.__name__


def test_a_view_name_appears_in_two_registries_only():
    """Outside the two registries (and each view's own module and its tests), no source
    file names a view: adding one is a picture module plus a line, and a view module plus
    an entry."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("core/snapshots/", "app/views/")):
            continue
        text = path.read_text()
        for name in ("log_det", "reverse_strip", "latent_space", "score_field"):
            if f'"{name}"' in text:
                found.append(f"{rel}: {name}")
    assert found == [], "\n".join(found)
