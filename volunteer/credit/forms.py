"""Forms of the credit pages: indicators, declaring with photos, and each step's decision."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, NumberRange, Optional, ValidationError

from ..core.forms import PlaceholderSelect, clean, max_len, no_markup, plain_text, required
from ..core.forms import lines_field as _lines
from .photos import MAX_PHOTOS
from .services import DESCRIPTION_MAX, NOTE_MAX

PERIOD_LABELS = {
    "year": _l("per year"),
    "quarter": _l("per quarter"),
    "month": _l("per month"),
    "none": _l("in all (no period)"),
}


def files_only(form, field):
    """A file box sends files. Text under its name is not a photo (and browsers never send it)."""
    if any(v for v in request.form.getlist(field.name)):
        raise ValidationError(_l("Choose photos from your phone or computer."))
    chosen = [f for f in field.data or [] if getattr(f, "filename", "")]
    if len(chosen) > MAX_PHOTOS:
        raise ValidationError(_l("At most %(n)d photos.", n=MAX_PHOTOS))
    field.data = chosen


def _photos(label):
    return MultipleFileField(
        label,
        validators=[files_only],
        description=_l("Up to 3 photos (JPEG, PNG or WebP, at most 5 MB each). Location data is removed."),
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"},
    )


class IndicatorForm(FlaskForm):
    name = StringField(_l("Name"), filters=[clean], validators=[required(), max_len(80), no_markup, plain_text])
    description = _lines(_l("Description"), 500, optional=True)
    points = IntegerField(
        _l("Points"),
        validators=[required(), NumberRange(1, 10000, message=_l("Enter a whole number from 1 to 10000."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": 10000},
    )
    evidence_required = BooleanField(_l("A photo is required as evidence"))
    max_awards = IntegerField(
        _l("Awarded at most (times per person)"),
        validators=[Optional(), NumberRange(1, 1000, message=_l("Enter a whole number from 1 to 1000."))],
        description=_l("Leave empty for no limit."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 1000},
    )
    period = SelectField(_l("Period of the limit"), validators=[required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = list(PERIOD_LABELS.items())


class ActiveForm(FlaskForm):
    active = StringField(validators=[required(), AnyOf(["0", "1"], message=_l("Choose active or inactive."))])


class DeclareForm(FlaskForm):
    indicator = SelectField(
        _l("Indicator"),
        coerce=int,
        validators=[required()],
        widget=PlaceholderSelect(_l("Choose an indicator")),
    )
    description = _lines(
        _l("What did you do?"),
        DESCRIPTION_MAX,
        description=_l("When and where, and who can confirm it."),
    )
    photos = _photos(_l("Photos"))


class ResubmitForm(FlaskForm):
    description = _lines(_l("What did you do?"), DESCRIPTION_MAX)
    photos = _photos(_l("More photos"))


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Your check"), validators=[required()])
    note = _lines(
        _l("Note"), NOTE_MAX, optional=True, description=_l("Required when you return it: say what is missing.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = [
            ("check", _l("Checked: pass it to the council")),
            ("return", _l("Return to the resident for more information")),
        ]

    def validate_note(self, field):
        if self.decision.data == "return" and not field.data:
            raise ValidationError(_l("Say what the resident should add."))


class AssessForm(FlaskForm):
    recommendation = RadioField(_l("Recommendation"), validators=[required()])
    reason = _lines(_l("Reason"), NOTE_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recommendation.choices = [("approve", _l("Recommend approval")), ("reject", _l("Recommend rejection"))]


class DecideForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[required()])
    reason = _lines(_l("Reason"), NOTE_MAX, optional=True, description=_l("Required when you reject."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = [("approve", _l("Approve and award the points")), ("reject", _l("Reject"))]

    def validate_reason(self, field):
        if self.decision.data == "reject" and not field.data:
            raise ValidationError(_l("Give a reason for the rejection."))


class AppealForm(FlaskForm):
    reason = _lines(_l("Why should the decision change?"), NOTE_MAX)
