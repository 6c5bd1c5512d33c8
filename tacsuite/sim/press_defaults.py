"""Defaults of the press experiment, shared by `press()` and `tacsuite sim press`.

Kept free of Taichi so the command line can build its options without starting it.
"""

DEFAULTS = {"indenter": "sphere", "radius": 5e-3, "depth": 2e-4, "E": 1e5, "nu": 0.3,
            "pad": (0.03, 0.03, 0.015), "steps": 3, "friction": 0.0, "growth": 1.35,
            "mesh_scale": 1.0}

INDENTERS = ("sphere", "cylinder", "box", "capsule", "mesh")
GRAD_NAMES = ("E", "nu", "depth", "kn", "friction")
