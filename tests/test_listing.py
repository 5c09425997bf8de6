"""A user's list (uploads/listing.py): search, type families, sort."""

import pytest

from uploads import listing
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_the_list_finds_uploads_by_part_of_their_name_in_any_case(db, upload_factory, user):
    upload_factory(owner=user, filename="Holiday-Photo.png")
    upload_factory(owner=user, filename="taxes.pdf")

    found = listing.upload_list(owner=user, search="photo")

    assert [u.original_filename for u in found] == ["Holiday-Photo.png"]


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("image", ["a.png"]),
        ("document", ["b.pdf", "c.txt"]),
        ("archive", ["d.zip"]),
        ("other", ["e.bin"]),
    ],
)
def test_the_list_filters_by_type_family(db, upload_factory, user, family, expected):
    for name, content_type in [
        ("a.png", "image/png"),
        ("b.pdf", "application/pdf"),
        ("c.txt", "text/plain"),
        ("d.zip", "application/zip"),
        ("e.bin", "application/octet-stream"),
    ]:
        upload_factory(owner=user, filename=name, content_type=content_type)

    found = listing.upload_list(owner=user, family=family, sort="name")

    assert [u.original_filename for u in found] == expected


def test_the_list_sorts_by_size_with_pending_uploads_last(db, upload_factory, user):
    upload_factory(owner=user, filename="small", size=10, status=Upload.Status.COMPLETE)
    upload_factory(owner=user, filename="pending")
    upload_factory(owner=user, filename="big", size=99, status=Upload.Status.COMPLETE)

    largest = [u.original_filename for u in listing.upload_list(owner=user, sort="-size")]
    smallest = [u.original_filename for u in listing.upload_list(owner=user, sort="size")]

    assert largest == ["big", "small", "pending"]
    assert smallest == ["small", "big", "pending"]
