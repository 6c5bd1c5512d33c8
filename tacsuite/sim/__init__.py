"""Differentiable tactile simulation in Taichi (no Gymnasium, no torch agents here).

Public names are loaded on first use (`tacsuite.sim.press` imports Taichi; `import
tacsuite.sim` alone stays light):

- `press`, `PressResult`: the quasi-static press experiment (force, contact radius,
  adjoint gradients of the force or of any loss of the displacement);
- `QuasiStaticGel`, `FrictionalQuasiStaticGel`: Newton-PCG equilibrium solvers with
  adjoints; `NotConverged`, `GradientNotConverged`, `FrictionNotConverged`: their failures;
- `Sphere`, `Cylinder`, `Box`, `Capsule`, `make_indenter`, `MeshSDFIndenter`: indenters;
- `TetMesh`, `structured_box`, `box_pad`, `dome_pad`: gel meshes; `SurfaceHash`: contact
  queries against the gel surface;
- `ensure_init`: start Taichi (architecture from TACSUITE_ARCH).
"""

from __future__ import annotations

import importlib

_WHERE = {
    "press": "press", "PressResult": "press",
    "QuasiStaticGel": "statics", "NotConverged": "statics", "GradientNotConverged": "statics",
    "FrictionalQuasiStaticGel": "friction_statics", "FrictionNotConverged": "friction_statics",
    "Sphere": "indenters", "Cylinder": "indenters", "Box": "indenters", "Capsule": "indenters",
    "make_indenter": "indenters", "MeshSDFIndenter": "sdf_grid",
    "TetMesh": "mesh", "structured_box": "mesh", "box_pad": "meshing", "dome_pad": "meshing",
    "SurfaceHash": "spatial_hash", "ensure_init": "backend",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'tacsuite.sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tacsuite.sim.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
