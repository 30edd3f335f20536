"""The library domain shared by the actions, the console and the worker.

- :mod:`library.profile`: the library's own facts (branches, hours, policies) from
  ``bot/library_profile.yml``;
- :mod:`library.staffed_time`: time measured in staffed hours;
- :mod:`library.ils`: the adapters to the integrated library system (the demo ILS and Koha).
"""
