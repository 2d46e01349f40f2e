import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _api_urls(settings):
    """The API alone: these tests do not lean on the web pages' URL modules."""
    settings.ROOT_URLCONF = "api.tests.urls"


@pytest.fixture
def bearer(db):
    """bearer(user) -> a client that sends a fresh token for that user."""
    from accounts.services import issue_token

    def _bearer(user):
        key, _row = issue_token(user)
        return Client(headers={"Authorization": f"Bearer {key}"})

    return _bearer
