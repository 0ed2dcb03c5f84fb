"""A real worker killed with -9 in the middle of a batch's emails and restarted delivers every letter exactly once.

The SMTP server holds the 10th message (and every one after it) without answering, so the kill
lands while conversations are open: the held emails are "sending" in the outbox and no 250 was
ever given for them, so the server drops them (as a real one does when the client vanishes before
the final answer). After LETTER_STALE_SECONDS the restarted worker's sweep claims them again.
"""

import asyncio
import contextlib
import email.parser
import email.policy
import os
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests import factories
from tests.conftest import TEST_CONFIG
from volunteer import create_app
from volunteer.extensions import db
from volunteer.letters import batches, queue
from volunteer.letters.models import Email, LetterBatch

from .factories import served, this_quarter
from .smtp import free_port
from .worker_proc import Worker, wait_for, worker_env

LETTERS = 30
HOLD_FROM = 10  # the message the server starts holding
# LETTER_STALE_SECONDS of the worker: a killed worker's "sending" rows are claimed again after this. Short
# for the test, yet longer than a live worker takes over one email or the batch (the sweep re-runs those too).
STALE = 6


class Gate:
    """An SMTP handler that accepts messages until the N-th, then holds each one open until released."""

    def __init__(self, hold_from: int):
        self.hold_from = hold_from
        self.accepted: list[tuple[list[str], str]] = []  # (recipients, Message-ID) of every 250 given
        self.held: list[str] = []
        self.seen = 0
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(envelope.content)
        message_id = str(headers["Message-ID"])
        with self.lock:
            self.seen += 1
            hold = self.seen >= self.hold_from and not self.release.is_set()
            if hold:
                self.held.append(message_id)
        if hold:
            while not self.release.is_set():
                await asyncio.sleep(0.05)  # the event loop keeps serving the other connections
            return "451 4.4.2 the client went away before the answer"  # never accepted: not delivered
        with self.lock:
            self.accepted.append((list(envelope.rcpt_tos), message_id))
        return "250 Message accepted for delivery"


@pytest.fixture
def gate():
    handler = Gate(HOLD_FROM)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


@contextlib.contextmanager
def redis_queue_url():
    """A Redis database no other run of these tests is using (a lock key in it), emptied before and after."""
    redis = pytest.importorskip("redis")
    for number in range(8, 16):
        client = redis.Redis(host="127.0.0.1", port=6379, db=number, socket_connect_timeout=2)
        try:
            if not client.set("volunteer-tests:lock", os.getpid(), nx=True, ex=900):
                continue
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        try:
            for key in client.scan_iter("huey*"):
                client.delete(key)
            yield f"redis://127.0.0.1:6379/{number}"
        finally:
            for key in client.scan_iter("huey*"):
                client.delete(key)
            client.delete("volunteer-tests:lock")
        return
    pytest.skip("every Redis database 8-15 is in use by another test run")


@pytest.fixture
def queue_url(request, tmp_path):
    """The worker's queue: a SQLite file (the embedded default) or a Redis database, by the test's parameter."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/queue.sqlite"
        return
    with redis_queue_url() as url:
        yield url


def members_with_services(community, count: int) -> None:
    """`count` party members reporting to the community from three units, each with a verified service."""
    building = factories.building(factories.compound(community))
    units = [factories.unit() for _ in range(3)]
    for i in range(count):
        member = factories.resident(building, party_member=True)
        factories.report(member, community, units[i % 3])
        served(member, community, 1)


def enqueue_batch(app, queue_url: str, community, admin) -> int:
    """Start a batch here and enqueue it on the worker's queue (the test app's own queue is in memory)."""
    batch = batches.start(community.id, this_quarter(), admin)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    side = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=uri, QUEUE_URL=queue_url))
    with side.app_context():
        queue.get().run_batch(batch.id)
        db.engine.dispose()
    return batch.id


def emails_by_state() -> dict[str, int]:
    db.session.commit()  # a fresh snapshot: what the worker committed
    return dict(db.session.execute(select(Email.state, func.count()).group_by(Email.state)).all())


def sending_ids() -> set[str]:
    db.session.commit()
    return set(db.session.scalars(select(Email.message_id).where(Email.state == "sending")))


def kill_mid_send(worker: Worker, gate: Gate, batch_id: int) -> set[str]:
    """Wait until every email being sent is held open at the server and the batch is written, then kill -9."""
    wait_for(lambda: gate.held, 120, "the server to hold a message", worker)

    def only_held_in_flight():
        db.session.commit()
        batch = db.session.get(LetterBatch, batch_id)
        assert batch.state != "failed", f"the batch failed: {batch.error}\n{worker.output()}"
        in_flight = sending_ids()
        return in_flight if batch.state == "done" and in_flight and in_flight <= set(gate.held) else None

    held = wait_for(only_held_in_flight, 60, "every email being sent to be held by the server", worker)
    worker.kill()
    gate.release.set()
    return held


def all_sent_or_failed():
    states = emails_by_state()
    return states if states.get("sent") == LETTERS or states.get("failed") else None


@pytest.mark.parametrize(("queue_url", "workers"), [("sqlite", 1), ("sqlite", 2), ("redis", 2)], indirect=["queue_url"])
def test_a_killed_worker_restarted_sends_every_letter_once(app, district, gate, queue_url, workers, tmp_path):
    d = district
    handler, port = gate
    members_with_services(d.a, LETTERS)
    env = worker_env(
        app.config["SQLALCHEMY_DATABASE_URI"],
        queue_url,
        port,
        LETTER_STALE_SECONDS=STALE,
        LETTER_RETRY_SECONDS=1,
        MAIL_TIMEOUT=60,  # the held conversations must not time out before the kill
    )
    log = tmp_path / "worker.log"
    batch_id = enqueue_batch(app, queue_url, d.a, d.admin_a)
    worker = Worker(env, workers, log).start()
    try:
        held = kill_mid_send(worker, handler, batch_id)
        assert set(handler.held) <= sending_ids()  # killed mid-send: the outbox says so
        sent_before = len(handler.accepted)
        assert HOLD_FROM - 1 <= sent_before < LETTERS

        time.sleep(STALE + 1)  # the dead worker's claims go stale; the restarted worker's sweep finds them
        worker = Worker(env, workers, log).start()
        states = wait_for(all_sent_or_failed, 180, f"all {LETTERS} emails to be sent", worker)
        assert states == {"sent": LETTERS}, worker.output()
    finally:
        worker.stop()

    db.session.commit()
    rows = db.session.scalars(select(Email)).all()
    arrived = Counter(message_id for _, message_id in handler.accepted)
    assert len(handler.accepted) == LETTERS, (len(handler.accepted), arrived.most_common(3))
    assert set(arrived) == {row.message_id for row in rows} and set(arrived.values()) == {1}
    recipients = {message_id: rcpts for rcpts, message_id in handler.accepted}
    assert all(recipients[row.message_id] == [row.recipient] for row in rows)
    again = {row.message_id: row.attempts for row in rows if row.message_id in held}
    assert again and all(attempts >= 2 for attempts in again.values())  # claimed again after the restart
    batch = db.session.get(LetterBatch, batch_id)
    assert (batch.state, batch.created) == ("done", LETTERS)
