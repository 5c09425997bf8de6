"""uploads/templatetags/sizes.py: binary units, named as binary units."""

import pytest

from uploads.templatetags.sizes import binary_size


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KiB"),
        (100 * 2**20, "100.0 MiB"),
        (10 * 2**30, "10.0 GiB"),
    ],
)
def test_a_size_is_shown_in_binary_units_named_as_such(size, shown):
    assert binary_size(size) == shown
