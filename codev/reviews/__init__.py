"""Screening, assignments, evaluations, qualification, ranking and committee decisions."""
