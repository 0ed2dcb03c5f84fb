"""Forms of the member-card desk pages: reserving for a resident with their PIN, and setting that PIN."""

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField
from wtforms.validators import EqualTo, InputRequired, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from ..core.forms import required
from ..ledger.forms import one_time_token
from .pins import PIN_PATTERN

MAX_ID = 2**31 - 1  # larger ids would overflow PostgreSQL's integer instead of being "not found"
PIN_INPUT = {"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": 6, "autocomplete": "off"}


def digits(value):
    """Full-width digits from a Chinese keyboard (１２３４) are the same PIN as 1234."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


def pin_format(form, field):
    if not PIN_PATTERN.match(field.data or ""):
        raise ValidationError(_l("The PIN is 4 to 6 digits."))


def _pin(label, *validators, **kw):
    return PasswordField(label, filters=[digits], validators=[required(), *validators], render_kw=PIN_INPUT, **kw)


class ReserveForm(FlaskForm):
    """One item's "reserve for them" form on the member page; the resident types the PIN."""

    field_of = {"no_pin": "pin", "wrong_pin": "pin", "pin_locked": "pin", "bad_pin": "pin"}
    item = IntegerField(
        widget=HiddenInput(),
        validators=[
            InputRequired(message=_l("Choose an item.")),
            NumberRange(1, MAX_ID, message=_l("Choose an item.")),
        ],
    )
    pin = _pin(_l("Resident's PIN"), pin_format)
    request_key = HiddenField(validators=[one_time_token])


class PinForm(FlaskForm):
    """The resident types a new PIN twice on the steward's tablet."""

    field_of = {"bad_pin": "pin", "weak_pin": "pin"}
    pin = _pin(
        _l("New PIN"),
        pin_format,
        description=_l("4 to 6 digits that are not easy to guess: not 0000, 1234 or part of the phone number."),
    )
    again = _pin(_l("The same PIN again"), EqualTo("pin", message=_l("The two PINs are not the same.")))
