"""A seeded, deterministic simulation of a sales period as CloudEvents (SPEC §2-4).

`simulate(period, reps, seed)` yields the events of one quarter (`YYYY-Qn`) or month (`YYYY-MM`)
in recording order, ready to be ingested in one pass:

1. `roster.assigned` for every rep (teams of about eight: a team lead who is also an enterprise
   account executive, one presales engineer, one aftersales / customer-success rep, two more
   enterprise AEs and consumer-app reps for the rest);
2. the annual-plan `target.set` decisions: per rep `revenue`, `new_customers`,
   `coaching_minutes` and, for some reps, `complaint_allowance`; one `org` revenue target and
   revenue targets for a couple of teams;
3. the facts in business-time order, with a mid-period revision of the revenue target of about a
   tenth of the reps ("competitor price cut") recorded on the middle day of the period.

The same arguments always give the same events: one `random.Random(seed)` drives everything and
no clock, uuid or global state is read. Facts are spread over the days of the period (weekdays
busier than weekends, a rush in the closing days); lifecycle facts (`deal.delivered`,
`deal.cancelled`) and complaints about a deal are scheduled when the deal closes, on a later day,
and dropped when they would fall after the period. When `events` is given the output has exactly
that many events: every day has a fixed number of slots, follow-ups due that day are given slots
first (at random places in the day) and new facts fill the rest.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInput
from domain.periods import Period

__all__ = ["simulate"]

_CURRENCY = "USD"
_APPROVER = "vp-sales"
_PLAN_REASON = "annual plan"
_REVISION_REASON = "competitor price cut"
_REVISION_FACTOR_PERCENT = 75
_REVISED_SHARE = 0.10

_EVENTS_PER_REP_QUARTER = 100
_EVENTS_PER_REP_MONTH = 35
_TEAM_SIZE = 8

# Business hours of facts, in seconds after midnight UTC: 07:00:00 to 20:59:59.
_DAY_OPEN = 7 * 3600
_DAY_SPAN = 14 * 3600

# Share of each new (not follow-up) fact, as cumulative thresholds on one uniform draw.
_P_ENTERPRISE = 0.024
_P_RENEWAL = _P_ENTERPRISE + 0.040
_P_COACHING = _P_RENEWAL + 0.030
_P_SUPPORT_COMPLAINT = _P_COACHING + 0.004
# The rest are consumer deals.

_ROLE_ENTERPRISE = "enterprise"
_ROLE_PRESALES = "presales"
_ROLE_AFTERSALES = "aftersales"
_ROLE_CONSUMER = "consumer"

# Split patterns of an enterprise deal: (cumulative probability, helpers and their splits).
_SPLIT_PATTERNS: tuple[tuple[float, tuple[tuple[str, str], ...]], ...] = (
    (0.20, ()),
    (0.50, ((_ROLE_PRESALES, "0.3"),)),
    (0.85, ((_ROLE_PRESALES, "0.3"), (_ROLE_AFTERSALES, "0.1"))),
    (0.95, ((_ROLE_AFTERSALES, "0.2"),)),
    (1.00, ((_ROLE_PRESALES, "0.25"), (_ROLE_AFTERSALES, "0.25"))),
)

_COACHING_TOPICS = (
    "discovery calls",
    "demo skills",
    "objection handling",
    "negotiation",
    "pricing against a low-cost competitor",
    "pipeline review",
    "account planning",
    "closing",
    "customer onboarding",
)

_UNIT_PRICES_CENTS = (499, 999, 999, 1499, 1999)

# Follow-up kinds scheduled when a deal closes.
_DELIVERED = 0
_CANCELLED = 1
_COMPLAINT = 2


def _owner_split(helper_splits: tuple[str, ...]) -> str:
    """The owner's share: exactly one minus the helpers' splits, as a plain decimal string."""
    share = Decimal(1) - sum((Decimal(split) for split in helper_splits), Decimal(0))
    return format(share.normalize(), "f")


_OWNER_SPLITS: dict[tuple[str, ...], str] = {}


def _owner_split_of(helper_splits: tuple[str, ...]) -> str:
    split = _OWNER_SPLITS.get(helper_splits)
    if split is None:
        split = _OWNER_SPLITS[helper_splits] = _owner_split(helper_splits)
    return split


def _parse_period(period: str) -> Period:
    """The period named `YYYY-Qn` or `YYYY-MM`, or ValueError naming `period`."""
    if not isinstance(period, str):
        raise ValueError(f"period: expected YYYY-Qn or YYYY-MM, got {period!r}")
    try:
        return Period.parse(period)
    except InvalidInput as error:
        raise ValueError(str(error)) from None


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class _Rep:
    rep_id: str
    team: int
    role: str


@dataclass
class _Setup:
    """Everything decided before the first event is yielded."""

    period: Period
    seed: int
    rng: random.Random
    reps: list[_Rep]
    decisions: list[tuple[str, dict[str, Any]]]
    revisions: list[dict[str, Any]]
    revision_day: int
    slots: list[int]


def simulate(
    period: str, reps: int, seed: int, events: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the CloudEvents of a simulated period, in recording order.

    `period` is `YYYY-Qn` or `YYYY-MM`; `reps` the number of sales reps (at least 1); `seed` makes
    the output reproducible; `events`, when given, is the exact number of events produced, the
    roster and target decisions included (otherwise about 100 per rep for a quarter, 35 for a
    month). Arguments are checked at once: a bad one raises ValueError naming it.
    """
    setup = _prepare(period, reps, seed, events)
    return _stream(setup)


def _prepare(period: str, reps: int, seed: int, events: int | None) -> _Setup:
    parsed = _parse_period(period)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps: expected a whole number >= 1, got {reps!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: expected a whole number, got {seed!r}")
    if events is not None and (isinstance(events, bool) or not isinstance(events, int)):
        raise ValueError(f"events: expected a whole number or None, got {events!r}")

    rng = random.Random(seed)
    roster = _roster(reps)
    team_count = roster[-1].team + 1
    team_ids = [f"team-{number + 1:02d}" for number in range(team_count)]
    decisions, revenue_cents = _plan_decisions(rng, parsed, roster, team_ids)

    revision_day = parsed.days // 2
    revised_count = max(1, round(reps * _REVISED_SHARE))
    revised = sorted(rng.sample(range(reps), revised_count))
    revision_date = (parsed.first_day + timedelta(days=revision_day)).isoformat()
    revisions = [
        _target(
            f"rep:{roster[index].rep_id}",
            "revenue",
            _money(revenue_cents[index] * _REVISION_FACTOR_PERCENT // 100),
            period=parsed.name,
            effective_from=revision_date,
            reason=_REVISION_REASON,
        )
        for index in revised
    ]

    needed = len(decisions) + len(revisions)
    if events is None:
        per_rep = _EVENTS_PER_REP_QUARTER if parsed.is_quarter else _EVENTS_PER_REP_MONTH
        events = max(per_rep * reps, needed)
    elif events < needed:
        raise ValueError(
            f"events: {events} is too few; {reps} reps need at least {needed} "
            "for the roster and target decisions"
        )
    slots = _daily_slots(parsed, events - needed)
    return _Setup(parsed, seed, rng, roster, decisions, revisions, revision_day, slots)


def _roster(reps: int) -> list[_Rep]:
    """Teams of about eight; within a team: lead AE, presales, aftersales, two AEs, consumer."""
    team_count = max(1, (reps + _TEAM_SIZE // 2) // _TEAM_SIZE)
    roster: list[_Rep] = []
    slot = 0
    for index in range(reps):
        team = index * team_count // reps
        if index and team != roster[-1].team:
            slot = 0
        if slot in (0, 3, 4):
            role = _ROLE_ENTERPRISE
        elif slot == 1:
            role = _ROLE_PRESALES
        elif slot == 2:
            role = _ROLE_AFTERSALES
        else:
            role = _ROLE_CONSUMER
        roster.append(_Rep(f"rep-{index + 1:04d}", team, role))
        slot += 1
    return roster


def _target(
    scope: str, metric: str, value: str, *, period: str, effective_from: str, reason: str
) -> dict[str, Any]:
    return {
        "scope": scope,
        "metric": metric,
        "period": period,
        "value": value,
        "effective_from": effective_from,
        "reason": reason,
        "approved_by": _APPROVER,
    }


# Revenue targets per quarter in thousands of USD: (low, high, step).
_REVENUE_RANGES = {
    _ROLE_ENTERPRISE: (150, 400, 5),
    _ROLE_CONSUMER: (20, 60, 1),
    _ROLE_PRESALES: (60, 150, 5),
    _ROLE_AFTERSALES: (20, 60, 5),
}
# New-customer targets per quarter: (low, high).
_NEW_CUSTOMER_RANGES = {
    _ROLE_ENTERPRISE: (1, 4),
    _ROLE_CONSUMER: (10, 40),
    _ROLE_PRESALES: (1, 1),
    _ROLE_AFTERSALES: (1, 1),
}


def _plan_decisions(
    rng: random.Random, period: Period, roster: list[_Rep], team_ids: list[str]
) -> tuple[list[tuple[str, dict[str, Any]]], list[int]]:
    """The roster and annual-plan targets, and each rep's revenue target in cents."""
    start = period.first_day.isoformat()
    decisions: list[tuple[str, dict[str, Any]]] = [
        (
            "roster.assigned",
            {"rep_id": rep.rep_id, "team_id": team_ids[rep.team], "effective_from": start},
        )
        for rep in roster
    ]
    revenue_cents: list[int] = []

    def plan(scope: str, metric: str, value: str) -> dict[str, Any]:
        return _target(
            scope, metric, value, period=period.name, effective_from=start, reason=_PLAN_REASON
        )

    for rep in roster:
        low, high, step = _REVENUE_RANGES[rep.role]
        thousands = rng.randrange(low, high + 1, step)
        if not period.is_quarter:
            thousands = max(1, round(thousands / 3))
        revenue_cents.append(thousands * 100_000)
        low, high = _NEW_CUSTOMER_RANGES[rep.role]
        new_customers = rng.randint(low, high)
        if not period.is_quarter:
            new_customers = max(1, round(new_customers / 3))
        coaching = rng.randrange(120, 601, 30) if period.is_quarter else rng.randrange(40, 201, 10)
        scope = f"rep:{rep.rep_id}"
        values = [
            ("revenue", _money(revenue_cents[-1])),
            ("new_customers", str(new_customers)),
            ("coaching_minutes", str(coaching)),
        ]
        if rng.random() < 0.3:
            allowance = rng.randint(4, 12) if period.is_quarter else rng.randint(2, 6)
            values.append(("complaint_allowance", str(allowance)))
        decisions.extend(("target.set", plan(scope, metric, value)) for metric, value in values)

    decisions.append(("target.set", plan("org", "revenue", _money(sum(revenue_cents)))))
    for team in range(min(2, len(team_ids))):
        members = sum(
            cents for rep, cents in zip(roster, revenue_cents, strict=True) if rep.team == team
        )
        stretch_thousands = max(1, round(members * 11 / 10 / 100_000))
        decisions.append(
            (
                "target.set",
                plan(f"team:{team_ids[team]}", "revenue", _money(stretch_thousands * 100_000)),
            )
        )
    return decisions, revenue_cents


def _daily_slots(period: Period, facts: int) -> list[int]:
    """Split `facts` over the days: weekdays busier than weekends, a rush at the end."""
    rush = 10 if period.is_quarter else 5
    weights: list[int] = []
    for offset in range(period.days):
        weekday = (period.first_day + timedelta(days=offset)).weekday()
        closing = offset >= period.days - rush
        if weekday >= 5:
            weights.append(3 if closing else 2)
        else:
            weights.append(13 if closing else 8)
    total = sum(weights)
    counts = [facts * weight // total for weight in weights]
    left = facts - sum(counts)
    by_remainder = sorted(
        range(period.days), key=lambda day: (-(facts * weights[day] % total), day)
    )
    for day in by_remainder[:left]:
        counts[day] += 1
    return counts


def _stream(setup: _Setup) -> Iterator[dict[str, Any]]:  # noqa: PLR0912, PLR0915
    period = setup.period
    seed = setup.seed
    rng = setup.rng
    roster = setup.reps
    rand = rng.random
    expovariate = rng.expovariate

    counter = 0
    id_prefix = f"sim-{period.name}-{seed}-"

    def envelope(source: str, kind: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        return {
            "specversion": "1.0",
            "id": f"{id_prefix}{counter:07d}",
            "source": source,
            "type": kind,
            "time": time,
            "data": data,
        }

    opening = f"{period.first_day.isoformat()}T00:00:00Z"
    for kind, data in setup.decisions:
        yield envelope("salesops", kind, opening, data)

    # Who does what.
    rep_ids = [rep.rep_id for rep in roster]
    enterprise = [rep.rep_id for rep in roster if rep.role == _ROLE_ENTERPRISE]
    consumer = [rep.rep_id for rep in roster if rep.role == _ROLE_CONSUMER] or enterprise
    helpers = [rep.rep_id for rep in roster if rep.role in (_ROLE_PRESALES, _ROLE_AFTERSALES)]
    aftersales = [rep.rep_id for rep in roster if rep.role == _ROLE_AFTERSALES]
    team_of = {rep.rep_id: rep.team for rep in roster}
    presales_of: dict[int, str] = {}
    aftersales_of: dict[int, str] = {}
    members_of: dict[int, list[str]] = {}
    for rep in roster:
        members_of.setdefault(rep.team, []).append(rep.rep_id)
        if rep.role == _ROLE_PRESALES:
            presales_of.setdefault(rep.team, rep.rep_id)
        elif rep.role == _ROLE_AFTERSALES:
            aftersales_of.setdefault(rep.team, rep.rep_id)
    leads = [members[0] for _, members in sorted(members_of.items())]
    coachees_of = {lead: members_of[team][1:] for team, lead in enumerate(leads)}
    helper_of = {_ROLE_PRESALES: presales_of, _ROLE_AFTERSALES: aftersales_of}
    n_reps = len(rep_ids)
    n_enterprise = len(enterprise)
    n_consumer = len(consumer)
    n_helpers = len(helpers)
    n_aftersales = len(aftersales)
    n_leads = len(leads)
    # A lone rep has nobody to coach: no coaching sessions then.
    p_coaching = _P_COACHING if n_reps > 1 else _P_RENEWAL
    p_support_complaint = p_coaching + (_P_SUPPORT_COMPLAINT - _P_COACHING)

    # Customers: an existing base, then new ones numbered after it.
    customer_prefix = f"C-{seed}-"
    enterprise_base = max(20, 4 * n_reps)
    consumer_base = max(100, 40 * n_reps)
    next_customer = enterprise_base + consumer_base
    enterprise_customers = [f"{customer_prefix}{number + 1}" for number in range(enterprise_base)]

    deal_prefix = f"D-{period.name}-{seed}-"
    renewal_prefix = f"R-{period.name}-{seed}-"
    complaint_prefix = f"CMP-{period.name}-{seed}-"
    session_prefix = f"CS-{period.name}-{seed}-"
    deals = renewals = complaints = sessions = 0
    # Enterprise deals closed so far: (deal_id, customer_id, owner).
    enterprise_deals: list[tuple[str, str, str]] = []

    days = period.days
    due: list[list[tuple[Any, ...]] | None] = [None] * days
    pending: list[tuple[Any, ...]] = []
    head = 0

    def schedule(day: int, item: tuple[Any, ...]) -> None:
        if day < days:
            bucket = due[day]
            if bucket is None:
                due[day] = [item]
            else:
                bucket.append(item)

    for day in range(days):
        current = period.first_day + timedelta(days=day)
        prefix = f"{current.isoformat()}T"
        if day == setup.revision_day:
            for data in setup.revisions:
                yield envelope("salesops", "target.set", f"{prefix}00:00:00Z", data)
        bucket = due[day]
        if bucket is not None:
            pending.extend(bucket)
            due[day] = None
        if head and head * 2 > len(pending):
            del pending[:head]
            head = 0
        slots = setup.slots[day]
        if not slots:
            continue
        follow_ups = min(len(pending) - head, slots)
        visible_deals = len(enterprise_deals)
        step = _DAY_SPAN / slots
        for slot in range(slots):
            seconds = _DAY_OPEN + int((slot + rand()) * step)
            minutes, second = divmod(seconds, 60)
            hour, minute = divmod(minutes, 60)
            time = f"{prefix}{hour:02d}:{minute:02d}:{second:02d}Z"

            if follow_ups and rand() * (slots - slot) < follow_ups:
                follow_ups -= 1
                item = pending[head]
                head += 1
                kind = item[0]
                if kind == _DELIVERED:
                    yield envelope("crm", "deal.delivered", time, {"deal_id": item[1]})
                elif kind == _CANCELLED:
                    yield envelope(
                        "crm", "deal.cancelled", time, {"deal_id": item[1], "reason": item[2]}
                    )
                else:
                    complaints += 1
                    yield envelope(
                        "support",
                        "complaint.logged",
                        time,
                        {
                            "complaint_id": f"{complaint_prefix}{complaints}",
                            "customer_id": item[2],
                            "rep_id": item[3],
                            "deal_id": item[1],
                            "severity": item[4],
                            "category": item[5],
                        },
                    )
                continue

            draw = rand()
            if draw >= p_support_complaint:
                # A consumer-app deal: one owner, units of licences.
                deals += 1
                deal_id = f"{deal_prefix}{deals}"
                owner = consumer[int(rand() * n_consumer)]
                units = min(500, 1 + int(expovariate(0.07)))
                cents = units * _UNIT_PRICES_CENTS[int(rand() * 5)]
                cents = 5_000 if cents < 5_000 else min(cents, 500_000)
                if rand() < 0.15:
                    next_customer += 1
                    customer = f"{customer_prefix}{next_customer}"
                    new_customer = True
                else:
                    number = enterprise_base + 1 + int(rand() * consumer_base)
                    customer = f"{customer_prefix}{number}"
                    new_customer = False
                yield envelope(
                    "crm",
                    "deal.closed",
                    time,
                    {
                        "deal_id": deal_id,
                        "customer_id": customer,
                        "product_line": "consumer",
                        "amount": f"{cents // 100}.{cents % 100:02d}",
                        "currency": _CURRENCY,
                        "new_customer": new_customer,
                        "units": units,
                        "credits": [{"rep_id": owner, "role": "owner", "split": "1"}],
                    },
                )
                follow = rand()
                if follow < 0.03:
                    reason = "refund" if rand() < 0.8 else "churn"
                    schedule(day + 1 + int(rand() * 14), (_CANCELLED, deal_id, reason))
                elif follow < 0.045:
                    category = ("billing", "support", "support", "overpromised")[int(rand() * 4)]
                    severity = "low" if rand() < 0.7 else "medium"
                    schedule(
                        day + 1 + int(rand() * 20),
                        (_COMPLAINT, deal_id, customer, owner, severity, category),
                    )
            elif draw < _P_ENTERPRISE:
                # An enterprise deal, often won with presales and aftersales.
                deals += 1
                deal_id = f"{deal_prefix}{deals}"
                if n_helpers and rand() < 0.1:
                    owner = helpers[int(rand() * n_helpers)]
                else:
                    owner = enterprise[int(rand() * n_enterprise)]
                team = team_of[owner]
                pick = rand()
                pattern = next(p for limit, p in _SPLIT_PATTERNS if pick < limit)
                helper_credits = []
                for role, split in pattern:
                    helper = helper_of[role].get(team)
                    if helper is not None and helper != owner:
                        helper_credits.append({"rep_id": helper, "role": role, "split": split})
                owner_split = _owner_split_of(tuple(c["split"] for c in helper_credits))
                dollars = min(250_000, 10_000 + int(expovariate(1 / 40_000)))
                dollars -= dollars % 10
                if rand() < 0.4:
                    next_customer += 1
                    customer = f"{customer_prefix}{next_customer}"
                    enterprise_customers.append(customer)
                    new_customer = True
                else:
                    customer = enterprise_customers[int(rand() * len(enterprise_customers))]
                    new_customer = False
                yield envelope(
                    "crm",
                    "deal.closed",
                    time,
                    {
                        "deal_id": deal_id,
                        "customer_id": customer,
                        "product_line": "enterprise",
                        "amount": f"{dollars}.00",
                        "currency": _CURRENCY,
                        "new_customer": new_customer,
                        "units": 0,
                        "segment": "large" if dollars >= 100_000 else "mid-market",
                        "credits": [
                            {"rep_id": owner, "role": "owner", "split": owner_split},
                            *helper_credits,
                        ],
                    },
                )
                enterprise_deals.append((deal_id, customer, owner))
                cancel_day = days
                if rand() < 0.03:
                    cancel_day = day + 5 + int(rand() * 56)
                    reason = "churn" if rand() < 0.6 else "refund"
                    schedule(cancel_day, (_CANCELLED, deal_id, reason))
                if rand() < 0.6:
                    delivery_day = day + 3 + int(rand() * 28)
                    if delivery_day < cancel_day:
                        schedule(delivery_day, (_DELIVERED, deal_id))
                if rand() < 0.1:
                    category = _enterprise_complaint_category(rand())
                    severity = _severity(rand(), category)
                    schedule(
                        day + 2 + int(rand() * 44),
                        (_COMPLAINT, deal_id, customer, owner, severity, category),
                    )
            elif draw < _P_RENEWAL:
                # A renewal booked by billing, credited to one owner.
                renewals += 1
                renewed_deal = None
                if visible_deals and rand() < 0.25:
                    renewed_deal, customer, owner = enterprise_deals[int(rand() * visible_deals)]
                else:
                    customer = enterprise_customers[int(rand() * enterprise_base)]
                    if n_aftersales and rand() < 0.6:
                        owner = aftersales[int(rand() * n_aftersales)]
                    elif n_enterprise:
                        owner = enterprise[int(rand() * n_enterprise)]
                    else:
                        owner = rep_ids[int(rand() * n_reps)]
                dollars = min(150_000, 2_000 + int(expovariate(1 / 18_000)))
                dollars -= dollars % 10
                term = rand()
                renewal: dict[str, Any] = {
                    "renewal_id": f"{renewal_prefix}{renewals}",
                    "customer_id": customer,
                }
                if renewed_deal is not None:
                    renewal["deal_id"] = renewed_deal
                renewal["amount"] = f"{dollars}.00"
                renewal["currency"] = _CURRENCY
                renewal["term_months"] = 12 if term < 0.6 else (24 if term < 0.88 else 36)
                renewal["credits"] = [{"rep_id": owner, "role": "owner", "split": "1"}]
                yield envelope("billing", "renewal.booked", time, renewal)
            elif draw < p_coaching:
                # A team lead coaches members of the team; now and then the head of sales
                # (lead of the first team) coaches the other leads.
                sessions += 1
                if n_leads > 1 and rand() < 0.1:
                    coach = leads[0]
                    pool = leads[1:]
                else:
                    coach = leads[int(rand() * n_leads)]
                    pool = coachees_of[coach] or [rep for rep in rep_ids if rep != coach]
                wanted = min(len(pool), 1 + int(rand() * 3))
                coachees = (
                    rng.sample(pool, wanted) if wanted > 1 else [pool[int(rand() * len(pool))]]
                )
                yield envelope(
                    "lms",
                    "coaching.session_held",
                    time,
                    {
                        "session_id": f"{session_prefix}{sessions}",
                        "coach_id": coach,
                        "rep_ids": coachees,
                        "topic": _COACHING_TOPICS[int(rand() * len(_COACHING_TOPICS))],
                        "minutes": 15 + 5 * int(rand() * 22),
                    },
                )
            else:
                # A support or billing complaint not tied to a deal.
                complaints += 1
                if rand() < 0.5:
                    customer = enterprise_customers[int(rand() * enterprise_base)]
                else:
                    number = enterprise_base + 1 + int(rand() * consumer_base)
                    customer = f"{customer_prefix}{number}"
                yield envelope(
                    "support",
                    "complaint.logged",
                    time,
                    {
                        "complaint_id": f"{complaint_prefix}{complaints}",
                        "customer_id": customer,
                        "rep_id": rep_ids[int(rand() * n_reps)],
                        "severity": "low" if rand() < 0.75 else "medium",
                        "category": "support" if rand() < 0.6 else "billing",
                    },
                )


def _enterprise_complaint_category(draw: float) -> str:
    if draw < 0.35:
        return "overpromised"
    if draw < 0.65:
        return "late delivery"
    if draw < 0.80:
        return "billing"
    return "support"


def _severity(draw: float, category: str) -> str:
    if category == "overpromised":
        high, medium = 0.45, 0.80
    else:
        high, medium = 0.10, 0.50
    if draw < high:
        return "high"
    return "medium" if draw < medium else "low"
