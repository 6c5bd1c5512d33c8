"""Pieces several agents share (written once): ridge statistics, bonuses, training loops."""
