"""Validation of a change before it is written: YAML, Rasa's own checks, the project's.

:func:`validate` stages the changed project in a temporary copy and runs what
``rasa data validate`` runs, in-process (Rasa's ``TrainingDataImporter`` and
``Validator``: faster than a subprocess, which would import TensorFlow each time),
plus the project's checks:

- every changed file parses as YAML (the reason names the file and line);
- Rasa reads the project (its YAML schemas, the domain) without an error;
- Rasa's validator: actions, forms and slots of rules and stories, intents in the
  domain and the data, responses used in rules, an example under two intents;
- ``nlu_components.data_check.conflicts``: one text under two labels (FAQ topics too);
- every FAQ topic has its answer, and every annotated entity is in the domain.

The shipped data already draws some of Rasa's warnings (an intent no rule uses), so a
change is refused only for a problem the project did not have before it. Warnings
that only advise (a response no rule uses) come back with the save instead.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.error import YAMLError

from handoff_console.services.errors import BadRequest
from handoff_console.studio.training_data.project import BotProject, load_yaml, text_version
from nlu_components.data_check import conflicts

__all__ = [
    "ADVISORY",
    "Findings",
    "Verdict",
    "check_project",
    "is_primed",
    "prime",
    "remember",
    "validate",
]

ADVISORY = ("is not used in any story or rule",)
"""Validator messages that advise and never refuse a change."""

_baseline: dict[str, Findings] = {}
_parsed: dict[tuple[str, str], bytes] = {}
_schema_ok: set[tuple[str, str]] = set()
CACHE_LIMIT = 2000


@dataclass(frozen=True)
class Findings:
    """What the checks found in one state of the project.

    Attributes:
        problems: Messages that would refuse a change that introduced them.
        advice: Messages that only advise.
    """

    problems: frozenset[str]
    advice: frozenset[str]


class _Collect(logging.Handler):
    """Keeps the validator's logged warnings (story conflicts are logged, not warned)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _reuse_parsed_yaml() -> Iterator[None]:
    """While Rasa reads a project, reuse what it parsed from the same text before.

    Rasa parses every file with pure-Python ruamel (several times: the schema check,
    the domain, NLU twice), which makes a validation take seconds on two cores; an
    edit changes one or two files. Parsing depends only on the text, and a schema
    check that passed passes again, so both are remembered by the text (parsed data
    is kept pickled and handed out as a fresh copy). Rasa calls both through their
    modules, so they are swapped there for one validation, under the editor's lock.
    """
    import rasa.shared.utils.io as rasa_io
    import rasa.shared.utils.validation as rasa_validation

    read_yaml, check_schema = rasa_io.read_yaml, rasa_validation.validate_yaml_schema
    if len(_parsed) > CACHE_LIMIT:
        _parsed.clear()
        _schema_ok.clear()

    def cached_read(content: str, reader_type: Any = "safe") -> Any:
        key = (content, repr(reader_type))
        if key not in _parsed:
            _parsed[key] = pickle.dumps(read_yaml(content, reader_type))
        return pickle.loads(_parsed[key])  # noqa: S301 (our own bytes, never input)

    def cached_schema(content: str, schema_path: str, *args: Any) -> None:
        key = (content, schema_path + repr(args))
        if key not in _schema_ok:
            check_schema(content, schema_path, *args)
            _schema_ok.add(key)

    rasa_io.read_yaml = cached_read  # type: ignore[assignment]
    rasa_validation.validate_yaml_schema = cached_schema  # type: ignore[assignment]
    try:
        yield
    finally:
        rasa_io.read_yaml = read_yaml
        rasa_validation.validate_yaml_schema = check_schema


def _rasa_checks(project: BotProject) -> list[str]:
    """Rasa's messages about ``project`` (an exception while reading it is one too)."""
    from rasa.shared.exceptions import RasaException
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.validator import Validator

    collect = _Collect()
    rasa_logger = logging.getLogger("rasa.validator")
    rasa_logger.addHandler(collect)
    messages: list[str] = []
    try:
        with _reuse_parsed_yaml(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importer = TrainingDataImporter.load_from_config(
                str(project.config_file),
                str(project.domain_path),
                [str(project.root / "data")],
            )
            validator = Validator.from_importer(importer)
            validator.verify_domain_validity()
            validator.verify_actions_in_stories_rules()
            validator.verify_forms_in_stories_rules()
            validator.verify_form_slots()
            validator.verify_slot_mappings()
            validator.verify_nlu(ignore_warnings=False)
            validator.verify_story_structure(ignore_warnings=False)
        messages += [str(w.message) for w in caught if _from_rasa(w)]
        nlu = validator.intents
        labelled = [
            (str(m.get(TEXT)), str(m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)))
            for m in nlu.intent_examples
            if m.get(TEXT)
        ]
        messages += _project_checks(labelled, nlu, validator.domain)
    except (RasaException, ValueError, KeyError, TypeError) as error:
        messages.append(f"Rasa cannot read the training data: {error}")
    finally:
        rasa_logger.removeHandler(collect)
    return messages + collect.messages


def _from_rasa(warning: warnings.WarningMessage) -> bool:
    """A warning Rasa raised about the data (not a library's deprecation notice)."""
    category = warning.category
    if not issubclass(category, UserWarning) or issubclass(category, DeprecationWarning):
        return False
    deprecation = "deprecat" in str(warning.message).lower()
    return f"{os.sep}rasa{os.sep}" in warning.filename and not deprecation


def _project_checks(labelled: list[tuple[str, str]], nlu: Any, domain: Any) -> list[str]:
    found = [
        f"The example {text!r} is under several labels: {', '.join(sorted(labels))}."
        for text, labels in sorted(conflicts(labelled).items())
    ]
    topics = sorted({label for _, label in labelled if label.startswith("faq/")})
    found += [
        f"The FAQ topic {topic} has no answer: add the response utter_{topic}."
        for topic in topics
        if f"utter_{topic}" not in domain.responses
    ]
    declared = set(domain.entities)
    found += [
        f"The entity {name!r} is marked in examples but not declared in the domain."
        for name in sorted(set(nlu.entities) - declared)
    ]
    return found


def check_project(project: BotProject) -> Findings:
    """Run every check on ``project`` as it is on disk."""
    messages = _rasa_checks(project)
    advice = {m for m in messages if any(pattern in m for pattern in ADVISORY)}
    return Findings(frozenset(messages) - advice, frozenset(advice))


def _baseline_of(project: BotProject) -> Findings:
    """The findings of the project as it is now, cached by the content of its files."""
    key = _key(project)
    if key not in _baseline:
        _baseline.clear()
        _baseline[key] = check_project(project)
    return _baseline[key]


def is_primed(project: BotProject) -> bool:
    """Whether the project's current state has been checked (the next save is quicker)."""
    return _key(project) in _baseline


def prime(project: BotProject) -> None:
    """Check the project as it is now (the next change's baseline), if not done yet."""
    _baseline_of(project)


@dataclass(frozen=True)
class Verdict:
    """A change that passed: the advice it draws, and the findings of the changed project."""

    advice: list[str]
    findings: Findings


def _key(project: BotProject) -> str:
    texts = project.texts()
    return f"{project.root}:" + text_version("\n".join(f"{r}\n{t}" for r, t in texts.items()))


def remember(project: BotProject, findings: Findings) -> None:
    """Cache the findings of the project as just written (the next change's baseline)."""
    _baseline.clear()
    _baseline[_key(project)] = findings


def validate(project: BotProject, changes: Mapping[str, str | None]) -> Verdict:
    """Validate a changeset against the project; the advice it draws.

    Raises:
        BadRequest: ``invalid_yaml`` (a changed file does not parse) or
            ``invalid_training_data`` (Rasa or the project's checks found a new
            problem); ``problems`` lists every reason.
    """
    syntax = []
    for rel, text in changes.items():
        if text is None:
            continue
        try:
            load_yaml(text)
        except YAMLError as error:
            syntax.append(f"{rel}: {error}")
    if syntax:
        raise BadRequest(
            "invalid_yaml", "The change is not valid YAML: " + syntax[0], problems=syntax
        )
    before = _baseline_of(project)
    with project.staged(changes) as staged:
        after = check_project(staged)
    new = sorted(_anonymous(after.problems, staged.root, project.root) - before.problems)
    if new:
        raise BadRequest(
            "invalid_training_data",
            "The change was refused: "
            + new[0]
            + (f" (and {len(new) - 1} more problems)" if len(new) > 1 else ""),
            problems=new,
        )
    findings = Findings(
        _anonymous(after.problems, staged.root, project.root),
        _anonymous(after.advice, staged.root, project.root),
    )
    return Verdict(sorted(findings.advice - before.advice), findings)


def _anonymous(messages: frozenset[str], staged: Any, real: Any) -> frozenset[str]:
    """Messages with the staging folder's path replaced by the project's."""
    return frozenset(m.replace(str(staged), str(real)) for m in messages)
