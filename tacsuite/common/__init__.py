"""Shared plumbing: seeding, run directories, atomic files, progress, statistics, plots."""
