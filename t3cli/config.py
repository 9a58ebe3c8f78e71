"""Configuration: TOML file, `T3_*` environment, flags.

Precedence is flag > environment > file > default. The CLI applies flags itself; this module
merges the other three. Loading uses only `tomllib` (no pydantic) because every command loads it;
provider tables are kept raw here and validated by `t3cli.providers.registry` when a provider is
actually used.

Recognised keys:

    default_provider = "echo"          # T3_DEFAULT_PROVIDER
    max_message_chars = 120000         # T3_MAX_MESSAGE_CHARS

    [reactor]
    max_concurrent = 8                 # T3_MAX_CONCURRENT
    poll_interval_ms = 20              # T3_POLL_INTERVAL_MS
    lease_ttl_s = 15

    [providers.NAME]                   # see README, "Providers"
    kind = "echo" | "codex" | "claude" | "command"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass
from pathlib import Path
from typing import Any

from t3cli.errors import ConfigError

DEFAULT_MAX_MESSAGE_CHARS = 120_000


@dataclass(frozen=True)
class ReactorSettings:
    max_concurrent: int = 8
    poll_interval_ms: int = 20
    lease_ttl_s: float = 15.0


@dataclass(frozen=True)
class Config:
    """The merged configuration (file + environment + defaults). Immutable."""

    path: Path | None = None
    default_provider: str = "echo"
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    reactor: ReactorSettings = field(default_factory=ReactorSettings)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _expect(value: Any, kind: type | tuple[type, ...], key: str, path: Path | None) -> Any:
    # bool is an int in Python; a config saying `max_concurrent = true` is a mistake.
    ok = False if isinstance(value, bool) and kind is not bool else isinstance(value, kind)
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        where = f" in {path}" if path else ""
        raise ConfigError(
            f"config key {key!r}{where} must be of type {names}, got {value!r}",
            hint="fix the value in the config file (`t3 config path` shows where it is)",
        )
    return value


def _positive(value: int | float, key: str, path: Path | None) -> None:
    if value <= 0:
        where = f" in {path}" if path else ""
        raise ConfigError(f"config key {key!r}{where} must be positive, got {value!r}")


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None


def read_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file; a missing file is an empty config."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config path {path} is a directory, not a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}",
            hint="fix the syntax, or move the file away to use the defaults",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except PermissionError:
        raise ConfigError(f"cannot read config file {path}: permission denied") from None


def load_config(path: Path | None) -> Config:
    """Merge defaults, the file at `path` (if any) and the `T3_*` environment.

    Raises `ConfigError` (exit code 2) for a file that is not TOML or holds wrong types.
    """
    raw = read_file(path) if path is not None else {}
    default_provider = _expect(raw.get("default_provider", "echo"), str, "default_provider", path)
    max_chars = _expect(
        raw.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS), int, "max_message_chars", path
    )
    reactor_raw = _expect(raw.get("reactor", {}), dict, "reactor", path)
    max_concurrent = _expect(
        reactor_raw.get("max_concurrent", 8), int, "reactor.max_concurrent", path
    )
    poll_ms = _expect(
        reactor_raw.get("poll_interval_ms", 20), int, "reactor.poll_interval_ms", path
    )
    lease_ttl = _expect(
        reactor_raw.get("lease_ttl_s", 15.0), (int, float), "reactor.lease_ttl_s", path
    )
    providers = _expect(raw.get("providers", {}), dict, "providers", path)
    for name, table in providers.items():
        _expect(table, dict, f"providers.{name}", path)

    env_provider = os.environ.get("T3_DEFAULT_PROVIDER")
    if env_provider:
        default_provider = env_provider
    max_chars = _env_int("T3_MAX_MESSAGE_CHARS") or max_chars
    max_concurrent = _env_int("T3_MAX_CONCURRENT") or max_concurrent
    poll_ms = _env_int("T3_POLL_INTERVAL_MS") or poll_ms
    _positive(max_chars, "max_message_chars", path)
    _positive(max_concurrent, "reactor.max_concurrent", path)
    _positive(poll_ms, "reactor.poll_interval_ms", path)
    _positive(lease_ttl, "reactor.lease_ttl_s", path)
    return Config(
        path=path,
        default_provider=default_provider,
        max_message_chars=max_chars,
        reactor=ReactorSettings(
            max_concurrent=max_concurrent, poll_interval_ms=poll_ms, lease_ttl_s=float(lease_ttl)
        ),
        providers={str(k): dict(v) for k, v in providers.items()},
        raw=raw,
    )
