"""The size rules of an upload (uploads/rules.py): pure functions, no database, no store."""

import uuid

import pytest

from uploads.errors import InvalidSize, UploadTooLarge
from uploads.rules import size_range

UPLOAD_ID = uuid.UUID("6f1c1d4e-9a43-4c55-a1c4-1f1f6f0f5b5b")


def test_a_declared_size_is_pinned_exactly():
    assert size_range(size=123, max_size=None) == (123, 123)


def test_without_a_size_the_policy_allows_one_byte_up_to_the_limit(settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    assert size_range(size=None, max_size=None) == (1, 1000)


def test_a_size_over_the_limit_is_too_large(settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    with pytest.raises(UploadTooLarge):
        size_range(size=1001, max_size=None)


@pytest.mark.parametrize("size", [True, 0, -1, 1.5, "10"])
def test_a_size_must_be_a_positive_integer_and_not_a_boolean(size):
    with pytest.raises(InvalidSize):
        size_range(size=size, max_size=None)
