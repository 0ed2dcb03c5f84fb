"""The public verification page: anyone with a letter's or certificate's number sees its key facts, no login.

It shows what the document states (who, for which period, how many services and hours) and whether
it still stands, nothing more: no phone numbers, no revocation reason, no service details. Numbers
are random and the page is rate limited per address, so documents cannot be found by guessing.
"""

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..core.models import to_local
from ..extensions import limiter
from . import documents, pdf
from .models import Document
from .views import public_bp

KIND_LABELS = {
    "letter": _l("Thank-you letter to the employer (感谢函)"),
    "certificate": _l("Service record certificate (志愿服务记录证明)"),
}
SHOWN_INPUT = 40  # characters of an unknown number echoed back


def _limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT", "30 per minute")


# One budget per address for both routes: typing numbers into the form is no way around it.
_limited = limiter.shared_limit(_limit, scope="verify")


def _private(response):
    """Names are on the page: keep it out of search engines and shared caches, and always fresh."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **context):
    return _private(current_app.make_response((render_template(template, **context), status)))


def key_facts(document: Document) -> dict:
    """What the page states about a document, taken from the facts frozen when it was issued."""
    facts = document.facts
    if document.kind == "letter":
        communities = [facts.get("community", "")]
    else:
        communities = [c["name"] for c in facts.get("communities", [])]
    revoked_on = to_local(document.revoked_at).date() if document.revoked_at else None
    return {
        "kind": KIND_LABELS[document.kind],
        "number": document.number,
        "name": facts.get("name", ""),
        "unit": facts.get("unit") if document.kind == "letter" else None,
        "communities": [c for c in communities if c],
        "period": document.period_label,
        "start": document.period_start,
        "end": document.period_end,
        "services": facts.get("services", 0),
        "hours": pdf.hours(facts.get("minutes", 0)),
        "issued_on": document.issued_on,
        "revoked_on": revoked_on,
    }


def _unknown(typed: str):
    shown = typed.strip()[:SHOWN_INPUT]
    return _page("letters/verify_lookup.html", 404, number=shown, unknown=True)


@public_bp.route("/v/<path:number>", endpoint="document")
@_limited
def document_page(number: str):
    document = documents.find(number)
    if document is None:
        return _unknown(number)
    return _page("letters/verify.html", facts=key_facts(document))


@public_bp.route("/verify", endpoint="lookup")
@_limited
def lookup():
    typed = request.args.get("number", "")
    if not typed.strip():
        return _page("letters/verify_lookup.html", number="", unknown=False)
    document = documents.find(typed)
    if document is None:
        return _unknown(typed)
    return _private(redirect(url_for("verify.document", number=document.number), code=303))
