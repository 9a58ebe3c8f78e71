"""`t3 providers [--json]`: every configured provider, and whether its executable is usable.

A thin wrapper over `t3cli.providers.registry.check_all`. It is a report: it exits 0 even when some
providers are missing or misconfigured (their `problem` says what to fix). `--json` prints one JSON
document: a list of `{name, kind, executable, found, version, problem}`. Off a terminal it prints
plain tab-separated lines (`name kind found version executable-or-problem`), like every table.
Versions and problems come from the agents' own output: they are shown through `printable`.
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

        from t3cli.cli.render import plain_rows

        rows = [
            (
                check.name,
                check.kind,
                "yes" if check.found else "no",
                check.version or "-",
                check.problem or check.executable or "(built in)",
            )
            for check in checks
        ]
        if not env.stdout_isatty:
            plain_rows(env, rows)
            return

        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from t3cli.cli.safe_text import printable

        table = Table(show_edge=False, pad_edge=False)
        for column in ("name", "kind", "found", "version", "executable / problem"):
            table.add_column(column, overflow="fold")
        for check, row in zip(checks, rows, strict=True):
            # A found executable with a problem (e.g. `--version` failed) is usable but suspect.
            style = "red" if not check.found else ("yellow" if check.problem else "green")
            # Text(), not markup: config values and paths may contain "[".
            cells = [Text(printable(field)) for field in row]
            cells[2].stylize(style)
            table.add_row(*cells)
        console = Console(file=env.stdout, no_color=not env.color, highlight=False, soft_wrap=False)
        console.print(table)
