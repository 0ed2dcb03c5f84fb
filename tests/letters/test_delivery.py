"""Letters reach the unit's contact over real SMTP, with the PDF attached, exactly once."""

import io

import pypdf
from sqlalchemy import select

from volunteer.extensions import db
from volunteer.letters import queue
from volunteer.letters.models import Document, Email

from .factories import letter_for, served


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_letter_arrives_with_its_pdf(district, mail_server):
    d = district
    served(d.member_a, d.a, 4)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    assert letter is not None and letter.facts["services"] == 4
    assert queue.get().run_pending() == 1
    [(rcpt, message)] = mail_server.messages
    assert rcpt == [d.unit_a.contact_email]
    assert letter.number in message["Subject"] and "王党员" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    assert "王党员" in text and "4次" in text and letter.number in text
    db.session.commit()  # end the test's read snapshot: see what the task wrote
    email = db.session.scalar(select(Email).where(Email.document_id == letter.id))
    assert (email.state, email.attempts) == ("sent", 1)
    assert message["Message-ID"] == email.message_id
    # Enqueued again (a sweep, a duplicate task): nothing more is sent.
    queue.get().deliver(email.id)
    queue.get().sweep()
    queue.get().run_pending()
    assert len(mail_server.messages) == 1
    assert db.session.scalar(select(Document.id).where(Document.id == letter.id))
