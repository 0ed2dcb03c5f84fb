"""Forms of the admin's letters pages (batch, revoke, settings) and the JSON shape of a batch's progress."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import Schema, fields
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, ValidationError

from ..core.errors import DomainError
from ..core.forms import clean, lines_field, max_len, required, text_field
from . import periods
from .settings import LIMITS


def file_only(form, field):
    """A file box sends a file; text under its name (which no browser sends) is refused."""
    if any(v for v in request.form.getlist(field.name)):
        raise ValidationError(_l("Choose an image file from your phone or computer."))


class BatchForm(FlaskForm):
    """Generate the letters of a community and period (both come from the page the admin is on)."""

    community = IntegerField(_l("Community"), validators=[InputRequired(message=_l("Choose a community."))])
    period = StringField(_l("Service period"), filters=[clean], validators=[required(), max_len(20)])

    def validate_period(self, field):
        try:
            self.chosen_period = periods.parse(field.data)
        except DomainError as err:
            raise ValidationError(str(err.message)) from None


class RevokeForm(FlaskForm):
    reason = text_field(
        _l("Reason for revoking"),
        300,
        description=_l("Kept in the community's records and the audit log."),
    )


class SettingsForm(FlaskForm):
    # A service's error code -> the field it belongs to.
    field_of = {
        "bad_signature": "signature",
        "bad_contact": "contact",
        "bad_closing": "closing",
        "seal_invalid": "seal",
        "seal_too_large": "seal",
        "seal_empty": "seal",
    }
    signature = text_field(
        _l("Signature line"),
        LIMITS["signature"],
        optional=True,
        description=_l("Printed above the date, e.g. 中共玉泉社区委员会. Empty: the community's party committee."),
    )
    contact = text_field(
        _l("Contact line"),
        LIMITS["contact"],
        optional=True,
        description=_l("Printed at the foot of each letter, e.g. an office phone number."),
    )
    closing = lines_field(
        _l("Closing paragraph"),
        LIMITS["closing"],
        optional=True,
        rows=4,
        description=_l("Replaces the standard paragraph of thanks. Empty: the standard one."),
    )
    seal = FileField(
        _l("Seal image"),
        validators=[file_only],
        description=_l("Optional: PNG with a transparent background is best; JPEG, WebP or GIF; at most 2 MB."),
        render_kw={"accept": "image/png,image/jpeg,image/webp,image/gif"},
    )
    remove_seal = BooleanField(_l("Remove the current seal"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # An empty field is a choice (the standard wording); a body without the fields is not a
        # save from this page and must not blank the community's settings.
        if not any(field.raw_data for field in (self.signature, self.contact, self.closing)):
            self.signature.errors = [*self.signature.errors, _l("Send the settings from the settings page.")]
            return False
        return ok

    def values(self) -> dict:
        return {"signature": self.signature.data, "contact": self.contact.data, "closing": self.closing.data}


class BatchStatusSchema(Schema):
    """What the batch page's script reads every few seconds."""

    id = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    total = fields.Integer()
    done = fields.Integer()
    created = fields.Integer()
    percent = fields.Integer()
    error = fields.String()
    stalled = fields.Boolean()
    finished = fields.Boolean()
    letters_url = fields.String()
