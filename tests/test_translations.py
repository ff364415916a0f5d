"""Every string a person reads has a French translation, with the same placeholders.

The strings are the ones the code and the templates use, extracted as `make extract-messages` extracts them
(the Makefile's own pybabel command, into a temporary file): never the committed messages.pot, which can lag
behind, and never an in-process extraction with Babel's defaults, which skips folders starting with "_" — the
form macros of ``_macros/`` were left out that way, and every refused French form began in English while the
build said 100 % translated.
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# flask_babel's functions that translate now (in the language of this moment) and those that wait for a page
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}
LAZY = {"lazy_gettext", "lazy_ngettext", "lazy_pgettext"}


def makefile_extraction(output: Path) -> list[str]:
    """The Makefile's extract-messages command, writing to ``output`` instead of the repository's .pot."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    start = lines.index(next(line for line in lines if line.startswith("extract-messages:")))
    command = next(line for line in lines[start + 1:] if "pybabel extract" in line)
    args = shlex.split(command.strip())
    args[0] = str(Path(sys.executable).parent / "pybabel")
    args[args.index("-o") + 1] = str(output)
    return args


@pytest.fixture(scope="module")
def extraction(tmp_path_factory) -> list[str]:
    return makefile_extraction(tmp_path_factory.mktemp("pot") / "messages.pot")


@pytest.fixture(scope="module")
def extracted(extraction):
    """The template catalog of the strings the code and templates use now."""
    subprocess.run(extraction, cwd=ROOT, check=True, capture_output=True)  # noqa: S603 (the Makefile's command)
    with open(extraction[extraction.index("-o") + 1], "rb") as handle:
        return read_po(handle)


def french_catalog():
    with open(ROOT / "codev/translations/fr/LC_MESSAGES/messages.po", "rb") as handle:
        return read_po(handle, locale="fr")


def translated(message, plural: bool) -> bool:
    """A message with its French (every plural form of it when the source is a plural), and not fuzzy."""
    if message is None or message.fuzzy or not message.string:
        return False
    if plural:
        return isinstance(message.string, tuple) and len(message.string) >= 2 and all(message.string)
    return isinstance(message.string, str)


def test_every_string_used_has_a_french_translation(extracted):
    catalog = french_catalog()
    missing = sorted(str(m.id) for m in extracted if m.id and not translated(catalog.get(m.id), m.pluralizable))
    assert missing == [], f"{len(missing)} strings without French: {missing[:20]}"


def test_the_extraction_reads_the_folders_babel_would_skip(extracted):
    """The form macros (``_macros/``, a folder Babel's in-process default skips) are extracted with the pages."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted}
    assert "Some fields need your attention; nothing has been saved yet." in ids


# Words a template may write without Babel: names, codes and units, the same in both languages.
NEUTRAL_WORDS = {"codev", "co", "EN", "FR", "UTC", "EUR", "CSV", "XLSX", "SHA", "PDF"}
TEMPLATE_CODE = [
    re.compile(r"\{#.*?#\}", re.S),  # comments
    re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S),  # {% trans %}: extracted
    re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S),  # expressions and statements
    re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S),
    # an element marked with its own language shows that language on purpose (« PV — français », « Minutes — English »)
    re.compile(r"<((?!html)\w+)\b[^>]*\b(?:hreflang|lang)=\"[^\"]*\"[^>]*>.*?</\1>", re.S),
    re.compile(r"<[^>]*>", re.S),  # tags and their attributes (a person-facing attribute takes {{ _() }})
]


READ_ATTRIBUTE = re.compile(r"""\b(?:title|aria-label|placeholder|alt)=["']([^"']*)["']""")


def words_outside_babel(text: str) -> list[str]:
    for pattern in TEMPLATE_CODE[:3]:  # Jinja's own text first, so a tag's attributes read plainly
        text = pattern.sub(" ", text)
    # attributes a person reads (a tooltip, a screen reader's label): in {{ _() }} unless the tag says its lang
    attributes = " ".join(value for tag in re.findall(r"<\w[^>]*>", text) if not re.search(r"\blang=", tag)
                          for value in READ_ATTRIBUTE.findall(tag))
    for pattern in TEMPLATE_CODE[3:]:
        text = pattern.sub(" ", text)
    words = re.findall(r"[^\W\d_]{2,}", text + " " + attributes)
    return [word for word in words if word not in NEUTRAL_WORDS]


def test_templates_write_no_words_outside_babel():
    """Text written straight into a template is never extracted, so never translated."""
    found = {}
    for path in sorted((ROOT / "codev/templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            words = words_outside_babel(path.read_text(encoding="utf-8"))
            if words:
                found[path.relative_to(ROOT).as_posix()] = words[:5]
    assert found == {}


def test_the_template_scan_finds_plain_text():
    assert words_outside_babel('<p>{{ _("Saved") }} Nothing saved</p>') == ["Nothing", "saved"]
    assert words_outside_babel('<a hreflang="en" href="{{ u }}">Minutes — English</a><b title="x">{{ a }}</b>') == []
    assert words_outside_babel("{% trans %}Hello {{ name }}{% endtrans %} codev") == []
    assert words_outside_babel('<button aria-label="Close">×</button><img alt="{{ _(\'Map\') }}">') == ["Close"]
    assert words_outside_babel('<button lang="en" title="Switch to English">EN</button>') == []


def translation_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module calls the translation functions by (flask_babel's, or codev.core.i18n's): (eager, lazy)."""
    eager, lazy = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask_babel", "codev.core.i18n"):
            for alias in node.names:
                if alias.name in EAGER:
                    eager.add(alias.asname or alias.name)
                elif alias.name in LAZY:
                    lazy.add(alias.asname or alias.name)
    return eager, lazy


def python_modules():
    for path in sorted((ROOT / "codev").rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_every_name_of_a_translation_function_is_extracted(extraction):
    """A string marked with a name the extraction does not know (``lazy_ngettext``, an alias) is never in the
    catalog, so never translated: each name the code translates with is one of the Makefile's keywords."""
    keywords = {extraction[i + 1].split(":")[0] for i, arg in enumerate(extraction) if arg == "-k"}
    used = {}
    for path, tree in python_modules():
        eager, lazy = translation_names(tree)
        for name in eager | lazy:
            used.setdefault(name, path.relative_to(ROOT).as_posix())
    assert {"_", "_l", "ngettext"} <= set(used)  # the names the code uses today, so this test reads them
    assert {name: where for name, where in used.items() if name not in keywords} == {}


class ImportTimeTranslations(ast.NodeVisitor):
    """Eager translation calls run when the module is imported: at module level or in a class body."""

    def __init__(self, eager: set[str]):
        self.eager, self.found = eager, []

    def visit_FunctionDef(self, node):  # a function's body runs later, in a request: fine
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for default in node.args.defaults:
            self.visit(default)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in self.eager:
            self.found.append(node.lineno)
        self.generic_visit(node)


def test_nothing_is_translated_at_import_time():
    """``_()`` outside a request freezes one language for everyone (labels of forms and enums take ``_l``)."""
    frozen = []
    for path, tree in python_modules():
        eager, _lazy = translation_names(tree)
        if eager:
            visitor = ImportTimeTranslations(eager)
            visitor.visit(tree)
            frozen += [f"{path.relative_to(ROOT).as_posix()}:{line}" for line in visitor.found]
    assert frozen == []


def test_the_import_time_scan_finds_a_module_level_gettext():
    tree = ast.parse("from flask_babel import gettext as _\nLABEL = _('Yes')\nclass A:\n    b = {'x': _('No')}\n"
                     "def f(x=_('Default')):\n    return _('Fine')\n")
    visitor = ImportTimeTranslations(translation_names(tree)[0])
    visitor.visit(tree)
    assert visitor.found == [2, 4, 5]


def test_plurals_go_through_ngettext_never_a_parenthesised_s(extracted):
    """"3 project(s)" reads badly in both languages: a count takes ngettext and its two forms."""
    found = sorted(str(m.id) for m in extracted if m.id and any(
        re.search(r"\w\(s\)", text) for text in (m.id if isinstance(m.id, tuple) else (m.id,))))
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


@pytest.mark.parametrize(("language", "sentence"), [
    ("fr", "Certains champs demandent votre attention ; rien n'a encore été enregistré."),
    ("en", "Some fields need your attention; nothing has been saved yet."),
])
def test_a_refused_form_says_so_in_the_readers_language(client, db, language, sentence):
    """The sentence atop a refused form (the form macro of ``_macros/``, once left untranslated)."""
    response = client.post("/associations/signup", data={}, headers={"Accept-Language": language})
    assert response.status_code in (200, 400, 422)
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert sentence in page
