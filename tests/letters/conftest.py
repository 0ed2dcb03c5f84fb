import pytest

from . import smtp


@pytest.fixture
def mail_server(app):
    """A real SMTP server on 127.0.0.1; the app sends to it for the test's duration."""
    controller, keeper = smtp.start()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", controller.port
    try:
        yield keeper
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
        controller.stop()


@pytest.fixture(autouse=True)
def _empty_queue(app):
    """The memory queue lives as long as the app: no test may inherit another's tasks."""
    from volunteer.letters import queue

    queue.get().huey.flush()
    yield
    queue.get().huey.flush()
