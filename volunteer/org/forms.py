"""Forms for the organisation pages: the four levels, units, agreements and 双报到 reports."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import Email, NumberRange, Optional, ValidationError

from ..core.forms import clean, max_len, mobile, no_markup, plain_lines, plain_text, required
from ..core.models import local_today
from .models import COMPOUND_KINDS

OFFICE_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
FIRST_YEAR, LAST_YEAR = 2000, 2100
KIND_LABELS = {"compound": _l("Residential compound"), "grid": _l("Grid")}


def office_phone(form, field):
    if field.data and not OFFICE_PHONE.match(field.data):
        raise ValidationError(_l("Enter a phone number with digits only, such as 028-84512345 or 13812345678."))


def in_year_range(form, field):
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Choose a date between 2000 and 2100."))


def _text(label, length: int, *, optional=False, **kw):
    first = [] if optional else [required()]
    return StringField(label, filters=[clean], validators=[*first, max_len(length), no_markup, plain_text], **kw)


class StreetForm(FlaskForm):
    name = _text(_l("Street name"), 80)
    district = _text(_l("District"), 80, optional=True, description=_l("The district the street belongs to."))


class CommunityEditForm(FlaskForm):
    name = _text(_l("Community name"), 80)
    address = _text(_l("Address"), 200, optional=True)
    phone = TelField(
        _l("Office phone"), filters=[clean], validators=[max_len(30), office_phone], render_kw={"inputmode": "tel"}
    )


class CommunityForm(CommunityEditForm):
    street = SelectField(_l("Street"), coerce=int, validators=[required()])


class CompoundForm(FlaskForm):
    name = _text(_l("Name"), 80)
    kind = SelectField(
        _l("Kind"),
        validators=[required()],
        description=_l("A residential compound or a grid: the level that collectors and councils serve."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not in the declaration: WTForms 3.3 deprecates tuples passed to SelectField().
        self.kind.choices = [(kind, KIND_LABELS[kind]) for kind in COMPOUND_KINDS]


class BuildingForm(FlaskForm):
    name = _text(_l("Building name"), 80, description=_l("For example: Building 3."))


class UnitForm(FlaskForm):
    name = _text(_l("Unit name"), 120)
    contact_person = _text(_l("Contact person"), 40, optional=True)
    contact_email = EmailField(
        _l("Contact email"),
        filters=[clean],
        validators=[Optional(), max_len(120), Email(message=_l("Enter an email address such as hr@example.org."))],
        description=_l("Thank-you letters are sent here."),
    )
    contact_phone = TelField(_l("Contact phone"), filters=[clean], validators=[max_len(20), office_phone])
    address = _text(_l("Address"), 200, optional=True)


class AgreementForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[required()])
    signed_on = DateField(_l("Signed on"), validators=[required(), in_year_range])
    ends_on = DateField(
        _l("Ends on"), validators=[Optional(), in_year_range], description=_l("Leave empty if it has no end date.")
    )
    content = TextAreaField(
        _l("What the unit and community agree"),
        filters=[clean],
        validators=[max_len(2000), no_markup, plain_lines],
        render_kw={"rows": 4},
    )

    def validate_ends_on(self, field):
        if field.data and self.signed_on.data and field.data < self.signed_on.data:
            raise ValidationError(_l("The end date cannot be before the signing date."))


class MyReportForm(FlaskForm):
    community = SelectField(_l("Community you serve"), coerce=int, validators=[required()])
    unit = SelectField(
        _l("Your employer"),
        coerce=int,
        validators=[required()],
        description=_l("If your employer is not listed, ask your community to add it."),
    )


class ReportForm(MyReportForm):
    """A community admin records a report on behalf of a party member."""

    phone = TelField(
        _l("Member's mobile number"),
        validators=[required(), max_len(20), mobile],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    year = IntegerField(
        _l("Year"),
        default=lambda: local_today().year,
        validators=[required(), NumberRange(FIRST_YEAR, LAST_YEAR, message=_l("Choose a year between 2000 and 2100."))],
    )


class CancelReportForm(FlaskForm):
    reason = _text(
        _l("Reason for cancelling"), 200, description=_l("Kept in the audit log, for example: recorded by mistake.")
    )
