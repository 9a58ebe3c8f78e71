"""`t3 providers [--json]`: every configured provider, and whether its executable is usable.

A thin wrapper over `t3cli.providers.registry.check_all`. It is a report: it exits 0 even when some
providers are missing or misconfigured (their `problem` says what to fix). `--json` prints one JSON
document: a list of `{name, kind, executable, found, version, problem}`.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `providers` command to `app`."""

    @app.command("providers")
    def providers(
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    ) -> None:
        """List configured providers and whether each one's executable is found."""
        import dataclasses

        from t3cli.cli.app import current_env
        from t3cli.providers.registry import check_all

        env = current_env()
        checks = check_all(env.config)
        if as_json:
            env.print_json([dataclasses.asdict(check) for check in checks])
            return

        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(show_edge=False, pad_edge=False)
        for column in ("name", "kind", "found", "version", "executable / problem"):
            table.add_column(column, overflow="fold")
        for check in checks:
            # A found executable with a problem (e.g. `--version` failed) is usable but suspect.
            style = "red" if not check.found else ("yellow" if check.problem else "green")
            found = Text("yes" if check.found else "no", style=style)
            where = check.problem or check.executable or "(built in)"
            # Text(), not markup: config values and paths may contain "[".
            table.add_row(
                Text(check.name), Text(check.kind), found, Text(check.version or "-"), Text(where)
            )
        console = Console(file=env.stdout, no_color=not env.color, highlight=False, soft_wrap=False)
        console.print(table)
