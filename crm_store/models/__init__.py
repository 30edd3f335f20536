"""The reader store's tables.

- :mod:`crm_store.models.statuses`: every status and kind a row can hold;
- :mod:`crm_store.models.core`: readers, identities, conversations, messages, raw events,
  handoffs, tickets, feedback, and the staff tables (accounts, sign-ins, notes, canned
  replies, the librarian outbox, the audit log);
- :mod:`crm_store.models.operations`: what the worker, the channels and the nightly
  analysis keep (surveys, follow-ups, notifications, reminders, receipts, the email
  thread map, daily metrics and analysis runs);
- :mod:`crm_store.models.trust`: the email outbox (issue 18).
- :mod:`crm_store.models.dashboard`: the manager dashboard's channel sessions and
  rollups (issue 17).
- :mod:`crm_store.models.dashboard_reports`: report subscriptions, the weekly reports
  sent, the dashboard's own keys and the reader intelligence rollup (issue 17).
- :mod:`crm_store.models.studio_inbox`: the admin studio's NLU inbox labels, FAQ
  candidates and the nightly clusters' members (issue 16).

Importing this package registers every table on one metadata.
"""

from crm_store.models import operations, studio_inbox, trust
from crm_store.models.core import (
    ApiToken,
    AuditEntry,
    Base,
    CannedResponse,
    ChannelIdentity,
    ConsoleSession,
    Conversation,
    Feedback,
    Handoff,
    IngestCheckpoint,
    LoginAttempt,
    Message,
    Note,
    OutboundMessage,
    QuarantinedEvent,
    RawEvent,
    Reader,
    ServiceHeartbeat,
    StaffUser,
    Ticket,
    UtcDateTime,
    mapper_registry,
    utcnow,
)
from crm_store.models.dashboard import ConversationSession, DashboardRollup
from crm_store.models.dashboard_reports import (
    DashboardKey,
    ReaderRisk,
    ReaderSnapshot,
    ReaderValueRow,
    ReportSubscription,
    WeeklyReport,
)
from crm_store.models.statuses import (
    ConversationStatus,
    Direction,
    FollowUpStatus,
    HandoffStatus,
    ReminderStatus,
    SenderKind,
    StaffRole,
    SurveyStatus,
    TicketStatus,
)
from crm_store.models.studio_inbox import (
    CandidateStatus,
    FaqCandidate,
    InboxDecision,
    NluInboxLabel,
    QuestionClusterMember,
)
from crm_store.models.trust import EmailOutboxEntry

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "CandidateStatus",
    "CannedResponse",
    "ChannelIdentity",
    "ConsoleSession",
    "Conversation",
    "ConversationSession",
    "ConversationStatus",
    "DashboardKey",
    "DashboardRollup",
    "Direction",
    "EmailOutboxEntry",
    "FaqCandidate",
    "Feedback",
    "FollowUpStatus",
    "Handoff",
    "HandoffStatus",
    "InboxDecision",
    "IngestCheckpoint",
    "LoginAttempt",
    "Message",
    "NluInboxLabel",
    "Note",
    "OutboundMessage",
    "QuarantinedEvent",
    "QuestionClusterMember",
    "RawEvent",
    "Reader",
    "ReaderRisk",
    "ReaderSnapshot",
    "ReaderValueRow",
    "ReminderStatus",
    "ReportSubscription",
    "SenderKind",
    "ServiceHeartbeat",
    "StaffRole",
    "StaffUser",
    "SurveyStatus",
    "Ticket",
    "TicketStatus",
    "UtcDateTime",
    "WeeklyReport",
    "mapper_registry",
    "operations",
    "studio_inbox",
    "trust",
    "utcnow",
]
