"""`record`: a dataclass for start-up-critical value types, without the import-time cost.

`dataclasses.dataclass` generates and `exec`s source for every class: about 1 ms each here. The
contracts alone declare ~50 classes, and `t3 queue` imports them all, which would spend a large
part of its start-up budget before doing anything. `record` reads the class's (string)
annotations once, stores the field list, and installs shared, pre-compiled methods: creation costs
microseconds.

For type checkers `record` *is* `dataclasses.dataclass` (see the `TYPE_CHECKING` import in the
modules that use it), so constructors, `frozen` and `kw_only` are checked statically exactly as
for a dataclass. At run time it supports what our value types use: positional or keyword
construction in field order, defaults, `dataclasses.field(default_factory=...)`, inheritance,
`ClassVar`s (skipped), `frozen` (assignment raises), `__eq__`, `__repr__`, and `replace`.
pydantic validates records through real dataclass mirrors (`t3cli.contracts.validation`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_MISSING = dataclasses.MISSING


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    names: tuple[str, ...] = cls.__record_fields__
    # Fast paths for every field given, all by keyword or all by position: the common case on
    # hot paths (an event record per row read), and several times cheaper than the checks below.
    if not args:
        if kwargs.keys() == cls.__record_field_set__:
            self.__dict__.update(kwargs)
            return
    elif not kwargs and len(args) == len(names):
        self.__dict__.update(zip(names, args, strict=True))
        return
    if len(args) > len(names):
        raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, got {len(args)}")
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in values:
            raise TypeError(f"{cls.__name__}() got multiple values for {key!r}")
        if key not in cls.__record_defaults__ and key not in names:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {key!r}")
        values[key] = value
    if len(values) < len(names):
        for name in names:
            if name not in values:
                default, factory = cls.__record_defaults__.get(name, (_MISSING, _MISSING))
                if factory is not _MISSING:
                    values[name] = factory()
                elif default is not _MISSING:
                    values[name] = default
                else:
                    raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
    self.__dict__.update(values)


def _repr(self: Any) -> str:
    body = ", ".join(f"{name}={self.__dict__[name]!r}" for name in type(self).__record_fields__)
    return f"{type(self).__name__}({body})"


def _eq(self: Any, other: object) -> bool:
    if type(other) is not type(self):
        return NotImplemented  # type: ignore[no-any-return]
    return bool(self.__dict__ == other.__dict__)


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _hash(self: Any) -> int:
    return hash(tuple(self.__dict__[name] for name in type(self).__record_fields__))


def record(cls: type[T] | None = None, /, *, frozen: bool = False, **_options: Any) -> Any:
    """Make `cls` a record (see the module docstring). Accepts dataclass options; `frozen` is
    enforced, the others (`slots`, `kw_only`) are checked statically only."""

    def wrap(klass: type[T]) -> type[T]:
        defaults: dict[str, tuple[Any, Any]] = {}
        names: list[str] = []
        for base in reversed(klass.__mro__[:-1]):
            # Not inspect.get_annotations: inspect costs milliseconds to import on the hot path.
            for name, annotation in base.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
                if _is_classvar(annotation):
                    continue
                value = base.__dict__.get(name, _MISSING)
                if isinstance(value, dataclasses.Field):
                    spec = (value.default, value.default_factory)
                else:
                    spec = (value, _MISSING)
                if name not in defaults:
                    names.append(name)
                defaults[name] = spec
        for name, (_default, factory) in defaults.items():
            if factory is not _MISSING and isinstance(klass.__dict__.get(name), dataclasses.Field):
                delattr(klass, name)  # the instance always has it; the Field must not leak
        attrs: dict[str, Any] = {
            "__record_fields__": tuple(names),
            "__record_field_set__": frozenset(names),
            "__record_defaults__": {n: d for n, d in defaults.items() if d != (_MISSING, _MISSING)},
            "__init__": _init,
            "__repr__": _repr,
            "__eq__": _eq,
            "__match_args__": tuple(names),
        }
        if frozen:
            attrs["__setattr__"] = _frozen_setattr
            attrs["__delattr__"] = _frozen_setattr
            attrs["__hash__"] = _hash
        else:
            attrs["__hash__"] = None
        for key, value in attrs.items():
            setattr(klass, key, value)
        return klass

    return wrap if cls is None else wrap(cls)


def replace(obj: T, **changes: Any) -> T:
    """A copy of record `obj` with `changes` applied (like `dataclasses.replace`)."""
    values = {name: obj.__dict__[name] for name in type(obj).__record_fields__}  # type: ignore[attr-defined]
    values.update(changes)
    return type(obj)(**values)


def fields_of(cls: type[Any]) -> tuple[str, ...]:
    """The field names of a record class, in order."""
    names: tuple[str, ...] = cls.__record_fields__
    return names


def field_defaults(cls: type[Any]) -> dict[str, tuple[Any, Callable[[], Any] | Any]]:
    """`name -> (default, default_factory)` for the fields that have one (MISSING otherwise)."""
    defaults: dict[str, tuple[Any, Any]] = cls.__record_defaults__
    return defaults
