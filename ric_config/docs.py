"""``python -m ric_config.docs``: write ``docs/configuration.md`` from the settings models.

``--check`` only compares, and exits with 1 when the committed file is out of date.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import ModelField

from ric_config import ALL_SETTINGS, RicSettings

__all__ = ["DOC_PATH", "main", "render"]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

_INTRO = """\
# Configuration

Every process reads its settings from the environment into typed pydantic models,
defined in one place: the package `ric_config`, one model per area below. Nothing
secret lives in YAML or in git. The defaults are safe for a single machine. A value
that does not fit its type stops the process with a message naming the variable
(the worker's job timings are the exception: it logs the wrong value and uses the
default). Tokens and passwords are `SecretStr`: a settings object's `repr` hides them.

This file is generated from the models by `python -m ric_config.docs`; a test checks
that it is up to date, so change the models, not this file.
"""

_OUTRO = """\
## Read by scripts and tests only

| variable | default | meaning |
|---|---|---|
| `RIC_PYTHON` | first of python3.11, python3.10, python3 | interpreter for `.venv` |
| `RIC_TEST_POSTGRES_URL` | `postgresql://postgres@127.0.0.1:5432/test` | PostgreSQL for tests |

The launcher passes the settings to the processes it starts through their environment,
and adds `RIC_ACTION_ENDPOINT` (the action server's webhook, read by `endpoints.yml`).

PIN codes, passwords and tokens are never logged, and no token is ever passed on a
command line. Database URLs are printed with the password hidden.
"""

_TYPES = ((SecretStr, "secret"), (bool, "flag"), (int, "integer"), (float, "number"), (str, "text"))


def _type(field: ModelField) -> str:
    # constrained types (``ge=1``) are subclasses of the plain ones
    kind = field.outer_type_
    return next((name for base, name in _TYPES if issubclass(kind, base)), kind.__name__)


def _default(field: ModelField) -> str:
    shown = field.field_info.extra.get("shown_default")
    if shown is not None:
        return str(shown)
    value = field.default
    if value is None or value == "" or value == SecretStr(""):
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "unset (off)"
    return f"`{value}`"


def _summary(model: type[RicSettings]) -> str:
    """The model's docstring before its ``Attributes:`` section, as one paragraph."""
    text = inspect.cleandoc(model.__doc__ or "").partition("Attributes:")[0]
    return " ".join(text.split())


def _table(model: type[RicSettings]) -> str:
    lines = [
        f"## {model.area}",
        "",
        f"`ric_config.{model.__name__}`: {_summary(model)}",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for field in model.__fields__.values():
        env = field.field_info.extra["env"]
        meaning = field.field_info.description or ""
        lines.append(f"| `{env}` | {_type(field)} | {_default(field)} | {meaning} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The text of ``docs/configuration.md``."""
    return "\n".join([_INTRO, *(_table(model) for model in ALL_SETTINGS), _OUTRO])


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the configuration document."""
    parser = argparse.ArgumentParser(prog="python -m ric_config.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; 1 when stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python -m ric_config.docs", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
