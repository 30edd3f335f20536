"""The weekly report's charts, drawn on the server with matplotlib (Agg, no display).

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot, so
no global figure state is shared between the console's threads and savefig uses the
Agg canvas.

The weekly email embeds them as PNG parts (``cid:`` images) and the console's printable
report page shows the same PNGs, both drawn from one :class:`WeeklyFigures`, so the
mail and the page cannot disagree. Each chart is a small bar chart with its values
written on the bars (the figures are in the report's table too).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from matplotlib.figure import Figure as PlotFigure

from crm_store.weekly_figures import WeeklyFigures

__all__ = ["CHARTS", "CHART_ALT", "render_chart", "render_charts"]

_BLUE, _GREEN = "#1d3f6e", "#1b6b2a"
_SEGMENT_LABELS = {
    "key": "Key",
    "loyal": "Loyal",
    "new": "New",
    "at_risk": "At risk",
    "occasional": "Occasional",
}


def _bars(title: str, labels: Sequence[str], values: Sequence[float], color: str) -> PlotFigure:
    figure = PlotFigure(figsize=(6.4, 2.8), dpi=100)
    axes: Any = figure.subplots()
    bars = axes.bar(list(labels), list(values), color=color)
    axes.bar_label(bars, fmt="%g", fontsize=8)
    axes.set_title(title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    axes.margins(y=0.15)
    axes.set_ylim(bottom=0, top=None if any(values) else 1)
    figure.tight_layout()
    return figure


def _daily(data: WeeklyFigures) -> PlotFigure:
    labels = [day.strftime("%a %d") for day, _, _ in data.daily]
    figure = _bars("Conversations per day", labels, [n for _, n, _ in data.daily], _BLUE)
    shares = [None if c is None else c * 100 for _, _, c in data.daily]
    if any(s is not None for s in shares):
        twin: Any = figure.axes[0].twinx()
        twin.plot(labels, [float("nan") if s is None else s for s in shares], color=_GREEN,
                  marker="o", label="Containment %")  # fmt: skip
        twin.set_ylim(0, 100)
        twin.tick_params(labelsize=8)
        twin.legend(loc="upper right", fontsize=8, frameon=False)
        figure.tight_layout()  # again, now that the right-hand axis takes room
    return figure


def _segments(data: WeeklyFigures) -> PlotFigure:
    labels = [_SEGMENT_LABELS.get(s, s) for s in data.segments]
    return _bars("Readers by value segment", labels, list(data.segments.values()), _GREEN)


def _new_readers(data: WeeklyFigures) -> PlotFigure:
    labels = [month for month, _ in data.new_by_month]
    return _bars("New readers by month", labels, [n for _, n in data.new_by_month], _BLUE)


CHARTS: dict[str, Callable[[WeeklyFigures], PlotFigure]] = {
    "daily": _daily,
    "segments": _segments,
    "new-readers": _new_readers,
}
"""The report's charts by name, in the report's order."""
CHART_ALT = {
    "daily": "Bar chart: conversations per day of the week, with the containment rate",
    "segments": "Bar chart: readers by value segment",
    "new-readers": "Bar chart: new readers by month",
}
"""Each chart's alternative text (the email's and the report page's ``alt``)."""


def render_chart(name: str, data: WeeklyFigures) -> bytes:
    """One chart as PNG bytes.

    Raises:
        KeyError: ``name`` is not in :data:`CHARTS`.
    """
    figure = CHARTS[name](data)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_charts(data: WeeklyFigures) -> dict[str, bytes]:
    """Every chart of the report as PNG bytes, by name."""
    return {name: render_chart(name, data) for name in CHARTS}
