"""Settings: production refuses guessable keys, cookies are locked down, SQLite is tuned."""

import pytest
from sqlalchemy import text

from volunteer import create_app
from volunteer.config import DEV_SECRET, ConfigError, normalise_database_url
from volunteer.extensions import db

from .conftest import TEST_CONFIG
from .core.apps import limiter_state

GOOD_KEY = "0123456789abcdef" * 4  # 64 characters


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    """Each test states the environment it needs; none leaks in from the shell."""
    for name in ("VOLUNTEER_ENV", "SECRET_KEY", "SESSION_COOKIE_SECURE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with limiter_state():  # production apps turn rate limits on for the shared Limiter
        yield


def _prod(**overrides):
    return create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})


def test_production_refuses_the_development_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        _prod(SECRET_KEY=DEV_SECRET)


def test_production_refuses_a_short_key():
    with pytest.raises(ConfigError):
        _prod(SECRET_KEY="x" * 31)


def test_production_refuses_an_empty_key():
    with pytest.raises(ConfigError):
        _prod(SECRET_KEY="")


def test_production_starts_with_a_long_random_key():
    app = _prod(SECRET_KEY=GOOD_KEY)
    assert app.config["SECRET_KEY"] == GOOD_KEY
    assert app.config["ENV_NAME"] == "production"


def test_development_may_use_the_development_key():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["ENV_NAME"] == "development"
    assert app.config["SECRET_KEY"] == DEV_SECRET


def test_production_from_the_environment_without_a_key_refuses(monkeypatch):
    monkeypatch.setenv("VOLUNTEER_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigError):
        create_app()


def test_production_from_the_environment_with_a_key_starts(monkeypatch):
    monkeypatch.setenv("VOLUNTEER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    assert create_app().config["ENV_NAME"] == "production"


@pytest.mark.parametrize(
    "given",
    ["postgres://u:p@db.example:5432/vol", "postgresql://u:p@db.example:5432/vol"],
)
def test_database_url_is_normalised_to_psycopg(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/vol"
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"


def test_normalise_leaves_other_urls_alone():
    assert normalise_database_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert normalise_database_url("postgresql+psycopg://h/d") == "postgresql+psycopg://h/d"


def test_production_cookies_are_secure_httponly_and_lax(monkeypatch):
    monkeypatch.setenv("VOLUNTEER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    cfg = app.config
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_SECURE"] is True
    assert cfg["REMEMBER_COOKIE_HTTPONLY"] is True
    # and the browser is really told so
    response = app.test_client().post("/lang/en", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_cookies_work_over_plain_http():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_sqlite_connections_have_foreign_keys_wal_and_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("checks the SQLite pragmas; PostgreSQL needs none")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar().lower() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_test_config_turns_off_what_tests_do_not_want():
    # The rest of the suite relies on these; a change here should be deliberate.
    assert TEST_CONFIG["WTF_CSRF_ENABLED"] is False
    assert TEST_CONFIG["RATELIMIT_ENABLED"] is False
