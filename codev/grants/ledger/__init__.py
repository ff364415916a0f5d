"""The counterpart ledger: the money the association brought, declared and verified."""
