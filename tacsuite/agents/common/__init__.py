"""Pieces shared by the agents: MLPs and their training loop, a probabilistic dynamics
ensemble, a mixture-density behaviour policy, trajectory utilities and evaluation."""
