"""The customers deals are closed with: an existing base, then new ones numbered after it."""

from __future__ import annotations


class CustomerBase:
    """Customer ids `C-{seed}-{n}`: enterprise accounts first, consumers next, then new ones."""

    __slots__ = ("_consumer_base", "_enterprise_base", "_last_number", "_prefix", "enterprise")

    def __init__(self, seed: int, reps: int) -> None:
        self._prefix = f"C-{seed}-"
        self._enterprise_base = max(20, 4 * reps)
        self._consumer_base = max(100, 40 * reps)
        self._last_number = self._enterprise_base + self._consumer_base
        # Enterprise accounts: the existing base, then those won during the period.
        self.enterprise = [f"{self._prefix}{number + 1}" for number in range(self._enterprise_base)]

    def won(self) -> str:
        """A new customer's id."""
        self._last_number += 1
        return f"{self._prefix}{self._last_number}"

    def won_enterprise(self) -> str:
        """A new enterprise account's id."""
        customer = self.won()
        self.enterprise.append(customer)
        return customer

    def existing_consumer(self, draw: float) -> str:
        """The consumer of the existing base picked by a uniform `draw` in [0, 1)."""
        return f"{self._prefix}{self._enterprise_base + 1 + int(draw * self._consumer_base)}"

    def existing_enterprise(self, draw: float) -> str:
        """The enterprise account of the existing base picked by a uniform `draw` in [0, 1)."""
        return self.enterprise[int(draw * self._enterprise_base)]

    def any_enterprise(self, draw: float) -> str:
        """The enterprise account, existing or won so far, picked by a uniform `draw` in [0, 1)."""
        return self.enterprise[int(draw * len(self.enterprise))]
