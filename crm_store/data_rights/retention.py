"""Each store's retention period, outside the reader store's transcripts.

The reader store's transcripts are anonymised by ``worker.analytics.retention``
(``RIC_RETENTION_DAYS``). :func:`apply_retention` does the rest, each with its own
period (``ric_config.PrivacyConfig``):

- **Rasa's tracker store** (``RIC_RETENTION_TRACKER_DAYS``): every event of a
  conversation whose newest event is older than the period is deleted; card numbers
  left in older rows (saved before they were masked on save) are masked once the
  catch-up has passed them for good;
- **channel identities** (``RIC_RETENTION_IDENTITY_DAYS``): identities not seen
  within the period are deleted (the reader record, and its figures, stay);
- **the email thread map and outbox** (``RIC_RETENTION_EMAIL_THREAD_DAYS``): thread-map
  rows and sent or expired mails older than the period are deleted (the inbound
  receipts have their own job, ``worker.jobs.receipts``, ``RIC_RECEIPT_KEEP_DAYS``);
- **the nightly question clusters**: once the transcripts' retention has anonymised a
  cluster's member message, the cluster keeps only the examples of members still
  readable (:func:`crm_store.data_rights.clusters.prune_cluster_examples`);
- **logs** (``RIC_RETENTION_LOG_DAYS``): rotated log files (``*.log.1``, ...) last
  written before the period are deleted; the live ``<process>.log`` is left alone.

It reports counts only, never content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_store.data_rights.clusters import prune_cluster_examples
from crm_store.data_rights.tracker import (
    delete_conversations,
    idle_conversations,
    keep_checkpoint_below,
    mask_old_cards,
    newest_id,
)
from crm_store.models import ChannelIdentity, EmailOutboxEntry
from crm_store.models.operations import EmailMessage
from ric_config.trust import PrivacyConfig

__all__ = ["StoreRetention", "apply_retention", "old_rotated_logs"]

logger = logging.getLogger(__name__)


@dataclass
class StoreRetention:
    """What one pass deleted or masked, per store, and the periods it applied."""

    periods: dict[str, int]
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (counts and periods only)."""
        return {"periods": dict(self.periods), "counts": dict(self.counts)}


def _count(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


def old_rotated_logs(log_dir: Path, before: datetime) -> list[Path]:
    """Rotated log files (``name.log.N``, also compressed) last written before ``before``."""
    if not log_dir.is_dir():
        return []
    limit = before.timestamp()
    return sorted(
        path for path in log_dir.glob("*.log.*") if path.is_file() and path.stat().st_mtime < limit
    )


def apply_retention(
    session: Session,
    tracker: Engine | None,
    log_dir: Path | None,
    now: datetime,
    config: PrivacyConfig | None = None,
) -> StoreRetention:
    """Apply every store's retention period as of ``now`` (the caller commits ``session``).

    Args:
        session: An open session on the reader store.
        tracker: An engine on Rasa's tracker store; None skips it.
        log_dir: The folder of the processes' logs; None skips it.
        now: The current time (timezone-aware).
        config: The periods; read from the environment when None.
    """
    config = config or PrivacyConfig()
    result = StoreRetention(
        periods={
            "tracker_store": config.tracker_retention_days,
            "identities": config.identity_retention_days,
            "email_threads": config.email_thread_retention_days,
            "logs": config.log_retention_days,
        }
    )
    counts = result.counts
    if tracker is not None:
        cutoff = now - timedelta(days=config.tracker_retention_days)
        counts["tracker_events"] = delete_conversations(
            tracker, idle_conversations(tracker, cutoff.timestamp())
        )
        keep_checkpoint_below(session, newest_id(tracker))
        counts["tracker_cards_masked"] = mask_old_cards(tracker, session)
    seen_before = now - timedelta(days=config.identity_retention_days)
    counts["identities"] = _count(
        session,
        delete(ChannelIdentity).where(
            or_(
                ChannelIdentity.last_seen_at < seen_before,
                and_(
                    ChannelIdentity.last_seen_at.is_(None),
                    ChannelIdentity.created_at < seen_before,
                ),
            )
        ),
    )
    mail_before = now - timedelta(days=config.email_thread_retention_days)
    counts["email_threads"] = _count(
        session, delete(EmailMessage).where(EmailMessage.created_at < mail_before)
    )
    counts["email_outbox"] = _count(
        session,
        delete(EmailOutboxEntry).where(
            EmailOutboxEntry.created_at < mail_before,
            EmailOutboxEntry.status.in_(["sent", "expired"]),
        ),
    )
    counts["question_clusters"] = prune_cluster_examples(session)
    if log_dir is not None:
        removed = 0
        for path in old_rotated_logs(log_dir, now - timedelta(days=config.log_retention_days)):
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue  # another process rotated or removed it meanwhile
        counts["log_files"] = removed
    changed = {kind: n for kind, n in counts.items() if n}
    logger.info(
        "retention of the other stores: %s",
        ", ".join(f"{kind}={n}" for kind, n in sorted(changed.items())) or "nothing to remove",
    )
    return result
