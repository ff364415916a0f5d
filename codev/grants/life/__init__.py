"""The grant after its award: lapse, cancellation, amendments, the reserve list, reminders."""
