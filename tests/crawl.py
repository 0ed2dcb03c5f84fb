"""Helpers for the cross-cutting crawls: the app's routes, forms parsed from pages, whole-database snapshots."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from sqlalchemy import select

from volunteer.extensions import db

SCRIPT = "<script>alert(1)</script>"
# Where the app shows a message to the user: field errors, error flashes, the error page.
ERROR_SHOWN = re.compile(r'class="error"|class="flash flash-error"|role="alert"')


def routes(app):
    """Every URL rule except static files, sorted for stable reports."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.endpoint)


def methods(rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def build(app, endpoint: str, **values) -> str:
    """The path of `endpoint` with `values` as URL arguments, without needing a request."""
    return app.url_map.bind("localhost").build(endpoint, values)


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, password, email, tel, number, date, checkbox, hidden, ...
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, Field] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(action=a.get("action") or "", method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value") or "")
        elif self._form is None or not a.get("name") or a["name"] == "csrf_token":
            return
        elif tag == "input" and (a.get("type") or "text") not in ("submit", "button", "reset", "image"):
            self._add(Field(a["name"], a.get("type") or "text"))
        elif tag == "textarea":
            self._add(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = self._add(Field(a["name"], "select"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def _add(self, f: Field) -> Field:
        self._form.fields.setdefault(f.name, f)
        return self._form.fields[f.name]


def forms_in(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_posting_to(html: str, page_path: str, action_path: str) -> Form | None:
    """The POST form on the page at `page_path` whose action is `action_path` (an empty action posts to the page)."""
    for form in forms_in(html):
        target = re.split(r"[?#]", form.action or page_path)[0]
        if form.method == "post" and target == action_path:
            return form
    return None


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: compared before and after a request."""
    out = {}
    for table in db.metadata.sorted_tables:
        stmt = select(table).order_by(*table.primary_key.columns)
        out[table.name] = [tuple(row) for row in db.session.execute(stmt)]
    db.session.commit()  # end the read snapshot so the next request's writes are visible
    return out


def changes(before: dict, after: dict) -> list[str]:
    """Tables whose rows differ, e.g. ["users (2 -> 3 rows)", "audit_entries (1 -> 2 rows)"]."""
    out = []
    for name, rows in before.items():
        if after[name] != rows:
            out.append(f"{name} ({len(rows)} -> {len(after[name])} rows)")
    return out


def shown(body: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in body]


def nul_rows(snap: dict) -> dict[str, int]:
    """Rows per table holding text with a NUL character: SQLite keeps it, PostgreSQL refuses it (a 500 there)."""
    return {
        name: sum(any(isinstance(v, str) and "\x00" in v for v in row) for row in rows) for name, rows in snap.items()
    }
