"""The award: approval within the rules and the envelope, the award letters, their public verification."""
