"""What the desk reads and answers: the scan and hand-over forms, the undo form, and their JSON shapes."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import EXCLUDE, Schema, fields, validate
from wtforms import HiddenField, StringField
from wtforms.validators import Length

from ..core.forms import clean, max_len, no_markup, plain_text, required

MAX_VALUE = 1000  # a signed token or a URL ending in one is far shorter; anything longer is not ours


class ScanForm(FlaskForm):
    """The manual field: a typed code (dashes, spaces and case do not matter) or a pasted link."""

    value = StringField(
        _l("Voucher code"),
        filters=[clean],
        validators=[required(), max_len(MAX_VALUE)],
        description=_l("The 8 characters under the QR code, such as ABCD-EFGH."),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "enterkeyhint": "search",
            "maxlength": MAX_VALUE,
        },
    )


class HandOverForm(FlaskForm):
    """The Hand over button: carries what was scanned, so the server reads the voucher again."""

    value = HiddenField(validators=[required(), Length(max=MAX_VALUE)])


class UndoForm(FlaskForm):
    reason = StringField(
        _l("Reason for undoing"),
        filters=[clean],
        validators=[required(), max_len(300), no_markup, plain_text],
        render_kw={"maxlength": 300, "autocomplete": "off"},
    )


class ScanSchema(Schema):
    """A fetch() from the desk page: {"value": "...", "html": true} (html: also send the result panel)."""

    class Meta:
        unknown = EXCLUDE

    value = fields.String(required=True, validate=validate.Length(max=MAX_VALUE))
    html = fields.Boolean(load_default=False)


class ItemSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    photo_url = fields.String(allow_none=True)


class ResidentSchema(Schema):
    name = fields.String()
    phone = fields.String()  # masked


class VoucherSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    state = fields.String()
    price = fields.Integer()
    community_id = fields.Integer()
    expires_at = fields.AwareDateTime(allow_none=True)
    redeemed_at = fields.AwareDateTime(allow_none=True)
    redeemed_by = fields.String(allow_none=True)
    item = fields.Nested(ItemSchema)
    resident = fields.Nested(ResidentSchema)


class AnswerSchema(Schema):
    """Every desk answer: a reason code, the message in the steward's language, the voucher or null."""

    reason = fields.String()
    message = fields.String()
    voucher = fields.Nested(VoucherSchema, allow_none=True)
    url = fields.String()  # a member card: where the desk goes next
    html = fields.String()  # the result panel, when asked for
