"""The job queue (huey) that sends the outbox and writes letter batches, and runs the housekeeping.

QUEUE_URL picks the storage: sqlite:///path (the embedded default), redis://host:port/db for
production, or memory:// (tests drain it themselves with `run_pending`). Every task runs in an
app context. The outbox rows, not the queue, are the record of what must be sent: if a task is
lost (a crash between commit and enqueue), `sweep` finds the row and enqueues it again.

The same worker runs the periodic housekeeping that must not wait for someone to set up cron:
forgotten check-outs and week-old orders every five minutes, expired vouchers and points every
hour. Each job is idempotent, so the CLI commands stay safe to run beside it.
"""

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from ..config import ConfigError
from ..extensions import db
from . import batches, outbox


def make_huey(url: str):
    # No result store: nothing reads a task's return value, and kept results would pile up for ever.
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey("volunteer", url=url, blocking=True, results=False)
    if url.startswith("sqlite:///"):
        return SqliteHuey("volunteer", filename=url.removeprefix("sqlite:///"), timeout=30, results=False)
    if url == "memory://":
        return MemoryHuey("volunteer", immediate=False, results=False)
    raise ConfigError(f"QUEUE_URL must be sqlite:///path, redis://host:port/db or memory://, not {url!r}")


class Queue:
    """The app's huey instance and its tasks, each bound to the app that made them."""

    def __init__(self, app: Flask):
        self.app = app
        self.huey = huey = make_huey(app.config["QUEUE_URL"])

        @huey.task(name="letters.deliver")
        def deliver(email_id: int):
            with app.app_context():
                outcome = outbox.deliver(email_id)
                if outcome.retry_in is not None:
                    self.deliver.schedule((email_id,), delay=outcome.retry_in)
                return outcome.state

        @huey.task(name="letters.batch")
        def run_batch(batch_id: int):
            with app.app_context():
                return batches.run(batch_id, on_emails=self.send_later).state

        @huey.periodic_task(crontab(minute="*"), name="letters.sweep")
        def periodic_sweep():
            with app.app_context():
                return self.sweep()

        self.close_overdue, self.expire = _housekeeping(huey, app)

        @huey.on_startup()
        def _fresh_connections():
            # A forked worker process must not share the parent's database connections.
            with app.app_context():
                db.engine.dispose(close=False)

        self.deliver, self.run_batch, self.periodic_sweep = deliver, run_batch, periodic_sweep

    def send_later(self, email_ids) -> None:
        """Enqueue emails after their rows are committed; if the queue is down, `sweep` catches up."""
        for email_id in email_ids:
            try:
                self.deliver(email_id)
            except Exception:  # the row is safe in the outbox; the next sweep enqueues it
                current_app.logger.exception("Could not enqueue email %s", email_id)

    def sweep(self) -> int:
        """Enqueue every email that is due or was left half-sent by a dead worker, and stalled batches.

        A batch run again only writes the letters it has not written yet.
        """
        for batch_id in batches.stalled_ids():
            try:
                self.run_batch(batch_id)
            except Exception:
                current_app.logger.exception("Could not enqueue letter batch %s", batch_id)
        ids = outbox.due_ids()
        self.send_later(ids)
        return len(ids)

    def run_pending(self, limit: int = 10_000) -> int:
        """Run queued tasks in this process until none is left (tests, and `flask letters send --now`)."""
        count = 0
        while count < limit and (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            count += 1
        return count


def _housekeeping(huey, app: Flask):
    from ..core.models import local_today
    from ..exchange.vouchers import expire_due
    from ..ledger.expiry import expire_all
    from ..service.activities import close_forgotten
    from ..service.orders import auto_confirm

    @huey.periodic_task(crontab(minute="*/5"), name="service.close_overdue")
    def close_overdue():
        with app.app_context():
            return close_forgotten(), auto_confirm()

    @huey.periodic_task(crontab(minute="7"), name="exchange_and_points.expire")
    def expire():  # hourly, so a worker that was down at midnight catches up within the hour
        with app.app_context():
            return expire_due(), expire_all(local_today())

    return close_overdue, expire


def init_app(app: Flask) -> None:
    app.extensions["letters.queue"] = Queue(app)


def get() -> Queue:
    return current_app.extensions["letters.queue"]
