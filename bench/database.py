"""A fresh database for one benchmark run (a SQLite temp file or a new PostgreSQL database), migrated and dropped."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


@contextmanager
def fresh_database(kind: str, pg_url: str = DEFAULT_PG) -> Iterator[str]:
    """SQLAlchemy URL of an empty database that is removed when the block ends."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="exchange-bench-")
        try:
            yield "sqlite:///" + os.path.join(folder, "bench.sqlite")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"exchange_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    """`flask db upgrade`: the schema exactly as a deployment gets it."""
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")
