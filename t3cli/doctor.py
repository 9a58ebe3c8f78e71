"""`t3 doctor`: check the installation, the database and the providers, and say what to do.

Each check yields `Finding`s; a check that itself fails (unreadable file, locked database) becomes
a failing finding with its message — the doctor never crashes on the problems it looks for. The
only writes it may cause are the normal catch-up of the asynchronous summary projection (part of
the replay check) and the corruption mark beside the database (`store.corruption`): set when the
integrity check fails, removed when it passes. It never migrates, repairs or deletes data.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from t3cli.errors import DatabaseCorrupt, T3Error
from t3cli.paths import Paths
from t3cli.store import corruption

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Finding:
    area: str  # installation | config | database | providers
    check: str
    status: Status
    message: str
    fix: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


def _installation() -> Iterator[Finding]:
    from importlib.metadata import PackageNotFoundError, version

    yield Finding("installation", "python", "ok", f"Python {sys.version.split()[0]}")
    for dist in ("typer", "click", "rich", "pydantic", "sqlite-utils", "platformdirs"):
        try:
            yield Finding("installation", dist, "ok", f"{dist} {version(dist)}")
        except PackageNotFoundError:
            yield Finding(
                "installation", dist, "fail", f"{dist} is not installed", "pip install -e ."
            )
    lib = sqlite3.sqlite_version_info
    if lib < (3, 35, 0):
        yield Finding(
            "installation",
            "sqlite",
            "fail",
            f"SQLite {sqlite3.sqlite_version} is too old (3.35+ needed)",
            "use a Python built against a newer SQLite",
        )
    else:
        yield Finding("installation", "sqlite", "ok", f"SQLite {sqlite3.sqlite_version}")


def _mode_finding(path: os.PathLike[str] | str, expected: int, what: str) -> Finding:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        return Finding(
            "database",
            f"{what} permissions",
            "warn",
            f"{path} is mode {mode:04o}; others can read your conversations",
            f"chmod {expected:04o} {path}",
        )
    return Finding("database", f"{what} permissions", "ok", f"{path} is mode {mode:04o}")


def _config(paths: Paths) -> Iterator[Finding]:
    """Every configuration problem as a failure (the file, `T3_*` variables, each provider
    table, each with its own fix), unknown keys as warnings."""
    from t3cli.config import check_config
    from t3cli.providers.registry import table_problems

    config, problems = check_config(paths.config_file)
    for problem in problems:
        yield Finding("config", "config file", "fail", problem.message, problem.hint)
    if config is None:
        return
    for warning in config.warnings:
        yield Finding("config", "config keys", "warn", warning, "correct the key, or remove it")
    where = paths.config_file if paths.config_file.exists() else f"{paths.config_file} (absent)"
    yield Finding("config", "config file", "ok", f"{where}: valid")
    for name in config.providers:
        for table_problem in table_problems(config, name):
            yield Finding(
                "config", f"providers.{name}", "fail", table_problem,
                f"fix [providers.{name}] in {paths.config_file}: threads on it cannot run until"
                " then (README, 'Providers' lists the options)",
            )  # fmt: skip


def _database(paths: Paths) -> Iterator[Finding]:
    from t3cli.store.db import connect, translate
    from t3cli.store.schema import SCHEMA_VERSION

    db = paths.database
    if not db.exists():
        yield Finding("database", "file", "ok", f"{db} does not exist yet; created on first use")
        return
    yield _mode_finding(db.parent, 0o700, "directory")
    yield _mode_finding(db, 0o600, "file")
    try:
        conn = connect(db, create=False, migrate=False)
    except T3Error as exc:
        yield _failure(db, "open", exc)
        return
    try:
        yield from _database_checks(conn, db, SCHEMA_VERSION)
    except sqlite3.Error as exc:
        yield _failure(db, "read", translate(exc, db))
    except T3Error as exc:
        yield _failure(db, "read", exc)
    finally:
        conn.close()


def _failure(db: Path, check: str, error: T3Error) -> Finding:
    if not isinstance(error, DatabaseCorrupt):
        return Finding("database", check, "fail", error.message, error.hint)
    corruption.mark(db, error.detail)
    return Finding("database", check, "fail", error.message, _restore_hint(db))


def _restore_hint(db: Path) -> str:
    return (
        f"restore a backup of {db} (then run `t3 doctor` again: writes stay refused until it"
        f" passes); `sqlite3 {db} .recover` may salvage the log"
    )


def _database_checks(conn: sqlite3.Connection, db: Path, schema_version: int) -> Iterator[Finding]:
    from t3cli.store import replay

    rows = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        corruption.mark(db, f"integrity check failed: {rows[0]}")
        yield Finding(
            "database",
            "integrity",
            "fail",
            f"integrity check failed: {'; '.join(rows[:3])}",
            _restore_hint(db),
        )
        return
    yield Finding("database", "integrity", "ok", "integrity check passed")
    earlier = corruption.marked(db)
    if earlier is not None:
        corruption.clear(db)
        yield Finding(
            "database",
            "corruption mark",
            "warn",
            f"an earlier command found the database corrupt ({earlier}); the integrity check"
            " passes now, so writes are allowed again",
            "nothing to do if you restored a backup; otherwise keep a copy of the file, and"
            " `t3 replay --check` proves the projections",
        )
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version < schema_version:
        yield Finding(
            "database",
            "schema",
            "warn",
            f"schema {version}, this t3cli uses {schema_version}",
            "any write command migrates it (atomically)",
        )
        return
    yield Finding("database", "schema", "ok", f"schema {version}")
    report = replay.check(conn)
    if report.ok:
        yield Finding(
            "database",
            "projections",
            "ok",
            f"projections equal a full replay of {report.head} events",
        )
    else:
        sample = "; ".join(d.describe() for d in report.differences[:2])
        yield Finding(
            "database",
            "projections",
            "fail",
            f"{report.difference_count} projection row(s) differ from a replay: {sample}",
            "`t3 replay` rebuilds them from the log (nothing in the log is lost)",
        )
    now = time.time()
    expired = conn.execute(
        "SELECT count(*) FROM thread_leases WHERE expires_at < ?", (now,)
    ).fetchone()[0]
    if expired:
        yield Finding(
            "database",
            "leases",
            "warn",
            f"{expired} thread lease(s) expired: a reactor stopped without releasing them",
            "the next `t3 run` takes them over; nothing to do",
        )
    else:
        yield Finding("database", "leases", "ok", "no expired leases")
    stuck = conn.execute(
        "SELECT q.thread_id, q.queue_item_id FROM queued_turns q"
        " LEFT JOIN thread_leases l ON l.thread_id = q.thread_id AND l.expires_at >= ?"
        " WHERE q.status = 'sending' AND l.thread_id IS NULL",
        (now,),
    ).fetchall()
    if stuck:
        threads = ", ".join(sorted({row[0][:8] for row in stuck}))
        yield Finding(
            "database",
            "stuck sends",
            "warn",
            f"{len(stuck)} queued turn(s) left `sending` by a stopped reactor (threads {threads})",
            "`t3 run` recovers them as failed (at most once); then `t3 retry THREAD` to resend",
        )
    else:
        yield Finding("database", "stuck sends", "ok", "no queued turn is stuck sending")


def _providers(paths: Paths) -> Iterator[Finding]:
    from t3cli.config import check_config
    from t3cli.providers.registry import check_all, table_problems

    config, _ = check_config(paths.config_file)
    if config is None:
        return  # reported by the config check
    misconfigured = {name for name in config.providers if table_problems(config, name)}
    for check in check_all(config):
        if check.name in misconfigured:
            continue  # its table is a config failure above; its executable is not checked
        if check.problem is None and check.found:
            version = f" ({check.version})" if check.version else ""
            yield Finding("providers", check.name, "ok", f"{check.kind}{version}")
            continue
        setting = "argv" if check.kind == "command" else "binary"
        yield Finding(
            "providers",
            check.name,
            "warn",
            check.problem or f"{check.executable} not found",
            f"install it, or set providers.{check.name}.{setting} in {paths.config_file}",
        )


def run_checks(paths: Paths) -> list[Finding]:
    """Every finding, in a stable order: installation, config, database, providers."""
    findings: list[Finding] = []
    sections: list[Callable[[], Iterator[Finding]]] = [
        _installation,
        lambda: _config(paths),
        lambda: _database(paths),
        lambda: _providers(paths),
    ]
    for section in sections:
        try:
            findings.extend(section())
        except Exception as exc:  # a broken check is itself a finding, never a crash
            findings.append(
                Finding("doctor", "internal", "fail", f"{type(exc).__name__}: {exc}", "report it")
            )
    return findings
