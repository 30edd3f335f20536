"""Code that runs inside the Rasa server process.

- :mod:`rasa_plugins.tracker_store`: the tracker store that also feeds the reader store;
- :mod:`rasa_plugins.ingester`: the background thread that ingests events;
- :mod:`rasa_plugins.paused_fast_path` and :mod:`rasa_plugins.sanic_compat`: patches to
  Rasa and Sanic, installed explicitly by :mod:`launcher.rasa_server` and the widget.
"""
