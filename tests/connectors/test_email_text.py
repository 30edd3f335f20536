"""Tests for reducing reader emails to the text NLU should see."""

from __future__ import annotations

import pytest

from connectors.email.text import clean_email_body, html_to_text, subject_as_text

GMAIL_REPLY = """Could you renew Dune for another two weeks?

Thanks,
Ada

On Mon, Mar 4, 2024 at 10:02 AM Riverbend Library <
help@riverbend-library.org> wrote:

> Hello Ada,
> Your loan of Dune is due on 6 March.
> --
> Riverbend Library
"""

OUTLOOK_REPLY = """Hi,

Is the Riverside branch open on Easter Monday?

Best regards,
Jonah Fischer
Riverbend University

________________________________
From: Riverbend Library <help@riverbend-library.org>
Sent: Tuesday, March 5, 2024 9:14 AM
To: Jonah Fischer <jfischer@riverbend.edu>
Subject: Your reservation is ready

Your reservation of "The Overstory" is ready for pickup.
"""

OUTLOOK_ORIGINAL_MESSAGE = """Please cancel my hold on The Overstory.

-----Original Message-----
From: Riverbend Library [mailto:help@riverbend-library.org]
Sent: Tuesday, March 5, 2024 9:14 AM
To: Jonah Fischer
Subject: Your reservation is ready
"""

APPLE_MAIL_IPHONE = """I lost my library card, how do I get a new one?

Sent from my iPhone

> On 4 Mar 2024, at 10:02, Riverbend Library <help@riverbend-library.org> wrote:
>
> Hello!
"""

FRENCH_CLIENT = """Can I pay my fine online?

Le lun. 4 mars 2024 à 10:02, Riverbend Library <help@riverbend-library.org> a écrit :
> Vous avez une amende de 2,50 €.
"""

GERMAN_CLIENT = """When are you open on Saturday?

Am Mo., 4. März 2024 um 10:02 Uhr schrieb Riverbend Library <help@riverbend-library.org>:
> Hallo!
"""

SIGNATURE_AND_DISCLAIMER = """Do you have study rooms I can book for Friday afternoon?

--
Priya Natarajan | PhD candidate
Department of History

CONFIDENTIALITY NOTICE: This email and any attachments are for the sole use of the
intended recipient(s).
"""

DISCLAIMER_ONLY_TAIL = """Please renew all my loans.
Get Outlook for iOS
"""

LEGAL_TAIL = """What is the loan period for DVDs?
This email and any attachments are confidential and intended solely for the addressee.
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GMAIL_REPLY, "Could you renew Dune for another two weeks?"),
        (OUTLOOK_REPLY, "Hi,\n\nIs the Riverside branch open on Easter Monday?"),
        (OUTLOOK_ORIGINAL_MESSAGE, "Please cancel my hold on The Overstory."),
        (APPLE_MAIL_IPHONE, "I lost my library card, how do I get a new one?"),
        (FRENCH_CLIENT, "Can I pay my fine online?"),
        (GERMAN_CLIENT, "When are you open on Saturday?"),
        (SIGNATURE_AND_DISCLAIMER, "Do you have study rooms I can book for Friday afternoon?"),
        (DISCLAIMER_ONLY_TAIL, "Please renew all my loans."),
        (LEGAL_TAIL, "What is the loan period for DVDs?"),
        ("Can you renew my books?\r\n\r\nThanks, Ada\r\n", "Can you renew my books?"),
        (
            "  Can   you\trenew\u00a0my books?  \n\n\n\nAnd reserve Emma.  ",
            "Can you renew my books?\n\nAnd reserve Emma.",
        ),
        (
            "Thanks for the quick reply! One more question: do you have parking?\n\nCheers",
            "Thanks for the quick reply! One more question: do you have parking?",
        ),
    ],
)
def test_clean_email_body(body: str, expected: str) -> None:
    assert clean_email_body(body) == expected


def test_inline_reply_keeps_the_readers_lines_between_quotes() -> None:
    body = "> Which branch?\nRiverside, please.\n> Which day?\nThursday morning."
    assert clean_email_body(body) == "Riverside, please.\nThursday morning."


def test_a_closer_that_is_the_whole_message_is_not_lost() -> None:
    assert clean_email_body("Thanks!\n\nSent from my iPhone") == "Thanks!"


def test_an_all_quoted_message_falls_back_to_its_first_paragraph() -> None:
    body = "> Can you renew my books?\n> They are due Friday.\n>\n> Old thread"
    assert clean_email_body(body) == "Can you renew my books?\nThey are due Friday."


def test_a_body_without_content_stays_empty() -> None:
    assert clean_email_body(" \n>\n-- \n") == ""


def test_a_closer_mid_message_is_kept() -> None:
    body = "Thanks,\nI also wanted to ask whether you have audiobooks for children?"
    assert clean_email_body(body) == body


def test_html_to_text_gmail_reply() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        '<div dir="ltr">Can you renew <b>Dune</b>?<br>My card is&nbsp;21234000123456.'
        '<div>See <a href="https://riverbend-library.org/loans">my loans</a> and '
        '<a href="https://riverbend-library.org">riverbend-library.org</a></div></div>'
        '<div class="gmail_quote"><div>On Mon, Mar 4, 2024 Riverbend Library wrote:</div>'
        "<blockquote><p>Your loan is due.</p></blockquote></div>"
        "<script>alert('x')</script></body></html>"
    )
    assert html_to_text(html) == (
        "Can you renew Dune?\nMy card is 21234000123456.\n"
        "See my loans (https://riverbend-library.org/loans) and riverbend-library.org\n"
        "On Mon, Mar 4, 2024 Riverbend Library wrote:\n\n> Your loan is due."
    )
    assert clean_email_body(html_to_text(html)) == (
        "Can you renew Dune?\nMy card is 21234000123456.\n"
        "See my loans (https://riverbend-library.org/loans) and riverbend-library.org"
    )


def test_html_to_text_lists_entities_and_paragraphs() -> None:
    html = (
        "<p>Two things &amp; a question:</p><ul><li>renew my loans</li>"
        "<li>reserve &quot;Emma&quot;</li></ul><p>Caf&eacute; hours?<br/><br/>Thanks</p>"
        '<p><a href="mailto:ada@example.org">ada@example.org</a></p>'
    )
    assert html_to_text(html) == (
        'Two things & a question:\n\n- renew my loans\n- reserve "Emma"\n\n'
        "Café hours?\n\nThanks\n\nada@example.org"
    )


def test_html_to_text_keeps_markup_like_text_as_text() -> None:
    assert html_to_text("<p>is 3 &lt; 5 &amp;&amp; <i>ok</i></p>") == "is 3 < 5 && ok"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Renewal", "Renewal"),
        ("RE: Fwd: [External] Your reservation is ready", "Your reservation is ready"),
        ("AW: WG: Öffnungszeiten", "Öffnungszeiten"),
        ("[EXTERNAL] RE[2]: fine   question", "fine question"),
        ("Fw: re: Research help", "Research help"),
        ("Return of books", "Return of books"),
        ("Regarding my card", "Regarding my card"),
    ],
)
def test_subject_as_text(subject: str, expected: str) -> None:
    assert subject_as_text(subject) == expected
