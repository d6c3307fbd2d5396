"""`python -m perfledger` runs the command line."""

from perfledger.cli import main

main()
