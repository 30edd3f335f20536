"""Session fixtures: real IMAP (dovecot) and SMTP (aiosmtpd) servers for the email connector.

``email_system_env`` points the ``system`` fixture's email channel at them. When
dovecot is missing it yields ``{}`` (the channel then stays idle) so that the other
channels' system tests still run; the email tests themselves ask for
``mail_servers``, which skips with the reason, or fails when ``CI`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.standins.mail_servers import MailServers, dovecot_problem, start_mail_servers

logger = logging.getLogger(__name__)

READER_PASSWORD = "reader-test-password"
READER_ADDRESS = "ada@readers.test"
"""A reader with a real IMAP mailbox: the library's answers are delivered there too."""


@pytest.fixture(scope="session")
def _mail_servers_or_problem() -> Iterator[MailServers | str]:
    problem = dovecot_problem()
    if problem is not None:
        yield problem
        return
    try:
        servers = start_mail_servers({READER_ADDRESS: READER_PASSWORD})
    except Exception as error:  # reported by the email tests, not by every system test
        logger.exception("could not start the test mail servers")
        yield f"the test mail servers did not start: {error}"
        return
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def email_system_env(_mail_servers_or_problem: MailServers | str) -> Iterator[dict[str, str]]:
    """Environment variables for the email connector of the system fixture."""
    if isinstance(_mail_servers_or_problem, str):
        yield {}
    else:
        yield _mail_servers_or_problem.env()


@pytest.fixture(scope="session")
def mail_servers(_mail_servers_or_problem: MailServers | str) -> MailServers:
    """The session's mail servers (the ones the ``system`` fixture's Rasa uses)."""
    from tests.conftest import require_service

    if isinstance(_mail_servers_or_problem, str):
        require_service("dovecot", _mail_servers_or_problem)
    assert isinstance(_mail_servers_or_problem, MailServers)
    return _mail_servers_or_problem
