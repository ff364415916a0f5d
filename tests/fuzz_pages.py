"""The fuzz tests' reading of pages and writing of posts: the POST forms of a page's HTML (each field
with what a browser would send and the choices it offers), the pages its filter forms lead to, and
request bodies built by hand, so that NULs and lone surrogates (sent as the bytes a careless client
would send) reach the server.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser

from werkzeug.routing import RequestRedirect

REDIRECTS = {301, 302, 303, 307, 308}
BOUNDARY = "----codev-fuzz-7e3f1c9a5b2d4e6f"
# The values issue 8 names, and a one-page PDF (a valid upload where a field is not the one fuzzed).
ISSUE_VALUES = ["http://[evil.example", "https://evil／example.org", "１２３", "99999999999999999999", "-1", "\x00",
                "a" * 10_000]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# --- forms read from the pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One name of a form: its kind, what the page sends by default, and the values it offers."""

    name: str
    kind: str  # text, hidden, textarea, select, checkbox, radio, submit, file, ...
    default: tuple[str, ...]
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    """A POST form as a page shows it."""

    page: str
    action: str
    endpoint: str
    multipart: bool
    fields: tuple[Field, ...]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.form: dict | None = None
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = {"method": a.get("method", "get").lower(), "action": a.get("action"),
                         "multipart": "multipart" in a.get("enctype", ""), "inputs": []}
            self.forms.append(self.form)
            return
        if self.form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag in ("input", "button") and not name and a.get("type", "submit" if tag == "button" else "") == "submit":
            self.form["plain_submit"] = True  # the main button: pressed, it sends no name
        if tag in ("input", "button") and name:
            kind = a.get("type", "submit" if tag == "button" else "text").lower()
            if kind in ("reset", "image") or (tag == "button" and kind == "button"):
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            sends = kind not in ("checkbox", "radio", "submit", "file") or "checked" in a
            self.form["inputs"].append((name, kind, value, sends))
        elif tag == "select" and name:
            self.select = {"name": name, "options": [], "selected": [], "multiple": "multiple" in a}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self.textarea = {"name": name, "text": ""}

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self.select is not None and self.option is not None:
            self._end_option()
        elif tag == "select" and self.select is not None and self.form is not None:
            if self.option is not None:
                self._end_option()
            s = self.select
            chosen = s["selected"] or ([] if s["multiple"] or not s["options"] else s["options"][:1])
            self.form["inputs"].append((s["name"], "select", tuple(chosen), tuple(s["options"])))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            text = re.sub(r"^\r?\n", "", self.textarea["text"])  # the newline after the tag, as a browser drops it
            self.form["inputs"].append((self.textarea["name"], "textarea", text, True))
            self.textarea = None
        elif tag == "form":
            self.form = None

    def _end_option(self) -> None:
        option = self.option
        value = option["value"] if option["value"] is not None else option["text"].strip()
        self.select["options"].append(value)
        if option["selected"]:
            self.select["selected"].append(value)
        self.option = None


def _fields(inputs: list, plain_submit: bool) -> tuple[Field, ...]:
    """Group the inputs by name (radio groups, checkbox lists and submit buttons share one)."""
    grouped: dict[str, list] = {}
    for item in inputs:
        grouped.setdefault(item[0], []).append(item)
    fields = []
    for name, items in grouped.items():
        kind = items[0][1]
        if kind == "select":
            fields.append(Field(name, kind, items[0][2], items[0][3]))
        elif kind in ("checkbox", "radio", "submit"):
            options = tuple(dict.fromkeys(i[2] for i in items))
            default = tuple(i[2] for i in items if i[3])
            if kind == "submit":
                default = () if plain_submit else options[:1]
            fields.append(Field(name, kind, default, options))
        else:
            fields.append(Field(name, kind, tuple(i[2] for i in items if i[3]) if kind != "file" else ()))
    return tuple(fields)


def parse_forms(page: str, html: str, adapter) -> list[FormSpec]:
    """The POST forms of one page, each with the endpoint its action reaches."""
    return [f for f in _parse(page, html, adapter) if f.endpoint]


def filter_links(page: str, html: str) -> list[str]:
    """The pages a page's filter forms (method GET) lead to, one offered choice at a time."""
    links = []
    for form in _parse(page, html, None):
        for f in form.fields:
            links += [f"{form.action}?{urllib.parse.urlencode({f.name: option})}" for option in f.options if option]
    return links


def _parse(page: str, html: str, adapter) -> list[FormSpec]:
    parser = _FormParser()
    parser.feed(html)
    found = []
    for form in parser.forms:
        if (form["method"] == "post") != (adapter is not None):
            continue
        target = urllib.parse.urljoin(page, form["action"] or page)
        split = urllib.parse.urlsplit(target)
        action = split.path + (f"?{split.query}" if split.query else "")
        endpoint = ""
        if adapter is not None:
            try:
                endpoint, _args = adapter.match(split.path, method="POST")
            except RequestRedirect:
                continue
        fields = _fields(form["inputs"], form.get("plain_submit", False))
        found.append(FormSpec(page, action, endpoint, form["multipart"], fields))
    return found


# --- request bodies -----------------------------------------------------------------------------------


def encode(value: str) -> bytes:
    """UTF-8, with lone surrogates sent as the (invalid) bytes a careless client would send."""
    return value.encode("utf-8", "surrogatepass")


def body_of(pairs: list[tuple[str, str]], files: list[tuple[str, str, bytes]], multipart: bool) -> tuple[bytes, str]:
    """A urlencoded or multipart body of ``pairs`` and ``files`` (name, filename, content)."""
    if not multipart:
        return urllib.parse.urlencode([(encode(k), encode(v)) for k, v in pairs]).encode("ascii"), \
            "application/x-www-form-urlencoded"
    boundary = BOUNDARY
    chunks = []

    def quoted(text: str) -> bytes:
        return encode(text).replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")

    for name, value in pairs:
        chunks.append(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + quoted(name)
                      + b'"\r\n\r\n' + encode(value) + b"\r\n")
    for name, filename, content in files:
        chunks.append(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + quoted(name)
                      + b'"; filename="' + quoted(filename) + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
                      + content + b"\r\n")
    chunks.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def baseline(form: FormSpec) -> dict[str, list[str]]:
    """What a browser sends for the form untouched (the first submit button pressed)."""
    return {f.name: list(f.default) for f in form.fields if f.kind != "file"}


# What a person types into an empty field, by the field's name (the first pattern that matches), so that
# the rest of a new form can pass while one field is fuzzed. Dates are days from today.
NUMBERS = [
    (r"phone", "+33 6 12 34 56 78"), (r"website", "https://example.org"), (r"^max_score$", "10"),
    (r"eliminatory", ""), (r"^weight$|^share$", "100"), (r"year", "2015"),
    (r"members_count|beneficiaries_total", "120"), (r"beneficiaries_", "40"),
    (r"pct|share|threshold|score_gap|min_association", "50"), (r"score", "3"), (r"ratio", "1:1"),
    (r"^rate$", "600"), (r"months|days|min_evaluators|max_files", "6"), (r"quantity", "2"),
    (r"envelope|amount|max_|unit_cost|requested_grant", "500 000"),
]
DATES = [(r"due|held|closes|period_end", 30), (r"period_start", -30), (r"", 0)]
CHECKED = re.compile(r"^(accept|domains|regions|sectors|tie_breaks|required_kinds|confirm_.*)$")
PASSWORD = "Fuzz-correct-horse-2026"
ROW = re.compile(r"^(?P<prefix>\w+)-(?P<index>\d+)-(?P<name>\w+)$")


def filled(form: FormSpec, today, person: tuple[str, str]) -> dict[str, list[str]]:
    """The form as a person would complete it: the page's values, and plausible ones where it is empty
    (``person``'s email and password where they sign in or confirm who they are)."""
    from datetime import timedelta

    values = baseline(form)
    for f in form.fields:
        if f.kind == "file" or any(values.get(f.name, [])):
            continue
        row = ROW.match(f.name)
        if row and row["index"] != "0":
            continue  # one line of a grid, a budget or a plan is enough
        name = row["name"] if row else f.name
        if f.kind in ("select", "radio"):
            options = [o for o in f.options if o]
            values[f.name] = options[:1]
        elif f.kind == "checkbox":
            values[f.name] = list(f.options[:1]) if CHECKED.match(name) else []
        elif f.kind == "password":
            signs_in = name == "current_password" or form.endpoint == "accounts.login"
            values[f.name] = [person[1] if signs_in else PASSWORD]
        elif f.kind == "email":
            values[f.name] = [person[0] if form.endpoint == "accounts.login" else "fuzz.person@example.org"]
        elif f.kind == "date":
            days = next(d for pattern, d in DATES if re.search(pattern, name))
            values[f.name] = [(today + timedelta(days=days)).isoformat()]
        elif f.kind == "time":
            values[f.name] = ["12:00"]
        elif f.kind in ("text", "textarea", "number", "tel", "url"):
            number = next((v for pattern, v in NUMBERS if re.search(pattern, name)), None)
            if number is None:
                number = f"Texte de {name}." if f.kind == "textarea" else f"Fuzz {name}"[:10]
            values[f.name] = [number] if number else []
    return values
