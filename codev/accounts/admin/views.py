"""Admin views (placeholder until the admin module lands)."""

from codev.accounts.admin import bp  # noqa: F401
