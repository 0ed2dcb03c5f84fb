"""Forms of the service-record pages: reporting, entering, verifying, correcting, and the points rule."""

from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, TelField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from ..core.converters import MAX_ID
from ..core.forms import PlaceholderSelect, max_len, mobile, required
from ..core.forms import lines_field as _lines
from .records import DESCRIPTION_MAX, REASON_MAX

MIN_HOURS, MAX_HOURS = Decimal("0.5"), Decimal("24")


def hours_range(form, field):
    """0.5 to 24 hours; checked by hand because NaN or Infinity would break NumberRange's comparison."""
    value = field.data
    try:
        ok = value is not None and value.is_finite() and MIN_HOURS <= value <= MAX_HOURS
    except (AttributeError, InvalidOperation):
        ok = False
    if not ok:
        raise ValidationError(_l("Enter the hours as a number from 0.5 to 24, such as 1.5."))


def _hours(label=None):
    return DecimalField(
        label or _l("Hours"),
        places=None,
        validators=[InputRequired(message=_l("This field is required.")), hours_range],
        render_kw={"inputmode": "decimal", "step": "0.5", "min": "0.5", "max": "24"},
    )


def file_only(form, field):
    """A file box sends a file. Text under its name is not a photo (and browsers never send it)."""
    if any(v for v in request.form.getlist(field.name)):
        raise ValidationError(_l("Choose a photo from your phone or computer."))


def minutes_of(hours: Decimal) -> int:
    return int((hours * 60).to_integral_value())


class _Served(FlaskForm):
    served_on = DateField(
        _l("Date"),
        validators=[required()],
        description=_l("Not in the future, and at most a year ago."),
        render_kw={"type": "date"},
    )
    hours = _hours()


class ReportForm(_Served):
    community = SelectField(_l("Community"), coerce=int, validators=[required()])
    description = _lines(_l("What did you do?"), DESCRIPTION_MAX, description=_l("Where, for whom, with whom."))
    project = SelectField(
        _l("Project or post"),
        coerce=int,
        default=0,  # the box is left out when the volunteer has claimed nothing
        description=_l("Only projects and posts you have claimed."),
    )
    photo = FileField(
        _l("Evidence photo"),
        validators=[file_only],
        description=_l("Optional: JPEG, PNG or WebP, at most 5 MB. Location data is removed."),
        render_kw={"accept": "image/*"},
    )

    def __init__(self, *args, communities=(), projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = list(communities)
        # 0 stands for "none": an empty select value would not coerce to int.
        self.project.choices = [(0, _l("None"))] + list(projects)


class EnterForm(_Served):
    phone = TelField(
        _l("Volunteer's mobile number"),
        validators=[required(), max_len(20), mobile],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    community = SelectField(_l("Community"), coerce=int, validators=[required()])
    kind = SelectField(_l("Kind of service"), validators=[required()], widget=PlaceholderSelect(_l("Choose a kind")))
    description = _lines(_l("What was done?"), DESCRIPTION_MAX)

    def __init__(self, *args, communities=(), kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = list(communities)
        self.kind.choices = list(kinds)


class VerifyForm(FlaskForm):
    """One button: only the CSRF token."""


class BulkVerifyForm(FlaskForm):
    ids = SelectMultipleField(coerce=int, validate_choice=False)

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one service to verify."))
        if any(not 1 <= i <= MAX_ID for i in field.data):  # a number no database id can be
            raise ValidationError(_l("Tick services from the list."))


class ReasonForm(FlaskForm):
    reason = _lines(_l("Reason"), REASON_MAX, description=_l("The volunteer sees it."))


class CorrectForm(FlaskForm):
    hours = _hours(_l("Correct hours"))
    reason = _lines(_l("Reason for the correction"), REASON_MAX, description=_l("Kept in the audit log."))


def _points(label, description):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("This field is required.")),
            NumberRange(0, 1000, message=_l("Enter a whole number from 0 to 1000.")),
        ],
        description=description,
        render_kw={"inputmode": "numeric", "min": 0, "max": 1000},
    )


class PolicyForm(FlaskForm):
    points_per_hour = _points(_l("Points per hour"), _l("Rounded to the nearest point."))
    points_per_service = _points(_l("Points per service"), _l("Added once for each verified service."))

    def validate_points_per_service(self, field):
        if field.data == 0 and self.points_per_hour.data == 0:
            raise ValidationError(_l("A verified service must earn some points: both cannot be 0."))
