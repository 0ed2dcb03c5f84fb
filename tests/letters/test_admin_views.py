"""The admin's letters pages: period and community, preview, batches with progress, letter states, revoke, resend."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import utcnow
from volunteer.extensions import db
from volunteer.letters import batches, documents, queue
from volunteer.letters.models import Document, Email, LetterBatch

from ..conftest import text
from ..factories import report
from .factories import generate, letter_for, served, this_quarter


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def rows() -> dict:
    return {model.__name__: count(model) for model in (Document, Email, LetterBatch, AuditEntry)}


def fresh(model, object_id):
    db.session.commit()  # end the read snapshot: see what requests and tasks wrote
    db.session.expire_all()
    return db.session.get(model, object_id)


@pytest.fixture(autouse=True)
def _empty_queue():
    """The memory queue lives as long as the app: start empty, and leave nothing for the next test."""
    queue.get().huey.flush()
    yield
    queue.get().huey.flush()


@pytest.fixture
def served_a(district):
    """member_a served community a this quarter; admin_a runs it."""
    served(district.member_a, district.a, 3)
    return district


def home_url(d, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"community": d.a.id, "period": this_quarter().key, **args}.items())
    return f"/letters/?{query}"


# --- the home page ---------------------------------------------------------------------------------


def test_home_shows_eligible_members_batches_and_letters(served_a, browse):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    admin = browse(d.admin_a)
    page = text(admin.get(home_url(d)))
    assert "member reporting here has verified services" in page and '<span class="stat">1</span>' in page
    assert letter.number in page and "王党员" in page and "东城供电局" in page
    assert f"/letters/documents/{letter.id}" in page and f"/letters/documents/{letter.id}.pdf" in page
    assert "Queued (1)" in page and f"/letters/batches/{letter.batch_id}" in page
    assert f'<option value="{d.member_a.id}">王党员</option>' in page  # the preview picker
    # The default page (last quarter) answers too, with nothing of this quarter.
    default = admin.get("/letters/")
    assert default.status_code == 200 and letter.number not in text(default)


def test_home_filters_letters_by_state(served_a, browse, mail_server):
    d = served_a
    served(d.member_b, d.b, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    queue.get().run_pending()
    admin = browse(d.admin_a)
    assert letter.number in text(admin.get(home_url(d, state="sent")))
    assert letter.number not in text(admin.get(home_url(d, state="failed")))
    assert letter.number not in text(admin.get(home_url(d, state="queued")))
    assert "Sent (1)" in text(admin.get(home_url(d, state="nonsense")))  # an unknown state: no filter


def test_pages_are_for_admins_only(served_a, browse, client):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    email = letter.emails[0]
    urls = [
        home_url(d),
        f"/letters/preview?community={d.a.id}&period={this_quarter().key}",
        f"/letters/batches/{letter.batch_id}",
        f"/letters/batches/{letter.batch_id}.json",
        f"/letters/documents/{letter.id}",
        f"/letters/documents/{letter.id}.pdf",
        f"/letters/settings?community={d.a.id}",
    ]
    posts = [
        ("/letters/batches", {"community": d.a.id, "period": this_quarter().key}),
        (f"/letters/documents/{letter.id}/revoke", {"reason": "错误"}),
        (f"/letters/emails/{email.id}/resend", {}),
        (f"/letters/settings?community={d.a.id}", {"signature": "x"}),
    ]
    for user in (d.member_a, d.steward_a, d.employer_a, d.resident_a):
        browser = browse(user)
        assert [browser.get(url).status_code for url in urls] == [403] * len(urls), user.name
        assert [browser.post(url, data=data).status_code for url, data in posts] == [403] * len(posts)
    assert client.get(home_url(d)).status_code == 302  # to the login page
    # Another community's admin: everything of community a is missing.
    other = browse(d.admin_b)
    assert [other.get(url).status_code for url in urls] == [404] * len(urls)
    assert [other.post(url, data=data).status_code for url, data in posts] == [404] * len(posts)
    assert letter.number not in text(other.get("/letters/"))
    assert not fresh(Document, letter.id).revoked and count(LetterBatch) == 1
    # A certificate (no community) is not an admin's letter either.
    certificate = documents.issue_certificate(d.member_a, this_quarter().start, this_quarter().start)
    assert browse(d.admin_a).get(f"/letters/documents/{certificate.id}").status_code == 404


def test_an_organiser_of_the_street_sees_its_communities(served_a, browse):
    d = served_a
    page = browse(d.organiser_a)
    assert page.get(home_url(d)).status_code == 200
    assert page.get(f"/letters/?community={d.c.id}").status_code == 404  # another street


# --- a batch through the pages ---------------------------------------------------------------------


def test_a_batch_runs_end_to_end_through_the_pages(served_a, browse, mail_server):
    d = served_a
    admin = browse(d.admin_a)
    response = admin.post("/letters/batches", data={"community": d.a.id, "period": this_quarter().key})
    batch = db.session.scalars(select(LetterBatch)).one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/letters/batches/{batch.id}")
    page = text(admin.get(f"/letters/batches/{batch.id}"))
    assert "<progress" in page and 'http-equiv="refresh"' in page and "letters-batch.js" in page
    status = admin.get(f"/letters/batches/{batch.id}.json").get_json()
    assert (status["state"], status["done"], status["total"], status["finished"]) == ("running", 0, 1, False)
    assert not status["stalled"]

    assert queue.get().run_pending() == 2  # the batch, then the letter's email
    status = admin.get(f"/letters/batches/{batch.id}.json").get_json()
    assert (status["state"], status["done"], status["total"], status["created"]) == ("done", 1, 1, 1)
    assert status["percent"] == 100 and status["finished"] and status["letters_url"].startswith("/letters/?")
    page = text(admin.get(f"/letters/batches/{batch.id}"))
    assert 'http-equiv="refresh"' not in page and 'value="1"' in page
    letter = documents.live_letter(d.a.id, d.member_a.id, this_quarter())
    listing = text(admin.get(home_url(d)))
    assert letter.number in listing and "Sent (1)" in listing
    assert len(mail_server.messages) == 1


def test_a_batch_that_does_not_move_hints_at_the_worker(served_a, browse):
    d = served_a
    admin = browse(d.admin_a)
    admin.post("/letters/batches", data={"community": d.a.id, "period": this_quarter().key})
    batch = db.session.scalars(select(LetterBatch)).one()
    hint = "Letters are written by the worker (flask letters worker)"
    assert 'batch-hint" hidden' in text(admin.get(f"/letters/batches/{batch.id}"))
    batch.created_at = utcnow() - timedelta(seconds=31)
    db.session.commit()
    assert admin.get(f"/letters/batches/{batch.id}.json").get_json()["stalled"] is True
    page = text(admin.get(f"/letters/batches/{batch.id}"))
    assert hint in page and 'batch-hint" hidden' not in page


def test_a_second_batch_while_one_runs_is_refused(served_a, browse):
    d = served_a
    batches.start(d.a.id, this_quarter(), d.admin_a)
    response = browse(d.admin_a).post("/letters/batches", data={"community": d.a.id, "period": this_quarter().key})
    assert response.status_code == 409 and "already being generated" in text(response)
    assert count(LetterBatch) == 1


@pytest.mark.parametrize("period", ["2026-Q9", "next year", "", "1999"])
def test_a_bad_period_is_refused_and_changes_nothing(served_a, browse, period):
    d = served_a
    admin = browse(d.admin_a)
    before = rows()
    response = admin.post("/letters/batches", data={"community": d.a.id, "period": period})
    assert response.status_code == 400
    assert "Choose a quarter such as 2026-Q3" in text(response) or "This field is required." in text(response)
    if period:
        for url in (f"/letters/?period={period}", f"/letters/preview?community={d.a.id}&period={period}"):
            page = admin.get(url)
            assert page.status_code == 400 and "Choose a quarter such as 2026-Q3" in text(page)
    assert rows() == before


def test_bad_community_values(served_a, browse):
    d = served_a
    admin = browse(d.admin_a)
    before = rows()
    assert admin.post("/letters/batches", data={"community": "abc", "period": "2026"}).status_code == 400
    assert admin.post("/letters/batches", data={"community": d.b.id, "period": "2026"}).status_code == 404
    assert admin.get("/letters/?community=abc").status_code == 404
    assert rows() == before


# --- preview and PDF -------------------------------------------------------------------------------


def test_preview_shows_a_letter_and_writes_nothing(served_a, browse):
    d = served_a
    other = d.resident_a  # a second eligible member of community a
    report(other, d.a, d.unit_b)
    served(other, d.a, 1)
    admin = browse(d.admin_a)
    before = rows()
    url = f"/letters/preview?community={d.a.id}&period={this_quarter().key}"
    first = admin.get(url)
    assert first.status_code == 200 and "感谢函" in text(first) and "王党员" in text(first)
    assert "东城供电局" in text(first) and "3次" in text(first) and "-XXXX-XXXX" in text(first)
    chosen = text(admin.get(f"{url}&member={other.id}"))
    assert "张三" in chosen and "西城税务所" in chosen and "1次" in chosen
    assert rows() == before
    assert admin.get(f"{url}&member={d.member_b.id}").status_code == 404  # not eligible here
    assert admin.get(f"{url}&member=x").status_code == 404
    nothing = admin.get(f"/letters/preview?community={d.a.id}&period=2001")
    assert nothing.status_code == 404 and "No member has verified services" in text(nothing)
    assert rows() == before


def test_the_pdf_of_a_letter(served_a, browse):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    response = browse(d.admin_a).get(f"/letters/documents/{letter.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and letter.number in response.headers["Content-Disposition"]


# --- one letter: revoke and resend -----------------------------------------------------------------


def test_the_letter_page_shows_facts_and_emails(served_a, browse):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    page = text(browse(d.admin_a).get(f"/letters/documents/{letter.id}"))
    assert letter.number in page and "王党员" in page and d.unit_a.contact_email in page
    assert f"/v/{letter.number}" in page and "Revoke this letter" in page
    assert f"period={this_quarter().key}" in page  # back to the period's list


def test_revoking_a_letter_stops_its_email(served_a, browse, mail_server):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    admin = browse(d.admin_a)
    response = admin.post(f"/letters/documents/{letter.id}/revoke", data={"reason": "服务记录有误"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/letters/documents/{letter.id}")
    found = documents.find(letter.number)
    db.session.refresh(found)
    assert found.revoked and found.revoke_reason == "服务记录有误"
    assert fresh(Email, letter.emails[0].id).state == "failed"
    queue.get().run_pending()
    assert mail_server.messages == []  # the queued email never leaves
    page = text(admin.get(f"/letters/documents/{letter.id}"))
    assert "服务记录有误" in page and "Revoke this letter" not in page and "Resend the email" not in page
    assert "Revoked (1)" in text(admin.get(home_url(d)))
    again = admin.post(f"/letters/documents/{letter.id}/revoke", data={"reason": "again"})
    assert again.status_code == 409 and "already revoked" in text(again)


@pytest.mark.parametrize("reason", ["", "   ", "<b>x</b>", "x" * 301])
def test_revoking_needs_a_plain_reason(served_a, browse, reason):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    before = rows()
    response = browse(d.admin_a).post(f"/letters/documents/{letter.id}/revoke", data={"reason": reason})
    assert response.status_code == 400 and 'class="error"' in text(response)
    assert not fresh(Document, letter.id).revoked and rows() == before


def test_a_failed_email_is_sent_again(served_a, browse, mail_server):
    d = served_a
    letter = letter_for(d.member_a, d.a, d.admin_a)
    mail_server.refuse_with = "550 5.1.1 no such mailbox"
    queue.get().run_pending()
    email = fresh(Email, letter.emails[0].id)
    assert email.state == "failed" and "550" in email.last_error
    admin = browse(d.admin_a)
    page = text(admin.get(f"/letters/documents/{letter.id}"))
    assert "no such mailbox" in page and f"/letters/emails/{email.id}/resend" in page
    assert "no such mailbox" in text(admin.get(home_url(d, state="failed")))
    mail_server.refuse_with = None
    response = admin.post(f"/letters/emails/{email.id}/resend")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/letters/documents/{letter.id}")
    assert queue.get().run_pending() == 1
    email = fresh(Email, email.id)
    assert (email.state, email.attempts) == ("sent", 1)
    [(rcpt, message)] = mail_server.messages
    assert rcpt == [d.unit_a.contact_email] and message["Message-ID"] == email.message_id
    # Sent now: a second resend is refused and changes nothing.
    before = rows()
    refused = admin.post(f"/letters/emails/{email.id}/resend")
    assert refused.status_code == 409 and "Only an email that failed" in text(refused)
    assert rows() == before and fresh(Email, email.id).state == "sent"


def test_an_unknown_object_is_missing(served_a, browse):
    d = served_a
    admin = browse(d.admin_a)
    for url in ("/letters/batches/999", "/letters/batches/999.json", "/letters/documents/999"):
        assert admin.get(url).status_code == 404
    assert admin.get("/letters/documents/999.pdf").status_code == 404
    assert admin.post("/letters/emails/999/resend").status_code == 404
    assert admin.get("/letters/batches/999.json", headers={"Accept": "application/json"}).get_json()["error"]


def test_generate_helper_and_pages_agree_on_counts(served_a, browse):
    d = served_a
    batch = generate(d.a, d.admin_a)
    status = browse(d.admin_a).get(f"/letters/batches/{batch.id}.json").get_json()
    assert (status["total"], status["done"], status["created"], status["state"]) == (1, 1, 1, "done")


def test_a_queue_that_is_down_is_said_not_a_500(served_a, browse, monkeypatch):
    d = served_a

    def down(batch_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(queue.get(), "run_batch", down)
    admin = browse(d.admin_a)
    response = admin.post("/letters/batches", data={"community": d.a.id, "period": this_quarter().key})
    assert response.status_code == 303 and count(LetterBatch) == 1
    assert "The job queue could not be reached" in text(admin.get(response.headers["Location"]))


def test_a_period_that_has_not_started_is_refused(served_a, browse):
    d = served_a
    before = rows()
    response = browse(d.admin_a).post("/letters/batches", data={"community": d.a.id, "period": "2099-Q1"})
    assert response.status_code == 400 and "This period has not started yet" in text(response)
    assert rows() == before
