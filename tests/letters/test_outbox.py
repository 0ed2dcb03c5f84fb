"""The outbox's delivery guarantees against a real SMTP server: retries, failures, resends, claims and races."""

from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from tests.races import dispose, race, racing_app
from volunteer.core.audit import AuditEntry
from volunteer.core.errors import DomainError
from volunteer.core.models import utcnow
from volunteer.extensions import db
from volunteer.letters import documents, outbox, queue
from volunteer.letters.models import Document, Email

from .factories import generate, letter_for, served, this_quarter
from .smtp import Keeper, free_port

TRY_LATER = "451 4.3.0 mailbox busy, try later"
NO_SUCH_MAILBOX = "550 5.1.1 no such mailbox here"


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def queued_email(d) -> Email:
    """member_a's letter of this quarter, its email queued and not yet sent."""
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    queue.get().huey.flush()  # the tests send it themselves
    return fresh(letter.emails[0].id)


def fresh(email_id: int) -> Email:
    db.session.commit()  # end the read snapshot: see what deliver() committed
    return db.session.get(Email, email_id)


def make_due(email_id: int) -> None:
    past = utcnow() - timedelta(seconds=1)
    db.session.execute(update(Email).where(Email.id == email_id).values(next_attempt_at=past))
    db.session.commit()


def set_sending(email_id: int, seconds_ago: float) -> None:
    claimed = utcnow() - timedelta(seconds=seconds_ago)
    values = {"state": "sending", "attempts": 1, "claimed_at": claimed}
    db.session.execute(update(Email).where(Email.id == email_id).values(**values))
    db.session.commit()


def test_a_4xx_answer_keeps_the_email_queued_with_growing_backoff(app, district, mail_server):
    email = queued_email(district)
    retry = app.config["LETTER_RETRY_SECONDS"]
    mail_server.refuse_with = TRY_LATER
    for attempt, wait in ((1, retry), (2, retry * 4), (3, retry * 16)):
        before = utcnow()
        outcome = outbox.deliver(email.id)
        assert (outcome.state, outcome.retry_in) == ("queued", wait)
        email = fresh(email.id)
        assert (email.state, email.attempts) == ("queued", attempt)
        assert email.last_error.startswith("451") and "try later" in email.last_error
        due = aware(email.next_attempt_at)
        assert before + timedelta(seconds=wait) <= due <= utcnow() + timedelta(seconds=wait)
        assert outbox.deliver(email.id).state == "skipped"  # not due yet: nothing sent, nothing counted
        assert fresh(email.id).attempts == attempt
        make_due(email.id)
    mail_server.refuse_with = None
    assert outbox.deliver(email.id).state == "sent"
    email = fresh(email.id)
    assert (email.state, email.attempts, email.last_error) == ("sent", 4, "")
    assert [m["Message-ID"] for _, m in mail_server.messages] == [email.message_id]


def test_a_retry_is_scheduled_on_the_queue(app, district, mail_server):
    email = queued_email(district)
    mail_server.refuse_with = TRY_LATER
    jobs = queue.get()
    jobs.deliver(email.id)
    assert jobs.run_pending() == 2  # the attempt, then its retry: not due, so moved to the schedule
    [task] = jobs.huey.scheduled()
    assert task.args == (email.id,)
    expected = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=app.config["LETTER_RETRY_SECONDS"])
    assert abs((task.eta - expected).total_seconds()) < 30  # huey keeps naive UTC times
    assert fresh(email.id).state == "queued"


def test_a_5xx_answer_fails_the_email_at_once_with_the_reason(district, mail_server):
    email = queued_email(district)
    mail_server.refuse_with = NO_SUCH_MAILBOX
    jobs = queue.get()
    jobs.deliver(email.id)
    jobs.run_pending()
    email = fresh(email.id)
    assert (email.state, email.attempts) == ("failed", 1)
    assert email.last_error.startswith("550") and "no such mailbox" in email.last_error
    assert jobs.huey.scheduled() == [] and mail_server.messages == []


class RecipientRefuser(Keeper):
    """Refuses the recipient itself (RCPT TO), as a server does for an unknown address."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: recipient address rejected"


def test_a_refused_recipient_fails_at_once(app, district, monkeypatch):
    email = queued_email(district)
    controller = Controller(RecipientRefuser(), hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    try:
        outcome = outbox.deliver(email.id)
    finally:
        controller.stop()
    email = fresh(email.id)
    assert outcome.state == email.state == "failed"
    assert f"{email.recipient}: 550" in email.last_error and "rejected" in email.last_error


def test_after_the_last_attempt_a_temporary_failure_ends_failed(app, district, mail_server, monkeypatch):
    monkeypatch.setitem(app.config, "LETTER_MAX_ATTEMPTS", 3)
    email = queued_email(district)
    mail_server.refuse_with = TRY_LATER
    states = []
    for _ in range(4):
        states.append(outbox.deliver(email.id).state)
        make_due(email.id)
    assert states == ["queued", "queued", "failed", "skipped"]
    email = fresh(email.id)
    assert (email.state, email.attempts) == ("failed", 3) and email.last_error.startswith("451")
    assert email.id not in outbox.due_ids()


def test_an_smtp_server_that_is_down_is_a_temporary_failure(app, district, monkeypatch):
    email = queued_email(district)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    outcome = outbox.deliver(email.id)
    email = fresh(email.id)
    assert outcome.state == email.state == "queued"
    assert email.attempts == 1 and "ConnectionRefusedError" in email.last_error
    assert aware(email.next_attempt_at) > utcnow()


def test_a_resent_email_goes_out_once_with_the_same_message_id(district, mail_server):
    d = district
    email = queued_email(d)
    message_id = email.message_id
    mail_server.refuse_with = NO_SUCH_MAILBOX
    assert outbox.deliver(email.id).state == "failed"
    mail_server.refuse_with = None  # the unit fixed its mailbox

    outbox.resend(fresh(email.id), d.admin_a)
    email = fresh(email.id)
    assert (email.state, email.attempts, email.last_error, email.message_id) == ("queued", 0, "", message_id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "letter.resend"))
    assert entry.actor_id == d.admin_a.id and entry.community_id == d.a.id
    jobs = queue.get()
    jobs.deliver(email.id)
    jobs.deliver(email.id)  # enqueued twice (a double click, a sweep): still one email
    jobs.sweep()
    jobs.run_pending()
    assert [(rcpt, m["Message-ID"]) for rcpt, m in mail_server.messages] == [([email.recipient], message_id)]
    email = fresh(email.id)
    assert (email.state, email.attempts) == ("sent", 1)
    with pytest.raises(DomainError) as refused:
        outbox.resend(email, d.admin_a)
    assert refused.value.code == "not_failed"


def test_a_revoked_letters_queued_email_is_never_sent(district, mail_server):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)  # its email task is on the queue
    email_id = letter.emails[0].id
    documents.revoke(letter, d.admin_a, "the hours were entered twice")
    assert queue.get().run_pending() == 1
    assert outbox.deliver(email_id).state == "skipped"
    queue.get().sweep()
    queue.get().run_pending()
    assert mail_server.messages == []
    email = fresh(email_id)
    assert (email.state, email.attempts) == ("failed", 0) and "revoked" in email.last_error
    with pytest.raises(DomainError) as refused:
        outbox.resend(email, d.admin_a)
    assert refused.value.code == "revoked"
    assert fresh(email_id).state == "failed"


def test_a_revoked_letters_half_sent_email_is_not_claimed_again(district, mail_server):
    d = district
    email = queued_email(d)
    set_sending(email.id, seconds_ago=3600)  # a worker died sending it long ago
    documents.revoke(db.session.get(Document, email.document_id), d.admin_a, "wrong unit")
    assert email.id not in outbox.due_ids() and outbox.claim(email.id) is None
    assert mail_server.messages == []


def test_a_sending_email_is_claimed_again_only_once_stale(app, district, mail_server):
    email = queued_email(district)
    stale = app.config["LETTER_STALE_SECONDS"]
    set_sending(email.id, seconds_ago=stale - 30)  # a live worker may still be in the middle of it
    assert email.id not in outbox.due_ids()
    assert outbox.claim(email.id) is None and outbox.deliver(email.id).state == "skipped"
    assert mail_server.messages == []

    set_sending(email.id, seconds_ago=stale + 1)  # its worker died
    assert outbox.due_ids() == [email.id]
    assert queue.get().sweep() == 1
    queue.get().run_pending()
    email = fresh(email.id)
    assert (email.state, email.attempts) == ("sent", 2)
    assert [m["Message-ID"] for _, m in mail_server.messages] == [email.message_id]


def test_a_late_worker_cannot_overwrite_the_attempt_that_replaced_it(app, district):
    email = queued_email(district)
    first = outbox.claim(email.id)
    assert first.attempts == 1
    set_sending(email.id, seconds_ago=app.config["LETTER_STALE_SECONDS"] + 1)  # its worker seems dead
    second = outbox.claim(email.id)
    assert second.attempts == 2
    outbox._finish(second, 1, state="failed", last_error="the first worker woke up")  # its attempt is over
    email = fresh(email.id)
    assert (email.state, email.attempts, email.last_error) == ("sending", 2, "")


def test_two_claims_at_once_have_one_winner(app, district):
    email_id = queued_email(district).id  # the threads must not touch the test's session
    racers = racing_app(app, 4)
    winners = [None] * 4

    def claim(i):
        winners[i] = outbox.claim(email_id) is not None

    try:
        outcomes = race(racers, 4, claim)
    finally:
        dispose(racers)
    assert outcomes == ["ok"] * 4
    assert sorted(winners) == [False, False, False, True]
    email = fresh(email_id)
    assert (email.state, email.attempts) == ("sending", 1)


def test_two_workers_delivering_one_email_at_once_send_it_once(app, district, mail_server):
    email_id = queued_email(district).id
    racers = racing_app(app, 3)
    racers.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=app.config["MAIL_PORT"])
    states = [None] * 3

    def deliver(i):
        states[i] = outbox.deliver(email_id).state

    try:
        outcomes = race(racers, 3, deliver)
    finally:
        dispose(racers)
    assert outcomes == ["ok"] * 3 and sorted(states) == ["sent", "skipped", "skipped"]
    assert [m["Message-ID"] for _, m in mail_server.messages] == [fresh(email_id).message_id]


def test_a_letter_to_a_unit_without_an_email_address_gets_no_email(district, mail_server):
    d = district
    d.unit_a.contact_email = "  "
    db.session.commit()
    served(d.member_a, d.a, 2)
    batch = generate(d.a, d.admin_a)
    assert (batch.state, batch.created) == ("done", 1)
    letter = documents.live_letter(d.a.id, d.member_a.id, this_quarter())
    assert letter is not None and letter.emails == []
    assert db.session.scalar(select(Email.id)) is None
    assert queue.get().run_pending() == 0 and outbox.due_ids() == []
    assert mail_server.messages == []
