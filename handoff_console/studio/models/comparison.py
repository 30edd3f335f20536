"""A new model version side by side with the live one, and whether it may go live.

The figures come from the versions' manifests (the training job wrote them):

* per intent and FAQ topic, the cross-validated F1 of each version;
* the commonest confusions of each;
* the held-out inbox messages: which each model gets right, and which now pass.

A version that was never evaluated counts as a regression (nothing shows it is safe).
A **regression** is a fall of more than the tolerance (``RIC_STUDIO_REGRESSION_TOLERANCE``)
in the macro F1, in the F1 of an intent or topic with at least :data:`MIN_SUPPORT`
examples in both versions (and by more than two of its examples' worth, ``2 / support``:
one or two messages more or less right is noise on a small label), or in the accuracy
on the held-out inbox messages. Any regression blocks activation unless an admin
overrides it (and the override is audited).
"""

from __future__ import annotations

from typing import Any

from handoff_console.studio.models.registry import ModelVersion

__all__ = ["MIN_SUPPORT", "compare"]

MIN_SUPPORT = 5
"""An intent or topic with fewer examples than this is shown but never blocks."""


def _cv(version: ModelVersion | None) -> dict[str, Any] | None:
    return ((version.evaluation or {}).get("cv") if version is not None else None) or None


def _intent_rows(
    new: dict[str, Any], live: dict[str, Any] | None, tolerance: float
) -> list[dict[str, Any]]:
    new_labels: dict[str, Any] = new["labels"]
    live_labels: dict[str, Any] = (live or {}).get("labels", {})
    rows = []
    for label in sorted(set(new_labels) | set(live_labels)):
        ours, theirs = new_labels.get(label), live_labels.get(label)
        delta = None if ours is None or theirs is None else round(ours["f1"] - theirs["f1"], 4)
        enough = min((ours or {}).get("support", 0), (theirs or {}).get("support", 0))
        # Two examples' worth of F1 is noise on a small label, not a regression.
        limit = max(tolerance, 2 / enough) if enough else tolerance
        rows.append(
            {
                "label": label,
                "support": (ours or {}).get("support", 0),
                "live_support": (theirs or {}).get("support", 0) if live else None,
                "new_f1": None if ours is None else ours["f1"],
                "live_f1": None if theirs is None else theirs["f1"],
                "delta": delta,
                "regressed": delta is not None and delta < -limit and enough >= MIN_SUPPORT,
                "added": theirs is None and live is not None,
                "removed": ours is None,
            }
        )
    return rows


def _held_out(
    new: ModelVersion, live: ModelVersion | None, tolerance: float
) -> tuple[dict[str, Any], list[str]]:
    held = (new.evaluation or {}).get("held_out") or {}
    messages = held.get("messages") or []
    baseline = held.get("baseline")
    same_baseline = live is not None and baseline == live.number
    new_accuracy = (held.get("new") or {}).get("accuracy")
    live_accuracy = (held.get("live") or {}).get("accuracy") if same_baseline else None
    summary = {
        "count": len(messages),
        "baseline": f"v{baseline}" if baseline is not None else None,
        "new_accuracy": new_accuracy,
        "live_accuracy": live_accuracy,
        "now_pass": sum(1 for m in messages if m["passed"] and not m.get("live_passed", False)),
        "now_fail": sum(1 for m in messages if not m["passed"] and m.get("live_passed", False)),
        "messages": [
            {
                "text": m["text"],
                "label": m["label"],
                "new_predicted": m["predicted"],
                "new_passed": m["passed"],
                "live_predicted": m.get("live_predicted") if same_baseline else None,
                "live_passed": m.get("live_passed") if same_baseline else None,
            }
            for m in messages
        ],
    }
    regressions = []
    dropped = new_accuracy is not None and live_accuracy is not None
    if dropped and new_accuracy < live_accuracy - tolerance:  # type: ignore[operator]
        regressions.append(
            f"held-out inbox accuracy falls from {live_accuracy:.2f} to {new_accuracy:.2f}"
        )
    return summary, regressions


def compare(new: ModelVersion, live: ModelVersion | None, tolerance: float) -> dict[str, Any]:
    """``new`` against ``live`` (the running version; None when unknown).

    Returns:
        ``{"version", "live_version", "tolerance", "macro_f1": {new, live},
        "intents": [...], "confusions": {new, live}, "held_out": {...},
        "regressions": [...], "blocked": bool, "notes": [...]}``.
    """
    notes: list[str] = []
    new_cv, live_cv = _cv(new), _cv(live)
    unevaluated = [] if new_cv is not None else [f"{new.label} has not been evaluated"]
    if live is None:
        notes.append("the live model is not in the registry; there is nothing to compare with")
    elif live_cv is None:
        notes.append(f"the live model {live.label} has no cross-validation figures")
    intents = _intent_rows(new_cv, live_cv, tolerance) if new_cv is not None else []
    regressions = unevaluated + [
        f"{row['label']}: F1 falls from {row['live_f1']:.2f} to {row['new_f1']:.2f}"
        for row in intents
        if row["regressed"]
    ]
    macro = {
        "new": None if new_cv is None else new_cv["macro_f1"],
        "live": None if live_cv is None else live_cv["macro_f1"],
    }
    new_macro, live_macro = macro["new"], macro["live"]
    if new_macro is not None and live_macro is not None and new_macro < live_macro - tolerance:
        regressions.insert(0, f"macro F1 falls from {live_macro:.2f} to {new_macro:.2f}")
    held_out, held_regressions = _held_out(new, live, tolerance)
    regressions.extend(held_regressions)
    if new_cv is not None and held_out["count"] == 0:
        notes.append("no labelled inbox messages were held out (none assigned in the NLU inbox)")
    elif held_out["count"] and held_out["live_accuracy"] is None and live is not None:
        notes.append(
            f"the held-out messages were scored against {held_out['baseline'] or 'no model'}, "
            f"not the live {live.label}; retrain to compare them"
        )
    return {
        "version": new.label,
        "live_version": None if live is None else live.label,
        "tolerance": tolerance,
        "macro_f1": macro,
        "intents": intents,
        "confusions": {
            "new": (new_cv or {}).get("confusions", []),
            "live": (live_cv or {}).get("confusions", []),
        },
        "held_out": held_out,
        "regressions": regressions,
        "blocked": bool(regressions),
        "notes": notes,
    }
