"""`t3 paths`, `t3 config path|show`, `t3 completion bash|zsh|fish`.

`register` also installs `T3Group` (see `t3cli.cli.completion`) as the root group class, so TAB
completion uses click's fast completion classes.
"""

from typing import Annotated, Any

import click
import typer

from t3cli.cli.app import current_env
from t3cli.cli.completion import SHELLS, values
from t3cli.cli.params import JsonOption

MASK = "***"
_SECRET_WORDS = ("key", "token", "secret", "password")


def paths(json: JsonOption = False) -> None:
    """Print where t3 keeps its files."""
    env = current_env()
    p = env.paths
    values = {
        "home": str(p.home) if p.home else None,
        "database": str(p.database),
        "config_file": str(p.config_file),
        "data_dir": str(p.data_dir),
        "config_dir": str(p.config_dir),
    }
    if json:
        env.print_json(values)
        return
    sep = "  " if env.stdout_isatty else "\t"
    width = max(len(k) for k in values) if env.stdout_isatty else 0
    for key, value in values.items():
        env.stdout.write(f"{key.ljust(width)}{sep}{value if value is not None else '(unset)'}\n")


def _masked_provider(table: dict[str, Any]) -> dict[str, Any]:
    # Provider tables may carry credentials (env = { API_KEY = ... }); never print them.
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key == "env" and isinstance(value, dict):
            out[key] = {name: MASK for name in value}
        elif any(word in key.lower() for word in _SECRET_WORDS) and isinstance(value, str):
            out[key] = MASK
        else:
            out[key] = value
    return out


def merged_config() -> dict[str, Any]:
    """The merged configuration (file, `T3_*` environment, defaults) as plain data, secrets
    masked."""
    config = current_env().config
    return {
        "default_provider": config.default_provider,
        "max_message_chars": config.max_message_chars,
        "reactor": {
            "max_concurrent": config.reactor.max_concurrent,
            "poll_interval_ms": config.reactor.poll_interval_ms,
            "lease_ttl_s": config.reactor.lease_ttl_s,
        },
        "providers": {name: _masked_provider(t) for name, t in config.providers.items()},
    }


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _toml(data: dict[str, Any]) -> str:
    """`data` as TOML: scalars first, then `[reactor]`, then one `[providers.NAME]` per provider."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    lines += ["", "[reactor]"] + [f"{k} = {_toml_value(v)}" for k, v in data["reactor"].items()]
    for name, table in data["providers"].items():
        lines += ["", f"[providers.{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def config_path() -> None:
    """Print the configuration file's path (it may not exist yet)."""
    env = current_env()
    env.stdout.write(f"{env.paths.config_file}\n")


def config_show(json: JsonOption = False) -> None:
    """Print the merged configuration (flag > T3_* environment > file > default)."""
    env = current_env()
    data = merged_config()
    if json:
        env.print_json({"config_file": str(env.paths.config_file), **data})
    else:
        env.stdout.write(_toml(data))


def completion(
    shell: Annotated[
        str,
        typer.Argument(metavar="bash|zsh|fish", click_type=values(*SHELLS), help="The shell."),
    ],
) -> None:
    """Print the completion script for SHELL (source or install it; README: Shell completion)."""
    from t3cli.cli.completion import source
    from t3cli.errors import UsageError

    if shell not in SHELLS:
        raise UsageError(f"unsupported shell {shell!r}", hint="one of: bash, zsh, fish")
    root = click.get_current_context().find_root().command
    current_env().stdout.write(source(root, shell).rstrip("\n") + "\n")


def help_(
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="[COMMAND]...", help="A command, e.g. `queue move` (default: t3)."),
    ] = None,
) -> None:
    """Show the help of t3, or of COMMAND (`t3 help queue move` is `t3 queue move --help`)."""
    from t3cli.cli.usage import unknown_command_hint
    from t3cli.errors import UsageError

    ctx = click.get_current_context().find_root()
    target: click.Command = ctx.command
    for name in command or []:
        found = target.get_command(ctx, name) if isinstance(target, click.Group) else None
        if found is None:
            raise UsageError(
                f"no such command '{ctx.command_path} {name}'",
                hint=unknown_command_hint(ctx, name),
            )
        ctx = click.Context(found, info_name=name, parent=ctx)
        target = found
    current_env().stdout.write(target.get_help(ctx) + "\n")


def register(app: typer.Typer) -> None:
    app.command("help")(help_)
    app.command("paths")(paths)
    config_app = typer.Typer(
        help="Show the configuration.", no_args_is_help=True, rich_markup_mode=None
    )
    config_app.command("path")(config_path)
    config_app.command("show")(config_show)
    app.add_typer(config_app, name="config")
    app.command("completion")(completion)
