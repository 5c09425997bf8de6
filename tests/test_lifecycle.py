"""The record's life in one place (uploads/lifecycle.py): the table, conditional changes, tombstones."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from uploads import deletion, lifecycle, services
from uploads.models import PolicyTombstone, Upload, Usage

pytestmark = pytest.mark.django_db

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
# Calls that write the rows they are given, and how they name the fields they write.
WRITES = {"update", "create", "bulk_create", "update_or_create", "get_or_create", "save"}


def _status_writes(path: Path) -> list[str]:
    """Where a module writes an upload's status other than through `lifecycle`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            through_lifecycle = isinstance(node.func.value, ast.Name) and node.func.value.id == "lifecycle"
            if node.func.attr in WRITES and not through_lifecycle:
                found += [f"{path.name}:{node.lineno}" for kw in node.keywords if kw.arg == "status"]
            if node.func.attr == "bulk_update" and "'status'" in ast.unparse(node):
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [
                f"{path.name}:{node.lineno}"
                for target in targets
                if isinstance(target, ast.Attribute) and target.attr == "status"
            ]
    return found


def test_no_module_but_lifecycle_writes_an_upload_status():
    modules = [path for path in UPLOADS.rglob("*.py") if "migrations" not in path.parts]
    modules.remove(UPLOADS / "lifecycle.py")

    assert [where for path in modules for where in _status_writes(path)] == []


def test_the_status_scan_finds_a_direct_write(tmp_path):
    module = tmp_path / "rogue.py"
    module.write_text("Upload.objects.filter(pk=1).update(status='failed')\nupload.status = 'complete'\n")

    assert sorted(_status_writes(module)) == ["rogue.py:1", "rogue.py:2"]


def test_the_allowed_transitions_read_as_a_table():
    assert lifecycle.ALLOWED == {
        "pending": ("complete", "failed", "deleting"),
        "complete": ("failed", "deleting"),
        "failed": ("deleting",),
        "deleting": (),
    }


def test_a_transition_wins_only_from_the_status_it_expects(upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE)

    won = lifecycle.transition(upload.pk, lifecycle.FAILED, from_=[lifecycle.PENDING])

    assert won is False
    assert Upload.objects.get().status == Upload.Status.COMPLETE


def test_a_transition_updates_the_upload_it_is_given(upload_factory):
    upload = upload_factory()

    assert lifecycle.transition(upload, lifecycle.COMPLETE, size=4, etag='"e"')

    assert (upload.status, upload.size) == (Upload.Status.COMPLETE, 4)
    assert Upload.objects.get().etag == '"e"'


def test_a_transition_of_the_record_in_hand_reads_no_row_first(upload_factory):
    upload = upload_factory()

    with CaptureQueriesContext(connection) as queries:
        assert lifecycle.transition(upload, lifecycle.COMPLETE, size=4)

    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if '"uploads_upload"' in sql.split("WHERE")[0]]


def test_a_record_changed_since_it_was_read_moves_from_its_status_now(s3, user, settings):
    settings.UPLOADS_QUOTA_PENDING = 5
    upload = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5).upload
    services.upload_start(owner=user, filename="b.txt", content_type="text/plain", size=7)
    lifecycle.transition(upload.pk, lifecycle.FAILED, failure_code="object_missing")  # another process

    assert lifecycle.transition(upload, lifecycle.DELETING)  # `upload` still says pending

    usage = Usage.objects.get(user=user)
    assert (usage.pending, usage.bytes_reserved) == (1, 7)  # its reservation went back once
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DELETING


def test_a_record_that_left_the_one_status_it_could_change_from_stays_as_it_is(upload_factory):
    upload = upload_factory()
    lifecycle.transition(upload.pk, lifecycle.COMPLETE, size=4)  # another process

    assert lifecycle.transition(upload, lifecycle.FAILED, from_=[lifecycle.PENDING]) is False
    assert Upload.objects.get().status == Upload.Status.COMPLETE


def test_a_transition_the_table_forbids_is_refused(upload_factory):
    upload = upload_factory(status=Upload.Status.FAILED)

    with pytest.raises(ValueError, match="never goes from failed to complete"):
        lifecycle.transition(upload, lifecycle.COMPLETE, from_=[lifecycle.FAILED])


def test_a_failure_code_brings_its_sentence(upload_factory):
    upload = upload_factory()

    lifecycle.transition(upload, lifecycle.FAILED, failure_code="object_missing")

    assert Upload.objects.get().failure_reason == "No file arrived before the upload link expired."


def test_deleting_twice_gives_the_reservation_back_once(s3, user, settings):
    settings.UPLOADS_QUOTA_PENDING = 5
    first = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5).upload
    services.upload_start(owner=user, filename="b.txt", content_type="text/plain", size=7)

    assert lifecycle.transition(first.pk, lifecycle.DELETING)
    assert not lifecycle.transition(first.pk, lifecycle.DELETING)

    usage = Usage.objects.get(user=user)
    assert (usage.pending, usage.bytes_reserved) == (1, 7)


def test_a_pending_upload_deleted_while_its_policy_lives_leaves_a_tombstone(s3, user):
    upload = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5).upload

    deletion.upload_delete(upload=upload)

    tombstone = PolicyTombstone.objects.get()
    assert not Upload.objects.exists()
    assert tombstone.key == upload.key
    assert tombstone.sweep_after == upload.expires_at + lifecycle.policy_grace()


def test_an_upload_whose_policy_is_dead_leaves_no_tombstone(upload_factory, settings):
    upload = upload_factory(age=timedelta(hours=1))  # its policy expired 50 minutes ago

    lifecycle.transition(upload, lifecycle.FAILED, failure_code="object_missing")

    assert not PolicyTombstone.objects.exists()


def test_every_change_of_a_users_uploads_bumps_their_list_version(user, upload_factory):
    from uploads import quotas

    upload = upload_factory(owner=user)
    versions = [quotas.list_version(user.pk)]
    lifecycle.create(
        owner=user,
        file="uploads/x/a.txt",
        original_filename="a.txt",
        content_type="text/plain",
        max_size=10,
        expires_at=upload.expires_at,
    )
    versions.append(quotas.list_version(user.pk))
    lifecycle.transition(upload, lifecycle.DELETING)
    versions.append(quotas.list_version(user.pk))
    lifecycle.forget([upload.pk])
    versions.append(quotas.list_version(user.pk))

    assert versions == sorted(set(versions))
