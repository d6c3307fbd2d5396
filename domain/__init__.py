"""The pure heart of perfledger: facts, decisions, plans, targets and the commission engine."""
