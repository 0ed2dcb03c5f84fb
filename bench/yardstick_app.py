"""The real app plus profile_handover's two yardstick endpoints, for gunicorn (exchange_bench.py --yardsticks).

They do nothing of their own: one answers before touching the user, the other after loading the
logged-in steward (Flask-Login's loader, roles), the locale and one translated message. Served
like the desk, they show how fast the app can answer at all, before any hand-over work.
"""

from bench.profile_handover import add_yardsticks
from volunteer import create_app

app = create_app()
add_yardsticks(app)
