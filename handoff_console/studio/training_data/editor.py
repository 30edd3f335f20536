"""The training-data editor's operations: read views, and validated, audited, versioned saves.

Every save runs under one lock per project folder: it reads the files, compares the
version the admin edited with the current one (a stale version is a 409 naming who
changed it and when, never a silent overwrite), applies the edit, validates the result
(:mod:`~handoff_console.studio.training_data.validate`; a 400 with every reason), records
an ``audit_log`` entry with the admin's name, then writes the files. The caller (a
request) owns the store transaction, as everywhere in the console.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import AuditEntry, StaffUser
from handoff_console.services.errors import BadRequest, Conflict
from handoff_console.studio.training_data import changes as pending_changes
from handoff_console.studio.training_data import intents, responses
from handoff_console.studio.training_data.model import (
    FAQ_PREFIX,
    RESPONSE_PREFIX,
    Snapshot,
    snapshot,
)
from handoff_console.studio.training_data.project import BotProject, Changeset, text_version
from handoff_console.studio.training_data.validate import is_primed, prime, remember, validate

__all__ = ["EDITOR_ACTIONS", "Editor", "Saved", "warm_up"]

EDITOR_ACTIONS = (
    "studio.examples.set",
    "studio.examples.move",
    "studio.intent.create",
    "studio.intent.rename",
    "studio.response.set",
    "studio.response.create",
    "studio.file.set",
    "studio.changes.discard",
)
"""The audit log's actions of the training-data editor."""

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()

Saved = dict[str, Any]
"""A save's answer: the resource's new view plus ``files`` and ``warnings``."""


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    """One save at a time per folder: across threads, and across console processes
    (an exclusive ``flock`` on a file in the studio's state folder)."""
    with _locks_guard:
        thread_lock = _locks.setdefault(root, threading.Lock())
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    folder = pending_changes.state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with thread_lock, (folder / f"lock-{digest}").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def warm_up(project: BotProject) -> None:
    """Import Rasa and check the project as it is now, so that the first save is quick."""
    with _lock(project.root):
        pending_changes.ensure_baseline(project)
        prime(project)


class Editor:
    """One admin's editing session on one project (built per request).

    Args:
        project: The Rasa project folder.
        session: The request's store session (for the audit log).
        staff_id: The admin's ``staff_users.id``.
        staff_name: The admin's display name, kept in each audit entry.
        cancelled: Set when the request gave up waiting (its client got an error): a
            save that has not written yet then writes nothing.
    """

    def __init__(
        self,
        project: BotProject,
        session: Session,
        staff_id: int,
        staff_name: str,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.project = project
        self.session = session
        self.staff_id = staff_id
        self.staff_name = staff_name
        self.cancelled = cancelled or threading.Event()

    # -- views ---------------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """Every intent and FAQ topic with its example count, the entities and the files."""
        snap = snapshot(self.project, read_only=True)
        examples = snap.examples()
        names = set(examples) | {
            n for n in snap.domain_intents() if not n.startswith("EXTERNAL_") and n != "faq"
        }
        items = [
            {
                "name": name,
                "kind": "faq" if name.startswith(FAQ_PREFIX) else "intent",
                "examples": len(examples.get(name, [])),
                "files": sorted({e.file for e in examples.get(name, [])}),
            }
            for name in sorted(names)
        ]
        return {
            "intents": items,
            "entities": snap.entities(),
            "nlu_files": snap.nlu_files(),
            "files": self.project.files(),
            "checks_ready": is_primed(self.project),
        }

    def intent(self, name: str, snap: Snapshot | None = None) -> dict[str, Any]:
        """One intent or FAQ topic: its examples, version and (FAQ) answer."""
        snap = snap or snapshot(self.project, read_only=True)
        examples = snap.examples_of(name)
        answer = None
        if name.startswith(FAQ_PREFIX) and snap.response(RESPONSE_PREFIX + name, missing_ok=True):
            answer = self.response(RESPONSE_PREFIX + name, snap)
        return {
            "name": name,
            "kind": "faq" if name.startswith(FAQ_PREFIX) else "intent",
            "version": snap.intent_version(name),
            "examples": [{"text": e.text, "file": e.file} for e in examples],
            "entities": snap.entities(),
            "nlu_files": snap.nlu_files(),
            "renamable": name not in intents.PROTECTED_NAMES,
            "answer": answer,
        }

    def response_list(self) -> list[dict[str, Any]]:
        """Every response: name, file, number of variations and its first text."""
        snap = snapshot(self.project, read_only=True)
        found = []
        for name, rel in sorted(snap.responses().items()):
            variations = [responses.variation_view(v) for v in snap.response(name) or []]
            found.append(
                {
                    "name": name,
                    "file": rel,
                    "variations": len(variations),
                    "text": variations[0]["text"] if variations else "",
                }
            )
        return found

    def response(self, name: str, snap: Snapshot | None = None) -> dict[str, Any]:
        """One response: its variations and version."""
        snap = snap or snapshot(self.project, read_only=True)
        return {
            "name": name,
            "file": snap.responses().get(name) or "",
            "version": snap.response_version(name),
            "variations": [responses.variation_view(v) for v in snap.response(name) or []],
        }

    def file(self, rel: str) -> dict[str, Any]:
        """One file's YAML text and version."""
        text = self.project.read(rel)
        return {"path": rel, "version": text_version(text), "content": text}

    # -- saves ---------------------------------------------------------------------------

    def _save(
        self,
        action: str,
        subject: str,
        version: tuple[str, Callable[[Snapshot], str]] | None,
        edit: Callable[[Snapshot], Changeset | None],
        view: Callable[[Snapshot], dict[str, Any]],
        **detail: object,
    ) -> Saved:
        """Check the version, edit, validate, audit and write; the new view."""
        with _lock(self.project.root):
            snap = snapshot(self.project)
            if version is not None:
                given, current_of = version
                current = current_of(snap)
                if given != current:
                    raise self._conflict(subject, current)
            changes = edit(snap)
            changes = snap.changes() if changes is None else changes
            if not changes:
                return {**view(snap), "files": [], "warnings": []}
            verdict = validate(self.project, changes)
            if self.cancelled.is_set():
                raise TimeoutError("the request was cancelled before the change was written")
            pending_changes.ensure_baseline(self.project)
            audit(
                self.session,
                self.staff_id,
                action,
                subject[:120],
                by=self.staff_name,
                files=sorted(changes),
                **detail,
            )
            self.session.flush()
            self.project.write(changes)
            remember(self.project, verdict.findings)
            fresh = snapshot(self.project, read_only=True)
            return {**view(fresh), "files": sorted(changes), "warnings": verdict.advice}

    def _save_intent(
        self,
        action: str,
        name: str,
        version: str,
        edit: Callable[[Snapshot], Changeset | None],
        shown: str,
        **detail: object,
    ) -> Saved:
        """:meth:`_save` of intent ``name`` opened at ``version``; the view of intent ``shown``."""
        return self._save(
            action,
            f"intent:{name}",
            (version, lambda s: s.intent_version(name)),
            edit,
            lambda s: self.intent(shown, s),
            **detail,
        )

    def _conflict(self, subject: str, current: str) -> Conflict:
        last = self.session.execute(
            select(AuditEntry, StaffUser)
            .join(StaffUser, StaffUser.id == AuditEntry.staff_user_id, isouter=True)
            .where(AuditEntry.subject == subject[:120], AuditEntry.action.like("studio.%"))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).first()
        who = ""
        if last is not None:
            entry, user = last
            name = user.display_name if user is not None else "someone"
            who = f" by {name} at {entry.created_at:%H:%M} UTC"
        what = subject.split(":", 1)[1]
        return Conflict(
            "version_conflict",
            f"{what} was changed{who} after you opened it. Reload to see the current "
            "version, then make your change again.",
            current_version=current,
        )

    def set_examples(self, name: str, version: str, examples: list[dict[str, Any]]) -> Saved:
        """Replace an intent's examples (add, edit, delete and reorder in one save)."""
        if not isinstance(examples, list):
            raise BadRequest("bad_examples", "examples is a list of {text, file}.")
        pairs: list[tuple[object, str | None]] = []
        for item in examples:
            if not isinstance(item, dict):
                raise BadRequest("bad_examples", "examples is a list of {text, file}.")
            rel = item.get("file")
            pairs.append((item.get("text"), rel if isinstance(rel, str) and rel else None))
        return self._save_intent(
            "studio.examples.set",
            name,
            version,
            lambda s: intents.set_examples(s, name, pairs),
            name,
            examples=len(pairs),
        )

    def move_examples(
        self, name: str, version: str, texts: list[str], target: str, target_version: str
    ) -> Saved:
        """Move examples to another intent; both versions must be current."""

        def edit(snap: Snapshot) -> None:
            if snap.intent_version(target) != target_version:
                raise self._conflict(f"intent:{target}", snap.intent_version(target))
            intents.move_examples(snap, name, texts, target)

        return self._save_intent(
            "studio.examples.move", name, version, edit, name, to=target, examples=texts
        )

    def create_intent(
        self, name: str, examples: list[Any], file: str | None, answer: str | None
    ) -> Saved:
        """Create an intent, or an FAQ topic with its answer."""
        if not isinstance(examples, list) or not examples:
            raise BadRequest("no_examples", "A new intent needs at least one example.")
        clean = intents.check_name(name)
        return self._save(
            "studio.intent.create",
            f"intent:{clean}",
            None,
            lambda s: intents.create_intent(s, clean, examples, file, answer),
            lambda s: self.intent(clean, s),
        )

    def rename_intent(self, name: str, version: str, new_name: str) -> Saved:
        """Rename an intent or FAQ topic everywhere it is named."""
        new = intents.check_name(new_name)

        def edit(snap: Snapshot) -> None:
            intents.rename_intent(snap, name, new)

        return self._save_intent("studio.intent.rename", name, version, edit, new, new_name=new)

    def set_response(self, name: str, version: str, variations: object) -> Saved:
        """Replace a response's variations."""
        return self._save(
            "studio.response.set",
            f"response:{name}",
            (version, lambda s: s.response_version(name)),
            lambda s: responses.set_response(s, name, variations),
            lambda s: self.response(name, s),
        )

    def create_response(self, name: str, variations: object) -> Saved:
        """Add a new response."""
        clean = name.strip() if isinstance(name, str) else ""

        def edit(snap: Snapshot) -> None:
            responses.add_response(snap, clean, variations)

        return self._save(
            "studio.response.create",
            f"response:{clean}",
            None,
            edit,
            lambda s: self.response(clean, s),
        )

    def set_file(self, rel: str, version: str, content: object) -> Saved:
        """Replace one YAML file's text (the raw editor)."""
        if not isinstance(content, str) or not content.strip():
            raise BadRequest("empty_file", "The file cannot be empty.")
        self.project.path(rel)
        return self._save(
            "studio.file.set",
            f"file:{rel}",
            (version, lambda _s: text_version(self.project.read(rel))),
            lambda _s: {rel: content} if content != self.project.read(rel) else {},
            lambda _s: self.file(rel),
        )

    # -- pending changes -------------------------------------------------------------------

    def pending(self) -> pending_changes.Pending:
        """The pending changes against git HEAD or the baseline snapshot."""
        return pending_changes.pending(self.project)

    def discard(self, paths: list[str] | None) -> Saved:
        """Put files (all changed ones when ``paths`` is None) back as in the baseline."""
        baseline = pending_changes.baseline_for(self.project)
        changed = {c.path for c in pending_changes.pending(self.project, baseline).files}
        wanted = changed if paths is None else set(paths)
        unknown = sorted(wanted - changed)
        if unknown:
            raise BadRequest("not_changed", f"{unknown[0]} has no pending change.")
        restore: Changeset = {rel: baseline.texts.get(rel) for rel in sorted(wanted)}

        def view(_snap: Snapshot) -> dict[str, Any]:
            left = pending_changes.pending(self.project, baseline).files
            return {"discarded": sorted(wanted), "pending": [c.path for c in left]}

        return self._save(
            "studio.changes.discard", "training-data:changes", None, lambda _s: restore, view
        )
