"""Sizes as people read them, in binary units named as such (KiB, MiB, GiB): Django's
filesizeformat divides by 1024 but writes "MB", so a 100 MiB limit read "100.0 MB".
static/uploads/sizes.js writes the same units in the browser."""

from django import template

register = template.Library()

UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


@register.filter
def binary_size(value) -> str:
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    unit = 0
    while size >= 1024 and unit < len(UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return "1 byte" if size == 1 else f"{int(size)} bytes"
    return f"{size:.1f} {UNITS[unit]}"
