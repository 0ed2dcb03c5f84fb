"""Menu links of the letters pages: admins' letters, employers' staff report, members' certificate."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..accounts.models import Role
from ..core import permissions as perm
from ..service.access import volunteer_community_ids


def letters_links(user) -> list[tuple[str, object]]:
    links = []
    if user.is_party_member or volunteer_community_ids(user):
        links.append((url_for("letters.certificate"), _l("My service certificate")))
    if perm.community_ids(user, Role.ADMIN):
        links.append((url_for("letters.admin_home"), _l("Thank-you letters")))
    if perm.unit_ids(user):
        links.append((url_for("letters.employer"), _l("Staff service report")))
    return links
