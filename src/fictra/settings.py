"""Settings, built by :func:`load_settings` and passed down explicitly (no import-time globals).

Every value can be set by an environment variable ``FICTRA_<NAME>`` (e.g. ``FICTRA_DATABASE_URL``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from fictra.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FICTRA_", extra="ignore")

    data_dir: Path = Field(default=Path(".fictra"), description="Where state, logs and the SQLite DB live.")
    config_dir: Path = Field(default=Path("config"), description="Directory of the config-as-code YAML.")
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file <data_dir>/fictra.db."
    )
    http_host: str = Field(default="127.0.0.1", description="Bind address of the API and console.")
    http_port: int = Field(default=8000, ge=0, le=65535, description="Port of the API and console.")

    @property
    def devnet_dir(self) -> Path:
        return self.data_dir / "devnet"

    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'fictra.db').resolve()}"


PRIVATE_UMASK = 0o077  # files 0600, directories 0700
PRIVATE_FILES = ("fictra.db", "fictra.db-wal", "fictra.db-shm", "fictra.log")


def private_umask() -> None:
    """Everything this process creates from now on (database, WAL/SHM, log, keys, manifest, devnet
    state) is readable by its owner only. Called by the CLI entry (every command, ``fictra up``)."""
    os.umask(PRIVATE_UMASK)


def secure_data_dir(data_dir: Path) -> Path:
    """Tighten an existing data directory owned by us to 0700, and its database and log files to 0600:
    the database, its keys and its logs are nobody else's business. A missing one is not created here (a
    start-up that fails writes nothing); whatever creates it later does so under :func:`private_umask`,
    so it is 0700 from the start."""
    if not data_dir.is_dir():
        return data_dir
    _tighten(data_dir, 0o700)
    for name in PRIVATE_FILES:
        _tighten(data_dir / name, 0o600)
    return data_dir


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        return


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment plus explicit overrides; bad values raise ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"FICTRA_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"Invalid setting: {problems}") from None
