"""The real app served over HTTP on a free local port, and browsers released together against it.

The server is a second app on the suite's database with CSRF on (real forms, tokens read from
the pages) and a modest connection pool: PostgreSQL allows 100 connections in all and other test
processes run beside this one, so a hundred simultaneous requests queue for 30 connections
(pool_timeout) rather than fail. werkzeug serves each connection in its own thread.
"""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server

from bench.webclient import Browser
from volunteer import create_app
from volunteer.extensions import db

from ..conftest import TEST_CONFIG
from ..factories import PASSWORD

POOL = 30
WAIT = 120  # seconds: the longest anything may wait (a connection, the barrier, an answer)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # hundreds of requests per test: keep the output readable
        pass


def live_app(app, pool_size: int = POOL):
    """A second app on the test database, as a browser meets it: CSRF on, `pool_size` connections."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": WAIT, "pool_pre_ping": True}
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": WAIT}
    config = dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options)
    config["CREDIT_UPLOAD_DIR"] = app.config["CREDIT_UPLOAD_DIR"]
    return create_app(config)


@contextmanager
def serving(application) -> Iterator[str]:
    """Base URL of `application` served by werkzeug, a thread per connection, until the block ends."""
    server = make_server("127.0.0.1", 0, application, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with application.app_context():
            db.engine.dispose()  # before the suite's wipe: no pooled connection may hold a lock


def in_parallel(function: Callable, items: list) -> list:
    """function(item) for every item, sixteen at a time: the slow set-up before a race (logins, pages)."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(function, items))


def logged_in(base_url: str, users: list, *, password: str = PASSWORD) -> list[Browser]:
    """A fresh browser per entry of `users` (a user may appear many times), logged in through the form."""
    phones = [user.phone for user in users]
    return in_parallel(lambda phone: Browser(base_url, timeout=WAIT).login(phone, password), phones)


def together(browsers: list[Browser], action: Callable) -> list:
    """Run action(browser, i) for every browser at the same moment; each result, or the exception it raised."""
    db.session.commit()  # the test's set-up is committed and its SQLite read lock let go
    barrier = threading.Barrier(len(browsers), timeout=WAIT)  # a thread that failed to start must not hang the rest
    results: list = [None] * len(browsers)

    def run(i):
        try:
            barrier.wait()
            results[i] = action(browsers[i], i)
        except Exception as err:  # noqa: BLE001 - a refused connection or a timeout must show in the results
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=2 * WAIT)
    db.session.commit()  # a fresh read of what the requests wrote
    return results
