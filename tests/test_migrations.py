"""The Alembic revisions build exactly the schema the models describe, and unwind cleanly.

Runs on a scratch database (a temp SQLite file, or a new database on the PostgreSQL server
that DATABASE_URL points at), never on the session database the other tests use.
"""

import logging
import os
import tempfile
import uuid
from contextlib import contextmanager

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from volunteer import create_app
from volunteer.extensions import db

from .conftest import TEST_CONFIG
from .core.apps import limiter_state


@contextmanager
def _logging_kept():
    """migrations/env.py calls logging.config.fileConfig, which disables every existing logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    disabled = {
        name: lg.disabled for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, lg in logging.Logger.manager.loggerDict.items():
            if isinstance(lg, logging.Logger):
                lg.disabled = disabled.get(name, False)


@contextmanager
def _scratch_database(session_url: str):
    url = make_url(session_url)
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield "sqlite:///" + os.path.join(tmp, "migrations.sqlite")
        return
    import psycopg

    name = f"{url.database}_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = dict(host=url.host, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres")
    with psycopg.connect(**{k: v for k, v in admin.items() if v is not None}, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**{k: v for k, v in admin.items() if v is not None}, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch_app(app):
    """An app on an empty scratch database, with its app context pushed."""
    with limiter_state(), _logging_kept(), _scratch_database(app.config["SQLALCHEMY_DATABASE_URI"]) as url:
        scratch = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url))
        with scratch.app_context():
            try:
                yield scratch
            finally:
                db.session.remove()
                db.engine.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": db.metadata})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models(scratch_app):
    assert _tables() == set()
    flask_migrate.upgrade()
    model_tables = {t.name for t in db.metadata.sorted_tables}
    assert _tables() == model_tables | {"alembic_version"}
    assert _differences() == []


def test_upgrade_records_the_head_revision(scratch_app):
    flask_migrate.upgrade()
    from alembic.script import ScriptDirectory

    config = scratch_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"more than one head revision: {heads}"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == heads[0]


def test_downgrade_to_base_then_upgrade_again(scratch_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert _tables() == {"alembic_version"}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0

    flask_migrate.upgrade()
    assert _differences() == []
    assert "users" in _tables()


def test_migrated_schema_accepts_rows_and_enforces_constraints(scratch_app):
    """The migrated database, not only create_all(), carries the CHECK and UNIQUE rules."""
    flask_migrate.upgrade()
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO streets (id, name, district, created_at) VALUES (1, 's', '', CURRENT_TIMESTAMP)")
        )
        conn.execute(
            text(
                "INSERT INTO users (id, phone, name, password_hash, active, is_party_member, session_version,"
                " created_at) VALUES (1, '13800000001', 'u', 'h', TRUE, FALSE, 1, CURRENT_TIMESTAMP)"
            )
        )
    bad_role = text(
        "INSERT INTO role_grants (user_id, role, scope_key, created_at)"
        " VALUES (1, 'king', 'district', CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError, match="(?i)check"), db.engine.begin() as conn:
        conn.execute(bad_role)
    same_phone = text(
        "INSERT INTO users (phone, name, password_hash, active, is_party_member, session_version, created_at)"
        " VALUES ('13800000001', 'v', 'h', TRUE, FALSE, 1, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError, match="(?i)unique|duplicate"), db.engine.begin() as conn:
        conn.execute(same_phone)
