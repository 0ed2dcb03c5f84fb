"""A community's letters objects (a batch, its letter, the letter's failed email, a certificate), for the crawls."""

import io
import zipfile
from dataclasses import dataclass, field

import openpyxl
import pypdf
from sqlalchemy import select

from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters import batches, documents, periods
from volunteer.letters import settings as letter_settings
from volunteer.letters.models import Email
from volunteer.org.models import MemberReport

from .. import factories
from .factories import served


@dataclass
class Objects:
    """Ids of a community's letters objects (candidate URL arguments) and the text that must not leak."""

    batch: int  # done: it wrote `letter`
    letter: int  # the member's letter to their unit, for the period the admin's pages open on
    email: int  # the letter's email, failed: a Send again away from going out
    certificate: int  # the member's own certificate (not tied to a community)
    numbers: list[str] = field(default_factory=list)  # [letter, certificate]: public on /v/ only
    markers: list[str] = field(default_factory=list)


def period() -> periods.Period:
    """The period the admin's pages open on (the last quarter): its letters are on the first page they see."""
    return periods.last_quarter(local_today())


def _report_for(member, community, year: int) -> None:
    """A 双报到 report of `year` (a letter's period may be last year's fourth quarter in January)."""
    reports = db.session.scalars(select(MemberReport).where(MemberReport.user_id == member.id)).all()
    mine = [r for r in reports if r.community_id == community.id]
    if not any(r.year == year for r in mine):
        factories._commit(
            MemberReport(user_id=member.id, community_id=community.id, unit_id=mine[0].unit_id, year=year)
        )


def create(community, member, admin, text: str, mark: str, *, signed: bool = False) -> Objects:
    """Each object in a state where a foreign actor's step would succeed if access were not checked:
    a finished batch with the member's letter (live, so it can be revoked), its email failed (so it can
    be sent again) and the member's certificate. The email's error is "<text>退信<mark>", e.g. 和平退信乙;
    `signed`: the community signs its letters "<text>落款<mark>" (its settings page and every letter show it)."""
    markers = [f"{text}退信{mark}"]
    if signed:
        markers.append(f"{text}落款{mark}")
        letter_settings.save(admin, community.id, {"signature": markers[-1]})
    chosen = period()
    _report_for(member, community, chosen.year)
    served(member, community, 2, on=chosen.end)
    batch = batches.start(community.id, chosen, admin)
    batches.run(batch.id)  # in-process, nothing queued: the email stays in the outbox
    letter = documents.live_letter(community.id, member.id, chosen)
    email = db.session.scalar(select(Email).where(Email.document_id == letter.id))
    email.state, email.attempts, email.last_error = "failed", 3, markers[0]
    db.session.commit()
    certificate = documents.issue_certificate(member, chosen.start, local_today())
    numbers = [letter.number, certificate.number]
    return Objects(
        batch=batch.id,
        letter=letter.id,
        email=email.id,
        certificate=certificate.id,
        numbers=numbers,
        markers=[*markers, *numbers],
    )


# --- the authorisation matrix's letters tables (tests/test_authz_matrix.py) -----------------------

# The admin's letters pages: no URL names a community or an object; ?community= picks one of the admin's.
ADMIN_PAGES = {
    "letters.admin_home": "the letters of the admin's own communities; ?community=<other> is a 404",
    "letters.preview": "a letter of the admin's own community, drafted and shown; ?community=<other> is a 404",
    "letters.settings": "the letter settings of the admin's own communities; ?community=<other> is a 404",
    "letters.batch_start": "generates the admin's own community's letters; another community in the form is a 404",
}
EMPLOYER_PAGES = {
    f"letters.{e}": f"{what} of the employer's own staff; ?unit=<another unit> is a 404 (tested on its own)"
    for e, what in (
        ("employer", "the service report"),
        ("employer_csv", "the service report as CSV"),
        ("employer_xlsx", "the service report as XLSX"),
        ("employer_zip", "the letters"),
    )
}
# The employer's pages and exports, read as text: the exports are searched for the other unit's people.
EMPLOYER_URLS = ["/letters/employer", *(f"/letters/employer/{n}" for n in ("report.csv", "report.xlsx", "letters.zip"))]


def allowed(logged_in: list[str], admins: list[str]) -> dict:
    """(actor, endpoint) -> why this actor may open it: the ALLOWED entries of the letters routes."""
    return {
        **{(a, e): why for e, why in ADMIN_PAGES.items() for a in admins},
        **{("employer_a", e): why for e, why in EMPLOYER_PAGES.items()},
        **{(a, "letters.certificate"): "everyone asks for their own certificate; lists only theirs" for a in logged_in},
    }


# Routes admin_a may not open even in their own community, and why (status).
ADMIN_OWN_REFUSED = {
    **{e: 403 for e in EMPLOYER_PAGES},  # admin_a is no employer contact
    "letters.employer_letter": 403,
    "letters.certificate_pdf": 404,  # a certificate is its member's alone (member_a opens theirs in the control)
}


def side(objects: Objects, *, certificate: bool = True) -> dict:
    """Side's candidate ids: the letter (and the member's certificate: every document route is tried with both)."""
    document = [objects.letter, objects.certificate] if certificate else [objects.letter]
    return {"batch": [objects.batch], "document": document, "email": [objects.email]}


def _letters(d, k: str) -> Objects:
    return getattr(d, f"letters_{k}")


# name -> (actor, url(d, key), data(d, key), statuses when key is "b"), as SERVICE_FORMS in the matrix:
# with key "a" the same form names admin_a's own community's objects and goes through.
CROSS_FORMS = {
    "batch_start": (
        "admin_a",
        lambda d, k: "/letters/batches",
        lambda d, k: {"community": getattr(d, k).id, "period": period().key},
        {404},
    ),
    "settings": (
        "admin_a",
        lambda d, k: f"/letters/settings?community={getattr(d, k).id}",
        lambda d, k: {"signature": "中共社区委员会", "contact": "联系电话 028-84512345", "closing": "特此致谢。"},
        {404},
    ),
    "revoke": (
        "admin_a",
        lambda d, k: f"/letters/documents/{_letters(d, k).letter}/revoke",
        lambda d, k: {"reason": "服务记录重复录入"},
        {404},
    ),
    "resend": ("admin_a", lambda d, k: f"/letters/emails/{_letters(d, k).email}/resend", lambda d, k: {}, {404}),
}


def readable(response) -> str:
    """What a page or export says, as text: a PDF's text, an XLSX's cells, a ZIP's names and what each file says."""
    return _readable(response.mimetype, response.data)


def _readable(kind: str, data: bytes) -> str:
    if kind == "application/pdf":
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if kind.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    if kind == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            kinds = {".pdf": "application/pdf", ".csv": "text/csv"}
            return "\n".join(
                f"{name}\n{_readable(kinds.get(name[-4:], 'text/plain'), archive.read(name))}"
                for name in archive.namelist()
            )
    return data.decode("utf-8-sig", "replace")
