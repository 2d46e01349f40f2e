import pytest
from django.test import Client


@pytest.fixture
def bearer(db):
    """bearer(user) -> a client that sends a fresh token for that user."""
    from accounts.services import issue_token

    def _bearer(user):
        key, _row = issue_token(user)
        return Client(headers={"Authorization": f"Bearer {key}"})

    return _bearer
