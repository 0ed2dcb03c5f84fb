"""A small browser for load tests and race tests: its own cookies, a fresh connection per request, stdlib only.

Each request opens its own TCP connection (gunicorn's sync workers close it after every answer
anyway), so concurrent Browsers never share a socket. Redirects are not followed: callers read
the 302/303 and its Location themselves.
"""

import http.client
import json as jsonlib
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CSRF_META = re.compile(r'<meta[^>]+name="csrf-token"[^>]+content="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from opening the connection to the last byte

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One user's browser: cookies kept between requests, CSRF token read from the pages."""

    def __init__(self, base_url: str, timeout: float = 60):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf_token: str | None = None

    def copy(self) -> "Browser":
        """Another tab of the same browser: the same cookies and token, from now on kept apart."""
        other = Browser(f"http://{self.host}:{self.port}", self.timeout)
        other.cookies, other.csrf_token = dict(self.cookies), self.csrf_token
        return other

    def request(self, method: str, path: str, *, form=None, json=None, headers=None) -> Response:
        sent = {"Connection": "close", **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        self._keep_cookies(answer.headers.get_all("Set-Cookie") or [])
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data, seconds)

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if not morsel.value or morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def read_csrf(self, path: str = "/login") -> str:
        """Fetch a page and keep the CSRF token its forms carry (every page has the language form)."""
        page = self.get(path).text
        found = CSRF_META.search(page) or CSRF_INPUT.search(page)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}")
        self.csrf_token = next(group for group in found.groups() if group)
        return self.csrf_token

    def post_form(self, path: str, fields: dict | None = None, **kw) -> Response:
        return self.request("POST", path, form={"csrf_token": self.csrf_token or "", **(fields or {})}, **kw)

    def post_json(self, path: str, payload: dict) -> Response:
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf_token or ""}
        return self.request("POST", path, json=payload, headers=headers)

    def login(self, phone: str, password: str) -> "Browser":
        """Log in through the real form; raises unless the app redirects (a wrong password re-renders)."""
        self.read_csrf("/login")
        answer = self.post_form("/login", {"phone": phone, "password": password})
        if answer.status not in (302, 303):
            raise RuntimeError(f"login of {phone} answered {answer.status}: {answer.text[:300]}")
        self.read_csrf("/")  # a token from a page served to the logged-in session
        return self
