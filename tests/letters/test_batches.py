"""A batch is written by one run at a time; a run that died is taken over by the sweep."""

from datetime import timedelta

from sqlalchemy import func, select

from volunteer.core.models import utcnow
from volunteer.extensions import db
from volunteer.letters import batches, queue
from volunteer.letters.models import Document, LetterBatch

from .factories import served, this_quarter


def _fresh(batch_id) -> LetterBatch:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(LetterBatch, batch_id)


def test_a_batch_held_by_a_live_run_is_not_run_twice(district):
    d = district
    served(d.member_a, d.a, 2)
    batch = batches.start(d.a.id, this_quarter(), d.admin_a)
    db.session.execute(
        LetterBatch.__table__.update().where(LetterBatch.id == batch.id).values(heartbeat_at=utcnow())
    )  # another run is alive
    assert batches.run(batch.id).state == "running"
    assert db.session.scalar(select(func.count(Document.id))) == 0
    assert batches.stalled_ids() == []


def test_the_sweep_takes_over_a_batch_whose_run_died(district, app):
    d = district
    served(d.member_a, d.a, 2)
    batch = batches.start(d.a.id, this_quarter(), d.admin_a)
    dead = utcnow() - timedelta(seconds=app.config["LETTER_STALE_SECONDS"] + 5)
    db.session.execute(
        LetterBatch.__table__.update().where(LetterBatch.id == batch.id).values(heartbeat_at=dead, created_at=dead)
    )
    db.session.commit()
    assert batches.stalled_ids() == [batch.id]
    queue.get().sweep()
    queue.get().run_pending()
    done = _fresh(batch.id)
    assert (done.state, done.total, done.done, done.created) == ("done", 1, 1, 1)
    assert batches.stalled_ids() == []
    assert db.session.scalar(select(func.count(Document.id))) == 1
