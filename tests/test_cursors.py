"""Keyset pagination (uploads/cursors.py) through the API: stable, complete pages at any depth."""

import base64
import json
from datetime import timedelta

import pytest

from uploads import cursors
from uploads.models import Upload


def _walk(api, query: str) -> list[str]:
    ids, cursor = [], None
    while True:
        body = api.get(f"/api/uploads?page_size=2&{query}" + (f"&cursor={cursor}" if cursor else "")).json()
        ids += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            return ids


@pytest.mark.parametrize("sort", ["-created", "created", "name", "-name", "-size", "size"])
def test_following_next_lists_every_upload_once_in_the_sort_order(s3, api, user, upload_factory, sort):
    names = ["b.txt", "a.txt", "c.txt", "a.txt", "d.txt"]
    for age, name in enumerate(names):
        upload_factory(owner=user, filename=name, age=timedelta(minutes=age))
    for i, upload in enumerate(Upload.objects.filter(original_filename__in=["a.txt", "c.txt", "d.txt"])):
        Upload.objects.filter(pk=upload.pk).update(size=10 * (i % 2), status=Upload.Status.COMPLETE)

    walked = _walk(api, f"sort={sort}")

    expected = api.get(f"/api/uploads?page_size=100&sort={sort}").json()["items"]
    assert walked == [item["id"] for item in expected]
    assert len(set(walked)) == len(names)


def test_the_last_page_has_no_next(s3, api, user, upload_factory):
    upload_factory(owner=user)

    assert api.get("/api/uploads?page_size=2").json()["next"] is None


def test_the_list_does_not_count_unless_asked(s3, api, user, upload_factory):
    upload_factory(owner=user)

    assert api.get("/api/uploads").json()["count"] is None
    assert api.get("/api/uploads?count=true").json()["count"] == 1


def test_an_upload_added_meanwhile_does_not_shift_the_next_page(s3, api, user, upload_factory):
    for age in range(4):
        upload_factory(owner=user, age=timedelta(minutes=age + 1))
    first = api.get("/api/uploads?page_size=2").json()

    upload_factory(owner=user)  # newest: before the cursor
    second = api.get(f"/api/uploads?page_size=2&cursor={first['next']}").json()

    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert len(second["items"]) == 2


def _raw_cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        _raw_cursor(),
        _raw_cursor("-created", "yesterday", "00000000000000000000000000000000"),
        _raw_cursor("-created", "2026-01-01T00:00:00+00:00", "not-an-id"),
        _raw_cursor("-created", None, "00000000000000000000000000000000"),
    ],
)
def test_a_bad_cursor_is_a_422_with_a_code(s3, api, cursor):
    response = api.get("/api/uploads", {"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_a_cursor_of_another_sort_is_refused(s3, api, user, upload_factory):
    for _ in range(3):
        upload_factory(owner=user)
    cursor = api.get("/api/uploads?page_size=1&sort=name").json()["next"]

    assert api.get("/api/uploads", {"cursor": cursor, "sort": "-size"}).json()["code"] == "invalid_cursor"


def test_a_cursor_never_reaches_another_users_uploads(s3, api, bob_api, user, other_user, upload_factory):
    upload_factory(owner=other_user)
    mine = upload_factory(owner=user, age=timedelta(minutes=1))
    upload_factory(owner=user, age=timedelta(minutes=2))
    cursor = cursors.encode(mine, sort="-created")

    items = bob_api.get("/api/uploads", {"cursor": cursor}).json()["items"]

    assert all(Upload.objects.get(pk=i["id"]).owner == other_user for i in items)
