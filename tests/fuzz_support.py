"""What the form fuzz tests share: the demo world in a template SQLite file, every POST form each demo
account can reach, and one post checked for a 500 or a change left behind by a refused form.

The database file and the upload folder are restored from the template whenever a post may have
changed them (an accepted form, a counted attempt), so every post meets the same world. Forms are found
as a person would find them: each account opens the URL map's pages and follows their links and
filters (fuzz_pages reads the forms of each page).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import shutil
import sqlite3
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.test import Client

from codev import create_app
from codev.core.permissions import PUBLIC, SIGNED_IN, ApiTokenRule, access_rule
from codev.core.timeutil import utcnow
from codev.extensions import db
from tests.fuzz_pages import REDIRECTS, FormSpec, filled, filter_links, parse_forms
from tests.fuzz_world import candidate_values, config, seed_world

ANONYMOUS = "anonymous"
ROLES = ("association", "evaluator", "officer", "approver", "admin")

# Buttons that no demo page shows (the demo's state does not offer them): posted bare to demo URLs.
NOT_SHOWN = {
    ("calls.transition", "admin"): "the call workflow offers its steps to officers",
    ("calls.transition", "approver"): "the same",
    ("grants.close_lapsed", "officer"): "shown only when a grant has lapsed",
    ("reviews.consolidate", "officer"): "shown only while a result waits to be applied (submitting applies it)",
    ("notifications.read_all", "admin"): "shown only when something is unread (the demo emails no admin)",
    ("admin.mail_retry", "admin"): "shown only beside an email given up or failing (the demo's outbox has none)",
    ("accounts.login_code", ANONYMOUS): "the sign-in's second step, shown only after a right password",
    **{("accounts.two_factor_enrol", who): "the demo approver and admin are enrolled: their enrolment page leads on"
       for who in ("approver", "admin")},
    **{("accounts.two_factor_disable", who): "a formaction button of the two-factor page: never shown to approvers "
       "and admins, shown to others once enrolled" for who in ("association", "evaluator", "officer", "approver",
                                                               "admin")},
    **{("accounts.two_factor_recovery", who): "shown once enrolled (the demo enrols only its approver and admin)"
       for who in ("association", "evaluator", "officer")},
}

# Changes a refused form may leave, with the reason. Any other table must hold exactly what it held.
ALLOWED_TABLES = {
    "login_attempts": "a refused sign-in is counted, so that the next attempts can be throttled",
    "throttle_counters": "so is a refused sign-in, sign-up, reset request or verification upload (throttle)",
    "second_factors": "the enrolment page keeps the key of an enrolment under way until a first code is typed",
}
# Audit actions a refused form may add (the audit log records refused attempts on purpose).
ALLOWED_AUDIT = {
    "login.failed": "a wrong password is part of the security record",
    "login.throttled": "so is a sign-in refused by the throttle",
    "two_factor.failed": "so is a wrong second-factor code (sign-in, enrolment, step-up)",
    "two_factor.replayed": "and a code typed again",
    "two_factor.throttled": "and a code refused by the throttle",
}
AUDIT_TABLE = "audit_events"
# The kept pages' tokens (codev.core.versions): renewed by the commit of any write, so they change beside an
# allowed change above (a counted attempt writes the audit log) — never alone.
VERSIONS_TABLE = "data_versions"

# GET pages that answer a file or a PDF, never a form: not crawled (a PDF takes a second to draw).
NOT_CRAWLED = {
    "static", "core.healthz", "projects.sheet", "projects.attachment", "reviews.attachment",
    "reviews.committee.minutes_pdf", "reviews.committee.ranking_pdf", "grants.letter",
    "grants.contribution_proof", "grants.report_file", "associations.statutes_download",
}


def post_cases() -> list[tuple[str, str]]:
    """(endpoint, who) for every rule taking POST and everybody its access rule lets in."""
    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    cases = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        allowed = access_rule(app, rule.endpoint)
        if allowed == PUBLIC:
            whos: Iterable[str] = (ANONYMOUS,)
        elif allowed == SIGNED_IN:
            whos = ROLES
        else:
            whos = sorted(allowed)
        cases.update((rule.endpoint, who) for who in whos)
    return sorted(cases)


@dataclass
class Account:
    """A demo person (or the anonymous visitor) and the forms they can reach."""

    key: str
    role: str
    user_id: int | None = None
    session_id: str | None = None
    forms: list[FormSpec] = field(default_factory=list, repr=False)


class _ErrorLog(logging.Handler):
    """Keeps what the app logs of an unexpected error (its exception and last frame) and of a database
    constraint that refused a change (a 409 that no race explains in a fuzz run one post at a time)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frame = traceback.extract_tb(error.__traceback__)[-1]
            self.errors.append(f"{type(error).__name__}: {str(error)[:300]} at "
                               f"{os.path.relpath(frame.filename)}:{frame.lineno} ({frame.name})")
        elif "IntegrityError" in record.getMessage():
            self.errors.append(record.getMessage()[:400])


class Harness:
    """One app on a live copy of the template; restores it, posts, and checks what a post left."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.app = create_app(config(folder))
        self.live = folder / "live.sqlite3"
        self.uploads = folder / "up"
        with self.app.app_context():
            facts = seed_world(self.app)
            self.values = candidate_values(facts["tokens"])
            self.accounts = self._accounts()
            db.session.remove()
            db.engine.dispose()
        self.template = self.live.read_bytes()
        self.template_uploads = folder / "template-up"
        shutil.copytree(self.uploads, self.template_uploads)
        self.upload_files = self._files(self.uploads)
        self.fingerprint0 = self.fingerprint()
        self.dirty = False
        self.today = utcnow().date()
        self.errors: list[str] = []
        self.error_log = _ErrorLog(self.errors)

    def _accounts(self) -> dict[str, Account]:
        from codev.accounts.models import User

        accounts = {ANONYMOUS: Account(ANONYMOUS, ANONYMOUS)}
        for user in db.session.scalars(db.select(User).order_by(User.id)):
            accounts[user.email] = Account(user.email, str(user.role), user.id, user.get_id())
        return accounts

    def completed(self, account: Account, form: FormSpec) -> dict[str, list[str]]:
        """``form`` as ``account`` would complete it (signing in, an anonymous visitor uses a member's account)."""
        from codev.demo import DEMO_PASSWORD

        email = account.key if account.user_id is not None else "association@codev.demo"
        return filled(form, self.today, (email, DEMO_PASSWORD))

    def of_role(self, who: str) -> list[Account]:
        return [a for a in self.accounts.values() if a.role == who]

    # --- restoring -------------------------------------------------------------------------------------

    def restore(self) -> None:
        """Put the database file and the upload folder back as the template has them."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.live}{suffix}").unlink(missing_ok=True)
        self.live.write_bytes(self.template)
        now = self._files(self.uploads)
        for name in now - self.upload_files:
            (self.uploads / name).unlink()
        for name in self.upload_files - now:
            shutil.copyfile(self.template_uploads / name, self.uploads / name)
        self.dirty = False

    @staticmethod
    def _files(folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Row count and a hash of the sorted rows of every table."""
        connection = sqlite3.connect(self.live)
        try:
            names = [r[0] for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            result = {}
            for name in names:
                rows = sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{name}"'))  # noqa: S608
                result[name] = (len(rows), hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest())
            return result
        finally:
            connection.close()

    def untouched(self) -> bool:
        """No transaction committed since the restore: the write-ahead log is empty, the file as it was."""
        wal = Path(f"{self.live}-wal")
        return (not wal.exists() or wal.stat().st_size == 0) and self.live.read_bytes() == self.template

    def new_audit_actions(self) -> list[str]:
        connection = sqlite3.connect(self.live)
        try:
            count = self.fingerprint0[AUDIT_TABLE][0]
            return [r[0] for r in connection.execute(
                f"SELECT action FROM {AUDIT_TABLE} ORDER BY id LIMIT -1 OFFSET ?", (count,))]  # noqa: S608
        finally:
            connection.close()

    # --- posting ---------------------------------------------------------------------------------------

    def client(self, account: Account) -> Client:
        client = self.app.test_client()
        if account.session_id is not None:
            with client.session_transaction() as session:
                session["_user_id"] = account.session_id
                session["_fresh"] = True
        return client

    def check(self, account: Account, path: str, body: bytes, content_type: str) -> str:
        """Post; fail on a 500, or on a refused form (no redirect, or a redirect with an error message)
        that changed a table or left a file. Returns "accepted" or "refused"; a 201 is accepted."""
        if self.dirty:
            self.restore()
        self.errors.clear()
        logger = logging.getLogger("codev")
        logger.addHandler(self.error_log)
        client = self.client(account)
        try:
            response = client.open(path, method="POST", data=body, content_type=content_type)
        finally:
            logger.removeHandler(self.error_log)
        status = response.status_code
        where = f"POST {path} as {account.key} → {status}"
        if status >= 500 or self.errors:
            self.dirty = True
            raise AssertionError(f"{where} {'; '.join(self.errors)}\nbody: {body[:600]!r}")
        if status == 201:  # created and shown on the answer itself (a partner's API token, shown once)
            self.dirty = True
            return "accepted"
        if status in REDIRECTS:
            with client.session_transaction() as session:
                flashed = [category for category, _message in session.get("_flashes", [])]
            if "error" not in flashed:  # accepted; a refusal that redirects says so in an error message
                self.dirty = True
                return "accepted"
            where += " with an error message"
        if self.untouched() and self._files(self.uploads) == self.upload_files:
            return "refused"
        after = self.fingerprint()
        if after == self.fingerprint0 and self._files(self.uploads) == self.upload_files:
            return "refused"
        self.dirty = True
        changed = sorted(t for t in after if after[t] != self.fingerprint0.get(t))
        leaked = [t for t in changed if t not in ALLOWED_TABLES and t not in (AUDIT_TABLE, VERSIONS_TABLE)]
        if changed == [VERSIONS_TABLE]:
            leaked.append(f"{VERSIONS_TABLE} (alone: a token renewed without a write)")
        if AUDIT_TABLE in changed:
            leaked += [f"{AUDIT_TABLE}:{a}" for a in self.new_audit_actions() if a not in ALLOWED_AUDIT]
        files = sorted(self._files(self.uploads) ^ self.upload_files)
        if leaked or files:
            raise AssertionError(f"{where} (refused) but changed {leaked} files {files}\nbody: {body[:600]!r}")
        return "refused"


def allows(app, rule, account: Account) -> bool:
    """Whether the access rule of ``rule`` lets ``account`` in (pages refused with 403 are not crawled)."""
    allowed = access_rule(app, rule.endpoint)
    if allowed == PUBLIC:
        return True
    if isinstance(allowed, ApiTokenRule):  # the partners' API: a token, never a session
        return False
    return account.role != ANONYMOUS and (allowed == SIGNED_IN or account.role in allowed)


def crawl(harness: Harness, account: Account, limit: int = 400) -> list[FormSpec]:
    """Every POST form on the pages ``account`` reaches, from the URL map's pages without ids (and the
    emailed links' pages) through their links and filters, as a person would click."""
    from flask import url_for
    from werkzeug.exceptions import HTTPException

    app = harness.app
    seeds = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_CRAWLED or not allows(app, rule, account):
                continue
            if set(rule.arguments) - {"token", "reference"}:
                continue
            choices = [harness.values[arg] for arg in rule.arguments]
            for combo in itertools.product(*choices):
                seeds.append(url_for(rule.endpoint, **dict(zip(rule.arguments, combo, strict=True))))
    adapter = app.url_map.bind("localhost")
    client = harness.client(account)
    seen, queue, forms, variants = set(), list(dict.fromkeys(seeds)), {}, Counter()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.mimetype != "text/html":
            # A streamed download (the register's CSV) holds its request context and a database connection
            # until it is read or closed; left to the garbage collector, that connection outlived restore()
            # and wrote into the restored file ("database disk image is malformed").
            response.close()
        if response.status_code in REDIRECTS:  # e.g. a project's "continue" link to its current step
            queue.insert(0, urllib.parse.urlsplit(response.headers["Location"])._replace(scheme="", netloc="").geturl())
            continue
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        for spec in parse_forms(url, html, adapter):
            forms.setdefault((spec.action, tuple(f.name for f in spec.fields)), spec)
        for href in re.findall(r'href="(/[^"#]*)"', html) + filter_links(url, html):
            href = href.replace("&amp;", "&")
            path, _sep, query = href.partition("?")
            try:
                endpoint, _args = adapter.match(path, method="GET")
            except HTTPException:
                continue
            if endpoint in NOT_CRAWLED or href in seen:
                continue
            if query:  # a filter or a page: a few of each, enough to show the links they add
                variants[endpoint] += 1
                if variants[endpoint] > 6:
                    continue
            queue.append(href)
    return list(forms.values())


def targets(harness: Harness, endpoint: str, who: str) -> list[tuple[Account, FormSpec]]:
    """The forms of ``endpoint`` that the accounts of ``who`` reach; a bare post to demo URLs when a
    page shows none (an action button the demo's state does not offer)."""
    from flask import url_for

    found = [(a, f) for a in harness.of_role(who) for f in a.forms if f.endpoint == endpoint]
    if found:
        return found
    rule = next(r for r in harness.app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)
    choices = [harness.values.get(arg, []) for arg in rule.arguments]
    with harness.app.test_request_context():
        urls = [url_for(endpoint, **dict(zip(rule.arguments, combo, strict=True)))
                for combo in itertools.islice(itertools.product(*choices), 20)]
    return [(a, FormSpec("", url, endpoint, False, ())) for a in harness.of_role(who) for url in urls]


def other_ids(harness: Harness, form: FormSpec, pick) -> str:
    """``form``'s action with its URL's ids replaced by ``pick(arg, candidates)`` (other demo objects)."""
    from flask import url_for

    adapter = harness.app.url_map.bind("localhost")
    path, _sep, query = form.action.partition("?")
    endpoint, args = adapter.match(path, method="POST")
    changed = {arg: pick(arg, harness.values.get(arg) or [value]) for arg, value in args.items()}
    with harness.app.test_request_context():
        return url_for(endpoint, **changed) + (f"?{query}" if query else "")


_HARNESS: dict[str, Harness] = {}


def shared_harness(tmp_path_factory) -> Harness:
    """One harness (world seeded, every account's forms crawled) for every fuzz module of the session."""
    if "h" not in _HARNESS:
        harness = Harness(tmp_path_factory.mktemp("fuzz"))
        for account in harness.accounts.values():
            account.forms = crawl(harness, account)
        harness.restore()
        _HARNESS["h"] = harness
    return _HARNESS["h"]
