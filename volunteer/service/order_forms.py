"""Forms of the order pages: making an order, marking it done, the resident's rating, disputes, cancelling."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import AnyOf, NumberRange, ValidationError

from ..core.forms import clean, required
from .list_forms import category_choices, choice, input_required, lines, text
from .models import MAX_MINUTES

RATINGS = ("1", "2", "3", "4", "5")
HOURS_PATTERN = re.compile(r"^\d{0,2}(\.\d{1,2})?$")


class OrderForm(FlaskForm):
    # A service's error code -> the field it belongs to.
    field_of = {
        "bad_category": "category",
        "bad_title": "title",
        "bad_description": "description",
        "bad_time": "scheduled",
        "bad_places": "places",
    }
    title = text(_l("Title"), 80)
    category = choice(_l("Category"), _l("Choose a category"))
    description = lines(_l("Description"), 1000, optional=True)
    scheduled = text(_l("When"), 60, optional=True, description=_l("For example: Saturday 9:00-11:00."))
    places = IntegerField(
        _l("Volunteers needed"),
        default=1,
        validators=[
            input_required(),
            NumberRange(1, 10, message=_l("Volunteers needed: a whole number from 1 to 10.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 10},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices()

    def fields(self) -> dict:
        return {
            "title": self.title.data,
            "category": self.category.data,
            "description": self.description.data or "",
            "scheduled": self.scheduled.data or "",
            "places": self.places.data,
        }


class NewOrderForm(OrderForm):
    community = choice(_l("Community"), _l("Choose a community"), coerce=int)


def hours_to_minutes(form, field):
    """'1.5' hours -> 90 minutes; more than 0 and at most 24 hours."""
    message = _l("Enter the hours as a number more than 0 and at most 24, such as 1.5.")
    raw = (field.data or "").replace("。", ".").replace("．", ".")
    if not HOURS_PATTERN.match(raw):
        raise ValidationError(message)
    try:
        minutes = int((Decimal(raw) * 60).to_integral_value())
    except InvalidOperation as err:
        raise ValidationError(message) from err
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValidationError(message)
    form.minutes = minutes


class DoneForm(FlaskForm):
    field_of = {"bad_note": "note", "bad_minutes": "hours"}
    note = lines(_l("What was done"), 500, description=_l("The resident and the community read this."))
    hours = StringField(
        _l("Hours spent"),
        filters=[clean],
        validators=[required(), hours_to_minutes],
        description=_l("For example 1.5 for an hour and a half."),
        render_kw={"inputmode": "decimal", "maxlength": 5},
    )
    minutes: int | None = None


class ConfirmForm(FlaskForm):
    field_of = {"bad_rating": "rating", "bad_feedback": "feedback"}
    rating = RadioField(
        _l("Your rating"),
        validate_choice=False,  # AnyOf says it in our words
        validators=[required(), AnyOf(RATINGS, message=_l("Rate the service from 1 to 5."))],
    )
    feedback = lines(_l("Feedback"), 500, optional=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating.choices = [(r, r) for r in RATINGS]


class DisputeForm(FlaskForm):
    field_of = {"bad_reason": "reason"}
    reason = lines(_l("What went wrong?"), 500)


class ResolveForm(FlaskForm):
    field_of = {"bad_note": "note"}
    upheld = RadioField(
        _l("Decision"),
        validate_choice=False,
        validators=[required(), AnyOf(("yes", "no"), message=_l("Choose whether the service counts."))],
    )
    note = lines(_l("Reason"), 500, description=_l("The resident and the volunteers see this."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.upheld.choices = [
            ("yes", _l("The service was done: it counts for the volunteers")),
            ("no", _l("The service was not done: close the order without records")),
        ]


class CancelForm(FlaskForm):
    field_of = {"bad_reason": "reason"}
    reason = lines(_l("Why is it cancelled?"), 300)
