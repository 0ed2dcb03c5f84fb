"""Test set-up: one app per session on SQLite (default) or PostgreSQL (DATABASE_URL).

Each test gets an app context for its own set-up code, while every client request runs in a
fresh app context of its own, as in production: no `g`, session or identity map is shared
between the test body and the requests it makes. Rows are wiped after each test.
"""

import os
import tempfile
from pathlib import Path

import psycopg
import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from volunteer import create_app
from volunteer.extensions import db, limiter

from . import factories

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "QUEUE_URL": "memory://",  # tests run queued tasks themselves (queue.get().run_pending())
    "MAIL_PORT": 9,  # nothing listens: a test that sends mail starts its own SMTP server
}


def pytest_configure(config):
    """Compile the message catalogues if they changed, so a bare `pytest` sees translations."""
    from babel.messages.frontend import CommandLineInterface

    root = Path(__file__).resolve().parent.parent / "volunteer" / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(root)])
            break


def database_url(tmp_dir: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(tmp_dir, "test.sqlite")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql"):
        return worker_database(url, worker)
    return url


def _maintenance(url):
    base = make_url(url)
    return base, base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def worker_database(url: str, worker: str) -> str:
    """Each xdist worker gets its own fresh PostgreSQL database beside the one named."""
    base, admin = _maintenance(url)
    name = f"{base.database}_{worker}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    base, admin = _maintenance(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{base.database}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context."""

    def open(self, *args, **kwargs):
        db.session.commit()  # the test's set-up is visible to the request
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            db.session.commit()  # end the test's read snapshot: see what the request wrote


@pytest.fixture(scope="session")
def app():
    with tempfile.TemporaryDirectory() as tmp:
        overrides = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url(tmp))
        overrides["CREDIT_UPLOAD_DIR"] = os.path.join(tmp, "uploads", "declarations")  # not the instance folder
        application = create_app(overrides)
        application.test_client_class = IsolatedClient
        with application.app_context():
            db.drop_all()
            db.create_all()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        if os.environ.get("PYTEST_XDIST_WORKER") and application.config["SQLALCHEMY_DATABASE_URI"].startswith(
            "postgresql"
        ):
            drop_database(application.config["SQLALCHEMY_DATABASE_URI"])


def wipe(app) -> None:
    """Delete every row, children first (DELETE beats TRUNCATE on small PostgreSQL tables)."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _ctx(app, request):
    # Flask-Limiter keeps `enabled` on the shared Limiter: an extra app must not leak it.
    saved = (limiter.enabled, limiter.initialized)
    with app.app_context():
        yield
        db.session.remove()
        # Tests marked shared_rows read data a module fixture built once and wipes itself.
        if request.node.get_closest_marker("shared_rows") is None:
            wipe(app)
    limiter.enabled, limiter.initialized = saved
    factories.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(app):
    """More than one browser at once (two stewards, a resident and a steward)."""
    return app.test_client


def english(client):
    """Switch this browser to English so assertions can read messages by their msgids."""
    client.post("/lang/en")
    return client


def login(client, user, password: str = factories.PASSWORD):
    response = client.post("/login", data={"phone": user.phone, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def browse(make_client):
    """A logged-in English browser for a user: browse(user).get(...)."""

    def _browse(user):
        client = english(make_client())
        login(client, user)
        return client

    return _browse


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def district():
    """A small district: two communities in one street, one in another, with staff."""
    return factories.district()
