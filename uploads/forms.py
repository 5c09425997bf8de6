"""Forms that parse the page's query strings and posts; they never touch S3 or the database."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.http import urlencode

from . import listing, sharing
from .models import Upload

SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-size", "Largest first"),
    ("size", "Smallest first"),
]
FAMILY_CHOICES = [
    ("", "All types"),
    *((key, label) for key, (label, _patterns) in listing.TYPE_FAMILIES.items()),
    (listing.OTHER_FAMILY, "Other"),
]
STATUS_CHOICES = [("", "Any status"), *Upload.Status.choices]


class ListQueryForm(forms.Form):
    """The list's search, filters and sort, from the query string (`?q=&type=&status=&sort=&cursor=`)."""

    q = forms.CharField(
        required=False, max_length=100, strip=True, label="Search by name", widget=forms.SearchInput
    )
    type = forms.ChoiceField(required=False, choices=FAMILY_CHOICES)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")
    # Bounded: past MAX_PAGE a list's OFFSET would overflow the database's integers.
    page = forms.IntegerField(
        required=False, min_value=1, max_value=listing.MAX_PAGE, widget=forms.HiddenInput
    )
    # Where "Load more" continues (uploads/cursors.py); `page` still answers older links.
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)

    def query(self) -> dict:
        """The valid values, with the defaults filled in.

        A bad value in one field counts as not given: a hand-edited URL still shows a list.
        """
        self.is_valid()  # cleaned_data keeps every field that was valid
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "family": data.get("type") or "",
            "status": data.get("status") or "",
            "sort": data.get("sort") or SORT_CHOICES[0][0],
            "page": data.get("page") or 1,
            "cursor": data.get("cursor") or "",
        }

    def query_string(self, **changes) -> str:
        """The filters as a query string for links (`cursor` left out unless given in `changes`)."""
        query = self.query()
        params = {"q": query["search"], "type": query["family"], "status": query["status"]}
        if query["sort"] != SORT_CHOICES[0][0]:
            params["sort"] = query["sort"]
        params.update(changes)
        return urlencode({name: value for name, value in params.items() if value})


class ShareForm(forms.Form):
    """How long a share link lasts: one of `sharing.share_lifetimes()`."""

    expires_in = forms.TypedChoiceField(coerce=int, label="Link valid for", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in"].choices = lifetimes = sharing.share_lifetimes()
        self.fields["expires_in"].initial = lifetimes[0][0]


class BulkDeleteForm(forms.Form):
    """The rows picked for deletion; `confirmed` is set by the confirmation (dialog or page)."""

    ids = forms.TypedMultipleChoiceField(required=False, coerce=str)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any UUIDs: the service keeps only the owner's, so no choices list is needed.
        self.fields["ids"].valid_value = _is_uuid

    def upload_ids(self) -> list[str]:
        return self.cleaned_data["ids"] if self.is_valid() else []


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
