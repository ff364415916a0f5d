"""Matching grants: approval, award letters, counterpart ledger, tranches and disbursements, reports."""
