"""Pending changes of the training data: against git HEAD, or against a baseline snapshot.

When the project folder is inside a git repository with a commit, the pending changes
are the difference between ``HEAD`` and the files on disk (read with ``git show``; the
studio never touches the repository's index or history). Otherwise the studio keeps a
snapshot of the files as they were when it first looked at the folder
(``RIC_STUDIO_STATE_DIR``), and the changes are shown against that.

The patch is a ``git apply``-able unified diff, its paths relative to the repository
root (``bot/data/nlu/…``), or prefixed with the folder's name without git.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from handoff_console.studio.training_data.project import PROJECT_ROOT, BotProject
from ric_config.store import StoreConfig
from ric_config.studio import StudioConfig

__all__ = [
    "Baseline",
    "FileChange",
    "Pending",
    "baseline_for",
    "ensure_baseline",
    "pending",
    "state_dir",
]


@dataclass(frozen=True)
class FileChange:
    """One changed file: ``added``, ``modified`` or ``deleted``, with its line counts."""

    path: str
    status: str
    added_lines: int
    removed_lines: int
    diff: str


@dataclass(frozen=True)
class Pending:
    """Every pending change, and what they are compared with."""

    baseline: str
    files: list[FileChange]

    @property
    def patch(self) -> str:
        """The changes as one unified diff."""
        return "".join(change.diff for change in self.files)


@dataclass(frozen=True)
class Baseline:
    """The reference state of the project's files.

    Attributes:
        kind: ``git`` or ``snapshot``.
        label: What the page says it is (``git HEAD 1a2b3c4``, ``snapshot of …``).
        prefix: The project folder's path in the patch (``bot``).
        texts: Each file's reference text.
    """

    kind: str
    label: str
    prefix: str
    texts: dict[str, str]


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_baseline(project: BotProject) -> Baseline | None:
    top = _git(project.root, "rev-parse", "--show-toplevel")
    head = _git(project.root, "rev-parse", "--short", "HEAD")
    if top is None or head is None:
        return None
    prefix = project.root.relative_to(Path(top.strip()).resolve()).as_posix()
    listed = _git(project.root, "ls-tree", "-r", "--name-only", "--full-tree", "HEAD", "--", prefix)
    texts = {}
    for name in (listed or "").splitlines():
        rel = name[len(prefix) + 1 :] if prefix not in ("", ".") else name
        path = project.root / rel
        if not project.is_editable(path):
            continue
        text = _git(project.root, "show", f"HEAD:{name}")
        if text is not None:
            texts[rel] = text
    return Baseline("git", f"git HEAD {head.strip()}", prefix, texts)


def state_dir() -> Path:
    """Where the studio keeps its state (``RIC_STUDIO_STATE_DIR``, else ``var/studio``)."""
    config = StudioConfig()
    if config.studio_state_dir:
        return Path(config.studio_state_dir)
    var = StoreConfig().var_dir
    return (Path(var) if var else PROJECT_ROOT / "var") / "studio"


def _snapshot_folder(project: BotProject) -> Path:
    key = hashlib.sha256(str(project.root).encode()).hexdigest()[:12]
    return state_dir() / f"baseline-{key}"


def ensure_baseline(project: BotProject) -> None:
    """Take the baseline snapshot now if the project needs one and has none yet.

    Called before the studio first writes, so that the snapshot is the state before
    any of its changes.
    """
    if not (_snapshot_folder(project) / ".complete").is_file() and not _in_git(project):
        _snapshot_baseline(project)


def _in_git(project: BotProject) -> bool:
    return _git(project.root, "rev-parse", "--verify", "--quiet", "HEAD") is not None


def _snapshot_baseline(project: BotProject) -> Baseline:
    folder = _snapshot_folder(project)
    if not (folder / ".complete").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for rel, text in project.texts().items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        (folder / ".complete").write_text(str(project.root), encoding="utf-8")
    texts = {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".complete"
    }
    label = f"the snapshot taken when the studio first opened {project.root}"
    return Baseline("snapshot", label, project.root.name, texts)


def baseline_for(project: BotProject) -> Baseline:
    """The project's reference state: git HEAD when it has one, else the snapshot."""
    return _git_baseline(project) or _snapshot_baseline(project)


def _diff(prefix: str, rel: str, before: str | None, after: str | None) -> tuple[str, int, int]:
    """A git-style diff of one file, with its added and removed line counts."""
    name = f"{prefix}/{rel}" if prefix not in ("", ".") else rel
    lines = list(
        difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            "/dev/null" if before is None else f"a/{name}",
            "/dev/null" if after is None else f"b/{name}",
        )
    )
    content = [line for line in lines[2:] if not line.startswith("@@")]
    added = sum(1 for line in content if line.startswith("+"))
    removed = sum(1 for line in content if line.startswith("-"))
    no_newline = "\n\\ No newline at end of file\n"
    body = "".join(line if line.endswith("\n") else line + no_newline for line in lines)
    header = f"diff --git a/{name} b/{name}\n"
    if before is None:
        header += "new file mode 100644\n"
    elif after is None:
        header += "deleted file mode 100644\n"
    return header + body, added, removed


def pending(project: BotProject, baseline: Baseline | None = None) -> Pending:
    """The project's pending changes against its baseline."""
    baseline = baseline or baseline_for(project)
    current = project.texts()
    files = []
    for rel in sorted(set(current) | set(baseline.texts)):
        before, after = baseline.texts.get(rel), current.get(rel)
        if before == after:
            continue
        status = "added" if before is None else "deleted" if after is None else "modified"
        diff, added, removed = _diff(baseline.prefix, rel, before, after)
        files.append(FileChange(rel, status, added, removed, diff))
    return Pending(baseline.label, files)
