"""Quotas (uploads/quotas.py): one usage row per user, reserved atomically, settled by each transition."""

import threading

import pytest
from django.db import connection, connections

from uploads import deletion, quotas, services
from uploads.errors import QuotaExceeded, TooManyPending
from uploads.models import Upload, Usage


def start(user, size=5):
    return services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=size)


@pytest.mark.django_db
def test_a_presign_checks_and_reserves_the_quota_in_one_statement(s3, user, settings):
    settings.UPLOADS_QUOTA_BYTES, settings.UPLOADS_QUOTA_PENDING = 10**9, 5
    start(user)  # the user's usage row exists from here on
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start(user)

    usage = [q["sql"] for q in queries.captured_queries if "uploads_usage" in q["sql"]]
    assert len(usage) == 1
    assert usage[0].startswith("UPDATE")
    assert Usage.objects.get(user=user).pending == 2


@pytest.mark.django_db
def test_the_quota_check_reads_one_row_whatever_the_users_uploads(s3, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 10**9
    for _ in range(20):
        upload_factory(owner=user, status=Upload.Status.COMPLETE, size=10)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        quotas.require_room(owner=user, size=5)

    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1
    assert "uploads_usage" in reads[0]
    assert "SUM(" not in reads[0].upper()


@pytest.mark.django_db
def test_a_presign_reserves_its_bytes_and_a_pending_slot(s3, user):
    start(user, size=5)

    usage = Usage.objects.get(user=user)
    assert (usage.pending, usage.bytes_reserved, usage.bytes_stored) == (1, 5, 0)


@pytest.mark.django_db
def test_complete_turns_the_reservation_into_stored_bytes(s3, user, post_to_s3):
    direct = start(user, size=5)
    post_to_s3(direct.url, direct.fields, b"hello")

    services.upload_complete(upload=direct.upload)

    usage = Usage.objects.get(user=user)
    assert (usage.pending, usage.bytes_reserved, usage.bytes_stored) == (0, 0, 5)


@pytest.mark.django_db
def test_a_failure_gives_the_reservation_back(s3, user):
    services.upload_fail(upload=start(user, size=5).upload)

    usage = Usage.objects.get(user=user)
    assert (usage.pending, usage.bytes_reserved, usage.bytes_stored) == (0, 0, 0)


@pytest.mark.django_db
def test_deleting_a_complete_upload_frees_its_bytes(s3, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, size=40)

    deletion.upload_delete(upload=upload)

    assert Usage.objects.get(user=user).bytes_stored == 0


@pytest.mark.django_db
def test_a_users_first_presign_counts_their_existing_uploads(s3, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 100
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=98)
    Usage.objects.all().delete()  # as for a user whose row was never built

    with pytest.raises(QuotaExceeded, match="98 of your 100"):
        start(user, size=5)


@pytest.mark.django_db
def test_recount_rebuilds_a_usage_row_from_the_records(user, upload_factory):
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=10)
    upload_factory(owner=user, max_size=500, expected_size=5)
    Usage.objects.filter(user=user).update(bytes_stored=999, pending=7)

    row = quotas.recount_usage(user.pk)

    assert (row.bytes_stored, row.bytes_reserved, row.pending) == (10, 5, 1)


# --- Bursts: only PostgreSQL runs presigns truly at once (SQLite serialises every write) -------


def _burst(user, *, count: int, size: int) -> list:
    """Start `count` presigns at the same instant from as many threads; return what each raised or made."""
    barrier = threading.Barrier(count)
    outcomes: list = []

    def presign():
        try:
            barrier.wait()
            outcomes.append(start(user, size=size))
        except (QuotaExceeded, TooManyPending) as e:
            outcomes.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=presign) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://…: SQLite serialises the presigns")


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_presigns_never_passes_the_pending_limit(postgresql, s3, user, settings):
    settings.UPLOADS_QUOTA_PENDING, settings.UPLOADS_QUOTA_BYTES = 5, 0

    outcomes = _burst(user, count=24, size=10)

    assert sum(not isinstance(o, Exception) for o in outcomes) == 5
    assert Upload.objects.filter(status=Upload.Status.PENDING).count() == 5
    assert Usage.objects.get(user=user).pending == 5


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_presigns_never_passes_the_byte_quota(postgresql, s3, user, settings):
    settings.UPLOADS_QUOTA_PENDING, settings.UPLOADS_QUOTA_BYTES = 0, 1000

    outcomes = _burst(user, count=24, size=300)

    assert sum(not isinstance(o, Exception) for o in outcomes) == 3
    assert Upload.objects.count() == 3
    assert Usage.objects.get(user=user).bytes_reserved == 900


@pytest.mark.django_db
def test_start_refuses_a_file_over_the_users_byte_quota_and_says_the_numbers(
    s3, user, upload_factory, settings
):
    settings.UPLOADS_QUOTA_BYTES = 100
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=90)

    with pytest.raises(QuotaExceeded, match="needs 20 bytes and 90 of your 100 bytes are used; 10 are left"):
        services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=20)

    assert Upload.objects.count() == 1


@pytest.mark.django_db
def test_start_counts_what_pending_uploads_may_still_store(s3, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 100
    upload_factory(owner=user, max_size=100, expected_size=60)

    with pytest.raises(QuotaExceeded):
        services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=41)


@pytest.mark.django_db
def test_start_refuses_more_pending_uploads_than_allowed(s3, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_PENDING = 2
    upload_factory(owner=user)
    upload_factory(owner=user)

    with pytest.raises(TooManyPending, match="2 uploads are pending; at most 2"):
        services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=1)


@pytest.mark.django_db
def test_a_quota_of_zero_is_no_limit(s3, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = settings.UPLOADS_QUOTA_PENDING = 0
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=10**12)

    assert services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5)


@pytest.mark.django_db
def test_usage_counts_only_the_users_stored_and_pending_bytes_in_one_query(
    user, other_user, upload_factory, django_assert_num_queries
):
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=10)
    upload_factory(owner=user, max_size=500, expected_size=5)
    upload_factory(owner=user, status=Upload.Status.FAILED, size=1000)
    upload_factory(owner=other_user, status=Upload.Status.COMPLETE, size=1000)

    with django_assert_num_queries(1):
        usage = quotas.upload_usage(owner=user)

    assert (usage.bytes_used, usage.pending) == (15, 1)
