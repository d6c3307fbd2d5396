"""Domain errors: each carries a message a user can act on, naming the field at fault."""


class DomainError(Exception):
    """A request the ledger refuses, with the reason a user can act on."""


class InvalidInput(DomainError):
    """An event or document that fails validation; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PlanNotFound(DomainError):
    """No plan is published (or the named one does not exist)."""
