"""Implementations of the `tacsuite` sub-commands (thin layers over library calls)."""
