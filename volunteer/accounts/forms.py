"""Login, registration and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, Length

from ..accounts.models import Role
from ..core.forms import PlaceholderSelect, clean, max_len, mobile, no_markup, plain_text, required

PASSWORD_HELP = _l("At least 8 characters, with letters and digits.")


def _password(label):
    return PasswordField(
        label,
        validators=[required(), Length(min=8, max=128, message=_l("Between 8 and 128 characters."))],
        description=PASSWORD_HELP,
    )


class LoginForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[required(), max_len(20)])
    password = PasswordField(_l("Password"), validators=[required(), max_len(128)])
    remember = BooleanField(_l("Keep me logged in on this phone"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Name"), filters=[clean], validators=[required(), max_len(40), no_markup, plain_text])
    phone = StringField(_l("Mobile number"), validators=[required(), max_len(20), mobile])
    building = SelectField(
        _l("Where you live"),
        coerce=int,
        validators=[required()],
        validate_choice=True,
        widget=PlaceholderSelect(_l("Choose your compound and building")),
    )
    password = _password(_l("Password"))
    confirm = PasswordField(
        _l("Password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords do not match."))],
    )
    party_member = BooleanField(_l("I am a Communist Party member (for the 1112 volunteer scheme)"))


class DeskRegisterForm(RegisterForm):
    """A steward registers a resident at the desk; the resident sets the password with them."""


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[required(), max_len(128)])
    password = _password(_l("New password"))
    confirm = PasswordField(
        _l("New password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords do not match."))],
    )


class ResetPasswordForm(FlaskForm):
    password = _password(_l("New password"))


class GrantRoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[required()])
    community = SelectField(_l("Community"), coerce=int, validators=[required()])
    compound = SelectField(_l("Compound (collector and council only)"), coerce=int)


COMMUNITY_ROLE_CHOICES = [(r, r) for r in Role.COMMUNITY]
