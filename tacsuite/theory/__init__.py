"""Exact oracles and analytic references (numpy/scipy only; imports nothing else of ours)."""
