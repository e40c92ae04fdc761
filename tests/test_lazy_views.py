"""Views are built the first time they are shown: a window builds the handful its session
offers, not all of them, and a view built later is wired like the others."""

from playground.app.commands import SetViews
from playground.app.views import VIEWS

TIMEOUT = 30_000


def test_a_window_builds_only_the_views_its_session_shows(qtbot, open_window):
    window = open_window("realnvp", "moons")
    qtbot.waitUntil(lambda: window.info is not None and window.frame is not None, timeout=TIMEOUT)
    built = {view.name for view in window.views.built()}
    assert set(window.tab_names) <= built and len(built) < len(VIEWS)
    assert list(window.views) == [cls.name for cls in VIEWS]  # every name, no build
    assert "critic" not in built and "critic" in window.views
    assert window.views.parts_of("critic") == ("critic", "gradients")  # the class's reads()
    assert "critic" not in {view.name for view in window.views.built()}
    posted = []
    window.post = posted.append  # what the view is wired to when it is built
    critic = window.views["critic"]  # built now, a hidden child of the window
    assert critic.parent() is window and not critic.isVisible()
    assert window.views.parts_of("critic") == ("critic",)  # the built view's (arrows off)
    assert window.views["critic"] is critic  # built once
    critic.command.emit(SetViews(("critic",)))  # its commands reach the window's post
    assert posted == [SetViews(("critic",))]
