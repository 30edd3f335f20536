"""The library domain shared by the actions, the console and the worker.

- :mod:`library.profile`: the library's own facts (branches, hours, policies) from
  ``bot/library_profile.yml``;
- :mod:`library.hours`: a branch's opening hours on a day, the next opening, the usual week;
- :mod:`library.staffed_time`: time measured in staffed hours;
- :mod:`library.ils`: the adapters to the integrated library system (the demo ILS and Koha);
- :func:`mask_card`: the one way a card number is shown (``**********3456``), defined
  in the store's redaction module and re-exported here for the library's callers.
"""

from __future__ import annotations

from crm_store.redaction import mask_card
from library.profile import LibraryProfile, ProfileError, load_profile

__all__ = ["LibraryProfile", "ProfileError", "load_profile", "mask_card"]
