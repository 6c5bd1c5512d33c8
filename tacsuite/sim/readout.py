"""Read-outs of a world state for recording: the contact wrench a pair exerts on its
point side (e.g. the force and torque a gel sensor feels), about a chosen origin.

`pair_wrench(pair, origins)` re-evaluates the pair's contact law at the state slot of the
world's last substep (the same inputs `ContactPair.apply` used there, so the force equals
minus `pair.force()`), and sums f and (x - o) x f over the points.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import penalty_friction

ti = import_taichi()


@ti.kernel
def _wrench(pair: ti.template(), t: ti.i32, g: ti.i32, origin: ti.types.ndarray(),
            out: ti.types.ndarray()):
    for e, c in ti.ndrange(pair.B, pair.P):
        x, v = pair.a.point_state(e, t, c)
        p, R = pair.b.frame(e, t, g)
        Rt = R.transpose()
        q = Rt @ (x - p)
        phi, n = pair.b.local_sdf(e, q)
        vl = Rt @ (v - pair.b.point_velocity(e, t, g, x))
        fl, _, _ = penalty_friction(phi, n, q, vl, pair.anchor[e, t, c], pair.stuck[e, t, c],
                                    pair.a.point_area(c), pair.c_kn[e, c], pair.c_kd[e, c],
                                    pair.c_kt[e, c], pair.c_mu[e, c])
        f = R @ fl
        o = ti.Vector([origin[e, 0], origin[e, 1], origin[e, 2]])
        tau = (x - o).cross(f)
        for k in ti.static(range(3)):
            out[e, k] += f[k]
            out[e, 3 + k] += tau[k]


def pair_wrench(pair, origins) -> tuple[np.ndarray, np.ndarray]:
    """(force (B, 3), torque (B, 3) about origins (B, 3)) on the pair's point side at the
    world's last substep."""
    w = pair.world
    t = w.last_force_slot
    # The pose slot of the last substep: the last substep of the last control step.
    g = (w._j - 1) * w.substeps + w.substeps - 1
    out = np.zeros((pair.B, 6), dtype=w.npf)
    _wrench(pair, t, g, np.ascontiguousarray(origins, dtype=w.npf), out)
    out = out.astype(np.float64)
    return out[:, :3], out[:, 3:]
