"""Extra app instances for tests that need another configuration (rate limits, CSRF, production).

Flask-Limiter keeps `enabled` on the one shared Limiter object, so creating an app with rate
limits on would switch them on for the session app too (and the reverse). Every extra app is
built inside `limiter_state()`, which puts the shared state back afterwards.
"""

from contextlib import contextmanager

from volunteer import create_app
from volunteer.extensions import db, limiter

from ..conftest import TEST_CONFIG, IsolatedClient


@contextmanager
def limiter_state():
    saved = (limiter.enabled, limiter.initialized)
    try:
        yield
    finally:
        limiter.enabled, limiter.initialized = saved


@contextmanager
def extra_app(app, **overrides):
    """A second app on the session app's database, with `overrides` on top of TEST_CONFIG."""
    with limiter_state():
        config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
        config.update(overrides)
        other = create_app(config)
        other.test_client_class = IsolatedClient
        try:
            yield other
        finally:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()
