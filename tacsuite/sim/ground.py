"""The ground: a fixed half-space, the signed-distance side of contact pairs.

The plane passes through `point` with outward unit `normal` (both per environment, so a
batch can tilt it); its frame has the normal as local z, so the signed distance of the
local point q is q_z. Material points of the ground do not move. The force contacts
exert on it (and the torque about `point`) is accumulated per substep for read-out.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.world import Body

ti = import_taichi()


def plane_frame(normal) -> np.ndarray:
    """A rotation whose third column is the unit normal (first column in the x-z plane
    when possible), so tilting the normal about y keeps the frame's y axis horizontal."""
    n = np.asarray(normal, dtype=np.float64)
    if n.shape != (3,) or not np.all(np.isfinite(n)) or not np.linalg.norm(n) > 0:
        raise ValueError(f"ground normal must be a finite non-zero 3-vector, got {normal!r}")
    n = n / np.linalg.norm(n)
    ref = np.array([0.0, 1.0, 0.0]) if abs(n[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(ref, n)
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(n, e1), n], axis=1)


@ti.data_oriented
class Ground(Body):
    kind = "ground"
    is_sdf_side = True
    has_internal = False
    has_integrate = False

    def __init__(self, name: str = "ground", normal=(0.0, 0.0, 1.0), point=(0.0, 0.0, 0.0)):
        super().__init__(name)
        self._normal, self._point = normal, point

    def allocate(self, world) -> None:
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B = B
        n = np.asarray(self._normal, dtype=np.float64)
        p = np.asarray(self._point, dtype=np.float64)
        n = np.tile(n, (B, 1)) if n.shape == (3,) else n
        p = np.tile(p, (B, 1)) if p.shape == (3,) else p
        if n.shape != (B, 3) or p.shape != (B, 3) or not np.all(np.isfinite(p)):
            raise ValueError(f"ground {self.name!r}: normal and point must be finite (3,) or "
                             f"({B}, 3), got {n.shape} and {p.shape}")
        R = np.stack([plane_frame(nb) for nb in n])
        self.normals, self.points_np = R[:, :, 2].copy(), p
        self.R = ti.Matrix.field(3, 3, f, shape=B)
        self.p = ti.Vector.field(3, f, shape=B)
        self.R.from_numpy(R.astype(world.npf))
        self.p.from_numpy(p.astype(world.npf))
        self.force_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)
        self.torque_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)

    def accumulator_fields(self) -> dict:
        return {"force": self.force_acc, "torque": self.torque_acc}

    def zero_slot_grads(self) -> None:
        pass

    def wrench(self) -> tuple[np.ndarray, np.ndarray]:
        """(force on the ground, torque about its point) (B, 3) at the last substep."""
        w = self.world
        return (w.io.read(self.force_acc, w.last_force_slot),
                w.io.read(self.torque_acc, w.last_force_slot))

    @ti.func
    def frame(self, b, t, g):
        return self.p[b], self.R[b]

    @ti.func
    def local_sdf(self, b, q):
        return q[2], ti.Vector([0.0 * q[2], 0.0 * q[2], 1.0 + 0.0 * q[2]])

    @ti.func
    def point_velocity(self, b, t, g, x):
        return 0.0 * x

    @ti.func
    def add_wrench(self, b, t, g, x, f):
        self.force_acc[b, t] += f
        self.torque_acc[b, t] += (x - self.p[b]).cross(f)

    @ti.func
    def clear_wrench(self, b, t1):
        self.force_acc[b, t1] = 0.0 * self.force_acc[b, t1]
        self.torque_acc[b, t1] = 0.0 * self.torque_acc[b, t1]
