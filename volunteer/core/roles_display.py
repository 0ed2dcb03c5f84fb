"""Human names for roles, translated."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "resident": _l("Resident"),
    "volunteer": _l("Party-member volunteer"),
    "collector": _l("Information collector"),
    "council": _l("Council member"),
    "steward": _l("Community steward"),
    "admin": _l("Community admin"),
    "employer": _l("Employer contact"),
    "organiser": _l("Street / district organiser"),
}


def role_label(role: str):
    return ROLE_LABELS.get(role, role)
