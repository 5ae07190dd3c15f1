"""PostgreSQL: ``pg_dump`` (custom format) and ``pg_restore`` as subprocesses, a scratch database for
verification. The password goes through ``PGPASSWORD``, never the command line; a URL whose
``options`` set ``search_path`` (one schema per tenant or test) is dumped and restored with ``-n``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from fictra.errors import ConfigError, StorageError

_SEARCH_PATH = re.compile(r"search_path\s*=\s*([A-Za-z0-9_\"$]+)")
MISSING = (
    "'{tool}' was not found on PATH: PostgreSQL backups need the PostgreSQL client tools "
    "(Debian/Ubuntu: `apt-get install postgresql-client`, of the server's major version or newer)."
)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigError(MISSING.format(tool=name))
    return found


def schema_of(url: str) -> str | None:
    """The schema a URL's ``options=-csearch_path=...`` selects, None when it sets none."""
    options = make_url(url).query.get("options")
    text = " ".join(options) if isinstance(options, tuple) else (options or "")
    match = _SEARCH_PATH.search(text)
    return match.group(1).strip('"') if match else None


def _plain(url: str, *, database: str | None = None) -> URL:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database=database) if database is not None else parsed


def conninfo(url: str, *, database: str | None = None) -> str:
    """A libpq URI without the password (it goes in the environment)."""
    parsed = _plain(url, database=database).set(password=None)
    return str(parsed.render_as_string(hide_password=False))


def libpq_url(url: str, *, database: str | None = None) -> str:
    """A libpq URI with the password (for psycopg in-process; never on a command line or in a log)."""
    parsed = _plain(url, database=database)
    return str(parsed.render_as_string(hide_password=False))


def sqlalchemy_url(url: str, *, database: str) -> str:
    return str(make_url(url).set(database=database).render_as_string(hide_password=False))


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _run(args: list[str], *, url: str, what: str) -> None:
    done = subprocess.run(args, env=_env(url), capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        detail = lines[0] if lines else f"exit code {done.returncode}"
        raise StorageError(f"{what} failed: {detail}")


def dump(*, url: str, target: Path, snapshot: str | None = None) -> None:
    """``pg_dump -Fc`` of the database (or its search-path schema) into the new file ``target`` (0600)."""
    args = [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    schema = schema_of(url)
    if schema:
        args.append(f"--schema={schema}")
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    _run([*args, f"--dbname={conninfo(url)}"], url=url, what="pg_dump")
    target.chmod(0o600)


def restore(*, url: str, source: Path, database: str | None = None, clean: bool = False) -> None:
    """``pg_restore`` of ``source`` into the database (``database`` overrides the URL's), in one
    transaction: on any error nothing is changed. ``clean`` drops the dump's objects first (the schema
    too: objects in it that the dump does not hold make the restore fail and change nothing)."""
    args = [
        tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    if clean:
        args += ["--clean", "--if-exists"]
    # no --schema here: a dump made with --schema holds that schema only, and restoring with --schema
    # would leave out its CREATE SCHEMA
    _run([*args, f"--dbname={conninfo(url, database=database)}", str(source)], url=url, what="pg_restore")


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database on the URL's server (named ``fictra_verify_<hex>``), dropped afterwards;
    yields its name."""
    import psycopg

    name = f"fictra_verify_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise StorageError(
            f"Cannot create a scratch database to verify the backup in: {str(exc).strip()} "
            "(the database user needs CREATEDB)."
        ) from None
    try:
        yield name
    finally:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def has_tables(url: str) -> bool:
    """Whether the URL's schema (its search path, else ``public``) holds any table."""
    import psycopg

    schema = schema_of(url) or "public"
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
    return bool(row and row[0])
