"""The committee's ranking on hand-made data: scores, each tie-break rule, running totals, the envelope line."""

from __future__ import annotations

from datetime import UTC, datetime

from codev.projects.models import ProjectStatus
from codev.reviews.ranking import Candidate, format_score, parse_tie_breaks, rank, table

ALL_RULES = ("led_by_women", "least_funded_commune", "earliest_submission")


def candidate(pid: int, score: int | None = 7000, grant: int = 1_000_000, **values) -> Candidate:
    return Candidate(project_id=pid, reference=values.pop("reference", f"CODEV-2026-{pid:04d}"),
                     title=f"Projet {pid}", association="Association", commune=values.pop("commune", "Kloto 1"),
                     score_centi=score, requested_grant_xof=grant, **values)


def order(candidates, rules=ALL_RULES, remaining=10**12) -> list[int]:
    return [row.candidate.project_id for row in rank(candidates, rules, remaining).rows]


def test_highest_score_first_and_projects_without_score_last():
    ranked = rank([candidate(1, 6500), candidate(2, None), candidate(3, 8125), candidate(4, 7000)], ALL_RULES, 10**9)
    assert [r.candidate.project_id for r in ranked.rows] == [3, 4, 1, 2]
    assert [r.rank for r in ranked.rows] == [1, 2, 3, 4]


def test_a_tie_goes_to_the_project_led_by_women():
    tied = [candidate(1, 7350), candidate(2, 7350, led_by_women=True)]
    assert order(tied) == [2, 1]
    # Without that rule the reference settles it.
    assert order(tied, ("least_funded_commune",)) == [1, 2]


def test_then_to_the_commune_that_received_the_least_so_far():
    tied = [candidate(1, 7350, commune="Kloto 1", commune_funded_xof=12_000_000),
            candidate(2, 7350, commune="Tône 1", commune_funded_xof=0),
            candidate(3, 7350, commune="Kozah 2", commune_funded_xof=4_000_000)]
    assert order(tied) == [2, 3, 1]
    # Led by women comes before the commune when both are chosen.
    tied.append(candidate(4, 7350, commune="Kloto 1", commune_funded_xof=12_000_000, led_by_women=True))
    assert order(tied) == [4, 2, 3, 1]


def test_then_to_the_earliest_submission():
    early, late = datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 20, 17, tzinfo=UTC)
    tied = [candidate(1, 7350, submitted_at=late), candidate(2, 7350, submitted_at=early),
            candidate(3, 7350, submitted_at=None)]
    assert order(tied) == [2, 1, 3]
    assert order(tied, ("led_by_women",)) == [1, 2, 3]  # rule not chosen: reference order


def test_the_score_always_comes_before_the_tie_breaks():
    ranked = [candidate(1, 7351), candidate(2, 7350, led_by_women=True, commune_funded_xof=0)]
    assert order(ranked) == [1, 2]


def test_the_rules_apply_in_their_fixed_order_whatever_the_order_given():
    assert parse_tie_breaks("earliest_submission,led_by_women,unknown") == ("led_by_women", "earliest_submission")
    assert parse_tie_breaks(["least_funded_commune"]) == ("least_funded_commune",)
    assert parse_tie_breaks("") == ()


def test_running_totals_and_the_envelope_line_at_the_exact_boundary():
    projects = [candidate(1, 9000, 4_000_000), candidate(2, 8000, 6_000_000), candidate(3, 7000, 1)]
    ranking = rank(projects, ALL_RULES, remaining_xof=10_000_000)
    assert [r.running_total_xof for r in ranking.rows] == [4_000_000, 10_000_000, 10_000_001]
    # The project that brings the total to exactly the remaining envelope fits; one franc more does not.
    assert [r.fits for r in ranking.rows] == [True, True, False]
    assert ranking.cutoff == 2
    assert ranking.fitting_count == 2
    assert ranking.total_requested_xof == 10_000_001


def test_no_line_when_everything_fits_and_a_line_at_the_top_when_nothing_does():
    assert rank([candidate(1, grant=5), candidate(2, grant=5)], (), 10).cutoff is None
    assert rank([candidate(1, grant=11)], (), 10).cutoff == 0
    assert rank([], (), 10).cutoff is None


def test_table_formats_scores_money_and_marks_the_line(app):
    projects = [candidate(1, 7350, 4_000_000, spread_flagged=True, status=ProjectStatus.QUALIFIED),
                candidate(2, 6000, 7_000_000)]
    with app.test_request_context():
        rows = table(rank(projects, ALL_RULES, 10_000_000), "fr", {2: "Ajourné"})
    assert rows[0]["score"] == "73,50 / 100"
    assert rows[0]["requested"] == "4\u202f000\u202f000\u00a0F\u202fCFA"
    assert rows[0]["flagged"] is True and rows[0]["line_before"] is False
    assert rows[1]["line_before"] is True and rows[1]["fits"] is False
    assert rows[1]["decision"] == "Ajourné"


def test_scores_read_as_points_out_of_100_in_each_language():
    assert format_score(7350, "fr") == "73,50 / 100"
    assert format_score(7350, "en") == "73.50 / 100"
    assert format_score(10000, "fr") == "100,00 / 100"
    assert format_score(5, "en") == "0.05 / 100"
    assert format_score(None, "fr") == ""
