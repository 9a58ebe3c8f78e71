"""Configuration: TOML file, `T3_*` environment, flags.

Precedence is flag > environment > file > default. The CLI applies flags itself; this module
merges the other three. Loading uses only `tomllib` (no pydantic) because every command loads it;
provider tables are kept raw here and validated by `t3cli.providers.registry.provider_options`
when a thread is bound to a provider, before `t3 send`/`t3 run` record anything, and by
`t3 doctor`.

Recognised keys:

    default_provider = "echo"          # T3_DEFAULT_PROVIDER
    max_message_chars = 120000         # T3_MAX_MESSAGE_CHARS

    [reactor]
    max_concurrent = 8                 # T3_MAX_CONCURRENT
    poll_interval_ms = 20              # T3_POLL_INTERVAL_MS
    lease_ttl_s = 15

    [providers.NAME]                   # see README, "Providers"
    kind = "echo" | "codex" | "claude" | "command"

Guarantees:
- A value from the environment obeys the same rules as the same key in the file (an integer, and
  positive where the file's must be); an empty variable counts as unset.
- Every problem is a `ConfigError` (exit 2) naming the key or variable, with a hint;
  `check_config` returns all of them (for `t3 doctor`), `load_config` raises the first.
- An unknown key is not an error but a warning naming the closest known key (`Config.warnings`),
  so a typo such as `default_providr` never passes silently.
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
TOP_LEVEL_KEYS = ("default_provider", "max_message_chars", "reactor", "providers")
REACTOR_KEYS = ("max_concurrent", "poll_interval_ms", "lease_ttl_s")
_FIX_FILE = "fix it in the config file (`t3 config path` shows where it is)"


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
    warnings: tuple[str, ...] = ()  # unknown keys, each naming the closest known one


class _Reader:
    """Reads typed values out of the file and the environment, collecting every problem."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.where = f" in {path}" if path else ""
        self.problems: list[ConfigError] = []
        self.warnings: list[str] = []

    def fail(self, message: str, hint: str = _FIX_FILE) -> None:
        self.problems.append(ConfigError(message, hint=hint))

    def typed(self, table: dict[str, Any], key: str, name: str, kind: type, default: Any) -> Any:
        value = table.get(key, default)
        # bool is an int in Python; a config saying `max_concurrent = true` is a mistake.
        ok = not isinstance(value, bool) if kind is not bool else True
        if kind is float:
            ok = ok and isinstance(value, (int, float))
        else:
            ok = ok and isinstance(value, kind)
        if not ok:
            self.fail(
                f"config key {name!r}{self.where} must be of type {kind.__name__}, got {value!r}"
            )
            return default
        return value

    def positive(self, value: float, name: str, variable: str | None) -> None:
        if value > 0:
            return
        if variable is not None:
            self.fail(
                f"environment variable {variable} must be a positive integer, got {value!r}",
                hint=f"unset {variable}, or set it to a positive integer",
            )
        else:
            self.fail(f"config key {name!r}{self.where} must be positive, got {value!r}")

    def env_int(self, variable: str) -> int | None:
        raw = os.environ.get(variable)
        if raw is None or raw.strip() == "":
            return None
        try:
            return int(raw.strip())
        except ValueError:
            self.fail(
                f"environment variable {variable} must be an integer, got {raw!r}",
                hint=f"unset {variable}, or set it to a positive integer",
            )
            return None

    def unknown_keys(self, table: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key in known:
                continue
            import difflib

            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean '{prefix}{close[0]}'?" if close else f"known: {', '.join(known)}"
            self.warnings.append(f"unknown config key '{prefix}{key}'{self.where} ({hint})")


def read_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file; a missing file is an empty config."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(
            f"config path {path} is a directory, not a file",
            hint="move it away, or point T3_CONFIG at a file",
        ) from None
    except NotADirectoryError:
        raise ConfigError(
            f"config path {path} is below a file, not a directory",
            hint="point T3_HOME (or T3_CONFIG) at a directory that can hold config.toml",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}",
            hint="fix the syntax, or move the file away to use the defaults",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"config file {path} is not UTF-8 text", hint="save it as UTF-8"
        ) from None
    except PermissionError:
        raise ConfigError(
            f"cannot read config file {path}: permission denied",
            hint=f"make it readable (chmod u+r {path})",
        ) from None


def check_config(path: Path | None) -> tuple[Config | None, list[ConfigError]]:
    """Merge defaults, the file at `path` (if any) and the `T3_*` environment, and return the
    configuration with every problem found (the configuration is None when there is any)."""
    try:
        raw = read_file(path) if path is not None else {}
    except ConfigError as exc:
        return None, [exc]
    r = _Reader(path)
    r.unknown_keys(raw, TOP_LEVEL_KEYS, "")
    default_provider = r.typed(raw, "default_provider", "default_provider", str, "echo")
    if not default_provider.strip():
        r.fail(f"config key 'default_provider'{r.where} is empty")
        default_provider = "echo"
    max_chars = r.typed(
        raw, "max_message_chars", "max_message_chars", int, DEFAULT_MAX_MESSAGE_CHARS
    )
    reactor = r.typed(raw, "reactor", "reactor", dict, {})
    r.unknown_keys(reactor, REACTOR_KEYS, "reactor.")
    max_concurrent = r.typed(reactor, "max_concurrent", "reactor.max_concurrent", int, 8)
    poll_ms = r.typed(reactor, "poll_interval_ms", "reactor.poll_interval_ms", int, 20)
    lease_ttl = r.typed(reactor, "lease_ttl_s", "reactor.lease_ttl_s", float, 15.0)
    providers = r.typed(raw, "providers", "providers", dict, {})
    for name, table in list(providers.items()):
        if not isinstance(table, dict):
            r.fail(f"config key 'providers.{name}'{r.where} must be a table, got {table!r}")
            del providers[name]
    # Each setting: (its value so far, its key, its environment variable or None).
    settings: dict[str, tuple[int | float, str | None]] = {}
    for key, value, variable in (
        ("max_message_chars", max_chars, "T3_MAX_MESSAGE_CHARS"),
        ("reactor.max_concurrent", max_concurrent, "T3_MAX_CONCURRENT"),
        ("reactor.poll_interval_ms", poll_ms, "T3_POLL_INTERVAL_MS"),
        ("reactor.lease_ttl_s", lease_ttl, None),
    ):
        from_env = r.env_int(variable) if variable is not None else None
        if from_env is not None:
            settings[key] = (from_env, variable)
        else:
            settings[key] = (value, None)
        r.positive(settings[key][0], key, settings[key][1])
    env_provider = os.environ.get("T3_DEFAULT_PROVIDER", "").strip()
    if r.problems:
        return None, r.problems
    config = Config(
        path=path,
        default_provider=env_provider or default_provider,
        max_message_chars=int(settings["max_message_chars"][0]),
        reactor=ReactorSettings(
            max_concurrent=int(settings["reactor.max_concurrent"][0]),
            poll_interval_ms=int(settings["reactor.poll_interval_ms"][0]),
            lease_ttl_s=float(settings["reactor.lease_ttl_s"][0]),
        ),
        providers={str(k): dict(v) for k, v in providers.items()},
        raw=raw,
        warnings=tuple(r.warnings),
    )
    return config, []


def load_config(path: Path | None) -> Config:
    """Merge defaults, the file at `path` (if any) and the `T3_*` environment.

    Raises `ConfigError` (exit code 2) for a file that is not TOML, holds wrong types or values,
    or an environment variable that breaks the same rules — the first problem, saying how many
    more there are (`t3 doctor` lists them all). Unknown keys only warn (`Config.warnings`).
    """
    config, problems = check_config(path)
    if config is None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s): `t3 doctor` lists them)"
        raise ConfigError(first.message + (more if len(problems) > 1 else ""), hint=first.hint)
    return config
