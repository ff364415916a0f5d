"""What every page gets: role-aware navigation, home panels, filters, the language switch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date as babel_format_date
from flask import Flask, current_app, request, url_for
from flask_babel import format_datetime, to_user_timezone
from flask_login import current_user

from codev.core.countries import country_name
from codev.core.embassies import embassy_label
from codev.core.geography import region_name
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.sectors import sector_label


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # lazy string
    roles: frozenset[str]
    order: int = 50
    group: str | None = None  # a key of NAV_GROUPS


# The menus a long navigation is grouped in, in their order on the bar. A role with few entries keeps
# them flat; a group holding a single entry of a role shows that entry itself (no menu of one).
NAV_GROUPS: dict[str, object] = {
    "programme": _l("Programme"),
    "review": _l("Review"),
    "money": _l("Money"),
    "admin": _l("Administration"),
}
FLAT_UP_TO = 5  # entries (besides Home and Notifications) a role may have before they are grouped


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: object
    items: tuple[NavItem, ...]
    current: bool  # the page being read is one of its entries


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    # role → functions returning (template, context) or None, each one card of the home page
    panels: dict[str, list[Callable[[], tuple[str, dict] | None]]] = field(default_factory=dict)


REGISTRY = Registry()


def nav_item(endpoint: str, label: object, *roles: str, order: int = 50, group: str | None = None) -> None:
    """Add an entry to the navigation of ``roles``, in ``group`` (a key of NAV_GROUPS) when the
    navigation is long enough to be grouped."""
    if group is not None and group not in NAV_GROUPS:
        raise ValueError(f"unknown navigation group {group!r}")
    if not any(item.endpoint == endpoint for item in REGISTRY.nav):
        REGISTRY.nav.append(NavItem(endpoint, label, frozenset(str(r) for r in roles), order, group))
        REGISTRY.nav.sort(key=lambda item: item.order)


def home_panel(*roles: str) -> Callable:
    """Register a function that contributes one card to the home page of ``roles``."""

    def register(fn: Callable) -> Callable:
        for role in roles:
            panels = REGISTRY.panels.setdefault(str(role), [])
            if fn not in panels:
                panels.append(fn)
        return fn

    return register


def home_panels() -> list[tuple[str, dict]]:
    if not current_user.is_authenticated:
        return []
    cards = []
    for fn in REGISTRY.panels.get(current_user.role, []):
        card = fn()
        if card is not None:
            cards.append(card)
    return cards


def _nav_for_user() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [item for item in REGISTRY.nav if current_user.role in item.roles]


def nav_entries(items: list[NavItem], endpoint: str | None) -> list[NavItem | NavGroup]:
    """The navigation as the bar shows it: flat when there are few entries, else the entries without a
    group first, then one menu per group in NAV_GROUPS' order (a group of one entry shows the entry)."""
    if len(items) <= FLAT_UP_TO:
        return list(items)
    entries: list[NavItem | NavGroup] = [item for item in items if item.group is None]
    for key, label in NAV_GROUPS.items():
        members = tuple(item for item in items if item.group == key)
        if len(members) == 1:
            entries.append(members[0])
        elif members:
            entries.append(NavGroup(key, label, members, any(item.endpoint == endpoint for item in members)))
    return entries


def _context() -> dict:
    locale = locale_name()
    items = _nav_for_user()
    return {
        "nav_items": items,
        "nav_entries": nav_entries(items, request.endpoint if request else None),
        "current_locale": locale,
        "ministry_name": ministry_name(locale),
        "current_path": request.full_path.rstrip("?") if request else "/",
    }


def localized(obj: Any, field: str, locale: str | None = None) -> str:
    """The reader's version of a bilingual field: ``<field>_en`` in English when it is filled, else the French
    (``<field>_fr``, or ``<field>`` itself when the French has no suffix, as a call's ``title``).

    ``locale`` defaults to the language being rendered: the page's, or the one an email or a PDF is forced to.
    Works on models, result rows and dicts: ``{{ call|localized("title") }}``, ``{{ row|localized("call_title") }}``.
    """
    def has(name: str) -> bool:
        return name in obj if isinstance(obj, Mapping) else hasattr(obj, name)

    def read(name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    locale = locale or locale_name()
    french = read(f"{field}_fr") if has(f"{field}_fr") else read(field)
    english = read(f"{field}_en") if locale == "en" else None
    return english or french or ""


def ministry_name(locale: str | None = None) -> str:
    """The ministry's name (``MINISTRY_NAME_FR`` / ``MINISTRY_NAME_EN``) in ``locale``, by the same rule."""
    config = current_app.config
    return localized({"name": config["MINISTRY_NAME_FR"], "name_en": config["MINISTRY_NAME_EN"]}, "name", locale)


def _date(value: date | datetime | None, fmt: str = "medium") -> str:
    """The day as the reader writes it ("3 déc. 2026", "Dec 3, 2026"); a moment is read in the programme's
    time zone first, as Flask-Babel's ``format_date`` does."""
    if not value:
        return ""
    day = to_user_timezone(value).date() if isinstance(value, datetime) else value
    return _day_text(day, fmt, locale_name())


@lru_cache(maxsize=4096)
def _day_text(day: date, fmt: str, locale: str) -> str:
    """Babel's text of a day, kept: a list page shows fifty of them, the same ones from one request to the next,
    and Babel reads its pattern and the locale's names again for each."""
    return babel_format_date(day, fmt, locale=locale)


def _datetime(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def _page_url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(page)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.context_processor(_context)
    app.jinja_env.filters.update(
        date=_date,
        datetime=_datetime,
        country=country_name,
        embassy=embassy_label,
        region=region_name,
        sector=sector_label,
        localized=localized,
    )
    from codev.core.money import format_bps, format_minor, format_xof

    # Money in every template (and in the partials one package includes in another's pages).
    app.jinja_env.globals.update(page_url=_page_url, xof=format_xof, pct=format_bps, minor=format_minor)
