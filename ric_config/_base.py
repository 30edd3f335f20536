"""The base of every settings model: reading the environment, blank values, clear errors.

Each model is a pydantic ``BaseSettings`` whose fields are declared with :func:`setting`,
which names the environment variable and says how its raw text is read. The models are
cheap to build, so callers build one per call and see the environment as it is now.

Exceptions::

    ValueError
    └── SettingsError   a variable holds a value its setting cannot take
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BaseSettings, Extra, Field, SecretStr, ValidationError

logger = logging.getLogger(__name__)

_S = TypeVar("_S", bound="RicSettings")

Blank = Literal["keep", "unset"]
"""How an empty variable is read: passed on as ``""`` (``keep``) or as if unset."""


class SettingsError(ValueError):
    """A variable holds a value its setting cannot take; the message names the variable."""


def setting(
    default: Any,
    env: str,
    *,
    blank: Blank = "keep",
    strip: bool = False,
    parse: Callable[[str], Any] | None = None,
    lenient: bool = False,
    **constraints: Any,
) -> Any:
    """Declare a setting read from the environment variable ``env``.

    What it means is written in the model's docstring, under ``Attributes:``; a
    sentence there starting ``Default:`` says how the documentation shows the default
    when the value alone does not say it.

    Args:
        default: The value when the variable is unset.
        env: The variable's name.
        blank: ``keep`` passes an empty value on as ``""`` (which fails for numbers);
            ``unset`` reads an empty value as if the variable were unset.
        strip: Strip surrounding whitespace from the variable's text first.
        parse: Turns the variable's text into the value (flags with their own spelling).
        lenient: A value that does not fit is logged as a warning and the default is
            used, instead of failing.
        constraints: pydantic constraints such as ``ge=1``.

    Returns:
        The pydantic field.
    """
    return Field(
        default, env=env, blank=blank, strip=strip, parse=parse, lenient=lenient, **constraints
    )


def trimmed(default: Any, env: str, **options: Any) -> Any:
    """A setting whose surrounding whitespace is stripped, and which is unset when empty."""
    return setting(default, env, blank="unset", strip=True, **options)


def tolerant(default: int, env: str, **options: Any) -> Any:
    """A worker timing: a value that is not a whole number is logged and the default used."""
    return setting(default, env, lenient=True, **options)


def switch(env: str) -> Any:
    """An off-by-default switch that only ``1`` turns on."""
    return setting(False, env, parse=exactly_one)


def secret(env: str, *, strip: bool = True) -> Any:
    """A token or password: a ``SecretStr``, hidden in every ``repr``; empty when unset."""
    return setting(SecretStr(""), env, strip=strip)


_ENTRY = re.compile(r"^ {4}(?P<name>\w+): (?P<text>.*)$")


def attribute_docs(docstring: str | None) -> dict[str, str]:
    """The entries of a Google-style ``Attributes:`` section, by attribute name.

    An entry is ``name: text``, continued on more deeply indented lines.
    """
    entries: dict[str, str] = {}
    lines = inspect.cleandoc(docstring or "").splitlines()
    if "Attributes:" not in lines:
        return entries
    name = ""
    for line in lines[lines.index("Attributes:") + 1 :]:
        if line and not line.startswith(" "):
            break  # the next section
        match = _ENTRY.match(line)
        if match:
            name = match["name"]
            entries[name] = match["text"].strip()
        elif name and line.strip():
            entries[name] += " " + line.strip()
    return entries


class RicSettings(BaseSettings):
    """Settings of one area, read from the environment when built.

    Keyword arguments override the environment. ``_environ`` reads another mapping
    instead of ``os.environ`` (the variables of one test, for example); :meth:`load` is
    the typed way to pass it. A value that does not fit raises :class:`SettingsError`
    naming the variable.
    """

    area: ClassVar[str] = ""
    """The heading of the area's table in ``docs/configuration.md``."""

    class Config:
        """Variables are matched by their exact names; unknown keywords fail."""

        case_sensitive = True
        extra = Extra.forbid
        allow_mutation = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give each field the meaning written in the class docstring (``Attributes:``)."""
        super().__init_subclass__(**kwargs)
        docs = attribute_docs(cls.__doc__)
        for name, field in cls.__fields__.items():
            text = docs.get(name, "")
            meaning, _, shown = text.partition(" Default: ")
            field.field_info.description = meaning.removesuffix(".") if shown else meaning
            field.field_info.extra["shown_default"] = shown.removesuffix(".") or None

    def __init__(self, _environ: Mapping[str, str] | None = None, **values: Any) -> None:
        """Read the environment (or ``_environ``), then apply ``values`` over it."""
        read = read_environment(type(self), os.environ if _environ is None else _environ)
        try:
            BaseModel.__init__(self, **{**read, **values})
        except ValidationError as error:
            raise SettingsError(describe_error(type(self), error)) from None

    @classmethod
    def load(cls: type[_S], environ: Mapping[str, str] | None = None, **values: Any) -> _S:
        """The settings read from ``environ`` (``os.environ`` when omitted), then ``values``.

        Raises:
            SettingsError: A value does not fit its setting.
        """
        return cls(**{"_environ": environ, **values})

    @classmethod
    def variables(cls) -> dict[str, str]:
        """The environment variable of each field, by field name."""
        return {name: str(field.field_info.extra["env"]) for name, field in cls.__fields__.items()}


def read_environment(model: type[RicSettings], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values ``environ`` gives the fields of ``model``, read as each field says.

    Raises:
        SettingsError: A variable's text cannot be parsed (and the field is not lenient).
    """
    values: dict[str, Any] = {}
    for name, field in model.__fields__.items():
        extra = field.field_info.extra
        raw = environ.get(extra["env"])
        if raw is None:
            continue
        text = raw.strip() if extra["strip"] else raw
        if extra["blank"] == "unset" and text == "":
            continue
        try:
            value = extra["parse"](text) if extra["parse"] is not None else text
        except ValueError as error:
            if not extra["lenient"]:
                raise SettingsError(f"invalid setting: {extra['env']}: {error}") from None
            logger.warning("%s=%r is not valid; using %r", extra["env"], raw, field.default)
            continue
        if extra["lenient"]:
            _, errors = field.validate(value, {}, loc=name, cls=model)
            if errors:
                logger.warning("%s=%r is not valid; using %r", extra["env"], raw, field.default)
                continue
        values[name] = value
    return values


def describe_error(model: type[RicSettings], error: ValidationError) -> str:
    """One line per wrong value, naming the variable rather than the field."""
    variables = model.variables()
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        where = f"{variables[name]} ({model.__name__}.{name})" if name in variables else name
        problems.append(f"{where}: {item['msg']}")
    return "invalid setting: " + "; ".join(problems)


def exactly_one(text: str) -> bool:
    """A switch that only ``1`` turns on (any other text means off)."""
    return text == "1"


def truthy(text: str) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` (any case) mean on; any other text means off."""
    return text.strip().lower() in {"1", "true", "yes", "on"}


def yes_no(text: str) -> bool:
    """A strict yes/no value: ``1/true/yes/on`` or ``0/false/no/off``.

    Raises:
        ValueError: Any other text.
    """
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a yes/no value, not {text!r}")


def not_off(text: str) -> bool:
    """On unless the text is ``off``, ``0`` or ``no`` (any case)."""
    return text.lower() not in {"off", "0", "no"}


def integer_literal(text: str) -> int:
    """An integer written in any base Python reads (``42``, ``0x2a``)."""
    return int(text, 0)
