"""Local stand-ins for the platforms the channels talk to (Bot API, Slack Web API, mail).

Each module defines a session fixture returning the environment variables that point
the running system's connector at its stand-in; ``tests/conftest.py`` passes them all
to the ``system`` fixture.
"""
