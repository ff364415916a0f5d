"""Which strings of a page belong to the other language: the French catalog read both ways, the demo's
bilingual content, and the names babel writes per language (countries, months).

On a French page, a piece of text equal to an English msgid whose French differs (``%(name)s`` matching
anything) is a string left untranslated; on an English page, a French msgstr that differs from its msgid
is French that leaked. A piece is a block's text (its inline children joined, as a person reads a
sentence), a button's or an option's label, a ``title``/``aria-label``/``placeholder``/``alt`` or a
``data-*`` attribute (card-table labels and the strings scripts show), and the ``<title>``; a piece
matches when it is the string, or when one of its sentences or lines is. Not counted:

- a string the same in both languages ("Total", "Budget", "Code") or that is a string of the page's own
  language elsewhere in the catalog ("Note" is an English msgid and French for "Score");
- a string with fewer than three letters once its placeholders are taken out ("%(n)s %%");
- what people wrote: a project's texts are written by its association in one language and are shown as
  written, so they are never compared. Content kept in both languages (a call's title and description,
  the criteria of its grid, the embassies, the ministry's name) is compared like the catalog: the French
  title of a call that has an English one is a leak on an English page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "codev/translations/fr/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%(?:\([a-z_0-9]+\))?[sd]")
SPACES = re.compile(r"[\s\u00a0\u202f]+")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+|\s+[—–·|]\s+")
CLAUSE_END = re.compile(r"(?<=[;:])\s+")
# Month names written out: short or ambiguous ones ("mai", "May", "March" / "mars") are left out.
MONTHS_FR = ("janvier", "février", "avril", "juillet", "août", "septembre", "octobre", "novembre", "décembre")
MONTHS_EN = ("January", "February", "April", "June", "July", "August", "September", "October", "November",
             "December")
# Single words that are the same word in both languages, though the catalog translates them differently.
SAME_WORD = {"Communes", "Documents", "Photos", "Options", "Contributions", "Sessions", "Projects"}


def normal(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in PLACEHOLDER.sub("", text))


def own_words(text: str, other: str) -> set[str]:
    """The words of ``text`` (three letters or more) that its translation ``other`` does not have."""
    def words(t):
        return {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", PLACEHOLDER.sub(" ", t))}
    return words(text) - words(other)


@dataclass
class Side:
    """The strings of one language to look for on the other language's pages."""

    exact: dict[str, str] = field(default_factory=dict)  # text -> where it comes from
    patterns: list[tuple[re.Pattern, str, str]] = field(default_factory=list)  # regex, longest literal, origin

    def add(self, text: str, origin: str) -> None:
        text = normal(text.replace("%%", "%"))
        if PLACEHOLDER.search(text):
            pieces = PLACEHOLDER.split(text)
            if letters(text) < 8:  # "%(title)s appel." would be any sentence ending so
                return
            regex = re.compile(".{1,120}?".join(re.escape(p) for p in pieces), re.S)
            self.patterns.append((regex, max(pieces, key=len), origin))
        else:
            self.exact.setdefault(text, origin)

    def find(self, piece: str) -> str | None:
        for candidate in candidates(piece):
            if candidate in self.exact:
                return self.exact[candidate]
            for regex, literal, origin in self.patterns:
                if literal in candidate and regex.fullmatch(candidate):
                    return origin
        return None


def candidates(piece: str) -> list[str]:
    """The piece, its sentences and lines and their clauses, each also without a trailing colon or star."""
    whole = normal(piece)
    sentences = [normal(s) for s in SENTENCE_END.split(piece)]
    out = [whole, *sentences, *(normal(c) for s in sentences for c in CLAUSE_END.split(s))]
    more = [re.sub(r"\s*[:*]+$", "", c) for c in out]
    return [c for c in dict.fromkeys(out + more) if c]


@dataclass
class Dictionary:
    english: Side  # looked for on French pages
    french: Side  # looked for on English pages

    def leaks(self, pieces, lang: str) -> list[str]:
        """One sentence per piece of ``pieces`` (texts of a page in ``lang``) in the other language."""
        side = self.english if lang == "fr" else self.french
        names = "|".join(MONTHS_EN if lang == "fr" else MONTHS_FR)
        months = re.compile(rf"\d\s*({names})\b|\b({names})\s*\d")
        found = []
        for piece in dict.fromkeys(pieces):
            if not piece or not piece.strip():
                continue
            origin = side.find(piece)
            month = months.search(piece)
            if origin:
                found.append(f"{normal(piece)[:90]!r} ({origin})")
            elif month:
                found.append(f"{normal(piece)[:90]!r} (the month {month.group(1) or month.group(2)})")
        return found


def _pairs_of_catalog():
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, french in zip(ids, strings, strict=False):  # French has two forms, as English
            yield english, french or "", "catalog" if french and not message.fuzzy else "untranslated catalog"


def _pairs_of_babel():
    fr, en = Locale("fr"), Locale("en")
    for code, french in fr.territories.items():
        if len(code) == 2 and code.isalpha() and en.territories.get(code):
            yield en.territories[code], french, "country name"


def _build(pairs) -> Dictionary:
    pairs = [(normal(e), normal(f), o) for e, f, o in pairs]
    english_all = {e for e, _, _ in pairs}
    french_all = {f for _, f, _ in pairs if f}
    english, french = Side(), Side()
    for e, f, origin in pairs:
        if origin == "untranslated catalog":  # no French yet (or fuzzy): shown in English on French pages
            if e not in french_all and letters(e) >= 3:
                english.add(e, "English catalog string without French")
            continue
        if e == f:
            continue
        if e not in french_all and e not in SAME_WORD and own_words(e, f):
            english.add(e, f"English {origin} string")
        if f not in english_all and f not in SAME_WORD and own_words(f, e):
            french.add(f, f"French {origin} string")
    return Dictionary(english, french)


@lru_cache(maxsize=1)
def catalog_dictionary() -> Dictionary:
    """The catalog and babel's names (no database needed)."""
    return _build([*_pairs_of_catalog(), *_pairs_of_babel()])


def content_pairs(app) -> list[tuple[str, str, str]]:
    """The bilingual content the database holds (read in ``app``): what ``localized`` chooses between.
    Only a field with both versions counts (a call without an English title shows its French one)."""
    from sqlalchemy import select

    from codev.calls.models import Call, Criterion
    from codev.extensions import db

    pairs = []
    with app.app_context():
        pairs.append((app.config["MINISTRY_NAME_EN"], app.config["MINISTRY_NAME_FR"], "ministry name"))
        for call in db.session.scalars(select(Call)):
            pairs.append((call.title_en or "", call.title, "call title"))
            if call.description_en:
                pairs += [(line, "", "call description") for line in call.description_en.splitlines()]
                pairs += [("", line, "call description") for line in call.description.splitlines()]
        for criterion in db.session.scalars(select(Criterion)):
            pairs.append((criterion.label_en, criterion.label_fr, "criterion"))
            pairs.append((criterion.guidance_en or "", criterion.guidance_fr or "", "criterion guidance"))
    return [(e, f, o) for e, f, o in pairs if e and f or (e or f) and o == "call description"]


def dictionary_with_content(app) -> Dictionary:
    """The catalog, babel's names and the bilingual content of ``app``'s database."""
    pairs = [*_pairs_of_catalog(), *_pairs_of_babel()]
    content = content_pairs(app)
    one_sided = [(e, f, o) for e, f, o in content if not (e and f)]
    dictionary = _build(pairs + [p for p in content if p[0] and p[1]])
    for e, f, origin in one_sided:  # a description's lines: no pairing, each in its language
        if e and letters(e) >= 12:
            dictionary.english.add(e, f"English {origin}")
        if f and letters(f) >= 12:
            dictionary.french.add(f, f"French {origin}")
    return dictionary


# The pieces of text a person reads, collected in the browser once the page's scripts have run.
PIECES = r"""
() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  const pieces = [document.title];
  const lang = document.documentElement.lang;
  const foreign = (e) => {
    const marked = e.closest('[lang]');
    return (marked && marked.lang !== lang) || e.closest('[translate=no]') !== null;
  };
  const text = (e) => {
    let own = '';
    for (const n of e.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) { own += n.data; continue; }
      if (n.nodeType !== Node.ELEMENT_NODE || skip.has(n.tagName) || foreign(n)) continue;
      if (n.tagName === 'BR') { own += '\n'; continue; }
      if (n.tagName === 'SELECT') { for (const o of n.options) pieces.push(o.text); continue; }
      const display = getComputedStyle(n).display;
      if (display === 'inline' || display === 'contents') own += text(n);
      else { pieces.push(text(n)); own += '\n'; }
    }
    return own;
  };
  pieces.push(text(document.body));
  for (const e of document.querySelectorAll('*')) {
    if (foreign(e)) continue;
    for (const a of e.attributes) {
      const read = ['title', 'aria-label', 'placeholder', 'alt'].includes(a.name) || a.name.startsWith('data-');
      if (read) pieces.push(a.value);
    }
    if (e.matches('input[type=submit], input[type=button]')) pieces.push(e.value);
  }
  return pieces.filter(p => p && p.trim());
}
"""

# The elements a browser shows inline by default (their text belongs to the sentence around them).
INLINE = {"a", "abbr", "b", "bdi", "cite", "code", "data", "dfn", "em", "i", "kbd", "label", "mark", "output",
          "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Pieces(HTMLParser):
    """The same pieces read from the HTML a server sent (no CSS: the default display of each element)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.open: list[tuple[str, bool, list[str] | None]] = []  # tag, in the other language, its own text
        self.texts: list[list[str]] = [[]]
        self.lang: str | None = None

    def foreign(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        foreign = (self.foreign() or values.get("translate") == "no"
                   or bool(values.get("lang") and self.lang and values["lang"] != self.lang))
        if not foreign:
            for name, value in attrs:
                if value and (name in ("title", "aria-label", "placeholder", "alt") or name.startswith("data-")):
                    self.pieces.append(value)
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self.pieces.append(values["value"])
        if tag == "br":
            self.texts[-1].append("\n")
        if tag in VOID:
            return
        own = None if tag in INLINE else []
        if own is not None:
            self.texts.append(own)
        self.open.append((tag, foreign or tag in ("script", "style"), own))

    def handle_endtag(self, tag):
        if tag not in {t for t, _, _ in self.open}:
            return
        while self.open:
            name, _, own = self.open.pop()
            if own is not None:
                self.pieces.append("".join(self.texts.pop()))
                self.texts[-1].append("\n")
            if name == tag:
                break

    def handle_data(self, data):
        if not self.foreign():
            self.texts[-1].append(data)

    def close(self):
        super().close()
        while self.texts:
            self.pieces.append("".join(self.texts.pop()))


def pieces_of_html(html: str) -> list[str]:
    parser = _Pieces()
    parser.feed(html)
    parser.close()
    return [p for p in parser.pieces if p.strip()]
