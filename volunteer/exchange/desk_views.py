"""The steward's exchange desk: scan or type a voucher, hand it over, undo a hand-over, and the day's report.

Scan and hand-over answer JSON to the page's script (fetch with Accept: application/json) and HTML
to a plain form post, with the same reason codes and status codes: 200 ok, 409 for a voucher that
was handed over, expired or cancelled, 404 for another community's voucher or anything not ours.
"""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.errors import DomainError, wants_json
from ..core.models import aware, local_today, to_local, utcnow
from ..core.pagination import MAX_PAGE, community_arg, paginate
from ..extensions import db, login_manager
from ..org.models import Community
from ..service import cards
from . import desk, reports
from .access import desk_community_ids
from .desk_forms import AnswerSchema, HandOverForm, ScanForm, ScanSchema, UndoForm
from .models import Voucher
from .views import bp

STATUS = {"ok": 200, "already_redeemed": 409, "expired": 409, "cancelled": 409, "other_community": 404, "invalid": 404}
MEMBER_CARD = _l("A member card: opening the resident's page.")
ANSWER_SCHEMA, SCAN_SCHEMA = AnswerSchema(), ScanSchema()  # reusable: built once, not per request
WAITING_PAGE = "waiting_page"  # the report pages two lists; the hand-overs use ?page=

# --- shared helpers ------------------------------------------------------------------------------


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, **values)


def clock(moment) -> str:
    return format_time(to_local(moment), "HH:mm") if moment else ""


def when(moment) -> str:
    return format_datetime(to_local(moment), "yyyy-MM-dd HH:mm") if moment else ""


def photo_url(item) -> str | None:
    return _url("exchange.item_photo", item_id=item.id) if item is not None and item.photo else None


def undo_until(voucher) -> str:
    return clock(aware(voucher.redeemed_at) + desk.UNDO_WINDOW) if voucher.redeemed_at else ""


def can_undo(voucher) -> bool:
    return (
        voucher is not None
        and voucher.state == "redeemed"
        and voucher.redeemed_at is not None
        and utcnow() - aware(voucher.redeemed_at) <= desk.UNDO_WINDOW
    )


def _json_wanted() -> bool:
    return request.is_json or wants_json()


def _refuse(status: int, reason: str, message):
    """Stop here: JSON with a reason for the page's script, the usual error page otherwise."""
    if _json_wanted():
        response = jsonify(reason=reason, message=str(message), voucher=None)
        response.status_code = status
        abort(response)
    abort(status)


def _desk_ids() -> set[int]:
    """The communities whose desk the user runs; anyone else is stopped (401 or 403)."""
    if not current_user.is_authenticated:
        if _json_wanted():
            _refuse(401, "login", _l("Please log in to see this page."))
        abort(login_manager.unauthorized())
    ids = desk_community_ids(current_user)
    if not ids:
        _refuse(403, "forbidden", _l("Only the community's stewards run the exchange desk."))
    return ids


def _shown(ids: set[int]) -> tuple[set[int], int | None]:
    chosen = community_arg(ids)
    return ({chosen} if chosen else ids), chosen


def page(template: str, status: int = 200, **context):
    helpers = {"clock": clock, "when": when, "photo_url": photo_url, "undo_until": undo_until}
    return render_template(template, **helpers, **context), status


# --- the desk ------------------------------------------------------------------------------------


def _desk_page(form, ids: set[int], status: int = 200):
    shown, chosen = _shown(ids)
    communities = []
    if len(ids) > 1:
        communities = db.session.execute(
            select(Community.id, Community.name).where(Community.id.in_(ids)).order_by(Community.name)
        ).all()
    return page(
        "exchange/desk.html",
        status,
        form=form,
        summary=reports.summary(shown),
        recent=reports.recent_handovers(shown, desk.UNDO_WINDOW),
        communities=communities,
        chosen=chosen,
        today=local_today(),
        catalogue_url=_url("exchange.items"),
    )


@bp.get("/desk", endpoint="desk")
def desk_home():
    return _desk_page(ScanForm(formdata=None), _desk_ids())


# --- scan and hand over ----------------------------------------------------------------------------


def _voucher_data(voucher: Voucher | None) -> dict | None:
    if voucher is None:
        return None
    item, resident = voucher.item, voucher.user
    return {
        "id": voucher.id,
        "code": voucher.code,
        "state": voucher.state,
        "price": voucher.price,
        "community_id": voucher.community_id,
        "expires_at": aware(voucher.expires_at),
        "redeemed_at": aware(voucher.redeemed_at),
        "redeemed_by": voucher.redeemed_by.name if voucher.redeemed_by else None,
        "item": {"id": item.id, "name": item.name, "category": item.category, "photo_url": photo_url(item)},
        "resident": {"name": resident.name, "phone": resident.masked_phone},
    }


def _detailed(answer: desk.Answer) -> desk.Answer:
    """The answer with the voucher's item, resident and steward loaded in one query instead of three.

    A hand-over's answer carries a desk.Card that has them already: nothing to load.
    """
    if not isinstance(answer.voucher, Voucher):
        return answer
    stmt = (
        select(Voucher)
        .where(Voucher.id == answer.voucher.id)
        .options(joinedload(Voucher.item), joinedload(Voucher.user), joinedload(Voucher.redeemed_by))
    )
    return desk.Answer(answer.reason, answer.message, db.session.scalars(stmt).one())


def _can_hand_over(answer: desk.Answer) -> bool:
    return answer.ok and answer.voucher is not None and answer.voucher.state == "reserved"


def _panel(answer: desk.Answer, value: str, undo_form=None) -> dict:
    """What the result panel shows besides the answer: the forms for the steward's next step."""
    return {
        "answer": answer,
        # After a hand-over the answer is ok too, but there is nothing left to hand over.
        "handover_form": HandOverForm(formdata=None, value=value) if _can_hand_over(answer) else None,
        "undo_form": undo_form or (UndoForm(formdata=None) if can_undo(answer.voucher) else None),
    }


def _result(answer: desk.Answer, value: str, *, with_html: bool, undo_form=None, status: int | None = None):
    """The answer to a scan or a hand-over, as JSON for the script or as a page (forms only built for a page)."""
    status = status or STATUS[answer.reason]
    answer = _detailed(answer)
    if not _json_wanted():
        panel = _panel(answer, value, undo_form)
        return page("exchange/desk_result.html", status, form=ScanForm(formdata=None), **panel)
    payload = {"reason": answer.reason, "message": str(answer.message), "voucher": _voucher_data(answer.voucher)}
    if with_html:
        payload["html"] = page("exchange/_desk_result.html", **_panel(answer, value, undo_form))[0]
    return jsonify(ANSWER_SCHEMA.dump(payload)), status


def _json_value() -> tuple[str, bool]:
    """The value of a fetch() body, and whether the result panel is wanted too; "" for a bad body."""
    body = request.get_json(silent=True)
    try:
        data = SCAN_SCHEMA.load(body if isinstance(body, dict) else {})
    except ValidationError:
        return "", bool(isinstance(body, dict) and body.get("html") is True)
    return data["value"], data["html"]


def _member_card(value: str):
    """A member card scanned at the desk: the resident's page (reserve on their behalf), or None."""
    member = cards.card_user(value)
    if member is None:
        return None
    token = cards.card_token(member)
    url = _url("exchange.desk_member", token=token) or f"{bp.url_prefix}/desk/members/{token}"
    if _json_wanted():
        return jsonify(reason="member", message=str(MEMBER_CARD), voucher=None, url=url)
    return redirect(url, code=303)


@bp.post("/desk/scan")
def desk_scan():
    ids = _desk_ids()
    if request.is_json:
        value, with_html = _json_value()
    else:
        form = ScanForm()
        if not form.validate_on_submit():
            if _json_wanted():
                return _result(desk.look_up(current_user, ""), "", with_html=False)
            return _desk_page(form, ids, 400)
        value, with_html = form.value.data, False
    if desk.parse(value) == (None, None) and (found := _member_card(value)) is not None:
        return found
    return _result(desk.look_up(current_user, value), value, with_html=with_html)


@bp.post("/desk/handover")
def desk_handover():
    _desk_ids()
    get_locale()  # chosen now, from the loaded user: after the hand-over's commit it would load the user again
    if request.is_json:
        value, with_html = _json_value()
    else:
        form = HandOverForm()
        value, with_html = (form.value.data or "") if form.validate_on_submit() else "", False
    answer = desk.hand_over(current_user, value)
    if answer.ok and not _json_wanted():
        voucher = _detailed(answer).voucher
        flash(_("Handed over: %(item)s to %(name)s.", item=voucher.item.name, name=voucher.user.name), "success")
        return redirect(url_for("exchange.desk"), code=303)
    return _result(answer, value, with_html=with_html)


@bp.post("/vouchers/<int:voucher_id>/undo")
def desk_undo(voucher_id: int):
    ids = _desk_ids()
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.community_id not in ids:
        abort(404)
    form = UndoForm()
    if form.validate_on_submit():
        try:
            desk.undo(current_user, voucher_id, form.reason.data)
        except DomainError as err:
            db.session.rollback()
            if err.status == 404:
                abort(404)
            flash(str(err.message), "error")
        else:
            flash(_("Hand-over undone: the points are held again and the item is set aside again."), "success")
            return redirect(url_for("exchange.desk"), code=303)
    # Refused: the voucher as a scan shows it now, with the reason's error or the refusal above.
    answer = desk.look_up(current_user, voucher.code)
    undo_form = form if can_undo(answer.voucher) else None
    return _result(answer, voucher.code, with_html=False, undo_form=undo_form, status=400)


# --- the day's report ----------------------------------------------------------------------------


def _page_of(stmt, arg: str):
    """Like core.pagination.paginate, by another query-string argument (two lists on one page)."""
    number = request.args.get(arg, 1, type=int) or 1
    if number > MAX_PAGE:
        abort(404)
    per_page = current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, page=max(number, 1), per_page=per_page, max_per_page=100, error_out=False)


@bp.get("/desk/report")
def desk_report():
    ids = _desk_ids()
    shown, chosen = _shown(ids)
    names = dict(db.session.execute(select(Community.id, Community.name).where(Community.id.in_(shown))).all())
    return page(
        "exchange/desk_report.html",
        today=local_today(),
        chosen=chosen,
        names=names,
        several=len(shown) > 1,
        summary=reports.summary(shown),
        handovers=paginate(reports.handovers(shown)),
        items_out=reports.items_out(shown),
        stock=reports.stock_left(shown),
        waiting=_page_of(reports.waiting(shown), WAITING_PAGE),
        waiting_arg=WAITING_PAGE,
    )
