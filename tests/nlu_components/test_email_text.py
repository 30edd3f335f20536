"""The shared email-text rules (nlu_components.email_text), used by every channel's NLU."""

from __future__ import annotations

import pytest

from nlu_components.email_text import clean_email_body, html_to_text, subject_as_text

GMAIL = """Could you renew Dune for another two weeks?

On Mon, 30 Nov 2026 at 10:02, Riverbend Library <hello@riverbend-library.example> wrote:
> Your loans are due soon.
> Kind regards, the library"""

OUTLOOK = """Please cancel my hold on The Overstory.

From: Riverbend Library <hello@riverbend-library.example>
Sent: Monday, 30 November 2026 10:02
To: Jonah Fischer
Subject: Your hold

Your hold is ready."""

SIGNED = """Do you have study rooms for Friday afternoon?

Thanks,
Mei Lin
Riverbend College

Sent from my iPhone"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GMAIL, "Could you renew Dune for another two weeks?"),
        (OUTLOOK, "Please cancel my hold on The Overstory."),
        (SIGNED, "Do you have study rooms for Friday afternoon?"),
        ("renew my books\n-- \nAda Okafor\n+44 20 7946 0000", "renew my books"),
        ("> quoted only\n> nothing new", "quoted only\nnothing new"),
        ("Thanks,\nAda", "Thanks,\nAda"),
    ],
)
def test_clean_email_body(body: str, expected: str) -> None:
    assert clean_email_body(body) == expected


def test_html_blockquotes_become_quoted_lines_that_cleaning_drops() -> None:
    html = (
        "<div>Is the wifi free?</div><div>On Mon, Ada wrote:</div>"
        "<blockquote><p>old thread</p></blockquote>"
    )

    assert html_to_text(html) == "Is the wifi free?\nOn Mon, Ada wrote:\n\n> old thread"
    assert clean_email_body(html_to_text(html)) == "Is the wifi free?"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("RE: Fwd: [External] Renewal", "Renewal"), ("AW: Öffnungszeiten", "Öffnungszeiten")],
)
def test_subject_as_text(subject: str, expected: str) -> None:
    assert subject_as_text(subject) == expected
