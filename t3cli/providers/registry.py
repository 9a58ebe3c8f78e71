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
    from t3cli.errors import ConfigError
    from t3cli.providers._options import AnyOptions
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


def provider_options(config: Config, name: str) -> AnyOptions:
    """The validated options of provider `name`: the one check of a `[providers.NAME]` table,
    shared by `t3 new`, `t3 send`, `t3 run`, `t3 doctor` and the reactor (`get_provider`).

    Raises `NotFound` for a name that is neither built in nor configured (the hint lists the
    names), and `ConfigError` (exit 2) naming the key (`providers.NAME.KEY`) for a table that is
    wrong: a missing or unknown kind, an unknown key, a wrong type or value. Loads no adapter.
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
        raise _kind_required(config, name)
    from t3cli.providers._options import parse_options

    return parse_options(name, kind, table, config.path)


def table_problems(config: Config, name: str) -> list[str]:
    """Every problem of the configured table `[providers.NAME]`, each naming its key ([] when it
    is valid): what `t3 doctor` reports, where `provider_options` raises only the first."""
    from t3cli.providers import _options

    table = dict(config.providers.get(name) or {})
    kind = table.get("kind", BUILTIN_PROVIDERS.get(name))
    if kind is None:
        return [_kind_required(config, name).message]
    return _options.table_problems(name, kind, table, config.path)


def _kind_required(config: Config, name: str) -> ConfigError:
    from t3cli.errors import ConfigError

    where = f" in {config.path}" if config.path else ""
    return ConfigError(
        f"config key 'providers.{name}.kind'{where} is required "
        "(one of: echo, codex, claude, command)",
        hint="fix the value in the config file (`t3 config path` shows where it is)",
    )


def validate_providers(config: Config) -> None:
    """Validate every configured `[providers.NAME]` table (`provider_options`); raises the first
    `ConfigError`. For commands about to run agents (`t3 run`): a bad table is refused before
    anything is recorded, never discovered by a failing turn."""
    for name in config.providers:
        provider_options(config, name)


def get_provider(config: Config, name: str) -> Provider:
    """The provider called `name`, with its table validated (`provider_options`)."""
    from t3cli.providers._options import ClaudeOptions, CodexOptions, EchoOptions

    options = provider_options(config, name)
    if isinstance(options, EchoOptions):
        from t3cli.providers.echo import EchoProvider

        return EchoProvider(name, options)
    if isinstance(options, CodexOptions):
        from t3cli.providers.codex import CodexProvider

        return CodexProvider(name, options)
    if isinstance(options, ClaudeOptions):
        from t3cli.providers.claude import ClaudeProvider

        return ClaudeProvider(name, options)
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
