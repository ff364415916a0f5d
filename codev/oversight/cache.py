"""The programme's figures kept between requests, exact across processes: a cache checked against the data's
version (:mod:`codev.core.versions`, the scope :data:`~codev.core.versions.FIGURES`), a token the database
holds and every committed write to the tables the figures read (:data:`WATCHED`) replaces.

Each process (each app) keeps what a figure function returned under (function, its arguments, the token). A
page reads the token in one cheap statement and takes a kept value only under the same token; a transaction
that wrote to a watched table and has not committed yet neither reads nor fills the cache. Values also expire
after ``OVERSIGHT_CACHE_SECONDS`` (``0`` turns the cache off).

Only what does not depend on the clock is kept (the overdue counts, measured against "now", are always
computed).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import Index

from codev.core import versions
from codev.core.versions import Store
from codev.grants.models import Grant
from codev.projects.models import Project

T = TypeVar("T")

# The tables the cached figures read (tests/test_oversight_cache.py checks every cached statement reads
# only these): a write to any of them makes a new token.
WATCHED = frozenset({
    "projects", "grants", "grant_tranches", "contribution_entries", "disbursements", "calls", "associations",
    "reports", "assignments", "evaluations", "users", "partner_structures", "budget_lines", "exchange_rates",
    "grant_totals",  # written by the triggers of two watched tables only (codev.grants.totals)
})
versions.watch(versions.FIGURES, WATCHED)


# The dashboard's projects read from an index alone (migration 0012): the funnel and the breakdowns group
# every project in view by status, region, prefecture, sector and the association's country, narrowed by
# call and year. Read from the table, each of these wide rows (long texts) is fetched; this index holds the
# columns they need, call first (the call filter is a range of it). Declared here, beside its one reader's
# package, on the projects table (codev/projects/models.py does not know of it).
DASHBOARD_INDEX = Index("ix_projects_dashboard", Project.call_id, Project.status, Project.region, Project.sector,
                        Project.prefecture, Project.association_id, Project.submitted_at, Project.created_at)


# The register's and the dashboard's money reads every grant in view with its project's place and sector
# (migration 0020): from these two indexes alone, not from the wide rows (the grant's rules, the project's
# texts), which a lookup per grant would otherwise fetch whole.
GRANTS_INDEX = Index("ix_grants_oversight", Grant.project_id, Grant.call_id, Grant.status, Grant.approved_at,
                     Grant.amount_xof, Grant.released_xof, Grant.id)
PROJECTS_INDEX = Index("ix_projects_oversight", Project.id, Project.region, Project.prefecture, Project.sector,
                       Project.commune, Project.association_id)


def store() -> Store:
    return versions.store("oversight_cache", "OVERSIGHT_CACHE_SIZE", 512)


def current_token() -> str | None:
    """The figures' version as this transaction sees it (one statement), or None when nothing may be kept:
    the cache is off, the row is missing, or this transaction wrote to a watched table."""
    if not float(current_app.config.get("OVERSIGHT_CACHE_SECONDS", 300)):
        return None
    return versions.current_token(versions.FIGURES)


class Version:
    """The token read once for a page, then used for each figure it shows."""

    def __init__(self) -> None:
        self.token = current_token()

    def get(self, name: str, key: Hashable, compute: Callable[[], T]) -> T:
        if self.token is None:
            return compute()
        kept = store()
        full_key = (name, key)
        hit, value = kept.get(full_key, self.token)
        if hit:
            return value
        value = compute()
        kept.put(full_key, self.token, value, float(current_app.config.get("OVERSIGHT_CACHE_SECONDS", 300)))
        return value
