"""Real races for the money-like rules: threads released together, each with its own app context and connection.

PostgreSQL runs the writers truly at once (conditional UPDATEs and row locks are the guard);
SQLite queues them behind BEGIN IMMEDIATE and its busy timeout. Both must give the same result.
"""

import threading

from sqlalchemy import select

from tests.conftest import TEST_CONFIG
from volunteer import create_app
from volunteer.core.errors import DomainError
from volunteer.extensions import db


def racing_app(app, pool_size: int):
    """A second app on the test database whose pool holds `pool_size` connections for the threads."""
    options = {"pool_size": pool_size, "max_overflow": 4, "pool_timeout": 120}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options["connect_args"] = {"timeout": 120}
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    return create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options))


def dispose(race_app) -> None:
    with race_app.app_context():
        db.engine.dispose()


def race(race_app, count: int, action, *, connect_first: bool = True) -> list[str]:
    """Run action(i) in `count` threads released together; each outcome is "ok", an error code or a crash.

    connect_first opens every thread's PostgreSQL connection before the start; a race with more
    threads than the server takes connections passes False and lets its pool hand them out.
    """
    db.session.commit()  # the test's set-up is committed and its SQLite read lock let go
    barrier = threading.Barrier(count, timeout=120)  # a thread that failed to start must not hang the rest
    outcomes = [None] * count

    def run(i):
        with race_app.app_context():
            try:
                if connect_first and db.engine.dialect.name == "postgresql":
                    db.session.execute(select(1))
                barrier.wait()
                action(i)
                outcomes[i] = "ok"
            except DomainError as err:
                db.session.rollback()
                outcomes[i] = err.code
            except Exception as err:  # noqa: BLE001 - a deadlock or crash must show in the outcomes
                db.session.rollback()
                outcomes[i] = f"{type(err).__name__}: {err}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.commit()  # a fresh read of what the threads wrote
    return outcomes
