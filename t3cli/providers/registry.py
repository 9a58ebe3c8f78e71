"""Which providers exist, and building one from its `[providers.NAME]` config table.

`echo`, `codex` and `claude` exist with no configuration; a `[providers.NAME]` table overrides a
built-in's options or adds a new provider (which must say its `kind`).

Import cost matters: `provider_names` runs on the CLI hot path (`t3 new --provider X`), so this
module imports neither pydantic nor asyncio nor any adapter at module level; `get_provider` and
`check_all` import them when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from t3cli.errors import NotFound

if TYPE_CHECKING:
    from t3cli.config import Config
    from t3cli.providers.base import Provider, ProviderCheck

BUILTIN_PROVIDERS: Final[dict[str, str]] = {"echo": "echo", "codex": "codex", "claude": "claude"}
"""Built-in provider name → kind; available without any configuration."""


def provider_names(config: Config) -> list[str]:
    """Every usable provider name: the built-ins first, then configured ones in file order.

    Cheap (no validation): a name listed here can still fail `get_provider` on a bad table.
    """
    names = list(BUILTIN_PROVIDERS)
    names += [name for name in config.providers if name not in BUILTIN_PROVIDERS]
    return names


KINDS: Final[tuple[str, ...]] = ("echo", "codex", "claude", "command")


def check_kind(config: Config, name: str) -> None:
    """Raise `ConfigError` (exit 2) when `name`'s table names no kind, or an unknown one.

    Cheap (no pydantic, no adapter): lets `t3 new --provider NAME` refuse a provider that could
    never run, instead of failing its first turn. The rest of the table is validated on use.
    """
    table = config.providers.get(name) or {}
    kind = table.get("kind", BUILTIN_PROVIDERS.get(name))
    if kind in KINDS:
        return
    from t3cli.errors import ConfigError

    where = f" in {config.path}" if config.path else ""
    what = "is required" if kind is None else f"is {kind!r}, not a known kind"
    raise ConfigError(
        f"config key 'providers.{name}.kind'{where} {what} (one of: {', '.join(KINDS)})",
        hint="fix the value in the config file (`t3 config path` shows where it is)",
    )


def get_provider(config: Config, name: str) -> Provider:
    """The provider called `name`, with its table validated.

    Raises `NotFound` for a name that is neither built in nor configured (the hint lists the
    names), and `ConfigError` naming the key (`providers.NAME.KEY`) for a table that is wrong.
    """
    table = config.providers.get(name)
    if table is None and name not in BUILTIN_PROVIDERS:
        raise NotFound(
            f"unknown provider {name!r}",
            hint=f"configured providers: {', '.join(provider_names(config))} "
            f"(add a [providers.{name}] table to config.toml to define it)",
        )
    table = dict(table or {})
    kind = table.get("kind", BUILTIN_PROVIDERS.get(name))
    if kind is None:
        from t3cli.errors import ConfigError

        where = f" in {config.path}" if config.path else ""
        raise ConfigError(
            f"config key 'providers.{name}.kind'{where} is required "
            "(one of: echo, codex, claude, command)",
            hint="fix the value in the config file (`t3 config path` shows where it is)",
        )
    from t3cli.providers._options import (
        ClaudeOptions,
        CodexOptions,
        CommandOptions,
        EchoOptions,
        parse_options,
    )

    options = parse_options(name, kind, table, config.path)
    if isinstance(options, EchoOptions):
        from t3cli.providers.echo import EchoProvider

        return EchoProvider(name, options)
    if isinstance(options, CodexOptions):
        from t3cli.providers.codex import CodexProvider

        return CodexProvider(name, options)
    if isinstance(options, ClaudeOptions):
        from t3cli.providers.claude import ClaudeProvider

        return ClaudeProvider(name, options)
    assert isinstance(options, CommandOptions)
    from t3cli.providers.command import CommandProvider

    return CommandProvider(name, options)


def check_all(config: Config) -> list[ProviderCheck]:
    """A `ProviderCheck` for every name of `provider_names`, in that order.

    Never raises for a provider's problem: a config error or a missing executable is reported in
    that provider's `problem`. Checks run in parallel; each `--version` call is bounded (~5 s).
    """
    from concurrent.futures import ThreadPoolExecutor

    names = provider_names(config)
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        return list(pool.map(lambda name: _check_one(config, name), names))


def _check_one(config: Config, name: str) -> ProviderCheck:
    from t3cli.errors import T3Error
    from t3cli.providers.base import ProviderCheck

    try:
        provider = get_provider(config, name)
    except T3Error as exc:
        raw_kind = config.providers.get(name, {}).get("kind", BUILTIN_PROVIDERS.get(name))
        return ProviderCheck(
            name=name,
            kind=str(raw_kind) if raw_kind is not None else "?",
            executable=None,
            found=False,
            version=None,
            problem=exc.message,
        )
    return provider.check()
