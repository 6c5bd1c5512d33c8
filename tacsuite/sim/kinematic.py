"""Kinematic rigid bodies: shapes moved by actions, seen by contact pairs through an SDF.

`KinematicRigid(name, shape, pose)` wraps any indenter shape of `indenters.py` or
`sdf_grid.py` (sphere, cylinder, box, capsule, mesh SDF): its signed distance in its own
frame is the shape's `sdf(q, 0)` with the shape's pose 0 at the origin. The body's world
pose per environment is an action (x, y, z, rotation vector), interpolated over the
substeps; the velocity of its material point at x is the finite difference of that point
carried from pose slot g to g + 1 (consistent with the gel's bonded nodes). Contact
forces and their torques about the body origin are accumulated per environment and
substep (`wrench()` reads the last substep of the last control step).
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.indenters import Indenter
from tacsuite.sim.se3 import as_poses, rot, rot_t
from tacsuite.sim.world import Body, PoseTrack

ti = import_taichi()


@ti.data_oriented
class KinematicRigid(Body):
    kind = "kinematic-rigid"
    is_sdf_side = True
    has_internal = False
    has_integrate = False

    def __init__(self, name: str, shape: Indenter, pose=(0, 0, 0, 0, 0, 0)):
        super().__init__(name)
        if not isinstance(shape, Indenter):
            raise ValueError(f"shape must be an indenter shape (Sphere, Box, Cylinder, Capsule, "
                             f"MeshSDFIndenter), got {type(shape).__name__}")
        self.shape = shape
        self._init_pose = pose

    def allocate(self, world) -> None:
        if self.shape.dtype != world.dtype:
            raise ValueError(f"shape of {self.name!r} has dtype {self.shape.dtype}; create it "
                             f"with dtype={world.dtype} (the world's)")
        self.shape.set_pose([0.0, 0.0, 0.0], 0)
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.fdtype = B, f
        self.pose_track = PoseTrack(world)
        self.initial_pose = as_poses(self._init_pose, B, f"initial pose of {self.name!r}")
        self.force_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)
        self.torque_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)

    def accumulator_fields(self) -> dict:
        return {"force": self.force_acc, "torque": self.torque_acc}

    def set_initial(self, pose) -> None:
        self.initial_pose = as_poses(pose, self.B, f"initial pose of {self.name!r}")

    def pose(self) -> np.ndarray:
        """(B, 6) current pose."""
        return self.world._pose_now[self.name].copy()

    def wrench(self) -> tuple[np.ndarray, np.ndarray]:
        """(force, torque about the origin) (B, 3) each, at the last substep."""
        w = self.world
        return w.io.read(self.force_acc, w.last_force_slot), w.io.read(self.torque_acc,
                                                                         w.last_force_slot)

    # ----- SDF side of contact pairs -----------------------------------------------------
    @ti.func
    def frame(self, b, t, g):
        return self.pose_track.p[b, g], self.pose_track.R[b, g]

    @ti.func
    def local_sdf(self, b, q):
        return self.shape.sdf(q, 0)

    @ti.func
    def point_velocity(self, b, t, g, x):
        tr = self.pose_track
        q = rot_t(tr.R[b, g], x - tr.p[b, g])
        x1 = rot(tr.R[b, g + 1], q) + tr.p[b, g + 1]
        return (x1 - x) / self.world.dt_field[None]

    @ti.func
    def add_wrench(self, b, t, g, x, force):
        self.force_acc[b, t] += force
        self.torque_acc[b, t] += (x - self.pose_track.p[b, g]).cross(force)

    @ti.func
    def clear_wrench(self, b, t1):
        self.force_acc[b, t1] = ti.Vector.zero(self.fdtype, 3)
        self.torque_acc[b, t1] = ti.Vector.zero(self.fdtype, 3)
