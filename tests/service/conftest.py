"""Shared by the service page tests: a logged-in English browser per user, and a response's text."""

import pytest

from ..conftest import english, login


@pytest.fixture
def browse(make_client):
    def _browse(user):
        client = english(make_client())
        login(client, user)
        return client

    return _browse


def text(response) -> str:
    return response.get_data(as_text=True)
