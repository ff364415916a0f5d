"""Every string a person reads has a French translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def source_messages() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def french_catalog():
    with open(ROOT / "codev/translations/fr/LC_MESSAGES/messages.po", "rb") as handle:
        return read_po(handle, locale="fr")


def translated(message) -> bool:
    """A message with its French, every plural form of it, and not fuzzy."""
    if message is None or message.fuzzy or not message.string:
        return False
    return all(message.string) if isinstance(message.string, tuple) else True


def test_every_string_has_a_french_translation():
    catalog = french_catalog()
    missing = sorted(msgid for msgid in source_messages() if not translated(catalog.get(msgid)))
    assert missing == [], f"{len(missing)} strings without French: {missing[:20]}"


def test_plurals_go_through_ngettext_never_a_parenthesised_s():
    """"3 project(s)" reads badly in both languages: a count takes ngettext and its two forms."""
    found = sorted(msgid for msgid in source_messages() if re.search(r"\w\(s\)", msgid))
    assert found == []
    french = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in french_catalog() if m.id and any(
        re.search(r"\w\(s\)", text) for text in (m.string if isinstance(m.string, tuple) else (m.string,))))
    assert french == [], "French that writes (s): count with ngettext"


def test_translations_keep_their_placeholders():
    wrong = []
    for message in french_catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # each French form keeps the placeholders of the English form it stands for (singular, plural)
        for index, text in enumerate(strings):
            if not text:
                continue  # untranslated: the test above says so
            english = ids[min(index, len(ids) - 1)]
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english)):
                wrong.append(ids[0])
    assert wrong == []
