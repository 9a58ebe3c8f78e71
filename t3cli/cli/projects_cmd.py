"""`t3 project add [PATH]` and `t3 projects`: the workspace directories threads run in.

A project's id derives from its absolute path, and registering it uses a command id derived from
the path too, so registering the same directory twice — or from two `t3 new` at once — is
harmless: the second finds it registered and carries on.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from t3cli.cli.app import current_env
from t3cli.cli.completion import DIRECTORY, PROVIDER
from t3cli.cli.env import Env
from t3cli.cli.params import CommandIdOption, JsonOption

if TYPE_CHECKING:
    from t3cli.store.queries import ProjectRow


def project_path(raw: str) -> str:
    """`raw` as an absolute, resolved directory path. Raises `NotFound` if it is no directory."""
    from t3cli.errors import NotFound

    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise NotFound(f"no directory {path}", hint="give the path of an existing directory")
    return str(path)


def ensure_project(
    env: Env,
    path: str,
    *,
    title: str | None = None,
    provider: str | None = None,
    command_id: str | None = None,
) -> tuple["ProjectRow", bool]:
    """The project at absolute `path`, registering it first if needed. Returns it and whether
    this call registered it. Safe against a concurrent registration of the same path."""
    from t3cli.cli.writes import check_provider
    from t3cli.contracts.commands import ProjectCreate
    from t3cli.contracts.ids import derived_id
    from t3cli.domain.rejections import CommandRejected
    from t3cli.store import queries

    conn = env.connect()
    existing = queries.project_by_path(conn, path)
    if existing is not None:
        return existing, False
    command = ProjectCreate(
        command_id=command_id or derived_id("project.create", path),
        project_id=derived_id("project", path),
        path=path,
        title=title or Path(path).name or path,
        default_provider=check_provider(env, provider or env.config.default_provider),
    )
    bound_to = None
    if command_id is not None:
        from t3cli.cli.writes import fingerprint

        bound_to = fingerprint(command.TYPE, path=path, title=title, provider=provider)
    created = True
    try:
        created = not env.engine().dispatch(command, fingerprint=bound_to).duplicate
    except CommandRejected as exc:
        # Another process registered it between our read and our write: it exists, carry on.
        if exc.kind != "rejected" or queries.project_by_path(conn, path) is None:
            raise
        created = False
    project = queries.project_by_path(conn, path)
    assert project is not None
    return project, created


def project_add(
    path: Annotated[
        str, typer.Argument(click_type=DIRECTORY, help="The workspace directory (default: here).")
    ] = ".",
    title: Annotated[
        str | None, typer.Option("--title", help="Default: the directory name.")
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option("--provider", click_type=PROVIDER, help="Default provider of its threads."),
    ] = None,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Register a directory as a project (harmless if it already is)."""
    from t3cli.cli.output import project_json
    from t3cli.cli.writes import command_id as checked_command_id

    env = current_env()
    if command_id is not None:
        checked_command_id(command_id)  # refuses a blank id
    project, created = ensure_project(
        env, project_path(path), title=title, provider=provider, command_id=command_id
    )
    if not created and (title or provider):
        env.stderr.write(f"note: {project.path} was already registered; left unchanged\n")
    if json:
        env.print_json(project_json(project))
    else:
        env.stdout.write(project.project_id + "\n")


def projects_list(json: JsonOption = False) -> None:
    """List registered projects."""
    from t3cli.cli import render
    from t3cli.cli.output import project_json
    from t3cli.store import queries

    env = current_env()
    rows = queries.list_projects(env.connect())
    if json:
        env.print_json([project_json(row) for row in rows])
    else:
        render.projects(env, rows)


def register(app: typer.Typer) -> None:
    project_app = typer.Typer(
        help="Register workspace directories.", no_args_is_help=True, rich_markup_mode=None
    )
    project_app.command("add")(project_add)
    app.add_typer(project_app, name="project")
    app.command("projects")(projects_list)
