"""pydantic validation of the contracts: discriminated unions on `type`.

The contracts are declared once, as stdlib dataclasses (see `t3cli.contracts`), and pydantic
validates those very classes. Adapters are built lazily on first use and cached, because building
them costs far more than a CLI hot path can afford; they are used where untrusted data enters:

- `validate_command(data)`: a JSON object from outside (scripts, tests) → a typed command.
- `validate_event_payload(type, payload)`: a stored payload → its typed payload class, or an
  `UnknownEvent` for a type this version does not know (kept and reported, never an error).
- `event_json_schema()` / `command_json_schema()`: the published schema of both unions.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union

from t3cli.contracts._record import field_defaults, fields_of
from t3cli.contracts.commands import ALL_COMMANDS, CommandBase
from t3cli.contracts.events import ALL_EVENTS, EVENT_TYPES, EventPayload

_ORIGINALS: dict[type[Any], type[Any]] = {}
_MIRRORS: dict[type[Any], type[Any]] = {}


def _mirror(cls: type[Any]) -> type[Any]:
    """A real dataclass with the same fields and types as record `cls`, for pydantic."""
    if cls in _MIRRORS:
        return _MIRRORS[cls]
    hints = typing.get_type_hints(cls)
    defaults = field_defaults(cls)
    spec: list[tuple[str, Any, Any]] = []
    for name in fields_of(cls):
        default, factory = defaults.get(name, (dataclasses.MISSING, dataclasses.MISSING))
        if factory is not dataclasses.MISSING:
            spec.append((name, hints[name], dataclasses.field(default_factory=factory)))
        elif default is not dataclasses.MISSING:
            spec.append((name, hints[name], dataclasses.field(default=default)))
        else:
            spec.append((name, hints[name], dataclasses.field()))
    mirror = dataclasses.make_dataclass(cls.__name__, spec, kw_only=True, frozen=True)
    _ORIGINALS[mirror] = cls
    _MIRRORS[cls] = mirror
    return mirror


def _original(value: Any) -> Any:
    """Convert a validated mirror instance back into the record class it mirrors."""
    cls = _ORIGINALS[type(value)]
    return cls(**{name: getattr(value, name) for name in fields_of(cls)})


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event type written by a newer t3cli: its payload is kept as it was."""

    type: str
    payload: dict[str, Any]


@cache
def _command_adapter() -> Any:
    from pydantic import Field, TypeAdapter

    union = Union[tuple(_mirror(cls) for cls in ALL_COMMANDS)]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="type")])  # type: ignore[arg-type]


@cache
def _payload_adapter(event_type: str) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(_mirror(EVENT_TYPES[event_type]))


@cache
def _event_union_adapter() -> Any:
    """A discriminated union of `{type, payload}` envelopes, one per event type."""
    from pydantic import Field, TypeAdapter

    members = []
    for cls in ALL_EVENTS:
        members.append(
            dataclasses.make_dataclass(
                cls.__name__ + "Envelope",
                [("type", Literal[cls.TYPE]), ("payload", _mirror(cls))],  # type: ignore[valid-type]
                frozen=True,
            )
        )
    union = Union[tuple(members)]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="type")])  # type: ignore[arg-type]


def validate_command(data: dict[str, Any]) -> CommandBase:
    """Validate a JSON object into its command class (by `type`).
    Raises `pydantic.ValidationError`."""
    result: CommandBase = _original(_command_adapter().validate_python(data))
    return result


def validate_event_payload(event_type: str, payload: dict[str, Any]) -> EventPayload | UnknownEvent:
    """Validate a stored payload. Unknown types give `UnknownEvent`; unknown extra fields (from a
    newer payload version) are ignored. Raises `pydantic.ValidationError` for a corrupt payload."""
    if event_type not in EVENT_TYPES:
        return UnknownEvent(type=event_type, payload=payload)
    result: EventPayload = _original(_payload_adapter(event_type).validate_python(payload))
    return result


def validate_event(data: dict[str, Any]) -> EventPayload:
    """Validate `{"type": ..., "payload": {...}}` through the discriminated event union."""
    envelope = _event_union_adapter().validate_python(data)
    payload: EventPayload = _original(envelope.payload)
    return payload


def command_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _command_adapter().json_schema()
    return schema


def event_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _event_union_adapter().json_schema()
    return schema
