"""What keeps the Upload admin's changelist fast on a table of ten million rows.

Every query it makes reads an index: the order (created_at, id), the status and type filters,
the owner (by username, typed rather than listed: a list of owners is a DISTINCT over the
table), and search (a trigram index on the name on PostgreSQL; a key, an id or a username
exactly). It never counts more than EXACT_COUNT_UP_TO rows: past that, PostgreSQL's estimate.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from functools import cached_property

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q

from . import listing

# Counting is exact up to here (a bounded read); past it, an estimate.
EXACT_COUNT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """A paginator whose count reads at most EXACT_COUNT_UP_TO + 1 rows, then estimates.

    An exact COUNT(*) of a 10M-row table reads all of it (seconds); the admin shows "about"
    as many pages, which is what a person needs to go on.
    """

    @cached_property
    def count(self) -> int:
        rows = self.object_list.order_by()
        bounded = rows[: EXACT_COUNT_UP_TO + 1].count()
        if bounded <= EXACT_COUNT_UP_TO:
            return bounded
        return max(bounded, estimated_count(rows))


def estimated_count(rows) -> int:
    """The planner's estimate of how many rows `rows` has, on PostgreSQL; elsewhere, the count."""
    if connections[rows.db].vendor != "postgresql":
        return rows.count()
    plan = json.loads(rows.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class TypeFamilyFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "family"

    def lookups(self, request, model_admin):
        families = [(key, label) for key, (label, _patterns) in listing.TYPE_FAMILIES.items()]
        return [*families, (listing.OTHER_FAMILY, "Other")]

    def queryset(self, request, queryset):
        if not self.value() or self.value() not in dict(self.lookup_choices):
            return queryset
        return queryset.filter(listing.family_q(self.value()))


class OwnerFilter(admin.SimpleListFilter):
    """Uploads of one user, named by username in a text box (no list of every owner)."""

    title = "owner"
    parameter_name = "owner"
    template = "admin/uploads/owner_filter.html"

    def lookups(self, request, model_admin):
        # The filter shows when nothing is chosen too: its box is how a user is chosen.
        return [(self.value(), self.value())] if self.value() else [("", "")]

    def has_output(self) -> bool:
        return True

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(owner__in=_users_named([self.value()]))

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "value": self.value() or "",
            "hidden": [
                (name, value)
                for name, values in changelist.get_filters_params().items()
                if name != self.parameter_name
                for value in (values if isinstance(values, list) else [values])
            ],
        }


def search_q(term: str) -> Q:
    """What one admin search term matches, each through an index.

    The name contains it (trigram GIN on PostgreSQL), or it is exactly a key, an upload's id,
    or a username.
    """
    q = Q(original_filename__icontains=term) | Q(file=term)
    users = _users_named([term])
    if users:
        q |= Q(owner__in=users)
    with contextlib.suppress(ValueError):
        q |= Q(pk=uuid.UUID(term))
    return q


def _users_named(names: list[str]) -> list:
    # Ids in the query, not a join: PostgreSQL can then OR the upload indexes together.
    return list(get_user_model().objects.filter(username__in=names).values_list("pk", flat=True))
