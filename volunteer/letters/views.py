"""The letters blueprints and what their page modules share.

Pages live in one module per audience, imported at the bottom so they register:
admin_views (a community admin: preview, batches, letter states, revoke, resend, settings),
employer_views (a unit contact: its staff's report, letters, ZIP, CSV and XLSX),
certificate_views (a member's own 志愿服务记录证明), verify_views (the public verification page,
on `public_bp`, outside /letters so its short URL stays short: /v/<number>).
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("letters", __name__, url_prefix="/letters")
public_bp = Blueprint("verify", __name__)
FORM = ("GET", "POST")

EMAIL_STATE_LABELS = {
    "queued": (_l("Queued"), "neutral"),
    "sending": (_l("Sending"), "neutral"),
    "sent": (_l("Sent"), "ok"),
    "failed": (_l("Failed"), "bad"),
}
TRACKER_LABELS = {
    "done": (_l("12 done"), "ok"),
    "on_pace": (_l("On pace"), "ok"),
    "behind": (_l("Behind"), "bad"),
    "none": (_l("Not reported"), "neutral"),
}


@bp.app_context_processor
def _labels():
    return {"letter_email_states": EMAIL_STATE_LABELS, "letter_tracker_states": TRACKER_LABELS}


from . import admin_views, certificate_views, employer_views, verify_views  # noqa: E402, F401
