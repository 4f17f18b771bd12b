"""`python -m orchestrator` is the `sbsweep` command."""

from orchestrator.cli import main

main()
