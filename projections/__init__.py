"""Read models built from the ledger's notification log: tracked, exactly-once, rebuildable."""
