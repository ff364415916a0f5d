"""Calls for projects: dates, envelope, funding rules, evaluation grid, tranche plan."""
