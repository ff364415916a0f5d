"""One unit of work per request: the service runs, then everything is committed, or nothing is.

Services check, change, audit and flush; they never commit. A refusal is a :class:`DomainError`
(every service error derives from it), whose text is meant for the person. A view wraps the service
call in :func:`unit_of_work`, the one place that commits::

    with unit_of_work(form, success=_("The call has been saved.")) as work:
        call = services.create_call(form.call_data(), current_person())
    if work:
        return redirect(url_for("calls.detail", call_id=call.id))
    return render_template("calls/form.html", form=form), 400

On success it commits and flashes ``success``. On a :class:`DomainError` it rolls back and shows the
message beside the form field the error names, at the top of the form, or as a flash when there is no
form; the form keeps what the person typed, since the view renders it again. Any other exception
rolls back and goes on to the error pages (a 409 for a lost race, a 500 for a bug).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from flask import flash

from codev.extensions import db


class DomainError(Exception):
    """A refused operation of the programme; ``str(error)`` and ``problems`` are meant for the person.

    ``problems`` lists every reason in words (a refused transition lists each failed check); ``field``
    names the form field the refusal is about, when there is one.
    """

    def __init__(self, message: str, problems: list[str] | None = None, *, field: str | None = None):
        super().__init__(message)
        self.problems = list(problems or [])
        self.field = field

    def sentences(self) -> list[str]:
        """The message, then each problem."""
        return [str(self), *self.problems]


class UnitOfWork:
    """The context manager :func:`unit_of_work` returns; true once the work is committed."""

    def __init__(self, form: Any = None, *, success: Any = None, category: str = "success",
                 show: bool = True) -> None:
        self.form = form
        self.success = success
        self.category = category
        self.show = show
        self.ok = False
        self.error: DomainError | None = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc_type is None:
            db.session.commit()
            self.ok = True
            if self.success:
                flash(str(self.success), self.category)
            return False
        db.session.rollback()
        if not isinstance(exc, DomainError):
            return False  # the error pages answer (409 for a lost race, 500 for a bug)
        self.error = exc
        if self.show:
            show_error(exc, self.form)
        return True

    def __bool__(self) -> bool:
        return self.ok


def unit_of_work(form: Any = None, *, success: Any = None, category: str = "success",
                 show: bool = True) -> UnitOfWork:
    """Commit what the block did and flash ``success``; on a :class:`DomainError`, roll back and say why.

    With ``show=False`` the refusal is only kept in ``.error``, for a page that lists it itself.
    """
    return UnitOfWork(form, success=success, category=category, show=show)


def show_error(error: DomainError, form: Any = None) -> None:
    """Put ``error`` where the person will read it: beside its field, atop the form, or in a flash."""
    if form is None:
        flash(" ".join(str(s) for s in error.sentences()), "error")
        return
    field = form._fields.get(error.field) if error.field else None
    if field is not None and not error.problems:
        field.errors = [*field.errors, str(error)]
        return
    form.form_errors.extend(error.sentences() if error.problems else [str(error)])
