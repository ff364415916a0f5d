"""The filters of the register and of the exports: a GET form (no JavaScript, no CSRF) read into
:class:`~codev.oversight.queries.Filters`.

Every field is a select: a value that is not one of its choices is an error beside the field and filters
nothing, so whatever a link carries never reaches SQL unchecked.
"""

from __future__ import annotations

from wtforms import SelectField
from wtforms.validators import Optional

from codev.core.forms import BaseForm, choice_id
from codev.core.geography import region_choices
from codev.core.i18n import lazy_gettext as _l
from codev.core.sectors import sector_choices
from codev.core.templating import localized
from codev.core.timeutil import utcnow
from codev.oversight.queries import Filters


class FilterForm(BaseForm):
    """Call, region, sector, year and status; the view gives the calls, the years and the statuses."""

    class Meta:
        csrf = False

    call = SelectField(_l("Call"), choices=[], validators=[Optional()])
    region = SelectField(_l("Region"), choices=[], validators=[Optional()])
    sector = SelectField(_l("Sector"), choices=[], validators=[Optional()])
    year = SelectField(_l("Year"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), choices=[], validators=[Optional()])

    def __init__(self, *args, calls=(), statuses=(), first_year: int | None = None, locale: str = "fr",
                 year_help=None, **kwargs):
        super().__init__(*args, **kwargs)
        everything = ("", _l("All"))
        self.call.choices = [everything, *((str(c.id), localized(c, "title", locale)) for c in calls)]
        self.region.choices = [everything, *region_choices()]
        self.sector.choices = [everything, *sector_choices()]
        this_year = utcnow().year
        years = range(this_year, min(first_year or this_year, this_year) - 1, -1)
        self.year.choices = [everything, *((str(y), str(y)) for y in years)]
        self.status.choices = [everything, *statuses]
        if year_help:
            self.year.description = year_help

    def filters(self) -> Filters:
        """The filters that passed validation (an unknown value is ignored, never a 500)."""

        def good(field) -> str | None:
            return field.data if field.data and not field.errors else None

        call, year = good(self.call), good(self.year)
        return Filters(call_id=choice_id(call) if call else None, region=good(self.region),
                       sector=good(self.sector), year=int(year) if year else None, status=good(self.status))
