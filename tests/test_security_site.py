"""Attacks on the site's own surface (issue 21 §4), each refused: the API's docs, the accounts
pages, the sign-in lockout behind a proxy, and the fields a POST policy allows. Listed by name
in tests/test_security.py; the docs in a real browser are in test_browser_docs.py.
"""

import base64
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from project.middleware import content_security_policy
from uploads import form_uploads

pytestmark = pytest.mark.django_db

DOCS = ("/api/docs", "/api/openapi.json")


# --- The API's interactive docs -----------------------------------------------------------------


@pytest.mark.parametrize("path", DOCS)
def test_the_api_docs_and_schema_are_hidden_from_anonymous_visitors(path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_api_docs_are_sent_under_the_sites_csp(client, user):
    client.force_login(user)

    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == content_security_policy()


def test_the_api_docs_load_every_asset_from_the_site_itself(client, user):
    client.force_login(user)

    html = client.get("/api/docs").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert '"validatorUrl": null' in html  # Swagger UI's badge would come from validator.swagger.io


# --- Accounts pages nobody documented -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
        "/accounts/password_change/",
    ],
)
def test_the_password_reset_and_change_pages_are_not_mounted(client, user, path):
    client.force_login(user)

    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "alice@example.com"}).status_code == 404


# --- The sign-in lockout behind a reverse proxy -------------------------------------------------


def guess(browser: Client, forwarded_for: str, password: str = "guess"):
    return browser.post(
        reverse("login"),
        {"username": "alice", "password": password},
        REMOTE_ADDR="10.0.0.1",  # the proxy
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.fixture
def behind_one_proxy(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"


def test_guessing_behind_a_proxy_does_not_lock_the_account_owner_out(behind_one_proxy, user):
    for _ in range(3):
        guess(Client(), "203.0.113.7")

    owner = guess(Client(), "198.51.100.9", password="correct-horse-battery")

    assert owner.status_code == 302
    assert guess(Client(), "203.0.113.7", password="correct-horse-battery").status_code == 429


def test_a_forged_forwarded_for_entry_does_not_escape_the_lockout(behind_one_proxy, user):
    # The client controls every entry left of the one the trusted proxy appended.
    for number in range(3):
        guess(Client(), f"192.0.2.{number}, 203.0.113.7")

    response = guess(Client(), "192.0.2.99, 203.0.113.7", password="correct-horse-battery")

    assert response.status_code == 429


def test_without_a_trusted_proxy_the_forwarded_for_header_is_ignored(settings, user):
    settings.AXES_FAILURE_LIMIT = 3
    for number in range(3):
        guess(Client(), f"192.0.2.{number}")

    assert guess(Client(), "192.0.2.99", password="correct-horse-battery").status_code == 429


# --- Form fields a POST policy does not name ----------------------------------------------------


def policy_names(fields: dict) -> set[str]:
    policy = json.loads(base64.b64decode(fields["policy"]))
    named = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            named |= set(condition)
        elif condition[0] == "content-length-range":
            named.add("content-length-range")
        else:  # ["eq" | "starts-with", "$field", value]
            named.add(condition[1].lstrip("$"))
    return named


def test_the_api_policy_names_every_field_it_hands_out_and_no_other(s3, api):
    fields = api.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 5},
        content_type="application/json",
    ).json()["fields"]

    assert policy_names(fields) == (set(fields) - {"policy", "x-amz-signature"}) | {
        "bucket",
        "content-length-range",
    }
    assert not {"success_action_redirect", "Cache-Control", "Content-Encoding"} & policy_names(fields)


def test_the_form_policy_names_every_field_it_hands_out_and_no_other(s3, user):
    fields = form_uploads.form_upload_start(owner=user, finish_url=lambda token: f"/finish/{token}/").fields

    assert policy_names(fields) == (set(fields) - {"policy", "x-amz-signature"}) | {
        "bucket",
        "content-length-range",
    }
    assert not {"success_action_status", "Cache-Control", "Content-Encoding"} & policy_names(fields)
