"""A member's own service record certificate (志愿服务记录证明): ask for one for any dates, download it as PDF.

Any logged-in user may ask for their own; a certificate is only ever served to the member it names.
"""

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField
from wtforms.validators import InputRequired, ValidationError

from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import paginate
from ..extensions import db, limiter
from . import documents, pdf
from .employer_views import download
from .models import Document
from .views import FORM, bp

FIRST_YEAR, LAST_YEAR = 2000, 2100
# Each certificate is a stored, verifiable document: nobody needs hundreds an hour.
ASK_LIMIT = "30 per hour"


def _in_range(form, field):
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Choose a date between 2000 and 2100."))


def _date(label):
    # InputRequired, not required(): a typed but impossible date keeps WTForms' "Not a valid date value."
    present = InputRequired(message=_l("This field is required."))
    return DateField(label, validators=[present, _in_range], render_kw={"type": "date"})


class CertificateForm(FlaskForm):
    start = _date(_l("From"))
    end = _date(_l("To"))


def _form() -> CertificateForm:
    """This year up to today by default; the date pickers stop at today."""
    form = CertificateForm()
    today = local_today()
    if request.method == "GET":
        form.start.data = form.start.data or date(today.year, 1, 1)
        form.end.data = form.end.data or today
    for box in (form.start, form.end):
        box.render_kw = {**box.render_kw, "max": today.isoformat(), "min": f"{FIRST_YEAR}-01-01"}
    return form


def _issue(form: CertificateForm) -> Document | None:
    try:
        return documents.issue_certificate(current_user, form.start.data, form.end.data)
    except DomainError as err:
        db.session.rollback()
        form.form_errors.append(str(err.message))
        return None


def _who() -> str:
    return f"user:{current_user.get_id()}"


def _ask_limit() -> str:
    return current_app.config.get("CERTIFICATE_RATE_LIMIT", ASK_LIMIT)


@bp.route("/certificate", methods=FORM, endpoint="certificate")
@login_required
@limiter.limit(_ask_limit, methods=["POST"], key_func=_who)
def certificate():
    form = _form()
    if form.validate_on_submit():
        document = _issue(form)
        if document is not None:
            flash(_("Your certificate %(number)s is ready.", number=document.number), "success")
            return redirect(url_for("letters.certificate"), code=303)
    stmt = (
        select(Document)
        .where(Document.kind == "certificate", Document.user_id == current_user.id)
        .order_by(Document.id.desc())
    )
    page = render_template("letters/certificate.html", form=form, page=paginate(stmt), hours=pdf.hours)
    return page, 400 if request.method == "POST" else 200


@bp.route("/certificates/<int:document_id>.pdf", endpoint="certificate_pdf")
@login_required
def certificate_pdf(document_id: int):
    document = db.session.get(Document, document_id)
    mine = document is not None and document.kind == "certificate" and document.user_id == current_user.id
    if not mine or document.revoked:
        abort(404)
    return download(pdf.render(document), "application/pdf", pdf.filename(document))
