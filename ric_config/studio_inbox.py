"""Settings of the admin studio's NLU inbox, learning loop and intent health (issue 16)."""

from __future__ import annotations

from ric_config._base import RicSettings, setting

__all__ = ["NluInboxConfig"]


class NluInboxConfig(RicSettings):
    """Which reader messages reach the NLU inbox, and what intent health reports.

    Attributes:
        inbox_low_confidence: a reader message whose recognised intent has a confidence
            below this reaches the NLU inbox as *low confidence* (the fallback below
            `config.yml`'s `FallbackClassifier` threshold is its own reason)
        inbox_rephrase_seconds: a reader who writes again this soon after the bot's
            answer, in words that share a content word with the first message, has
            *rephrased*: the first message reaches the inbox
        inbox_low_rating: a survey rating (1 to 5) at or below this puts the rated
            conversation's question in the inbox
        inbox_window_days: the inbox looks at reader messages this many days back
        candidate_match_confidence: a resolved handoff's question that the NLU recorded
            as an FAQ topic (or intent) with at least this confidence is proposed as new
            examples of that topic; otherwise as a new FAQ topic
        health_min_examples: intent health lists intents and FAQ topics with fewer
            examples than this
        health_similarity: intent health lists example pairs under different intents
            whose sentence embeddings have at least this cosine similarity (0.85 finds
            7 pairs of 5 label pairs in the shipped data, 0.9 none)
    """

    area = "Admin studio: NLU inbox and intent health"

    inbox_low_confidence: float = setting(0.5, "RIC_STUDIO_INBOX_LOW_CONFIDENCE", ge=0, le=1)
    inbox_rephrase_seconds: int = setting(90, "RIC_STUDIO_INBOX_REPHRASE_SECONDS", ge=1)
    inbox_low_rating: int = setting(2, "RIC_STUDIO_INBOX_LOW_RATING", ge=1, le=5)
    inbox_window_days: int = setting(30, "RIC_STUDIO_INBOX_WINDOW_DAYS", ge=1)
    candidate_match_confidence: float = setting(
        0.6, "RIC_STUDIO_CANDIDATE_MATCH_CONFIDENCE", ge=0, le=1
    )
    health_min_examples: int = setting(8, "RIC_STUDIO_HEALTH_MIN_EXAMPLES", ge=1)
    health_similarity: float = setting(0.85, "RIC_STUDIO_HEALTH_SIMILARITY", ge=0, le=1)
