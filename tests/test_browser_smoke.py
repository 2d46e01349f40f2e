import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_loads_a_page_from_the_live_server(page):
    page.goto(page.base_url + "/api/openapi.json")
    assert "openapi" in page.content()
