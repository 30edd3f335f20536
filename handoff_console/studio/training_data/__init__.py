"""The admin studio's training-data editor (issue 16): the YAML in ``bot/`` stays the truth.

:class:`Editor` reads intents, FAQ topics, examples and responses from the project's
YAML files and writes validated, audited, versioned changes back in the same files
and layout; :func:`~handoff_console.studio.training_data.changes.pending` shows what
changed against git HEAD or a baseline snapshot. Modules:

- ``project``: the folder, its files, round-trip YAML, versions;
- ``model``: the read side (a snapshot of every file);
- ``intents`` and ``responses``: the edits;
- ``validate``: Rasa's checks and the project's, before anything is written;
- ``changes``: pending changes, the patch;
- ``editor``: the operations the API calls.
"""

from __future__ import annotations

from handoff_console.studio.training_data.changes import FileChange, Pending
from handoff_console.studio.training_data.editor import EDITOR_ACTIONS, Editor, Saved, warm_up
from handoff_console.studio.training_data.project import BotProject

__all__ = ["EDITOR_ACTIONS", "BotProject", "Editor", "FileChange", "Pending", "Saved", "warm_up"]
