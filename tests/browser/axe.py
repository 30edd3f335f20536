"""axe-core in a Playwright page: inject the vendored ``axe.min.js``, run it, keep what matters.

``vendor/axe-core/`` holds axe-core's own minified build and its licence (MPL-2.0),
from the npm registry; nothing is loaded from a CDN. axe checks the page's DOM as it
is when called, open shadow roots and frames included (so the widget is checked inside
its host, and the inbox together with the conversation in its frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
"""The impacts the console and the widget must not have."""

RUN_AXE = """async (impacts) => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(" >>> "),
        summary: n.failureSummary || "",
      })),
    }));
}"""


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on the page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    summaries: tuple[str, ...]

    def __str__(self) -> str:
        where = "; ".join(
            f"{target}: {summary.replace(chr(10), ' ')}"
            for target, summary in zip(self.targets, self.summaries, strict=True)
        )
        return f"[{self.impact}] {self.rule} ({self.help}) at {where}"


def axe_violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[Violation]:
    """Run axe-core on ``page`` and return its violations of the given impacts.

    Args:
        page: A loaded page; axe is injected once into each of its documents.
        impacts: Which impacts to keep (``minor``, ``moderate``, ``serious``, ``critical``).
    """
    for frame in page.frames:  # axe checks a frame's content only where it runs too
        if not frame.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated, not added as a <script> tag: the console's Content-Security-Policy
            # (script-src 'self', issue 18) refuses inline scripts, the page's own as well
            # as an injected one; Playwright's evaluate is not subject to it.
            frame.evaluate(Path(AXE_JS).read_text(encoding="utf-8"))
    found = page.evaluate(RUN_AXE, list(impacts))
    return [
        Violation(
            rule=v["rule"],
            impact=v["impact"],
            help=v["help"],
            targets=tuple(n["target"] for n in v["nodes"]),
            summaries=tuple(n["summary"] for n in v["nodes"]),
        )
        for v in found
    ]


def report(violations: list[Violation]) -> str:
    """The violations one per line, for an assertion message."""
    return "\n".join(str(v) for v in violations)
