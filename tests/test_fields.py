"""UploadField in a model (project/examples' Document): its migration, and what becomes of the
uploads a record lets go (uploads/fields.py, uploads/field_refs.py)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import SET_NULL

from project.examples.models import Document
from uploads import field_refs
from uploads.cleanup import CleanupRun
from uploads.fields import UploadField
from uploads.models import Upload

pytestmark = pytest.mark.django_db

LABEL = "examples.Document.file"


@pytest.fixture
def field_upload(upload_factory, user):
    """A complete upload made through Document.file's widget, its object in the bucket."""

    def make(**fields):
        return upload_factory(
            owner=user, status="complete", body=b"%PDF-1.4 x", size=10, for_field=LABEL, **fields
        )

    return make


def test_the_migration_creates_the_field_with_its_options():
    state = MigrationLoader(connection).project_state(("examples", "0001_initial"))
    field = state.models["examples", "document"].fields["file"]

    assert isinstance(field, UploadField)
    assert field.max_size == 20 * 1024 * 1024
    assert field.content_types == ("application/pdf", "image/*", "text/*")
    assert field.prefix == "documents"
    assert field.remote_field.model == "uploads.Upload"


def test_the_models_match_their_migrations():
    # makemigrations --check exits non-zero when a model differs from its migrations.
    call_command("makemigrations", "examples", "--check", "--dry-run", verbosity=0)


def test_it_is_a_foreign_key_to_upload_set_null_by_default():
    field = Document._meta.get_field("file")

    assert field.related_model is Upload
    assert field.remote_field.on_delete is SET_NULL
    assert field.null
    assert field.blank


def test_a_record_saves_and_loads_its_upload(s3, user, field_upload):
    upload = field_upload()

    Document.objects.create(owner=user, title="Report", file=upload)

    assert Document.objects.select_related("file").get().file == upload


def test_replacing_the_file_deletes_the_old_upload_and_its_object(
    s3, user, field_upload, django_capture_on_commit_callbacks
):
    old, new = field_upload(), field_upload()
    document = Document.objects.create(owner=user, title="Report", file=old)

    with django_capture_on_commit_callbacks(execute=True):
        document.file = new
        document.save()

    assert not Upload.objects.filter(pk=old.pk).exists()
    assert s3.head(old.key) is None
    assert Upload.objects.filter(pk=new.pk).exists()


def test_clearing_the_file_deletes_the_old_upload(s3, user, field_upload, django_capture_on_commit_callbacks):
    old = field_upload()
    document = Document.objects.create(owner=user, title="Report", file=old)

    with django_capture_on_commit_callbacks(execute=True):
        document.file = None
        document.save()

    assert not Upload.objects.filter(pk=old.pk).exists()


def test_an_upload_another_record_still_points_at_is_kept(
    s3, user, field_upload, django_capture_on_commit_callbacks
):
    shared = field_upload()
    first = Document.objects.create(owner=user, title="First", file=shared)
    Document.objects.create(owner=user, title="Second", file=shared)

    with django_capture_on_commit_callbacks(execute=True):
        first.file = None
        first.save()

    assert Upload.objects.filter(pk=shared.pk).exists()
    assert s3.head(shared.key) is not None


def test_deleting_the_record_deletes_its_upload(s3, user, field_upload, django_capture_on_commit_callbacks):
    upload = field_upload()
    document = Document.objects.create(owner=user, title="Report", file=upload)

    with django_capture_on_commit_callbacks(execute=True):
        document.delete()

    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_saving_without_changing_the_file_keeps_it(
    s3, user, field_upload, django_capture_on_commit_callbacks
):
    upload = field_upload()
    document = Document.objects.create(owner=user, title="Report", file=upload)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document.title = "Renamed"
        document.save()

    assert callbacks == []
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_a_save_of_other_fields_releases_nothing_even_from_a_stale_instance(
    s3, user, field_upload, django_capture_on_commit_callbacks
):
    first, second = field_upload(), field_upload()
    document = Document.objects.create(owner=user, title="Report", file=first)
    Document.objects.filter(pk=document.pk).update(file=second)  # elsewhere, meanwhile

    with django_capture_on_commit_callbacks(execute=True):
        document.title = "Renamed"
        document.save(update_fields=["title"])

    assert Upload.objects.filter(pk=second.pk).exists()


def test_deleting_the_upload_empties_the_field(s3, user, field_upload):
    upload = field_upload()
    document = Document.objects.create(owner=user, title="Report", file=upload)

    upload.delete()

    document.refresh_from_db()
    assert document.file is None


def test_a_released_upload_stays_deleting_while_the_store_is_down(s3_down, user, upload_factory):
    upload = upload_factory(owner=user, status="complete", for_field=LABEL)

    assert field_refs.release([upload.pk]) == 0

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DELETING


def test_cleanup_deletes_a_field_upload_no_record_took(s3, field_upload):
    abandoned = field_upload(age=timedelta(days=2))

    report = CleanupRun(older_than=timedelta(hours=24)).run()

    assert report.abandoned_deleted == 1
    assert not Upload.objects.filter(pk=abandoned.pk).exists()
    assert s3.head(abandoned.key) is None


def test_a_dry_run_counts_abandoned_field_uploads_and_deletes_none(s3, field_upload):
    abandoned = field_upload(age=timedelta(days=2))

    report = CleanupRun(older_than=timedelta(hours=24), dry_run=True).run()

    assert report.abandoned_deleted == 1
    assert "1 field uploads no record took would be deleted" in report.summary()
    assert Upload.objects.filter(pk=abandoned.pk).exists()


def test_cleanup_keeps_a_field_upload_a_record_points_at(s3, user, field_upload):
    taken = field_upload(age=timedelta(days=2))
    Document.objects.create(owner=user, title="Report", file=taken)

    report = CleanupRun(older_than=timedelta(hours=24)).run()

    assert report.abandoned_deleted == 0
    assert Upload.objects.filter(pk=taken.pk).exists()


def test_cleanup_keeps_a_field_upload_whose_form_may_still_be_posted(s3, field_upload):
    recent = field_upload(age=timedelta(hours=2))

    CleanupRun(older_than=timedelta(hours=1)).run()

    assert Upload.objects.filter(pk=recent.pk).exists()


def test_cleanup_leaves_uploads_from_the_page_alone(s3, user, upload_factory):
    from_the_page = upload_factory(owner=user, status="complete", body=b"x", age=timedelta(days=2))

    CleanupRun(older_than=timedelta(hours=24)).run()

    assert Upload.objects.filter(pk=from_the_page.pk).exists()


def test_the_readmes_example_is_the_example_apps_own_code():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    section = readme.split("## Files in your own models: `UploadField`")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    example = "\n".join(
        (root / "project" / "examples" / name).read_text()
        for name in ("models.py", "forms.py", "views.py", "admin.py")
    )

    lines = [
        line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert len(lines) > 30
    assert [line for line in lines if line not in example] == []


def test_a_max_size_over_the_sites_limit_is_reported_by_a_system_check(settings):
    from uploads.field_checks import check_upload_field_limits

    settings.UPLOADS_MAX_FILE_SIZE = 1024 * 1024

    assert [w.id for w in check_upload_field_limits(None)] == ["uploads.W031"]
