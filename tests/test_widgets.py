"""UploadField's form field and DirectUploadWidget: what a posted form may and may not attach
(uploads/formfields.py, uploads/widgets.py), through the example's DocumentForm."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from project.examples.forms import DocumentForm
from project.examples.models import Document
from uploads.field_signing import FieldSpec, sign_value
from uploads.models import Upload

pytestmark = pytest.mark.django_db

LABEL = "examples.Document.file"
LIMIT = 20 * 1024 * 1024


@pytest.fixture
def make_upload(upload_factory, user):
    def make(*, owner=user, status="complete", for_field=LABEL, **fields):
        fields.setdefault("size", 10)
        return upload_factory(owner=owner, status=status, for_field=for_field, **fields)

    return make


def value_for(upload, user, label=LABEL) -> str:
    return sign_value(upload_id=upload.pk, label=label, user_pk=user.pk)


def post(user, data, instance=None) -> DocumentForm:
    return DocumentForm({"title": "Report", **data}, instance=instance or Document(owner=user), user=user)


def file_errors(form) -> list[str]:
    assert not form.is_valid()
    return form.errors["file"]


def test_a_complete_upload_signed_for_the_user_and_field_is_attached(s3, user, make_upload):
    upload = make_upload()

    form = post(user, {"file": value_for(upload, user)})

    assert form.is_valid(), form.errors
    assert form.save().file == upload


def test_a_forged_value_is_refused(s3, user, make_upload):
    upload = make_upload()

    errors = file_errors(post(user, {"file": str(upload.pk)}))

    assert errors == ["The uploaded file could not be verified; choose the file again."]


def test_a_value_signed_for_another_user_is_refused(s3, user, other_user, make_upload):
    theirs = make_upload(owner=other_user)

    errors = file_errors(post(user, {"file": value_for(theirs, other_user)}))

    assert errors == ["This file was uploaded by someone else; choose your own file."]


def test_another_users_upload_is_refused_even_when_signed_for_the_poster(s3, user, other_user, make_upload):
    theirs = make_upload(owner=other_user)

    errors = file_errors(post(user, {"file": value_for(theirs, user)}))

    assert errors == ["This file was uploaded by someone else; choose your own file."]


def test_a_value_signed_for_another_field_is_refused(s3, user, make_upload):
    upload = make_upload(for_field="examples.Invoice.pdf")

    errors = file_errors(post(user, {"file": value_for(upload, user, label="examples.Invoice.pdf")}))

    assert errors == ["This file was uploaded for another field; choose the file again."]


def test_a_pending_upload_is_refused(s3, user, make_upload):
    upload = make_upload(status="pending", size=None)

    errors = file_errors(post(user, {"file": value_for(upload, user)}))

    assert errors == ["The file has not finished uploading; wait for it to finish, or choose it again."]


def test_a_failed_upload_is_refused(s3, user, make_upload):
    upload = make_upload(status="failed", size=None)

    errors = file_errors(post(user, {"file": value_for(upload, user)}))

    assert errors == ["The file could not be stored; choose another."]


def test_an_upload_over_the_fields_max_size_is_refused(s3, user, make_upload):
    upload = make_upload(size=LIMIT + 1, max_size=LIMIT + 1)

    errors = file_errors(post(user, {"file": value_for(upload, user)}))

    assert errors == ["The file is 20,971,521 bytes; this field takes files up to 20,971,520 bytes."]


def test_an_upload_of_a_type_the_field_does_not_take_is_refused(s3, user, make_upload):
    upload = make_upload(filename="song.mp3", content_type="audio/mpeg")

    errors = file_errors(post(user, {"file": value_for(upload, user)}))

    assert errors == ["Files of type audio/mpeg are not accepted here."]


def test_a_deleted_upload_is_refused(s3, user, make_upload):
    upload = make_upload()
    value = value_for(upload, user)
    upload.delete()

    errors = file_errors(post(user, {"file": value}))

    assert errors == ["The uploaded file is no longer there; choose it again."]


def test_a_form_without_its_user_says_how_to_give_it_one(s3, user, make_upload):
    upload = make_upload()
    form = DocumentForm({"title": "Report", "file": value_for(upload, user)}, instance=Document(owner=user))

    with pytest.raises(ImproperlyConfigured, match="UploadFormMixin"):
        form.is_valid()


def test_posting_no_new_file_keeps_the_current_one(s3, user, make_upload):
    upload = make_upload()
    document = Document.objects.create(owner=user, title="Report", file=upload)

    form = post(user, {"title": "Renamed"}, instance=document)

    assert form.is_valid(), form.errors
    assert form.save().file == upload
    assert not form.has_changed() or form.changed_data == ["title"]


def test_a_new_file_replaces_the_current_one(s3, user, make_upload, django_capture_on_commit_callbacks):
    old, new = make_upload(body=b"old"), make_upload(body=b"new")
    document = Document.objects.create(owner=user, title="Report", file=old)

    with django_capture_on_commit_callbacks(execute=True):
        form = post(user, {"file": value_for(new, user)}, instance=document)
        assert form.is_valid(), form.errors
        form.save()

    document.refresh_from_db()
    assert document.file == new
    assert not Upload.objects.filter(pk=old.pk).exists()


def test_clear_empties_the_field(s3, user, make_upload, django_capture_on_commit_callbacks):
    old = make_upload(body=b"old")
    document = Document.objects.create(owner=user, title="Report", file=old)

    with django_capture_on_commit_callbacks(execute=True):
        form = post(user, {"file-clear": "1"}, instance=document)
        assert form.is_valid(), form.errors
        form.save()

    document.refresh_from_db()
    assert document.file is None
    assert not Upload.objects.filter(pk=old.pk).exists()


def test_clear_is_refused_when_the_field_is_required(s3, user, make_upload):
    form = DocumentForm({"title": "Report", "file-clear": "1"}, instance=Document(owner=user), user=user)
    form.fields["file"].required = True

    assert file_errors(form) == ["This field is required."]


def test_the_widget_shows_the_current_file_with_change_and_clear(s3, user, make_upload):
    upload = make_upload(filename="cat.png", content_type="image/png", size=2048)
    document = Document.objects.create(owner=user, title="Report", file=upload)

    html = str(DocumentForm(instance=document, user=user)["file"])

    assert "cat.png" in html
    assert "2.0\xa0KB" in html
    assert "Change:" in html
    assert 'name="file-clear"' in html
    assert re.search(r'<img class="direct-upload-thumb" src="[^"]+X-Amz-Signature', html)


def test_the_widget_carries_the_fields_signed_limits_and_no_inline_script_or_style(user):
    html = str(DocumentForm(user=user)["file"])

    token = re.search(r'data-field="([^"]+)"', html).group(1)
    assert FieldSpec.from_token(token) == Document._meta.get_field("file").spec()
    assert 'accept="application/pdf,image/*,text/*"' in html
    assert "<script" not in html
    assert "style=" not in html


def test_the_file_input_has_no_name_so_no_bytes_reach_django(user):
    html = str(DocumentForm(user=user)["file"])

    file_input = re.search(r'<input type="file"[^>]*>', html).group(0)
    assert "name=" not in file_input


def test_a_new_file_survives_a_redisplay_after_another_fields_error(s3, user, make_upload):
    upload = make_upload(filename="kept.pdf")
    value = value_for(upload, user)

    form = DocumentForm({"title": "", "file": value}, instance=Document(owner=user), user=user)

    assert not form.is_valid()
    html = str(form["file"])
    assert f'value="{value}"' in html
    assert "kept.pdf" in html


def test_the_widgets_media_is_the_pages_client_code_and_its_own(user):
    media = str(DocumentForm(user=user).media)

    for script in (
        "uploads/transport.js",
        "uploads/upload-client.js",
        "uploads/multipart.js",
        "uploads/upload-widget.js",
    ):
        assert script in media


def test_the_widgets_media_loads_hashing_with_its_worker_and_hash_wasm(user, settings):
    media = str(DocumentForm(user=user).media)

    tag = re.search(r'<script src="[^"]*uploads/hashing\.js"[^>]*>', media).group(0)
    for attribute in ("data-worker", "data-lib"):
        url = re.search(rf'{attribute}="([^"]+)"', tag).group(1)
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    assert media.index("uploads/hashing.js") < media.index("uploads/upload-client.js")


def test_an_admin_without_the_mixin_is_named_by_a_system_check():
    from django.contrib import admin

    site = admin.AdminSite()
    site.register(Document)  # a plain ModelAdmin
    admin_site, admin.site = admin.site, site
    try:
        warnings = checks.run_checks(tags=[checks.Tags.admin])
    finally:
        admin.site = admin_site

    assert [w.id for w in warnings if w.id.startswith("uploads.")] == ["uploads.W030"]
