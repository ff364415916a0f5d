"""The navigation each role reads (server-side HTML): long ones in menus (programme, review, money,
administration), short ones flat; the menu holding the page read is marked; the unread count stays on
the bar; every link is still in nav.menu (the browser tests collect them there)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from codev.core.templating import FLAT_UP_TO, NavItem, nav_entries, nav_item

# What each role reads on its bar, in English: a menu is (its title, [its links]), a flat entry its label.
EXPECTED = {
    "officer": [
        "Home",
        ("Programme", ["Calls for projects", "Funded projects", "Manage calls", "Exports"]),
        ("Review", ["Projects", "Screening", "Under review", "Committee"]),
        "Grants",
        ("Administration", ["Associations to verify", "Paper applications", "Directory of associations",
                            "Partner structures"]),
        "Notifications",
    ],
    "approver": [
        "Home",
        ("Programme", ["Calls for projects", "Funded projects", "Manage calls", "Exports"]),
        ("Review", ["Projects", "Under review", "Committee"]),
        "Grants",
        ("Administration", ["Directory of associations", "Partner structures"]),
        "Notifications",
    ],
    "admin": [
        "Home",
        ("Programme", ["Calls for projects", "Funded projects", "Manage calls", "Exports"]),
        ("Review", ["Projects", "Under review", "Committee"]),
        "Grants",
        ("Administration", ["Directory of associations", "Users", "Partner structures", "Partner API tokens",
                            "Emails not sent"]),
        "Notifications",
    ],
    "evaluator": ["Home", "Calls for projects", "Funded projects", "My assignments", "Notifications"],
    "association": ["Home", "Calls for projects", "Funded projects", "My association", "My projects",
                    "Notifications"],
}


def english(user):
    user.locale = "en"
    return user


def nav(html: str) -> ET.Element:
    """The page's nav.menu as a tree (its only void element, <input>, closed for the XML parser)."""
    found = re.search(r'<nav class="menu".*?</nav>', html, re.S)
    assert found, "no nav.menu on the page"
    return ET.fromstring(re.sub(r"<input([^>]*?)/?>", r"<input\1/>", found.group(0)))  # noqa: S314 (our own page)


def text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def bar(html: str) -> list:
    """The bar as a person reads it (the account's menu left out: it is the same for everyone)."""
    read = []
    for entry in nav(html).findall("./ul/li"):
        details = entry.find("details")
        if details is not None and details.get("data-group") == "account":
            continue
        if details is not None:
            read.append((text(details.find("summary")), [text(a) for a in details.findall("./ul/li/a")]))
        else:
            read.append(re.sub(r" \d+$", "", text(entry.find("a"))))  # Notifications without its count
    return read


def groups(menu: ET.Element, css_class: str = "menu-group") -> list[ET.Element]:
    return [li for li in menu.findall("./ul/li") if css_class in (li.get("class") or "").split()]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_reads_its_navigation_grouped_when_it_is_long(client, users, login_as, role):
    login_as(english(users[role]))
    html = client.get("/").get_data(as_text=True)
    assert bar(html) == EXPECTED[role]
    menu = nav(html)
    account = menu.find(".//details[@data-group='account']")
    assert text(account.find("summary")) == users[role].name
    assert [text(a) for a in account.iter("a")] == ["My profile"]
    assert text(account.find(".//form/button")) == "Sign out"
    # every menu is closed until the reader opens it; the notifications stay a link of the bar itself
    assert all(details.get("open") is None for details in menu.iter("details"))
    assert menu.find("./ul/li/a[@href='/notifications']") is not None


def test_the_menu_holding_the_page_read_is_marked_and_its_link_is_current(client, users, login_as):
    login_as(english(users["officer"]))
    menu = nav(client.get("/grants/").get_data(as_text=True))
    assert not groups(menu, "current")  # Grants is a link of its own
    assert [text(a) for a in menu.findall("./ul/li/a[@aria-current='page']")] == ["Grants"]
    menu = nav(client.get("/reviews/screening").get_data(as_text=True))
    current = groups(menu, "current")
    assert [li.find("details").get("data-group") for li in current] == ["review"]
    assert [s.get("aria-current") for s in menu.iter("summary")] == [None, "true", None, None]
    assert [text(a) for a in menu.findall(".//a[@aria-current='page']")] == ["Screening"]
    menu = nav(client.get("/account/profile").get_data(as_text=True))
    assert [li.find("details").get("data-group") for li in groups(menu, "current")] == ["account"]


def test_french_menus_and_the_unread_count_on_the_bar(client, users, login_as, db):
    from codev.core.notifications import notify

    officer = users["officer"]
    officer.locale = "fr"
    notify(officer.id, "project_submitted", "Un message", "/")
    db.session.commit()
    login_as(officer)
    menu = nav(client.get("/").get_data(as_text=True))
    assert [text(s) for s in menu.iter("summary")] == ["Programme", "Évaluation", "Administration", officer.name]
    link = menu.find("./ul/li/a[@href='/notifications']")
    assert text(link.find("span[@class='nav-count']")) == "1"
    assert link.get("aria-label") == "Notifications : 1 non lue"


def test_a_short_navigation_stays_flat_and_a_group_of_one_is_a_link():
    def item(endpoint, group):
        return NavItem(endpoint, endpoint, frozenset({"x"}), 50, group)

    few = [item(f"e{i}", "review") for i in range(FLAT_UP_TO)]
    assert nav_entries(few, None) == few
    many = [item("a", "programme"), item("b", "programme"), item("c", "money"), item("d", None),
            item("e", "admin"), item("f", "admin")]
    entries = nav_entries(many, "f")
    assert [getattr(e, "key", getattr(e, "endpoint", None)) for e in entries] == ["d", "programme", "c", "admin"]
    assert [e.current for e in entries if hasattr(e, "current")] == [False, True]
    with pytest.raises(ValueError, match="unknown navigation group"):
        nav_item("x.y", "label", "officer", group="nowhere")
