"""Forms of the activity pages: publishing and cancelling, check-in codes, the roster and member cards."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional, ValidationError

from ..core.forms import PlaceholderSelect, clean, max_len, no_markup, plain_lines, required
from ..core.forms import text_field as _text
from ..core.models import local_zone
from .models import CATEGORIES

MODE_CHOICES = ("in", "out")


class ActivityForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=int, validators=[required()])
    title = _text(_l("Title"), 80)
    category = SelectField(_l("Category"), validators=[required()], widget=PlaceholderSelect(_l("Choose a category")))
    place = _text(_l("Place"), 120)
    day = DateField(_l("Date"), validators=[required()])
    start = TimeField(_l("Starts at"), validators=[required()])
    end = TimeField(_l("Ends at"), validators=[required()], description=_l("On the same day, after the start."))
    places = IntegerField(
        _l("Places"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            NumberRange(1, 500, message=_l("Enter a whole number from 1 to 500.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 500},
    )
    description = TextAreaField(
        _l("Description"),
        filters=[clean],
        validators=[Optional(), max_len(1000), no_markup, plain_lines],
        render_kw={"rows": 4, "maxlength": 1000},
    )

    def __init__(self, *args, communities=(), categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = list(communities)
        labels = categories or {}
        self.category.choices = [(c, labels.get(c, c)) for c in CATEGORIES]

    def validate_end(self, field):
        if field.data and self.start.data and field.data <= self.start.data:
            raise ValidationError(_l("The end must be after the start."))

    def fields(self) -> dict:
        """What activities.create/update take: times read as local time, as aware datetimes."""
        zone = local_zone()
        return {
            "title": self.title.data,
            "category": self.category.data,
            "place": self.place.data,
            "description": self.description.data or "",
            "starts_at": datetime.combine(self.day.data, self.start.data, tzinfo=zone),
            "ends_at": datetime.combine(self.day.data, self.end.data, tzinfo=zone),
            "places": self.places.data,
        }


class CancelActivityForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        filters=[clean],
        validators=[required(), max_len(300), no_markup, plain_lines],
        description=_l("Everyone signed up sees it."),
        render_kw={"rows": 2, "maxlength": 300},
    )


class ActionForm(FlaskForm):
    """A one-button POST: the CSRF token is the whole form."""


class ModeForm(FlaskForm):
    """Check a volunteer in or out from the roster or a scanned member card."""

    mode = HiddenField(validators=[required(), AnyOf(MODE_CHOICES, message=_l("Choose check-in or check-out."))])
    card = HiddenField(validators=[Optional(), max_len(1000)])  # set when sent from a member card's page


class CardForm(FlaskForm):
    card = StringField(
        _l("Member card"),
        filters=[clean],
        validators=[required(), max_len(1000)],
        description=_l("Scan the member's card with a scanner, or type or paste the text under its QR code."),
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )
    mode = SelectField(_l("Action"), validators=[required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = [("in", _l("Check in")), ("out", _l("Check out"))]


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code on the screen"),
        filters=[lambda v: "".join((v or "").split()) if isinstance(v, str) else v],
        validators=[required()],
        description=_l("The 6 digits under the QR code on the steward's screen."),
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6, "pattern": "[0-9]*"},
    )

    def validate_code(self, field):
        if not (len(field.data) == 6 and field.data.isascii() and field.data.isdigit()):
            raise ValidationError(_l("Enter the 6-digit code shown on the screen."))


class TokenForm(FlaskForm):
    t = HiddenField(validators=[required(), max_len(500)])
