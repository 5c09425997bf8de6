"""Personal API tokens: created and revoked by command and in the admin, stored hashed."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from uploads.models import ApiToken


def create_token(username: str, name: str = "laptop") -> str:
    out = io.StringIO()
    call_command("create_api_token", username, "--name", name, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_create_api_token_prints_a_token_that_authenticates(user):
    secret = create_token("alice")

    response = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/uploads")

    assert response.status_code == 200


def test_a_token_is_stored_only_hashed(user):
    secret = create_token("alice")

    token = ApiToken.objects.get()
    assert secret not in (token.key_hash, token.hint, token.name)
    assert secret.startswith(token.hint)


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        create_token("nobody")


def test_revoke_api_token_by_its_secret_stops_it_working(user):
    secret = create_token("alice")

    call_command("revoke_api_token", secret, stdout=io.StringIO())

    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/uploads").status_code == 401


def test_revoke_api_token_by_its_hint(user):
    secret = create_token("alice")

    call_command("revoke_api_token", secret[: ApiToken.HINT_LENGTH], stdout=io.StringIO())

    assert ApiToken.objects.get().revoked_at is not None


def test_revoke_api_token_refuses_an_unknown_token(user):
    with pytest.raises(CommandError, match="No single active token matches"):
        call_command("revoke_api_token", "s3u_unknown-token", stdout=io.StringIO())


def test_the_admin_creates_a_token_and_shows_its_secret_once(admin_client, user):
    response = admin_client.post("/admin/uploads/apitoken/add/", {"user": user.pk, "name": "ci"}, follow=True)

    token = ApiToken.objects.get()
    shown = next(str(m) for m in response.context["messages"] if "s3u_" in str(m))
    secret = shown.split("The new token is ")[1].split(" ")[0]
    assert ApiToken.objects.find(secret) == token
    assert token.user == user


def test_the_admin_revoke_action_revokes(admin_client, user):
    token, secret = ApiToken.issue(user=user, name="old")

    admin_client.post(
        "/admin/uploads/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert ApiToken.objects.find(secret) is None
