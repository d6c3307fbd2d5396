"""What the fact writers share while the period runs: chance, staff, customers, ids, follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfledger.simulation.customers import CustomerBase
from perfledger.simulation.preparation import Setup
from perfledger.simulation.roster import staffing
from perfledger.simulation.schedule import FollowUps


class SalesFloor:
    """The running state of the simulated business, and the CloudEvents envelope of its facts."""

    __slots__ = (
        "_event_prefix",
        "complaints",
        "customers",
        "days",
        "deals",
        "enterprise_deals",
        "expovariate",
        "follow_ups",
        "rand",
        "recorded",
        "renewals",
        "rng",
        "sessions",
        "staff",
        "tag",
    )

    def __init__(self, setup: Setup) -> None:
        period, seed = setup.period.name, setup.seed
        self.rng = setup.rng
        self.rand: Callable[[], float] = setup.rng.random
        self.expovariate: Callable[[float], float] = setup.rng.expovariate
        self.staff = staffing(setup.roster)
        self.customers = CustomerBase(seed, len(setup.roster))
        self.days = setup.period.days
        self.follow_ups = FollowUps(self.days)
        # Fact ids read `D-{tag}{n}` and so on; event ids `sim-{period}-{seed}-{n:07d}`.
        self.tag = f"{period}-{seed}-"
        self._event_prefix = f"sim-{self.tag}"
        self.recorded = self.deals = self.renewals = self.complaints = self.sessions = 0
        # Enterprise deals closed so far: (deal_id, customer_id, owner).
        self.enterprise_deals: list[tuple[str, str, str]] = []

    def record(self, source: str, kind: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
        """The CloudEvent of one decision or fact, numbered in recording order."""
        self.recorded += 1
        return {
            "specversion": "1.0",
            "id": f"{self._event_prefix}{self.recorded:07d}",
            "source": source,
            "type": kind,
            "time": time,
            "data": data,
        }
