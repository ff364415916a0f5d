"""Helpers of the input-class tests: every form class of the app, walked for its fields, and one form run.

Forms are found by importing every module of ``codev`` and keeping the classes of WTForms ``Form``
defined there; their fields are read from the class (no app needed at collection time), so a new form
or a new field is covered by the class tests without being listed anywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import FieldList, FormField

import codev
from codev.core.forms import BaseForm, RowForm


def all_form_classes() -> list[type[Form]]:
    """Every WTForms form class the app defines (the grid made per call excepted)."""
    for module in pkgutil.walk_packages(codev.__path__, "codev."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found, stack = set(), list(Form.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("codev.") and "<locals>" not in cls.__qualname__:
            found.add(cls)
    return sorted(found - {BaseForm, RowForm}, key=lambda c: (c.__module__, c.__name__))


def form_classes() -> list[type[Form]]:
    """The forms a page posts (rows, only ever inside another form, are walked through it)."""
    return [cls for cls in all_form_classes() if issubclass(cls, BaseForm)]


def _unbound_fields(cls):
    for name in dir(cls):
        attr = getattr(cls, name, None)
        if getattr(attr, "_formfield", False):
            yield name, attr


def leaf_fields(cls, prefix: str = "") -> list[tuple[str, type, object]]:
    """(name in the posted form, field class, unbound field) of every field of ``cls``, rows included (first row)."""
    leaves = []
    for name, unbound in _unbound_fields(cls):
        field_class = unbound.field_class
        if field_class is FieldList:
            inner = unbound.args[0]
            if inner.field_class is FormField:
                leaves += leaf_fields(inner.args[0], f"{prefix}{name}-0-")
            else:
                leaves.append((f"{prefix}{name}-0", inner.field_class, inner))
        elif field_class is FormField:
            leaves += leaf_fields(unbound.args[0], f"{prefix}{name}-")
        else:
            leaves.append((prefix + name, field_class, unbound))
    return leaves


def grid_criteria():
    """The scoring grid is built per call (:func:`codev.reviews.forms.evaluation_form`): two criteria stand for all."""
    return [SimpleNamespace(id=n, weight=50, max_score=10, guidance=lambda locale: "") for n in (1, 2)]


GRID = "evaluation_form"  # stands for the grid's class in the cases
GRID_FIELDS = [("score_1", "ScoreField"), ("comment_1", "TextAreaField"), ("overall_comment", "TextAreaField")]


@dataclass
class Outcome:
    """What a form made of one typed value: the field's errors (as read), what it kept, what it shows."""

    errors: list[str]
    data: object
    shown: str
    field: object


def find_field(form, name: str):
    for field in form:
        if field.name == name:
            return field
        if isinstance(field, FormField):
            found = find_field(field.form, name)
        elif isinstance(field, FieldList):
            found = next((f for f in (find_field_in(e, name) for e in field.entries) if f is not None), None)
        else:
            found = None
        if found is not None:
            return found
    return None


def find_field_in(entry, name: str):
    if entry.name == name:
        return entry
    return find_field(entry.form, name) if isinstance(entry, FormField) else None


def submit(app, form_class, name: str, value, *, locale: str = "fr", extra: dict | None = None) -> Outcome:
    """Post ``value`` in the field ``name`` of ``form_class`` (with ``extra`` fields) and validate the form."""
    with app.test_request_context(method="POST"), force_locale(locale):
        posted = MultiDict({**(extra or {}), name: value})
        if form_class == GRID:
            from codev.reviews.forms import evaluation_form

            form = type(evaluation_form(grid_criteria(), locale))(formdata=posted)
            form.criteria = grid_criteria()
        else:
            form = form_class(formdata=posted)
        form.validate()
        field = find_field(form, name)
        assert field is not None, f"{form_class.__name__} has no field {name}"
        return Outcome([str(e) for e in _flat(field.errors)], field.data, field._value(), field)


def _flat(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _flat(value)
    elif isinstance(errors, list | tuple):
        for value in errors:
            yield from _flat(value)
    else:
        yield errors
