"""Two-factor sign-in (issue 14): TOTP codes from an authenticator app enrolled by QR code, ten single-use
recovery codes, required for approvers and admins and offered to everyone; the second step of a sign-in,
the step-up code asked again before the most consequential actions, and an admin's reset.

Its routes are on the accounts blueprint (``views``, imported by ``codev.accounts``).
"""
