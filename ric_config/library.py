"""Settings of the library domain: the profile and the library-system adapter."""

from __future__ import annotations

from ric_config._base import RicSettings, setting, switch, trimmed

__all__ = ["LibraryConfig"]


class LibraryConfig(RicSettings):
    """Which library profile and library system the processes use.

    Attributes:
        library_profile: the library's facts: branches, hours, closures, chat hours, loan
            rules. Default: `bot/library_profile.yml`
        library_timezone: overrides the time zone of quiet hours and due dates.
            Default: the library profile's
        library_system: library-system adapter: `demo` or `package.module:Class`
        library_system_down: `1` makes every library-system call fail, to try the
            "system down" path
        demo_ils_db: the demo library system's state (renewals, holds, PIN failures).
            Default: `var/demo_ils.db` (the launcher: `$RIC_VAR_DIR/demo_ils.db`)
    """

    area = "Library profile and library system"

    library_profile: str | None = setting(None, "RIC_LIBRARY_PROFILE")
    library_timezone: str | None = setting(None, "RIC_LIBRARY_TIMEZONE")
    library_system: str = trimmed("demo", "RIC_LIBRARY_SYSTEM")
    library_system_down: bool = switch("RIC_LIBRARY_SYSTEM_DOWN")
    demo_ils_db: str | None = setting(None, "RIC_DEMO_ILS_DB")
