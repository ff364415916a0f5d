"""Keys that find names alike: without accents, case, punctuation or the words every association's name has.

Plain functions on text (no database, no request), so the migration that fills the keys of existing
associations and the app that keeps them from then on compute them alike (``codev.accounts.duplicates``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# Words that say nothing about which association it is: articles and prepositions (French and English),
# and the common words of associations' names.
STOP_WORDS = frozenset(
    "a au aux d de des du en et l la le les pour par sur dans un une of the for and in to".split()
)
COMMON_WORDS = frozenset(
    "association associations asso assoc amicale ong ngo organisation organization collectif club".split()
)
NO_NUMBER = frozenset({"na", "nc", "none", "neant", "aucun", "aucune", "nil", "sans", "enattente"})
PREFIX_LENGTH = 4
SIMILAR_RATIO = 0.85


def words(text: str | None) -> list[str]:
    """The words of ``text`` without accents, case or punctuation ("Développement d'Agou" → développement, d, agou)."""
    if not text:
        return []
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return re.findall(r"[^\W_]+", plain)


def name_key(name: str | None) -> str:
    """The significant words of a name, in alphabetical order, once each; all its words if none is."""
    all_words = words(name)
    significant = [w for w in all_words if w not in STOP_WORDS and w not in COMMON_WORDS]
    return " ".join(sorted(set(significant or all_words)))[:200]


def initials(name: str | None) -> str | None:
    """The initials of a name's words but articles and prepositions ("Association pour le Développement
    de Tsévié" → ``adt``); None under three letters (too many names share them)."""
    letters = "".join(w[0] for w in words(name) if w not in STOP_WORDS)
    return letters[:30] if len(letters) >= 3 else None


def acronym_key(acronym: str | None) -> str | None:
    """An acronym without dots, spaces or case ("A.D.T." → ``adt``); None under two letters."""
    key = "".join(words(acronym))
    return key[:30] if len(key) >= 2 else None


def registration_key(number: str | None) -> str | None:
    """A registration number without spaces, dashes, slashes or case; None when it says there is none."""
    key = "".join(words(number))
    if len(key) < 3 or key in NO_NUMBER:
        return None
    return key[:100]


def _numbers(key: str) -> set[str]:
    """The numbers of a name ("Lomé 2"): names alike but for their numbers are different associations."""
    return {w for w in key.split() if w.isdigit()}


def similarity(a: str, b: str) -> float:
    """How alike two name keys are (difflib's ratio, 0 to 1)."""
    return difflib.SequenceMatcher(None, a, b).ratio() if a and b else 0.0
