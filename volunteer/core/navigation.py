"""The menu each user sees, built from the roles they hold."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..accounts.models import Role
from . import permissions as perm


def nav_for(user) -> list[tuple[str, str]]:
    if not user or not user.is_authenticated:
        return [(url_for("accounts.login"), _l("Log in")), (url_for("accounts.register"), _l("Register"))]
    items = [(url_for("core.home"), _l("Home"))]
    if user.is_party_member:
        items.append((url_for("org.my_report"), _l("My 1112 report")))
    if user.building_id or any(g.community_id for g in user.roles):
        items.append((url_for("ledger.my_points"), _l("My points")))
    if perm.community_ids(user, Role.STEWARD, Role.ADMIN):
        items.append((url_for("users.desk_register"), _l("Register a resident")))
    if perm.community_ids(user, Role.ADMIN):
        items += [
            (url_for("users.index"), _l("Users")),
            (url_for("org.communities"), _l("Organisation")),
            (url_for("org.reports"), _l("Dual reporting")),
            (url_for("org.units"), _l("Units")),
            (url_for("ledger.index"), _l("Points ledger")),
            (url_for("core.audit"), _l("Audit log")),
        ]
    from ..credit.nav import credit_links  # noqa: PLC0415 - the credit domain builds its own links

    items += credit_links(user)
    from ..service.nav import service_links  # noqa: PLC0415 - so does the 1112 service domain

    items += service_links(user)
    from ..exchange.nav import exchange_links  # noqa: PLC0415 - and the supermarket

    items += exchange_links(user)
    from ..letters.nav import letters_links  # noqa: PLC0415 - and the letters

    items += letters_links(user)
    if perm.unit_ids(user):
        items.append((url_for("org.staff"), _l("Our staff")))
    items.append((url_for("accounts.change_password"), _l("Password")))
    return items
