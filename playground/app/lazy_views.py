"""The window's views, each built the first time it is asked for.

A window offers 29 views but a session shows a handful (RealNVP: 7, a GAN: 4); building
them all took about 1 s of CPU per window (benchmarks/quick_loop.md), paid again by every
Compare pane and fork. :class:`LazyViews` keeps the names of all of them, in tab order, and
builds one on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from .views import View

__all__ = ["LazyViews"]


class LazyViews(Mapping[str, View]):
    """View name -> view widget, in the order of ``classes``; a view is built the first
    time it is looked up (``views[name]``, ``views.get(name)``, iterating ``values()``),
    then ``on_build(view)`` wires it into the window. ``name in views`` and iterating the
    names build nothing.

    Arguments:
        classes: the view classes, in tab order (each with a unique ``name``).
        on_build: called once with each view right after it is built.

    Raises:
        KeyError: a name that is not a view (on lookup).
    """

    def __init__(self, classes: Iterable[type[View]], on_build: Callable[[View], None]):
        self._classes = {cls.name: cls for cls in classes}
        self._built: dict[str, View] = {}
        self._on_build = on_build

    def __getitem__(self, name: str) -> View:
        view = self._built.get(name)
        if view is None:
            view = self._built[name] = self._classes[name]()
            self._on_build(view)
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def built(self) -> list[View]:
        """The views built so far (in the order they were built)."""
        return list(self._built.values())

    def parts_of(self, name: str) -> tuple[str, ...]:
        """The pictures view ``name`` asks for now: the built view's
        ``snapshot_parts()``, else its class's ``reads()`` (without building it)."""
        view = self._built.get(name)
        return tuple(view.snapshot_parts() if view is not None else self._classes[name].reads())
