"""The letters' forms for the bad-input crawl (tests/test_all_forms_bad_input.py), and the bad values of their
own kind that its generic spoilers do not try: impossible date ranges, periods, seal files, refused steps."""

import io
from datetime import timedelta

from PIL import Image

from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters import batches, documents, periods
from volunteer.letters.models import Document

from .matrix_objects import period

BLANK_SETTINGS = (
    "every field of the letter settings is optional: a form sent empty saves blank settings (the defaults); "
    "the seal is only removed by ticking its box"
)


def _day(days: int = 0) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def image(fmt: str = "PNG", size=(80, 80), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt)
    return out.getvalue()


def _seal(data: bytes | None = None, name: str = "seal.png") -> tuple:
    """A fresh upload for each submission (a file in a form is read once)."""
    return (io.BytesIO(image() if data is None else data), name)


def _settings(k: int) -> dict:
    return {"signature": f"中共东一社区委员会{k}", "contact": f"联系电话 028-8451{k:04d}", "closing": f"特此致谢{k}。"}


# endpoint -> the keyword arguments of the crawl's Spec; d.letters: community a's (matrix_objects.create).
FORMS = {
    "letters.batch_start": dict(
        actor="admin_a",
        url=lambda d: "/letters/batches",
        valid=lambda d, k: {"community": d.a.id, "period": period().key},
        page=lambda d: "/letters/",
    ),
    "letters.revoke": dict(
        actor="admin_a",
        url=lambda d: f"/letters/documents/{d.letters.letter}/revoke",
        valid=lambda d, k: {"reason": f"服务记录重复录入{k}"},
        page=lambda d: f"/letters/documents/{d.letters.letter}",
    ),
    "letters.settings": dict(
        actor="admin_a",
        url=lambda d: "/letters/settings",
        valid=lambda d, k: {**_settings(k), "seal": _seal()},
        blank_ok=BLANK_SETTINGS,
    ),
    "letters.certificate": dict(
        actor="member_a",
        url=lambda d: "/letters/certificate",
        valid=lambda d, k: {"start": _day(-30), "end": _day()},
    ),
}
NO_INPUT = {"letters.resend": "a Send again button; the email is in the URL"}
# Query keys the letters pages read (besides the crawl's own), each tried alone on the letters and /verify pages.
QUERY_KEYS = ["period", "state", "member", "unit", "number"]


def prepare(d) -> None:
    """Community a's letters in the states the refusals below need: a second letter (of the whole year) with
    its email still queued, the period's letter revoked (its email failed), a batch of the period running."""
    year = batches.start(d.a.id, periods.whole_year(period().year), d.admin_a)
    batches.run(year.id)
    d.year_letter = documents.live_letter(d.a.id, d.member_a.id, periods.whole_year(period().year))
    documents.revoke(db.session.get(Document, d.letters.letter), d.admin_a, "重复录入")
    batches.start(d.a.id, period(), d.admin_a)


def _when(value) -> str:
    """A day as the form sends it: an int is that many days from today, read when the form is sent."""
    return _day(value) if isinstance(value, int) else value


def _certificate(start, end, message: str) -> tuple:
    return ("member_a", "/letters/certificate", lambda d: {"start": _when(start), "end": _when(end)}, message)


def _batch(value, message: str = "") -> tuple:
    data = lambda d: {"community": d.a.id, "period": value() if callable(value) else value}  # noqa: E731
    return ("admin_a", "/letters/batches", data, message or BAD_PERIOD)


def _seal_form(data, message: str, name: str = "seal.png") -> tuple:
    """Settings with a seal upload that is no usable picture; `data` may be a function (made when sent)."""
    form = lambda d: {**_settings(0), "seal": _seal(data() if callable(data) else data, name)}  # noqa: E731
    return ("admin_a", "/letters/settings", form, message)


def _admin_post(url, message: str, data=None) -> tuple:
    return ("admin_a", url, lambda d: data or {}, message)


OUT_OF_RANGE = "Choose a date between 2000 and 2100."
NOT_A_DATE = "Not a valid date value."
NO_PICTURE = "The seal must be a PNG, JPEG, WebP or GIF picture."
BAD_PERIOD = "Choose a quarter such as 2026-Q3 or a year such as 2026."
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
# label -> (actor, url (or url(d)), data(d), the message shown): each refused (4xx) with it, nothing changed.
REFUSALS = {
    "certificate starting after it ends": _certificate(0, -1, "The start date must not be after the end date."),
    "certificate ending tomorrow": _certificate(-1, 1, "The end date cannot be in the future."),
    "certificate of 25 years": _certificate("2001-01-01", 0, "A certificate covers at most ten years."),
    "certificate from 1999": _certificate("1999-12-31", 0, OUT_OF_RANGE),
    "certificate to 2101": _certificate(-1, "2101-01-01", OUT_OF_RANGE),
    "certificate date with a time": _certificate("2026-01-01T08:00", 0, NOT_A_DATE),
    "certificate date in Chinese": _certificate("2026年1月1日", 0, NOT_A_DATE),
    "batch of quarter 5": _batch("2026-Q5"),
    "batch of 1999": _batch("1999"),
    "batch of a date": _batch("2026-07-01"),
    "batch of a quarter in Chinese": _batch("2026年第三季度"),
    "batch while one runs": _batch(lambda: period().key, "Letters for this period are already being generated."),
    "revoke with a blank reason": _admin_post(
        lambda d: f"/letters/documents/{d.year_letter.id}/revoke", "This field is required.", {"reason": "   "}
    ),
    "revoke twice": _admin_post(
        lambda d: f"/letters/documents/{d.letters.letter}/revoke", "This letter was already revoked.", {"reason": "错"}
    ),
    "resend of a revoked letter's email": _admin_post(
        lambda d: f"/letters/emails/{d.letters.email}/resend", "This letter was revoked: it cannot be sent."
    ),
    "resend of an email still queued": _admin_post(
        lambda d: f"/letters/emails/{d.year_letter.emails[0].id}/resend", "Only an email that failed can be sent again."
    ),
    "seal that is a PDF": _seal_form(b"%PDF-1.4 not a picture", NO_PICTURE),
    "seal that is an SVG": _seal_form(SVG, NO_PICTURE, "seal.svg"),
    "seal that is text": _seal_form("公章".encode(), NO_PICTURE, "seal.txt"),
    "seal cut short": _seal_form(lambda: image()[:60], NO_PICTURE),
    "seal as BMP": _seal_form(lambda: image("BMP", mode="RGB"), NO_PICTURE, "seal.bmp"),
    "seal file empty": _seal_form(b"", "The seal image file is empty."),
    "seal over 2 MB": _seal_form(lambda: b"\x89PNG" + bytes(2 * 1024 * 1024), "The seal image may be at most 2 MB."),
    "seal of 7000 x 7000 pixels": _seal_form(
        lambda: image(size=(7000, 7000), mode="1"), "This picture is too large. Please send a smaller one."
    ),
}
