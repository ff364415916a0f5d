"""Exchange rates to XOF: EUR fixed by law, XOF itself, the others as officers record them by date.

Rates are millionths of a franc per unit; amounts in other currencies are minor units (cents). Every
conversion goes through :func:`codev.core.money.convert_to_xof` (integers, one half-up rounding).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from codev.calls.models import ExchangeRate
from codev.core.i18n import gettext as _
from codev.core.money import EUR_RATE_MILLIONTHS, MoneyError, convert_to_xof
from codev.extensions import db

XOF_RATE_MILLIONTHS = 1_000_000
RECORDED_CURRENCIES = ("USD", "CAD", "GBP", "CHF")  # the ones officers maintain


def rate_for(currency: str, on_date: date) -> int | None:
    """XOF per unit of ``currency`` (millionths) valid on ``on_date``; None when none is recorded."""
    currency = (currency or "").upper()
    if currency == "XOF":
        return XOF_RATE_MILLIONTHS
    if currency == "EUR":
        return EUR_RATE_MILLIONTHS
    if currency not in RECORDED_CURRENCIES:
        return None
    return db.session.scalar(
        select(ExchangeRate.rate_millionths)
        .where(ExchangeRate.currency == currency, ExchangeRate.valid_from <= on_date)
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    )


def to_xof(amount_minor: int, currency: str, on_date: date) -> tuple[int, int]:
    """(francs, rate used) for ``amount_minor`` cents of ``currency`` on ``on_date``.

    Raises :class:`MoneyError` with a message for the person when no rate covers that date.
    """
    rate = rate_for(currency, on_date)
    if rate is None:
        raise MoneyError(
            _(
                "No exchange rate for %(currency)s on %(date)s: ask the programme officer to record one.",
                currency=(currency or "").upper() or "?", date=on_date.isoformat(),
            )
        )
    return convert_to_xof(amount_minor, rate), rate
