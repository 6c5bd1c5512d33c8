"""Tactile manipulation tasks on the simulator's world: Gymnasium envs, native vector
envs and differentiable rollouts from one task definition per module (`task.py`)."""
