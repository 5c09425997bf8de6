"""The one place that decides whether a stored object is acceptable.

Complete (`services`), cleanup's stale uploads and the no-JavaScript finish (`form_uploads`) all
call `inspect`: ONE ranged GET of the object's first bytes (`S3Client.sample`), whose answer also
gives its whole size (Content-Range), stored type and ETag; then the size and type rules
(`validation`) and the content check (`content`). One request, not a HEAD and then a GET: the
bytes judged are those of the object whose size was checked, with no window between the two.

A read cut short raises `StorageUnavailable` (nothing is judged on part of a head); an object
that isn't there is `ObjectMissing`. Neither changes anything: the caller decides what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from .content import HEAD_BYTES, type_problem
from .content_types import clean_content_type
from .errors import InvalidContentType, ObjectInvalid, ObjectMissing, ObjectTypeMismatch
from .rules import object_problem
from .s3 import S3Client, StoredSample


@dataclass(frozen=True)
class Rules:
    """What a stored object must be: the upload's limits and the type it declared.

    `stored_types`: the types the store may hold it under (default: exactly `content_type`); the
    no-JS form stores every file as octet-stream and decides its type from the name.
    """

    content_type: str
    max_size: int
    expected_size: int | None = None
    stored_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inspection:
    """The object as the store holds it, and what is wrong with it (None: acceptable)."""

    stored: StoredSample | None
    problem: ObjectInvalid | ObjectMissing | None

    @property
    def acceptable(self) -> bool:
        return self.problem is None


def rules_for(upload) -> Rules:
    """The rules an upload's record sets (a model instance or a row with the same fields)."""
    return Rules(
        content_type=upload.content_type, max_size=upload.max_size, expected_size=upload.expected_size
    )


def inspect(key: str, rules: Rules, *, client: S3Client | None = None) -> Inspection:
    """Read the object once and judge it: size, stored type, then content."""
    stored = (client or S3Client()).sample(key, length=HEAD_BYTES)
    if stored is None:
        return Inspection(None, ObjectMissing("The file has not arrived in storage yet."))
    return Inspection(stored, _problem(stored, rules))


def _problem(stored: StoredSample, rules: Rules) -> ObjectInvalid | None:
    if rules.stored_types:
        problem = object_problem(rules, size=stored.size, content_type=rules.content_type)
        if problem is None and _clean(stored.content_type) not in rules.stored_types:
            problem = ObjectTypeMismatch(f"The file was stored as {stored.content_type or 'untyped'}.")
    else:
        problem = object_problem(rules, size=stored.size, content_type=stored.content_type)
    return problem or type_problem(declared=rules.content_type, head=stored.head)


def _clean(content_type: str) -> str:
    try:
        return clean_content_type(content_type)
    except InvalidContentType:
        return content_type
