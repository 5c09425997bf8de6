"""The JSON API under /api/, through Django's test client (and moto's server for the bytes)."""

import uuid
from unittest import mock

import pytest
import requests
from django.test import Client

from tests.helpers import assert_error
from tests.test_content import HTML
from uploads import listing
from uploads.models import ApiToken, Upload


def start(api, *, filename="notes.txt", content_type="text/plain", size=5):
    return api.post(
        "/api/uploads",
        {"filename": filename, "content_type": content_type, "size": size},
        content_type="application/json",
    )


# --- Start ------------------------------------------------------------------------------------


def test_start_answers_201_with_what_a_client_needs_to_post_the_file(s3, api, user):
    response = start(api, filename="notes.txt", size=5)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "method", "url", "fields", "headers", "key", "expires_at", "max_size"} | {
        "part_size",
        "parts_count",
        "part_urls_per_request",
    }
    assert (body["method"], body["headers"]) == ("POST", {})
    assert body["fields"]["key"] == body["key"]
    assert body["max_size"] == 5
    assert Upload.objects.get(pk=body["id"]).owner == user


def test_start_answers_a_presigned_put_when_the_store_takes_no_post_policies(s3, api, settings, put_to_s3):
    settings.UPLOADS_UPLOAD_METHOD = "put"

    body = start(api, filename="notes.txt", content_type="text/plain", size=5).json()
    stored = put_to_s3(body["url"], body["headers"], b"hello")

    assert (body["method"], body["fields"]) == ("PUT", {})
    assert body["headers"]["Content-Type"] == "text/plain"
    assert stored.status_code == 200


def test_start_refuses_a_declared_size_over_the_limit_with_413(s3, api, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 10

    assert_error(start(api, size=11), 413, "upload_too_large")
    assert not Upload.objects.exists()


def test_start_refuses_a_type_outside_the_allowed_patterns_with_415(s3, api, settings):
    settings.UPLOADS_ALLOWED_CONTENT_TYPES = ["image/*"]

    assert_error(start(api, content_type="application/pdf"), 415, "content_type_not_allowed")
    assert not Upload.objects.exists()


def test_start_refuses_an_unusable_filename_with_422(s3, api):
    assert_error(start(api, filename="../"), 422, "invalid_filename")


@pytest.mark.parametrize("size", [0, -1])
def test_start_refuses_a_size_that_is_not_positive(s3, api, size):
    assert_error(start(api, size=size), 422, "invalid_size")


def test_start_answers_a_missing_field_with_a_validation_error(s3, api):
    response = api.post("/api/uploads", {"filename": "a.txt"}, content_type="application/json")

    body = assert_error(response, 422, "validation_error")
    assert "size" in body["detail"]


def test_start_answers_malformed_json_with_400_bad_request(s3, api):
    response = api.post("/api/uploads", "{not json", content_type="application/json")

    assert_error(response, 400, "bad_request")


# --- Complete ---------------------------------------------------------------------------------


def test_complete_answers_the_upload_with_size_and_etag_from_s3(s3, api, post_to_s3):
    started = start(api, size=5).json()
    post_to_s3(started["url"], started["fields"], b"hello")

    response = api.post(f"/api/uploads/{started['id']}/complete")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "complete"
    assert body["size"] == 5
    assert body["etag"] == "5d41402abc4b2a76b9719d911017c592"  # MD5 of b"hello", as S3 computes it
    assert body["filename"] == "notes.txt"


def test_complete_answers_409_when_the_object_is_missing(s3, api):
    started = start(api).json()

    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 409, "object_missing")
    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.PENDING


def test_complete_answers_409_when_the_object_is_too_large(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, max_size=3, body=b"12345")

    assert_error(api.post(f"/api/uploads/{upload.pk}/complete"), 409, "object_too_large")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED


def test_complete_answers_409_when_the_object_has_another_type(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, body=b"12345", stored_type="text/html")

    assert_error(api.post(f"/api/uploads/{upload.pk}/complete"), 409, "object_type_mismatch")


def test_complete_answers_503_and_keeps_the_record_when_s3_is_unreachable(s3_down, api, user, upload_factory):
    upload = upload_factory(owner=user)

    assert_error(api.post(f"/api/uploads/{upload.pk}/complete"), 503, "storage_unavailable")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.PENDING


def test_complete_answers_404_for_an_unknown_id(s3, api):
    assert_error(api.post(f"/api/uploads/{uuid.uuid4()}/complete"), 404, "not_found")


def test_a_malformed_id_is_a_validation_error(s3, api):
    assert_error(api.get("/api/uploads/not-a-uuid"), 422, "validation_error")


# --- Read -------------------------------------------------------------------------------------


def test_get_answers_one_upload(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, filename="a.pdf")

    body = api.get(f"/api/uploads/{upload.pk}").json()

    assert body["id"] == str(upload.pk)
    assert body["filename"] == "a.pdf"
    assert body["status"] == "pending"


def test_list_answers_only_the_callers_uploads_newest_first(s3, api, user, other_user, upload_factory):
    from datetime import timedelta

    older = upload_factory(owner=user, age=timedelta(hours=2))
    newer = upload_factory(owner=user, age=timedelta(hours=1))
    upload_factory(owner=other_user)

    body = api.get("/api/uploads?count=true").json()

    assert [item["id"] for item in body["items"]] == [str(newer.pk), str(older.pk)]
    assert body["count"] == 2


def test_list_paginates(s3, api, user, upload_factory):
    for _ in range(5):
        upload_factory(owner=user)

    body = api.get("/api/uploads?page=2&page_size=2&count=true").json()

    assert len(body["items"]) == 2
    assert (body["count"], body["page"], body["page_size"]) == (5, 2, 2)


def test_list_bounds_the_page_size(s3, api):
    assert_error(api.get("/api/uploads?page_size=1000"), 422, "validation_error")


def test_list_filters_by_status(s3, api, user, upload_factory):
    done = upload_factory(owner=user, status=Upload.Status.COMPLETE)
    upload_factory(owner=user)

    body = api.get("/api/uploads?status=complete").json()

    assert [item["id"] for item in body["items"]] == [str(done.pk)]


def test_list_refuses_an_unknown_status(s3, api):
    assert_error(api.get("/api/uploads?status=lost"), 422, "validation_error")


# --- Download URL -----------------------------------------------------------------------------


def test_url_answers_a_presigned_get_with_the_original_name(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, filename="report.pdf", status=Upload.Status.COMPLETE, body=b"%PDF")

    body = api.get(f"/api/uploads/{upload.pk}/url?download=true&expiration=60").json()
    fetched = requests.get(body["url"], timeout=10)

    assert (body["name"], body["content_type"]) == ("report.pdf", "application/pdf")
    assert body["expires_at"]
    assert fetched.content == b"%PDF"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")


def test_url_refuses_an_expiration_past_the_maximum(s3, api, user, upload_factory, settings):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    response = api.get(f"/api/uploads/{upload.pk}/url?expiration={settings.UPLOADS_URL_MAX_EXPIRATION + 1}")

    assert_error(response, 422, "invalid_expiration")


def test_url_answers_409_for_a_pending_upload(s3, api, user, upload_factory):
    upload = upload_factory(owner=user)

    assert_error(api.get(f"/api/uploads/{upload.pk}/url"), 409, "upload_not_complete")


# --- Delete -----------------------------------------------------------------------------------


def test_delete_answers_204_and_removes_object_and_record(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")

    response = api.delete(f"/api/uploads/{upload.pk}")

    assert response.status_code == 204
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert s3.head(upload.key) is None


def test_delete_answers_503_and_keeps_the_record_when_s3_is_unreachable(s3_down, api, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    assert_error(api.delete(f"/api/uploads/{upload.pk}"), 503, "storage_unavailable")
    assert Upload.objects.filter(pk=upload.pk).exists()


# --- Authentication and ownership -------------------------------------------------------------

OPERATIONS = [
    ("get", "/api/uploads/{id}"),
    ("post", "/api/uploads/{id}/complete"),
    ("get", "/api/uploads/{id}/url"),
    ("delete", "/api/uploads/{id}"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_another_users_upload_answers_404(s3, bob_api, user, upload_factory, method, path):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")

    response = getattr(bob_api, method)(path.format(id=upload.pk))

    assert_error(response, 404, "not_found")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.COMPLETE
    assert s3.head(upload.key) is not None


def test_another_users_uploads_are_not_listed(s3, bob_api, user, upload_factory):
    upload_factory(owner=user)

    assert bob_api.get("/api/uploads").json()["items"] == []


@pytest.mark.parametrize(("method", "path"), [*OPERATIONS, ("get", "/api/uploads"), ("post", "/api/uploads")])
def test_anonymous_calls_answer_401(s3, user, upload_factory, method, path):
    upload = upload_factory(owner=user)

    response = getattr(Client(), method)(path.format(id=upload.pk))

    assert_error(response, 401, "not_authenticated")


def test_an_unknown_token_answers_401(db):
    client = Client(headers={"Authorization": "Bearer s3u_not-a-real-token"})

    assert_error(client.get("/api/uploads"), 401, "not_authenticated")


def test_a_revoked_token_answers_401(s3, user, token):
    ApiToken.objects.find(token).revoke()
    client = Client(headers={"Authorization": f"Bearer {token}"})

    assert_error(client.get("/api/uploads"), 401, "not_authenticated")


def test_a_token_records_when_it_was_last_used(s3, api, token):
    api.get("/api/uploads")

    assert ApiToken.objects.get(key_hash=ApiToken.objects.find(token).key_hash).last_used_at is not None


def test_a_session_call_without_csrf_token_answers_403(s3, user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post("/api/uploads", {"filename": "a.txt", "size": 1}, content_type="application/json")

    assert_error(response, 403, "csrf_failed")
    assert not Upload.objects.exists()


def test_a_session_call_with_csrf_token_is_accepted(s3, user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/admin/login/")  # any page that renders a form sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value

    response = browser.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 1},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )

    assert response.status_code == 201


def test_a_session_read_needs_no_csrf_token(s3, user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.get("/api/uploads").status_code == 200


# --- Unexpected errors and the schema ---------------------------------------------------------


def test_an_unexpected_error_answers_500_without_a_traceback(s3, api):
    with mock.patch.object(listing, "upload_list", side_effect=RuntimeError("secret internals")):
        response = api.get("/api/uploads")

    body = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/nope"), ("get", "/api/uploads/not-a-uuid/extra"), ("post", "/api/nope")],
)
def test_an_unknown_api_path_answers_json_404(db, method, path):
    # A client reading {"detail", "code"} must not get Django's HTML page (or a CSRF 403 for a POST).
    response = getattr(Client(enforce_csrf_checks=True), method)(path)

    assert_error(response, 404, "not_found")


def test_the_openapi_schema_types_every_operation(client, user):
    client.force_login(user)
    schema = client.get("/api/openapi.json").json()
    operations = {
        (method.upper(), path): spec
        for path, methods in schema["paths"].items()
        for method, spec in methods.items()
    }

    assert set(operations) == {
        ("POST", "/api/uploads"),
        ("GET", "/api/uploads"),
        ("GET", "/api/uploads/{upload_id}"),
        ("POST", "/api/uploads/{upload_id}/complete"),
        ("GET", "/api/uploads/{upload_id}/url"),
        ("DELETE", "/api/uploads/{upload_id}"),
        ("POST", "/api/uploads/{upload_id}/parts"),
        ("GET", "/api/uploads/{upload_id}/parts"),
        ("POST", "/api/uploads/{upload_id}/sign"),
        ("POST", "/api/field-uploads"),  # UploadField's widget (uploads/api/fields.py)
    }
    assert "$ref" in str(operations[("POST", "/api/uploads")]["requestBody"])
    for (method, _path), spec in operations.items():
        success = (
            "204"
            if method == "DELETE"
            else ("201" if spec["operationId"].endswith(("create_upload", "start_field_upload")) else "200")
        )
        assert success in spec["responses"]
        assert "ErrorOut" in str(spec["responses"]["401"])
        if success != "204":
            assert "$ref" in str(spec["responses"][success]["content"])


def test_the_interactive_docs_are_served_to_signed_in_users(client, user):
    client.force_login(user)

    assert client.get("/api/docs").status_code == 200


def test_a_method_a_route_does_not_take_answers_405_in_the_error_shape_with_allow(s3, api):
    response = api.put(f"/api/uploads/{uuid.uuid4()}/complete")

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


# --- A script's whole session over HTTP -------------------------------------------------------


def test_a_script_with_a_token_runs_the_whole_lifecycle_over_http(s3, live_server, user):
    token = ApiToken.issue(user=user, name="script")[1]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api_url = f"{live_server.url}/api/uploads"
    body = b"\x00binary bytes\xff" * 1000

    started = session.post(
        api_url, json={"filename": "data.bin", "content_type": "application/octet-stream", "size": len(body)}
    )
    assert started.status_code == 201, started.text
    upload = started.json()
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("data.bin", body)}, timeout=30
    )
    assert posted.status_code == 201, posted.text
    completed = session.post(f"{api_url}/{upload['id']}/complete").json()
    link = session.get(f"{api_url}/{upload['id']}/url", params={"download": "true"}).json()
    downloaded = requests.get(link["url"], timeout=30)
    deleted = session.delete(f"{api_url}/{upload['id']}")

    assert (completed["status"], completed["size"]) == ("complete", len(body))
    assert downloaded.content == body
    assert deleted.status_code == 204
    assert s3.head(upload["key"]) is None
    assert session.get(f"{api_url}/{upload['id']}").status_code == 404


# --- Quotas, rate limits and bounds -----------------------------------------------------------


def test_start_over_the_byte_quota_answers_413_with_the_numbers(s3, api, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 10
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=8)

    body = assert_error(start(api, size=5), 413, "quota_exceeded")

    assert "8 of your 10 bytes" in body["detail"]
    assert Upload.objects.count() == 1


def test_start_with_too_many_pending_uploads_answers_429(s3, api, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_PENDING = 1
    upload_factory(owner=user)

    assert_error(start(api), 429, "too_many_pending")
    assert Upload.objects.count() == 1


@pytest.mark.parametrize(
    ("setting", "method", "path"),
    [
        ("UPLOADS_RATE_PRESIGN", "post", "/api/uploads"),
        ("UPLOADS_RATE_COMPLETE", "post", "/api/uploads/{id}/complete"),
        ("UPLOADS_RATE_URL", "get", "/api/uploads/{id}/url"),
    ],
)
def test_an_operation_over_its_rate_answers_429_with_retry_after(
    s3, api, user, upload_factory, settings, setting, method, path
):
    setattr(settings, setting, "2/m")
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")
    call = lambda: getattr(api, method)(path.format(id=upload.pk), content_type="application/json")  # noqa: E731

    responses = [call() for _ in range(3)]

    assert 429 not in [r.status_code for r in responses[:2]]
    assert_error(responses[2], 429, "throttled")
    assert 0 < int(responses[2]["Retry-After"]) <= 60


def test_a_rate_limit_counts_each_user_apart(s3, api, bob_api, settings):
    settings.UPLOADS_RATE_PRESIGN = "1/m"
    start(api)

    assert start(bob_api).status_code == 201
    assert start(api).status_code == 429


def test_rate_limits_count_in_redis_when_it_is_the_cache(s3, api, settings, redis_cache):
    settings.UPLOADS_RATE_PRESIGN = "1/m"

    assert [start(api).status_code for _ in range(2)] == [201, 429]


def test_a_rate_of_zero_is_no_limit(s3, api, settings):
    settings.UPLOADS_RATE_PRESIGN = "0"

    assert {start(api).status_code for _ in range(3)} == {201}


@pytest.mark.parametrize("page", ["100001", "99999999999999999999", "400000000000000000"])
def test_list_refuses_a_huge_page_number_with_422(s3, api, page):
    assert_error(api.get("/api/uploads", {"page": page}), 422, "validation_error")


@pytest.mark.parametrize("size", [True, "5", 1.5])
def test_start_refuses_a_size_that_is_not_an_integer(s3, api, size):
    assert_error(start(api, size=size), 422, "validation_error")
    assert not Upload.objects.exists()


def test_start_takes_a_whole_number_written_with_a_fraction_as_that_integer(s3, api):
    # JSON has one number type: 5.0 is 5, as the schema's "integer" says (schemathesis sends it).
    assert start(api, size=5.0).json()["max_size"] == 5


@pytest.mark.parametrize("value", ["true", 1])
def test_start_refuses_a_client_multipart_that_is_not_a_boolean(s3, api, value):
    body = {"filename": "notes.txt", "content_type": "text/plain", "size": 5, "client_multipart": value}

    assert_error(api.post("/api/uploads", body, content_type="application/json"), 422, "validation_error")


def test_a_body_over_the_limit_answers_413_in_the_error_shape(s3, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"filename": "a.txt", "size": 5, "content_type": "' + "x" * 2000 + '"}'

    assert_error(api.post("/api/uploads", body, content_type="application/json"), 413, "request_too_large")
    assert not Upload.objects.exists()


def test_complete_answers_409_for_html_declared_as_a_png(s3, api, user, upload_factory):
    upload = upload_factory(
        owner=user, filename="cat.png", content_type="image/png", max_size=4096, body=HTML
    )

    assert_error(api.post(f"/api/uploads/{upload.pk}/complete"), 409, "object_type_mismatch")
    assert s3.head(upload.key) is None


def test_an_authorization_value_is_never_logged(db, settings, caplog):
    settings.DEBUG = True
    client = Client(headers={"Authorization": "Basic YWxpY2U6aHVudGVyMg=="})

    with caplog.at_level("DEBUG"):
        assert client.get("/api/uploads").status_code == 401

    assert "YWxpY2U6aHVudGVyMg" not in caplog.text
