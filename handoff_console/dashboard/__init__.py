"""The manager dashboard (issue 17): overview, charts, reader intelligence, exports, reports."""

__all__: list[str] = []
