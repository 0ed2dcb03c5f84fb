"""The demo district's thank-you letters: last quarter's round, mostly sent, one failed, one revoked."""

import io

import pypdf
import pytest
from PIL import Image
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters import documents, facts, pdf
from volunteer.letters.models import Document, Email, LetterBatch, LetterSettings
from volunteer.org.models import Community, MemberReport

from ..conftest import wipe
from .test_seed import seed

pytestmark = pytest.mark.shared_rows


@pytest.fixture(scope="module")
def seeded(app):
    with app.app_context():
        wipe(app)
        result = seed(app)
        assert result.exit_code == 0, result.output
    yield result
    with app.app_context():
        wipe(app)


def test_every_community_has_a_finished_round_for_last_quarter(seeded):
    from volunteer.demo.letters import demo_period

    period = demo_period(local_today())
    for community in db.session.scalars(select(Community)):
        batch = db.session.scalar(select(LetterBatch).where(LetterBatch.community_id == community.id))
        assert (batch.state, batch.period_key) == ("done", period.key)
        eligible = documents.eligible_reports(community.id, period)
        assert eligible and batch.total == batch.done == batch.created == len(eligible)
        letters = db.session.scalars(select(Document).where(Document.batch_id == batch.id)).all()
        assert len(letters) == len(eligible)
        settings = db.session.scalar(select(LetterSettings).where(LetterSettings.community_id == community.id))
        assert settings.signature == f"中共{community.name}委员会"
        assert Image.open(io.BytesIO(settings.seal_png)).format == "PNG"


def test_letters_state_the_members_verified_services_of_the_period(seeded):
    for letter in db.session.scalars(select(Document).limit(10)):
        report = db.session.scalar(
            select(MemberReport).where(
                MemberReport.user_id == letter.user_id, MemberReport.community_id == letter.community_id
            )
        )
        totals = facts.service_totals(letter.user_id, letter.period_start, letter.period_end, letter.community_id)
        assert letter.facts["services"] == totals["services"] > 0
        assert letter.facts["name"] == report.user.name and letter.unit_id == report.unit_id
        assert documents.find(letter.number).id == letter.id


def test_emails_are_sent_but_one_failed_and_one_letter_is_revoked(seeded):
    states = dict(db.session.execute(select(Email.state, func.count()).group_by(Email.state)).all())
    assert states["failed"] == 1 and states["sent"] >= 10 and set(states) == {"sent", "failed"}
    failed = db.session.scalar(select(Email).where(Email.state == "failed"))
    assert failed.last_error.startswith("550") and failed.recipient in failed.last_error
    revoked = db.session.scalars(select(Document).where(Document.revoked_at.is_not(None))).all()
    assert len(revoked) == 1 and revoked[0].revoke_reason and revoked[0].dedupe_key is None
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "letter.revoke")) == 1


def test_a_demo_letter_renders_with_its_seal(seeded):
    letter = db.session.scalar(select(Document).where(Document.revoked_at.is_(None)).order_by(Document.id))
    data = pdf.render(letter)
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text().replace(" ", "")  # the title is letter-spaced
    assert letter.facts["name"] in text and letter.number in text and "感谢函" in text
    assert len(reader.pages[0].images) >= 2  # the verification QR code and the seal
