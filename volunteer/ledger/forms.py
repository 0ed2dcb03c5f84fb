"""Forms of the ledger pages: manual adjustment, reversal, and the community's points policy."""

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TelField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from ..core.forms import clean, max_len, mobile, no_markup, plain_text, required

MAX_ADJUST = 10_000
EXPIRY_LABELS = {
    "end_of_next_year": _l("At the end of the year after they were earned"),
    "never": _l("Never"),
}


def _given():
    """Required, where 0 counts as given (DataRequired would call 0 missing and hide the real message)."""
    return InputRequired(message=_l("This field is required."))


def _reason(label, description):
    return StringField(
        label,
        filters=[clean],
        validators=[required(), max_len(200), no_markup, plain_text],
        description=description,
    )


def one_time_token(form, field):
    """The hidden token given out with the form page: a double click sends the same one twice."""
    try:
        field.data = str(uuid.UUID(str(field.data or "").strip()[:40]))
    except ValueError as err:
        raise ValidationError(_l("This form has expired. Please open it again and resubmit.")) from err


class AdjustForm(FlaskForm):
    phone = TelField(
        _l("Member's mobile number"),
        validators=[required(), max_len(20), mobile],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    points = IntegerField(
        _l("Points"),
        validators=[
            _given(),
            NumberRange(-MAX_ADJUST, MAX_ADJUST, message=_l("Enter a number between -10000 and 10000.")),
        ],
        description=_l("A positive number adds points; a negative number (such as -20) takes them away."),
        render_kw={"inputmode": "numeric"},
    )
    reason = _reason(_l("Reason"), _l("Shown to the member and kept in the audit log."))
    token = HiddenField(validators=[one_time_token])

    def validate_points(self, field):
        if field.data == 0:
            raise ValidationError(_l("Enter a number of points other than zero."))


class ReverseForm(FlaskForm):
    reason = _reason(_l("Reason for the reversal"), _l("For example: recorded twice by mistake."))


def _threshold(label):
    return IntegerField(
        label,
        validators=[_given(), NumberRange(1, 100, message=_l("Enter a score between 1 and 100."))],
        render_kw={"inputmode": "numeric"},
    )


class PolicyForm(FlaskForm):
    expiry_mode = SelectField(_l("Points expire"), validators=[required()])
    full_score_points = IntegerField(
        _l("Points for a full score of 100"),
        validators=[_given(), NumberRange(1, 100_000, message=_l("Enter a number between 1 and 100000."))],
        description=_l("Points earned in a year that give the full 100-point score."),
        render_kw={"inputmode": "numeric"},
    )
    stars2 = _threshold(_l("Score for 2 stars"))
    stars3 = _threshold(_l("Score for 3 stars"))
    stars4 = _threshold(_l("Score for 4 stars"))
    stars5 = _threshold(_l("Score for 5 stars"))

    STARS = ("stars2", "stars3", "stars4", "stars5")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expiry_mode.choices = list(EXPIRY_LABELS.items())

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        values = [self[name].data for name in self.STARS]
        for previous, name in zip(values, self.STARS[1:], strict=False):
            if self[name].data <= previous:
                self[name].errors.append(_l("Each threshold must be higher than the one before."))
                return False
        return True

    @property
    def thresholds(self) -> list[int]:
        return [self[name].data for name in self.STARS]
