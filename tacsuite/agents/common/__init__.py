"""Pieces several agents share, written once: ridge statistics, bonuses and training loops
for linear agents; MLPs, a probabilistic dynamics ensemble, a mixture-density behaviour
policy, trajectory utilities and evaluation for the offline agents."""
