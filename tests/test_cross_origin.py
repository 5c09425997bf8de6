"""Cross-origin use of the API: opt-in per origin, tokens only, never this site's cookies."""

import pytest
from django.test import Client

from tests.helpers import api_preflight as preflight

pytestmark = pytest.mark.django_db

OTHER_SITE = "https://app.example"


def test_a_listed_origin_may_call_the_api_with_a_token(settings):
    settings.CORS_ALLOWED_ORIGINS = [OTHER_SITE]

    response = preflight(Client(), OTHER_SITE)

    assert response.headers["Access-Control-Allow-Origin"] == OTHER_SITE
    assert "authorization" in response.headers["Access-Control-Allow-Headers"]


def test_an_unlisted_origin_gets_no_cors_headers(settings):
    settings.CORS_ALLOWED_ORIGINS = [OTHER_SITE]

    response = preflight(Client(), "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_origin_is_allowed_by_default():
    response = preflight(Client(), OTHER_SITE)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_other_origins_never_get_this_sites_cookies(settings):
    settings.CORS_ALLOWED_ORIGINS = [OTHER_SITE]

    response = preflight(Client(), OTHER_SITE)

    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_pages_send_no_cors_headers(settings):
    settings.CORS_ALLOWED_ORIGINS = [OTHER_SITE]

    response = Client().get("/accounts/login/", headers={"Origin": OTHER_SITE})

    assert "Access-Control-Allow-Origin" not in response.headers
