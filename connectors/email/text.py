"""The email channel's text rules: reply and signature stripping, HTML to text, subjects.

They live in :mod:`nlu_components.email_text`, because the NLU pipeline's
``MessageCleanup`` applies the same stripping to text pasted on every channel; this
module keeps the email connectors' import path.
"""

from __future__ import annotations

from nlu_components.email_text import clean_email_body, html_to_text, subject_as_text

__all__ = ["clean_email_body", "html_to_text", "subject_as_text"]
