"""Plans (SPEC §6): validated when published, errors name the key, identified by sha256."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import InvalidInput
from domain.plan import parse_plan
from tests.builders import PLAN_YAML

SAMPLE = (Path(__file__).resolve().parents[2] / "perfledger" / "samples" / "plan.yaml").read_text()
MINIMAL = PLAN_YAML.format(proration="time_weighted")


def refusal(document: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_plan(document)
    return refused.value


def test_the_spec_sample_plan_is_valid_with_every_section() -> None:
    plan = parse_plan(SAMPLE)

    assert plan.ref == "enterprise-2026@1"
    assert plan.currency == "USD"
    assert [(t.up_to, t.rate) for t in plan.commission.tiers] == [
        (Decimal("0.5"), Decimal("0.04")), (Decimal("1.0"), Decimal("0.08")), (None, Decimal("0.12"))]
    assert plan.renewals is not None
    assert plan.renewals.count_toward_attainment is False
    assert plan.units is not None
    assert (plan.units.block, plan.units.amount) == (100, Decimal("50.00"))
    assert plan.clawback is not None
    assert plan.clawback.cancellation_window_days == 180
    assert plan.scorecard is not None
    assert plan.scorecard.weights["quality"] == Decimal("0.2")
    assert plan.cap is not None
    assert plan.cap.max_total == Decimal("100000.00")


def test_only_id_version_currency_and_commission_are_required() -> None:
    plan = parse_plan(MINIMAL)

    assert plan.target_proration == "time_weighted"
    assert (plan.renewals, plan.delivery_bonus, plan.units, plan.clawback, plan.team_bonus,
            plan.scorecard, plan.cap) == (None, None, None, None, None, None, None)


def test_the_plan_is_identified_by_the_sha256_of_the_document_as_published() -> None:
    plan = parse_plan(SAMPLE)

    assert plan.sha256 == hashlib.sha256(SAMPLE.encode()).hexdigest()


def test_any_edit_to_the_document_changes_the_hash_even_a_comment() -> None:
    assert parse_plan(SAMPLE + "# reviewed\n").sha256 != parse_plan(SAMPLE).sha256


def test_a_missing_commission_section_is_refused_naming_commission() -> None:
    document = "id: p\nversion: 1\ncurrency: USD\n"

    reason = refusal(document)

    assert (reason.field, reason.message) == ("commission", "is required")


@pytest.mark.parametrize("key", ["id", "version", "currency"])
def test_every_required_key_is_named_when_missing(key: str) -> None:
    document = "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(f"{key}:"))

    assert refusal(document).field == key


def test_a_rate_above_1_is_refused_naming_that_tiers_rate() -> None:
    document = MINIMAL.replace('{up_to: "1.0", rate: "0.08"}', '{up_to: "1.0", rate: "1.5"}')

    reason = refusal(document)

    assert reason.field == "commission.tiers.1.rate"


def test_a_negative_rate_is_refused_naming_the_key() -> None:
    reason = refusal(MINIMAL + 'renewals: {rate: "-0.03"}\n')

    assert reason.field == "renewals.rate"


def test_tiers_not_ascending_are_refused_naming_commission_tiers() -> None:
    document = MINIMAL.replace('up_to: "1.0"', 'up_to: "0.4"')

    reason = refusal(document)

    assert reason.field == "commission.tiers"
    assert "ascending" in reason.message


def test_two_tiers_with_the_same_bound_are_refused() -> None:
    assert refusal(MINIMAL.replace('up_to: "1.0"', 'up_to: "0.5"')).field == "commission.tiers"


def test_a_last_tier_with_an_upper_bound_is_refused() -> None:
    document = MINIMAL.replace('{rate: "0.12"}', '{up_to: "2.0", rate: "0.12"}')

    assert refusal(document).field == "commission.tiers"


def test_a_negative_scorecard_weight_is_refused_naming_the_weight() -> None:
    document = MINIMAL + 'scorecard:\n  weights: {revenue: "0.5", quality: "-0.2"}\n'

    assert refusal(document).field == "scorecard.weights.quality"


def test_an_unknown_key_is_refused_naming_it() -> None:
    assert refusal(MINIMAL + 'bonus_pool: {rate: "0.1"}\n').field == "bonus_pool"


def test_a_float_rate_is_refused_rates_are_decimal_strings() -> None:
    document = MINIMAL.replace('rate: "0.04"', "rate: 0.04")

    assert refusal(document).field == "commission.tiers.0.rate"


def test_an_unknown_proration_is_refused() -> None:
    document = PLAN_YAML.format(proration="linear")

    assert refusal(document).field == "target_proration"


def test_a_document_that_is_not_yaml_or_not_a_mapping_is_refused_naming_plan() -> None:
    assert refusal("id: [unclosed").field == "plan"
    assert refusal("- just\n- a list\n").field == "plan"
