"""Engine set-up (SQLite pragmas, explicit transactions) and write transactions for services."""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..extensions import db


def configure_engine(engine: Engine) -> None:
    """Turn on WAL, foreign keys and a busy timeout on SQLite; nothing on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (SAVEPOINTs work).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front, so a writer waits its turn (busy_timeout)
        # instead of failing when a read transaction tries to upgrade after another commit.
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def begin_write() -> None:
    """Start the caller's unit of work as a fresh write transaction.

    Call it first in a service function that writes money-like rows (points, stock, vouchers).
    Whatever the session held is committed first (in a request that is only what was read). On
    SQLite the new transaction is BEGIN IMMEDIATE: writers queue instead of failing. On
    PostgreSQL the conditional UPDATEs and row locks of the service do the guarding.
    """
    if db.session().in_transaction():
        db.session.commit()
    options = {"sqlite_begin": "IMMEDIATE"} if db.engine.dialect.name == "sqlite" else {}
    db.session.connection(execution_options=options)
