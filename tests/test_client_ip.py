"""project/client_ip.py: the client's address for the sign-in lockout, behind trusted proxies."""

import pytest
from django.test import RequestFactory

from project.client_ip import client_ip


def request(forwarded_for: str | None = None, remote: str = "10.0.0.1"):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_trusted_proxies_the_connections_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request("203.0.113.7")) == "10.0.0.1"


@pytest.mark.parametrize(
    ("count", "forwarded_for", "client"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's own claim
        (2, "192.0.2.1, 203.0.113.7, 198.51.100.2", "203.0.113.7"),
        (1, "192.0.2.1,2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_nth_entry_from_the_right_is_the_client(settings, count, forwarded_for, client):
    settings.TRUSTED_PROXY_COUNT = count

    assert client_ip(request(forwarded_for)) == client


@pytest.mark.parametrize("forwarded_for", [None, "", "203.0.113.7", "not-an-address, junk"])
def test_a_header_too_short_or_not_an_address_falls_back_to_the_connection(settings, forwarded_for):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request(forwarded_for)) == "10.0.0.1"


def test_the_header_is_a_setting(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.CLIENT_IP_HEADER = "X-Real-IP"

    assert (
        client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.7"))
        == "203.0.113.7"
    )
