"""The point side of contact pairs, shared by every body whose state is a set of nodes.

An FEM gel, an MPM object and a cable all keep positions `x`, velocities `v` and a force
accumulator `f` as slot fields of shape (B, n_slots, n_nodes) with 3-vectors; their
contact points are nodes (all of them, or a subset mapped by `point_node`). What differs
between them (contact areas, masses, internal forces, integration) stays in the bodies.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.world import Body

ti = import_taichi()


@ti.data_oriented
class PointBody(Body):
    """A body with node fields x, v, f (B, n_slots, n_nodes); outputs "x" and "v"."""

    is_point_side = True
    outputs = ("x", "v")

    @ti.func
    def point_node(self, c):
        """The node of contact point c (every node is a contact point by default)."""
        return c

    @ti.func
    def point_state(self, b, t, c):
        i = self.point_node(c)
        return self.x[b, t, i], self.v[b, t, i]

    @ti.func
    def add_point_force(self, b, t, c, force):
        self.f[b, t, self.point_node(c)] += force

    def store_initial(self, n: int, x=None, v=None) -> None:
        """Keep initial node positions/velocities for `reset` as `_init_x` / `_init_v`:
        (n, 3) for every environment or (B, n, 3), finite; None leaves one as it is."""
        for name, arr in (("x", x), ("v", v)):
            if arr is None:
                continue
            a = np.asarray(arr, dtype=np.float64)
            if a.shape == (n, 3):
                a = np.tile(a, (self.B, 1, 1))
            if a.shape != (self.B, n, 3) or not np.all(np.isfinite(a)):
                raise ValueError(f"initial {name} of {self.name!r} must be finite with shape "
                                 f"({self.B}, {n}, 3) or ({n}, 3), got {a.shape}")
            setattr(self, f"_init_{name}", a.copy())

    def positions(self) -> np.ndarray:
        """(B, n_nodes, 3) node positions now."""
        return self.world.io.read(self.x, self.world.state_slot)

    def velocities(self) -> np.ndarray:
        """(B, n_nodes, 3) node velocities now."""
        return self.world.io.read(self.v, self.world.state_slot)

    def seed(self, name: str, slot: int, array) -> None:
        fld = {"x": self.x, "v": self.v}.get(name)
        if fld is None:
            super().seed(name, slot, array)
        B, n = self.x.shape[0], self.x.shape[2]
        a = np.asarray(array, dtype=np.float64)
        if a.shape != (B, n, 3):
            raise ValueError(f"seed {self.name}.{name} must have shape ({B}, {n}, 3), "
                             f"got {a.shape}")
        self.world.io.write(fld.grad, slot, a, add=True)
