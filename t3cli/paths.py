"""Where t3cli keeps its files.

`$T3_HOME` (when set) holds everything: `t3.db` and `config.toml`. Otherwise the database lives in
platformdirs' user data path and the config in its user config path. platformdirs is imported only
when `T3_HOME` is unset, which keeps scripted use (that usually sets it) a little faster.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass
from pathlib import Path

from t3cli.errors import ConfigError

APP_NAME = "t3cli"
DB_FILENAME = "t3.db"
CONFIG_FILENAME = "config.toml"


@dataclass(frozen=True)
class Paths:
    """Every location t3cli reads or writes; `t3 paths` prints them."""

    home: Path | None  # $T3_HOME when set
    data_dir: Path
    config_dir: Path

    @property
    def database(self) -> Path:
        override = os.environ.get("T3_DATABASE")
        return Path(override) if override else self.data_dir / DB_FILENAME

    @property
    def config_file(self) -> Path:
        override = os.environ.get("T3_CONFIG")
        return Path(override) if override else self.config_dir / CONFIG_FILENAME


def resolve_paths() -> Paths:
    """Resolve locations from the environment. Pure lookup: creates nothing."""
    home = os.environ.get("T3_HOME")
    if home:
        root = Path(home).expanduser()
        _check_home(root)
        return Paths(home=root, data_dir=root, config_dir=root)
    import platformdirs

    return Paths(
        home=None,
        data_dir=platformdirs.user_data_path(APP_NAME),
        config_dir=platformdirs.user_config_path(APP_NAME),
    )


def _check_home(root: Path) -> None:
    """Refuse a `T3_HOME` that is, or lies below, something other than a directory (it could
    never be created): the nearest existing ancestor must be a directory."""
    for candidate in (root, *root.parents):
        if not candidate.exists():
            continue
        if candidate.is_dir():
            return
        where = "which is" if candidate == root else f"but {candidate} is"
        raise ConfigError(
            f"T3_HOME points at {root}, {where} a file, not a directory",
            hint="set T3_HOME to a directory (it is created if missing) or unset it",
        )


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) if missing; a directory t3cli creates is mode 0700.

    An existing directory's mode is left alone (it is the user's); `t3 doctor` warns when the
    data directory or the database is readable by others and says how to fix it.
    """
    if path.is_dir():
        return
    if path.exists():
        raise ConfigError(
            f"{path} exists and is not a directory",
            hint="move it away or point T3_HOME somewhere else",
        )
    old = os.umask(0o077)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # below a file, permission denied, read-only file system, full
        raise ConfigError(
            f"cannot create the directory {path}: {exc.strerror}",
            hint="point T3_HOME at a directory you can write (it is created if missing)",
        ) from None
    finally:
        os.umask(old)
