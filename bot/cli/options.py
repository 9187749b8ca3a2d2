"""Command-line options made from the job contract: its defaults, choices and ranges, in one place."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import click
from pydantic import BaseModel

from wire.contract import field_bounds, field_default


def contract_option(model: type[BaseModel], field: str, *flags: str, **extra: Any) -> Callable[[Any], Any]:
    """A click option for `model.field`: its default, and its choices (a Literal) or range (an int)."""
    annotation = model.model_fields[field].annotation
    values = _literal_values(annotation)
    option_type: Any
    if values:
        option_type = click.Choice(values)
    elif _is(annotation, int):
        low, high = field_bounds(model, field)
        option_type = click.IntRange(low, high)
    elif _is(annotation, float):
        option_type = float
    else:
        option_type = str
    default = field_default(model, field)
    return click.option(
        *(flags or (f"--{field.replace('_', '-')}",)),
        type=option_type,
        default=default,
        show_default=default is not None,
        **extra,
    )


def _literal_values(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    return []


def _is(annotation: Any, kind: type) -> bool:
    """`annotation` is `kind` or `kind | None`."""
    return annotation is kind or kind in typing.get_args(annotation)
