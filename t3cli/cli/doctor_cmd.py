"""`t3 doctor [--json]`: a thin wrapper over `t3cli.doctor`.

Exit code 0 when nothing failed (warnings allowed), 1 when any check failed.
"""

from __future__ import annotations

import typer

from t3cli.errors import ExitCode

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        json_output: bool = typer.Option(False, "--json", help="Print findings as JSON."),
    ) -> int:
        """Check the installation, the database and the providers; say what to fix."""
        from t3cli.cli.app import current_env
        from t3cli.cli.safe_text import printable
        from t3cli.doctor import run_checks

        env = current_env()
        findings = run_checks(env.paths)
        failed = any(f.status == "fail" for f in findings)
        if json_output:
            env.print_json(
                {"ok": not failed, "findings": [finding.to_json() for finding in findings]}
            )
        else:
            for finding in findings:
                # Messages quote agents' versions and errors and configured values: untrusted.
                line = f"{_MARK[finding.status]} {finding.area}/{finding.check}: {finding.message}"
                env.stdout.write(printable(line) + "\n")
                if finding.fix and finding.status != "ok":
                    env.stdout.write(printable(f"     fix: {finding.fix}") + "\n")
        return int(ExitCode.ERROR if failed else ExitCode.OK)
