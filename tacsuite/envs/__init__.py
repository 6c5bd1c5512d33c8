"""Gymnasium environments of the suite (registered under the `tacsuite/` namespace)."""

from tacsuite.envs.registration import register_all, registered_ids

__all__ = ["register_all", "registered_ids"]
