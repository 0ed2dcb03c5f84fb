"""Forms of the three lists: a resident's need, the steward's decline, resources, projects, one-button posts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from ..core.forms import PlaceholderSelect, required
from ..core.forms import lines_field as lines
from ..core.forms import text_field as text
from .models import CATEGORIES, PROJECT_KINDS, RESOURCE_KINDS
from .views import CATEGORY_LABELS, PROJECT_KIND_LABELS, RESOURCE_KIND_LABELS


def input_required():
    """required() for numbers and dates: 0 is an answer, and a bad date keeps its own message."""
    return InputRequired(message=_l("This field is required."))


def choice(label, placeholder, **kw):
    return SelectField(label, validators=[required()], widget=PlaceholderSelect(placeholder), **kw)


def category_choices() -> list:
    return [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]


class ActionForm(FlaskForm):
    """A one-button post (withdraw, claim, give up, take): nothing but the CSRF token."""


class NeedForm(FlaskForm):
    field_of = {"bad_category": "category", "bad_description": "description", "bad_time": "preferred_time"}
    category = choice(_l("What kind of help"), _l("Choose a category"))
    description = lines(
        _l("What do you need?"), 1000, description=_l("Who needs it, where, and anything a volunteer should know.")
    )
    preferred_time = text(
        _l("Preferred time"), 60, optional=True, description=_l("For example: Saturday morning, or any weekday.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices()


class DeclineForm(FlaskForm):
    field_of = {"bad_reason": "reason"}
    reason = lines(_l("Why can the community not help?"), 300, description=_l("The resident sees this reason."))


class ResourceForm(FlaskForm):
    # A service's error code -> the field it belongs to.
    field_of = {
        "bad_kind": "kind",
        "bad_unit": "unit",
        "bad_title": "title",
        "bad_description": "description",
        "bad_availability": "availability",
        "bad_contact": "contact",
    }
    unit = SelectField(_l("Offered by"), coerce=int, validators=[Optional()])
    kind = choice(_l("Kind"), _l("Choose a kind"))
    title = text(_l("Title"), 80)
    description = lines(_l("Description"), 500, optional=True)
    availability = text(_l("Availability"), 80, optional=True, description=_l("For example: weekdays 9:00-17:00."))
    contact = text(_l("Contact"), 60, optional=True, description=_l("Who to ask, and how."))
    active = BooleanField(_l("Shown on the list"), default=True)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [(0, _l("No unit (the community itself)")), *((u.id, u.name) for u in units)]
        self.kind.choices = [(k, RESOURCE_KIND_LABELS[k]) for k in RESOURCE_KINDS]

    def fields(self) -> dict:
        return {
            "kind": self.kind.data,
            "title": self.title.data,
            "description": self.description.data or "",
            "availability": self.availability.data or "",
            "contact": self.contact.data or "",
            "unit_id": self.unit.data or None,
            "active": bool(self.active.data),
        }


class NewResourceForm(ResourceForm):
    community = choice(_l("Community"), _l("Choose a community"), coerce=int)


class ProjectForm(FlaskForm):
    field_of = {
        "bad_kind": "kind",
        "bad_title": "title",
        "bad_description": "description",
        "bad_capacity": "capacity",
        "bad_period": "ends_on",
    }
    kind = choice(_l("Kind"), _l("Choose a kind"))
    title = text(_l("Title"), 80)
    description = lines(_l("Description"), 500, optional=True)
    capacity = IntegerField(
        _l("Volunteers it takes"),
        validators=[input_required(), NumberRange(1, 500, message=_l("Enter a whole number from 1 to 500."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": 500},
    )
    starts_on = DateField(_l("Starts on"), validators=[input_required()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()], description=_l("Leave empty if it has no end."))
    active = BooleanField(_l("Open for claims"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, PROJECT_KIND_LABELS[k]) for k in PROJECT_KINDS]

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The period must end on or after its start."))

    def fields(self) -> dict:
        return {
            "kind": self.kind.data,
            "title": self.title.data,
            "description": self.description.data or "",
            "capacity": self.capacity.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "active": bool(self.active.data),
        }


class NewProjectForm(ProjectForm):
    community = choice(_l("Community"), _l("Choose a community"), coerce=int)
