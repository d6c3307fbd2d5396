"""The commission engine: `calculate(view, plan, rep_id) -> Statement`, pure and deterministic."""

from domain.engine.calculate import NO_REVENUE_TARGET, calculate, calculate_many
from domain.engine.statement import Line, Statement
from domain.engine.view import LedgerView, Recorded, RosterEntry, reps_in

__all__ = ["NO_REVENUE_TARGET", "LedgerView", "Line", "Recorded", "RosterEntry", "Statement",
           "calculate", "calculate_many", "reps_in"]
