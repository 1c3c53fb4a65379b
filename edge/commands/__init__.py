"""Subcommands of `emotions` that run the vision pipeline without the UI (classify, watch, bench)."""
