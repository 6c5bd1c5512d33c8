"""tacsuite: contact-rich, theory-grounded reinforcement learning.

Importing the package registers every environment under the `tacsuite/` namespace, so
`gym.make("tacsuite/RiverSwim-v0")` works after `import tacsuite`. It starts no Taichi
runtime and imports no torch: both load only when a simulator or agent is used.
"""

from tacsuite.envs.registration import register_all as _register_all

__version__ = "0.1.0"

_register_all()
