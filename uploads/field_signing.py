"""What an `UploadField`'s widget carries through the browser, signed with Django's signing.

Two values, each with its own salt so one can never pass for the other:

- the field's *spec* (its label and limits), rendered into the widget so the presign endpoint
  (`uploads/api/fields.py`) signs only what the field allows, whatever the browser sends back;
- the *value*: an upload's id signed for one user and one field, handed out by that endpoint and
  posted back in the form. `read_value` accepts it only for that same user and field.
"""

from __future__ import annotations

import fnmatch
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SPEC_SALT = "uploads.fields.spec"
VALUE_SALT = "uploads.fields.value"
# A value outlives its upload policy: the form may be posted hours after the file went up.
VALUE_MAX_AGE = 24 * 3600


class ForgedValue(ValueError):
    """Not signed by this site, signed for another user or field, or too old."""


@dataclass(frozen=True)
class FieldSpec:
    """What may be uploaded to one field: `label` is "app_label.Model.field"."""

    label: str
    max_size: int | None = None
    content_types: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def size_limit(self) -> int:
        """The largest file the field takes: its `max_size`, within the site's limit."""
        limit = settings.UPLOADS_MAX_FILE_SIZE
        return min(self.max_size, limit) if self.max_size else limit

    def allows_type(self, content_type: str) -> bool:
        return not self.content_types or any(
            fnmatch.fnmatchcase(content_type, pattern.lower()) for pattern in self.content_types
        )

    def token(self) -> str:
        return signing.dumps(
            {"f": self.label, "m": self.max_size, "t": list(self.content_types), "p": self.prefix},
            salt=SPEC_SALT,
            compress=True,
        )

    @classmethod
    def from_token(cls, token: str) -> FieldSpec:
        try:
            data = signing.loads(token, salt=SPEC_SALT)
        except signing.BadSignature:
            raise ForgedValue("The upload field's description is not one this site signed.") from None
        return cls(label=data["f"], max_size=data["m"], content_types=tuple(data["t"]), prefix=data["p"])


def sign_value(*, upload_id: uuid.UUID, label: str, user_pk) -> str:
    return signing.dumps({"u": str(upload_id), "f": label, "o": str(user_pk)}, salt=VALUE_SALT)


def read_value(value: str, *, label: str, user_pk) -> uuid.UUID:
    """The upload id in `value` if it was signed for this field and user; `ForgedValue` otherwise."""
    try:
        data = signing.loads(value, salt=VALUE_SALT, max_age=VALUE_MAX_AGE)
    except signing.SignatureExpired:
        raise ForgedValue("The uploaded file's link to this form expired; choose the file again.") from None
    except signing.BadSignature:
        raise ForgedValue("The uploaded file could not be verified; choose the file again.") from None
    if data.get("f") != label:
        raise ForgedValue("This file was uploaded for another field; choose the file again.")
    if data.get("o") != str(user_pk):
        raise ForgedValue("This file was uploaded by someone else; choose your own file.")
    return uuid.UUID(data["u"])


def peek_value(value: str) -> uuid.UUID | None:
    """The upload id in a value this site signed, for redisplay only (no user or field check)."""
    try:
        return uuid.UUID(signing.loads(value, salt=VALUE_SALT)["u"])
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        return None
