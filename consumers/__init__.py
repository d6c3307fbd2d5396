"""Kafka in and out: fact topics into the ledger, score updates out."""
