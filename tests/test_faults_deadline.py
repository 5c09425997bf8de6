"""The fault tier, part two: one deadline per request (UPLOADS_REQUEST_DEADLINE) whatever the store
does, and no verdict on bytes the store cut short. The store sits behind tests/faults.py's proxy.

Faults, by name (each a test below):
- the join hung: CompleteMultipartUpload's answer never comes; complete answers 503 within the
  deadline, and a retry completes the file the store joined meanwhile.
- the join answered late: its answer comes after the deadline (503); a retry sent meanwhile
  completes the file the store joined.
- a read cut short: the ranged GET's body ends after 3 bytes; complete answers 503
  `storage_unavailable` and judges nothing (an HTML file declared image/png is refused later).
- a slow store under a bulk delete: each answer 150 ms late; deleting 16 rows (or 16 form uploads,
  whose folders are listed) costs about what deleting one costs.
- a slow store under the admin's delete and "Check with S3 again": the same, for 16 rows.
- a hung store under a bulk delete and "Check with S3 again": each answers within the deadline,
  and what it could not finish stays for cleanup (deleting) or as it was (pending).

Time bounds compare with a baseline measured in the same test (`faults.within`), never a fixed slack;
where a cost is compared with another, each is the quickest of two runs (`faults.quickest`), so one
pause of the machine's does not fail the comparison.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import FAULT_REQUEST_DEADLINE
from tests.faults import quickest, timed, wait_until, within
from tests.helpers import MULTIPART_SIZE as SIZE
from tests.helpers import send_parts, start_multipart
from tests.test_content import HTML
from uploads.cleanup import CleanupRun
from uploads.models import Upload, UsedFormToken

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

DEADLINE = FAULT_REQUEST_DEADLINE  # the `store` fixture's, below what one hung call costs there
ROWS = 16
CHANGELIST = "admin:uploads_upload_changelist"


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def roomy_deadline(store, settings):
    """For tests of what a slow store costs (batched, parallel), not of the deadline: the tier's 1 s
    is near what one slow call costs on a loaded machine, and a deadline met there fails them."""
    settings.UPLOADS_REQUEST_DEADLINE = 10


def complete_rows(upload_factory, owner, count: int) -> list[Upload]:
    return [upload_factory(owner=owner, status=Upload.Status.COMPLETE, body=b"x") for _ in range(count)]


def bulk_delete(page, uploads):
    return page.post(reverse("uploads:delete_many"), {"ids": [u.pk for u in uploads], "confirmed": "true"})


# --- Multipart complete --------------------------------------------------------------------------


@pytest.mark.usefixtures("small_parts")
def test_a_hung_join_answers_503_within_the_deadline_and_a_retry_completes_the_file(store, s3, api, settings):
    settings.UPLOADS_REQUEST_DEADLINE = 10  # for the healthy steps: moto takes its time to join 11 MiB
    body = b"j" * SIZE
    healthy = start_multipart(api)
    send_parts(api, healthy, body)
    done, baseline = timed(lambda: api.post(f"/api/uploads/{healthy['id']}/complete"))
    assert done.status_code == 200
    started = start_multipart(api)
    send_parts(api, started, body)
    store.mode, store.hold_matching = "hold", b"POST "  # the join happens, its answer never comes
    settings.UPLOADS_REQUEST_DEADLINE = DEADLINE

    response, elapsed = timed(lambda: api.post(f"/api/uploads/{started['id']}/complete"))

    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert response["Retry-After"]
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)
    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.PENDING
    store.mode, settings.UPLOADS_REQUEST_DEADLINE = "pass", 10
    retried = api.post(f"/api/uploads/{started['id']}/complete")
    assert (retried.status_code, retried.json()["size"]) == (200, SIZE)


@pytest.mark.usefixtures("small_parts")
def test_a_join_answered_after_the_deadline_completes_on_a_retry_sent_before_that_answer(
    store, s3, api, settings
):
    settings.UPLOADS_REQUEST_DEADLINE = 10  # for the healthy steps: moto takes its time to join 11 MiB
    started = start_multipart(api)
    send_parts(api, started, b"d" * SIZE)
    # The join happens; its answer comes 3 deadlines late, while the first call still waits for it.
    # A deadline of 3 s, not the tier's 1 s: on a loaded machine, ListParts and the checks before the
    # join could spend 1 s, and the join would never be sent.
    deadline = 3 * DEADLINE
    store.mode, store.hold_matching, store.delay_ms = "delay", b"POST ", 3000 * deadline
    settings.UPLOADS_REQUEST_DEADLINE = deadline
    response = api.post(f"/api/uploads/{started['id']}/complete")
    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert response["Retry-After"]
    wait_until(lambda: s3.head(started["key"]), timeout=30)  # the store finished the join
    settings.UPLOADS_REQUEST_DEADLINE = 10

    retried = api.post(f"/api/uploads/{started['id']}/complete")

    assert (retried.status_code, retried.json()["status"], retried.json()["size"]) == (200, "complete", SIZE)


# --- A read cut short ------------------------------------------------------------------------------


def test_a_read_cut_short_is_storage_unavailable_and_never_judged(store, s3, api, user, upload_factory):
    upload = upload_factory(
        owner=user, filename="cat.png", content_type="image/png", max_size=4096, body=HTML
    )
    store.mode, store.hold_matching, store.cut_after = "cut", b"GET ", 3  # "<ht" reads as plain text

    response = api.post(f"/api/uploads/{upload.pk}/complete")

    assert store.answers_cut >= 1
    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.PENDING
    store.mode = "pass"
    judged = api.post(f"/api/uploads/{upload.pk}/complete")
    assert (judged.status_code, judged.json()["code"]) == (409, "object_type_mismatch")


# --- Bulk delete -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("roomy_deadline")
def test_a_bulk_delete_under_a_slow_store_costs_what_deleting_one_row_costs(
    store,
    s3,
    page,
    user,
    upload_factory,
):
    ones = [complete_rows(upload_factory, user, 1) for _ in range(2)]
    manys = [complete_rows(upload_factory, user, ROWS) for _ in range(2)]
    store.mode, store.delay_ms = "delay", 150

    baseline = quickest(*(lambda rows=rows: bulk_delete(page, rows) for rows in ones))
    elapsed = quickest(*(lambda rows=rows: bulk_delete(page, rows) for rows in manys))

    assert not Upload.objects.exists()
    assert all(s3.head(u.key) is None for many in manys for u in many)
    assert within(elapsed, baseline, baseline=baseline), (elapsed, baseline)


@pytest.mark.usefixtures("roomy_deadline")
def test_a_bulk_delete_of_form_uploads_lists_their_folders_in_parallel(
    store,
    s3,
    page,
    user,
    upload_factory,
    put_object,
):
    def form_uploads(count):
        uploads = complete_rows(upload_factory, user, count)
        for upload in uploads:  # a live form policy put a second file beside the recorded one
            UsedFormToken.objects.create(upload_id=upload.pk, owner=user, used_at=timezone.now())
            put_object(upload.key.rsplit("/", 1)[0] + "/second.txt")
        return uploads

    ones, manys = [form_uploads(1) for _ in range(2)], [form_uploads(ROWS) for _ in range(2)]
    store.mode, store.delay_ms = "delay", 50  # 16 listings, 8 at a time, stay well within the deadline

    baseline = quickest(*(lambda rows=rows: bulk_delete(page, rows) for rows in ones))
    elapsed = quickest(*(lambda rows=rows: bulk_delete(page, rows) for rows in manys))

    assert not Upload.objects.exists()
    assert list(s3.iter_objects()) == []
    assert within(elapsed, baseline, baseline=baseline), (elapsed, baseline)


def test_a_bulk_delete_under_a_hung_store_answers_within_the_deadline_and_cleanup_finishes_it(
    store,
    s3,
    page,
    user,
    upload_factory,
):
    # The request's own cost, without the store: deleting one row with a healthy store.
    _, baseline = timed(lambda: bulk_delete(page, complete_rows(upload_factory, user, 1)))
    many = complete_rows(upload_factory, user, ROWS)
    store.mode = "hang"

    response, elapsed = timed(lambda: bulk_delete(page, many))

    assert response.status_code == 302
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)
    assert set(Upload.objects.values_list("status", flat=True)) == {Upload.Status.DELETING}
    store.mode = "pass"
    assert CleanupRun().run().deletes_finished == ROWS
    assert not Upload.objects.exists()


# --- The admin -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("roomy_deadline")
def test_the_admins_delete_under_a_slow_store_costs_what_deleting_one_row_costs(
    store, s3, admin, user, upload_factory
):
    def delete_selected(uploads):
        data = {"action": "delete_selected", "_selected_action": [u.pk for u in uploads], "post": "yes"}
        return admin.post(reverse(CHANGELIST), data)

    ones = [complete_rows(upload_factory, user, 1) for _ in range(2)]
    manys = [complete_rows(upload_factory, user, ROWS) for _ in range(2)]
    store.mode, store.delay_ms = "delay", 150

    baseline = quickest(*(lambda rows=rows: delete_selected(rows) for rows in ones))
    elapsed = quickest(*(lambda rows=rows: delete_selected(rows) for rows in manys))

    assert not Upload.objects.exists()
    assert within(elapsed, baseline, baseline=baseline), (elapsed, baseline)


def check_with_s3(admin, uploads):
    data = {"action": "check_with_storage", "_selected_action": [u.pk for u in uploads]}
    return admin.post(reverse(CHANGELIST), data, follow=True)


def pending_rows(upload_factory, owner, count):
    return [
        upload_factory(owner=owner, filename="a.txt", content_type="text/plain", body=b"here")
        for _ in range(count)
    ]


@pytest.mark.usefixtures("roomy_deadline")
def test_checking_many_uploads_with_s3_under_a_slow_store_costs_what_checking_one_costs(
    store, s3, admin, user, upload_factory
):
    ones = [pending_rows(upload_factory, user, 1) for _ in range(2)]
    manys = [pending_rows(upload_factory, user, ROWS) for _ in range(2)]
    store.mode, store.delay_ms = "delay", 150

    baseline = quickest(*(lambda rows=rows: check_with_s3(admin, rows) for rows in ones))
    elapsed = quickest(*(lambda rows=rows: check_with_s3(admin, rows) for rows in manys))

    assert Upload.objects.filter(status=Upload.Status.COMPLETE).count() == 2 + 2 * ROWS
    assert within(elapsed, baseline, baseline=baseline), (elapsed, baseline)


def test_checking_with_s3_under_a_hung_store_answers_within_the_deadline_and_changes_nothing(
    store, s3, admin, user, upload_factory
):
    _, baseline = timed(lambda: check_with_s3(admin, pending_rows(upload_factory, user, 1)))
    many = pending_rows(upload_factory, user, ROWS)
    store.mode = "hang"

    response, elapsed = timed(lambda: check_with_s3(admin, many))

    assert response.status_code == 200
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)
    assert Upload.objects.filter(pk__in=[u.pk for u in many], status=Upload.Status.PENDING).count() == ROWS
    assert timezone.now() - many[0].created_at < timedelta(minutes=1)
