"""Code that runs inside the Rasa server process.

- :mod:`rasa_plugins.tracker_store`: the tracker store that also feeds the reader store;
- :mod:`rasa_plugins.ingester`: the background thread that ingests events;
- :mod:`rasa_plugins.paused_fast_path` and :mod:`rasa_plugins.sanic_compat`: patches to
  Rasa and Sanic;
- :mod:`rasa_plugins.request_scope`: the conversation id on the log lines of Rasa's HTTP
  requests about one conversation (it takes effect for apps made after it is installed,
  so through the first call below).

**The patches are installed explicitly, never by importing a module.** :func:`install`
installs all three; it is idempotent. It is called from two places:

1. :func:`launcher.rasa_server.main`, the Rasa process's entry point, before Rasa's own
   ``main`` runs: this is how the launcher (and so every test that starts the system)
   runs Rasa;
2. the constructor of :class:`~rasa_plugins.tracker_store.IngestingTrackerStore`, which
   ``endpoints.yml`` loads into every Rasa server however it was started (``rasa run``,
   ``rasa shell``, a benchmark's ``Agent``), before the first message is handled.

The second call is a no-op when the first has run. A benchmark that compares both
paths undoes the fast path with :func:`rasa_plugins.paused_fast_path.uninstall`.
"""

from __future__ import annotations

from rasa_plugins import paused_fast_path, request_scope, sanic_compat

__all__ = ["install"]


def install() -> None:
    """Install the Rasa and Sanic patches this project needs; safe to call repeatedly."""
    paused_fast_path.install()
    sanic_compat.install()
    request_scope.install()
