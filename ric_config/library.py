"""Settings of the library domain: the profile and the library-system adapter."""

from __future__ import annotations

from ric_config._base import RicSettings, exactly_one, setting

__all__ = ["LibraryConfig"]


class LibraryConfig(RicSettings):
    """Which library profile and library system the processes use."""

    area = "Library profile and library system"

    library_profile: str | None = setting(
        None,
        "RIC_LIBRARY_PROFILE",
        "the library's facts: branches, hours, closures, chat hours, loan rules",
        shown_default="`bot/library_profile.yml`",
    )
    library_timezone: str | None = setting(
        None,
        "RIC_LIBRARY_TIMEZONE",
        "overrides the time zone of quiet hours and due dates",
        shown_default="the library profile's",
    )
    library_system: str = setting(
        "demo",
        "RIC_LIBRARY_SYSTEM",
        "library-system adapter: `demo` or `package.module:Class`",
        blank="unset",
        strip=True,
    )
    library_system_down: bool = setting(
        False,
        "RIC_LIBRARY_SYSTEM_DOWN",
        "`1` makes every library-system call fail, to try the \"system down\" path",
        parse=exactly_one,
    )
    demo_ils_db: str | None = setting(
        None,
        "RIC_DEMO_ILS_DB",
        "the demo library system's state (renewals, holds, PIN failures)",
        shown_default="`var/demo_ils.db` (the launcher: `$RIC_VAR_DIR/demo_ils.db`)",
    )
