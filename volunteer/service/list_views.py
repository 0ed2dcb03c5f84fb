"""Two of the three lists' pages: units' resources, and projects and posts to claim (needs: order_views).

`run` and `step` are shared with order_views: one service call per post, a refusal re-renders the
page with the posted form (400, or the service's 403/404) and a success flashes and redirects (303).
"""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..org.models import Community, Unit
from . import lists
from .access import is_steward_of, is_volunteer_of, member_community_ids, steward_community_ids
from .list_forms import ActionForm, NewProjectForm, NewResourceForm, ProjectForm, ResourceForm
from .models import Project, ProjectClaim, Resource
from .views import FORM, attempt, bp, done, get_readable, get_stewarded


def run(form, action, field_of=None):
    """attempt() that also tells the status to answer with: the service's 403/404, else 400."""
    status = [400]

    def call():
        try:
            return action()
        except DomainError as err:
            status[0] = err.status if err.status in (403, 404) else 400
            raise

    return attempt(form, call, field_of), status[0]


def step(form, call, success, page):
    """A posted form: valid and accepted -> success(result) gives (message, url); otherwise page(status)."""
    status = 400
    if form.validate_on_submit():
        result, status = run(form, call, getattr(form, "field_of", None))
        if result is not None:
            return done(*success(result))
    db.session.rollback()
    return page(status)


def communities_of(ids) -> list[Community]:
    return db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name)).all()


def steward_scope() -> set[int]:
    perm.require_login()
    ids = steward_community_ids(current_user)
    if not ids:
        abort(403)
    return ids


def member_scope() -> set[int]:
    perm.require_login()
    ids = member_community_ids(current_user)
    if not ids:
        abort(403)
    return ids


# --- resources -----------------------------------------------------------------------------------


@bp.route("/resources")
@login_required
def resources():
    ids = member_scope()
    community = community_arg(ids)
    stewarded = steward_community_ids(current_user)
    stmt = select(Resource).where(
        Resource.community_id.in_({community} if community else ids),
        or_(Resource.active.is_(True), Resource.community_id.in_(stewarded)),  # stewards see hidden ones
    )
    stmt = stmt.options(selectinload(Resource.unit)).order_by(Resource.active.desc(), Resource.kind, Resource.id)
    return render_template(
        "service/resources.html",
        page=paginate(stmt),
        community=community,
        communities=communities_of(ids),
        stewarded=stewarded,
    )


def _units() -> list[Unit]:
    return db.session.scalars(select(Unit).order_by(Unit.name)).all()


def _list_form(template: str, form, title: str, status: int = 200, **context):
    return render_template(template, form=form, title=title, **context), status


def _resource_saved(resource):
    return _("Resource %(title)s saved.", title=resource.title), url_for(
        "service.resources", community=resource.community_id
    )


@bp.route("/resources/new", methods=FORM)
@login_required
def resource_new():
    stewarded = steward_scope()
    form = NewResourceForm(units=_units())
    form.community.choices = [(c.id, c.name) for c in communities_of(stewarded)]
    if request.method == "GET":
        form.community.data = request.args.get("community", type=int)
        return _list_form("service/resource_form.html", form, _("New resource"))
    return step(
        form,
        lambda: lists.save_resource(current_user, form.community.data, form.fields()),
        _resource_saved,
        lambda status: _list_form("service/resource_form.html", form, _("New resource"), status),
    )


@bp.route("/resources/<int:resource_id>/edit", methods=FORM)
@login_required
def resource_edit(resource_id: int):
    resource = get_stewarded(Resource, resource_id)
    community_id = resource.community_id
    community_name = db.session.get(Community, community_id).name
    form = ResourceForm(obj=resource, units=_units())
    title = _("Edit resource")
    if request.method == "GET":
        form.unit.data = resource.unit_id or 0  # obj= would put the Unit itself here
        return _list_form("service/resource_form.html", form, title, community_name=community_name)
    return step(
        form,
        lambda: lists.save_resource(current_user, community_id, form.fields(), resource_id),
        _resource_saved,
        lambda status: _list_form("service/resource_form.html", form, title, status, community_name=community_name),
    )


# --- projects and posts --------------------------------------------------------------------------


@bp.route("/projects")
@login_required
def projects():
    ids = member_scope()
    community = community_arg(ids)
    stewarded = steward_community_ids(current_user)
    stmt = select(Project).where(
        Project.community_id.in_({community} if community else ids),
        or_(Project.active.is_(True), Project.community_id.in_(stewarded)),
    )
    page = paginate(stmt.order_by(Project.active.desc(), Project.starts_on.desc(), Project.id.desc()))
    claimed = set(
        db.session.scalars(
            select(ProjectClaim.project_id).where(
                ProjectClaim.volunteer_id == current_user.id, ProjectClaim.released_at.is_(None)
            )
        )
    )
    return render_template(
        "service/projects.html",
        page=page,
        community=community,
        communities=communities_of(ids),
        stewarded=stewarded,
        claimed=claimed,
        today=local_today(),
    )


def project_page(project_id: int, status: int = 200, **posted):
    project = get_readable(Project, project_id)
    mine = lists.active_claim(project.id, current_user.id)
    forms = {}
    if mine is not None:
        forms["give_up"] = ActionForm(formdata=None)
    elif is_volunteer_of(current_user, project.community_id):
        forms["claim"] = ActionForm(formdata=None)
    forms.update(posted)
    return render_template(
        "service/project.html",
        project=project,
        claims=[c for c in project.claims if c.released_at is None],
        mine=mine,
        forms=forms,
        steward=is_steward_of(current_user, project.community_id),
        open_now=project.is_open_on(local_today()),
    ), status


@bp.route("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    return project_page(project_id)


def _claim_step(project_id: int, key: str, call, message):
    get_readable(Project, project_id)
    form = ActionForm()
    return step(
        form,
        call,
        lambda _row: (message, url_for("service.project", project_id=project_id)),
        lambda status: project_page(project_id, status, **{key: form}),
    )


@bp.route("/projects/<int:project_id>/claim", methods=["POST"])
@login_required
def project_claim(project_id: int):
    call = lambda: lists.claim(current_user, project_id)  # noqa: E731
    return _claim_step(project_id, "claim", call, _("You claimed this. Thank you!"))


@bp.route("/projects/<int:project_id>/release", methods=["POST"])
@login_required
def project_release(project_id: int):
    call = lambda: lists.release_claim(current_user, project_id, current_user.id)  # noqa: E731
    return _claim_step(project_id, "give_up", call, _("You gave up your claim."))


@bp.route("/projects/<int:project_id>/claims/<int:user_id>/release", methods=["POST"])
@login_required
def claim_release(project_id: int, user_id: int):
    get_stewarded(Project, project_id)
    if db.session.get(User, user_id) is None:
        abort(404)  # the URL names the volunteer: an unknown one is a missing page, like an unknown project
    call = lambda: lists.release_claim(current_user, project_id, user_id)  # noqa: E731
    return _claim_step(project_id, "claim_release", call, _("The claim was ended."))


def _project_saved(project):
    return _("%(title)s saved.", title=project.title), url_for("service.project", project_id=project.id)


@bp.route("/projects/new", methods=FORM)
@login_required
def project_new():
    stewarded = steward_scope()
    form = NewProjectForm()
    form.community.choices = [(c.id, c.name) for c in communities_of(stewarded)]
    title = _("New project or post")
    if request.method == "GET":
        form.community.data = request.args.get("community", type=int)
        form.starts_on.data = form.starts_on.data or local_today()
        return _list_form("service/project_form.html", form, title)
    return step(
        form,
        lambda: lists.save_project(current_user, form.community.data, form.fields()),
        _project_saved,
        lambda status: _list_form("service/project_form.html", form, title, status),
    )


@bp.route("/projects/<int:project_id>/edit", methods=FORM)
@login_required
def project_edit(project_id: int):
    project = get_stewarded(Project, project_id)
    community_id, claimed = project.community_id, project.claimed
    form = ProjectForm(obj=project)
    title = _("Edit %(title)s", title=project.title)
    context = {"project_id": project_id, "claimed": claimed}
    if request.method == "GET":
        return _list_form("service/project_form.html", form, title, **context)
    return step(
        form,
        lambda: lists.save_project(current_user, community_id, form.fields(), project_id),
        _project_saved,
        lambda status: _list_form("service/project_form.html", form, title, status, **context),
    )
