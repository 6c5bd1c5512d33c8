"""A surface pair: the contact points of body a against the deforming boundary of an FEM body.

ContactPair tests points against a rigid shape's signed distance; a deformable object
(MPM particles, cable nodes) pressed into the gel needs the gel's own surface, which
moves every substep. For every environment e and contact point c of `a`, each substep:

1. Detection (not differentiated): the gel's boundary triangles at slot t are binned by
   a `SurfaceHash` (one for the batch, each environment's surface a group of it, so one
   launch bins them all) and the point finds its exact closest point on
   the surface: triangle id, barycentrics w (clamped to the triangle, so w >= 0) and the
   signed distance. Every triangle within `cutoff` is a candidate, so a point whose
   projection leaves the nearest triangle still finds the edge or vertex it is closest
   to (a nearest-centroid search with a projection-inside test lets such points through).
2. Force (differentiable, Taichi's reverse): with the triangle and w held fixed,
   q = sum_k w_k x_k is the closest point; the outward normal n is the face normal when
   q lies inside the face, and on an edge or a vertex the unit vector from q to x
   (turned round when x is inside); the
   penetration phi = n . (x - q) - r < 0, with r the point side's `contact_offset` (a
   cable's radius, else 0). Both give the exact distance and its first
   derivative in x and in the node positions (the closest point is a minimiser, so its
   motion does not change the distance to first order). The one law of `contact.py`
   then gives the force f on a's point from phi, n, the velocity relative to the
   surface's material point sum_k w_k v_k and the friction anchor; each triangle node k
   gets -w_k f. The weights sum to one, so the gel receives exactly the opposite of
   what the object does (to rounding), and the penalty is the gradient of
   kn A phi^2 / 2 with respect to every node.

Friction anchor. The anchor is a material point of the gel's surface: a triangle id and
the barycentric coordinates of its closest point on that triangle, stored per point as
state; the stretch is measured at the closest surface point q, so anchors lie on the
surface (near an edge, either of its triangles then stores the same place). A stuck
point's spring therefore stretches only when it moves relative to the gel's
surface, however the gel deforms or the sensor frame moves; when the point slides onto
another triangle the new anchor is written in that triangle's coordinates.

Parameters per environment: kn (Pa/m), kd (Pa s/m), kt (Pa/m), mu, as in ContactPair.
`force()` is the force of a on b at the last substep, `node_forces()` its distribution
over b's nodes (B, n, 3) (a sensor read-out), `history` the force per control step.
Differentiable output: "force" (B, 3) at a step.
"""

import numpy as np

from tacsuite.sim import trigeom
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import penalty_friction
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.spatial_hash import SurfaceHash
from tacsuite.sim.world import ContactLoad

ti = import_taichi()
_closest_point = trigeom.make_closest_point_func()


@ti.data_oriented
class SurfacePair(ContactPair):
    """Points of `a` against the boundary triangles of the FEM body `b`.

    Args:
        a: a point-side body (MPMBody, Cable, RigidBody, FEMBody).
        b: an FEMBody (anything with `is_surface_side`).
        kn, kd, kt, mu: the contact law's parameters, scalars or (B,) arrays.
        cutoff: deepest penetration (m) still detected, measured from a's points; default
            the mean boundary edge length of b plus a's `contact_offset` (a cable's
            radius: its nodes are found that far outside the surface). Points deeper than
            this are not found: keep kn high enough that penetration stays well below it.
    """

    kind = "surface"
    b_side = "surface"

    def __init__(self, a, b, kn, kd=0.0, kt=0.0, mu=0.0, name: str | None = None,
                 cutoff: float | None = None):
        if not getattr(b, "is_surface_side", False):
            raise ValueError(f"a surface pair's second body must have a deforming surface "
                             f"(an FEM body), got {b.name!r} ({b.kind})")
        super().__init__(a, b, kn, kd=kd, kt=kt, mu=mu, name=name)
        if cutoff is not None and not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be a positive distance in metres, got {cutoff!r}")
        self.cutoff = cutoff

    def allocate(self, world) -> None:
        super().allocate(world)
        B, f, rg, ns = world.batch, world.dtype, world.requires_grad, world.n_slots
        tris = np.ascontiguousarray(self.b.mesh.surface_tris, dtype=np.int32)
        X = self.b.mesh.points
        offset = self.offset[None]
        if self.cutoff is None:
            edges = np.linalg.norm(X[tris] - X[np.roll(tris, 1, axis=1)], axis=2)
            self.cutoff = float(edges.mean()) + offset
        elif self.cutoff <= offset:
            raise ValueError(f"cutoff {self.cutoff!r} m of pair {self.name!r} must exceed the "
                             f"contact offset {offset!r} m of {self.a.name!r} (its radius): "
                             "the surface is found only within the cutoff")
        self.N, self.K = self.b.n, len(tris)
        self.tris = ti.Vector.field(3, ti.i32, shape=self.K)
        self.tris.from_numpy(tris)
        # One hash holds every environment's copy of the surface (group e: triangles
        # e K .. (e + 1) K - 1 over nodes e N .. (e + 1) N - 1), so a substep rebuilds
        # and detects in one launch each, whatever B.
        self.hash = SurfaceHash(np.concatenate([tris + e * self.N for e in range(B)]),
                                self.cutoff, rest_vertices=np.tile(X, (B, 1)), dtype=f,
                                groups=B)
        # Detection results per slot: the reverse pass reads the substep's own.
        self.det_tri = ti.field(ti.i32, shape=(B, ns, self.P))
        self.det_dist = ti.field(f, shape=(B, ns, self.P))
        self.det_w = ti.Vector.field(3, f, shape=(B, ns, self.P))
        # Anchor triangle as a float state (checkpoints carry floats); -1: no anchor.
        self.anchor_tri = ti.field(f, shape=(B, ns, self.P), needs_grad=rg)
        self.node_force = ti.Vector.field(3, f, shape=(B, ns, self.N), needs_grad=rg)

    # ----- state ---------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"anchor": self.anchor, "anchor_tri": self.anchor_tri, "stuck": self.stuck}

    def accumulator_fields(self) -> dict:
        return {"force": self.force_acc, "node_force": self.node_force}

    def initial_state(self) -> dict:
        return {"anchor": np.zeros((self.B, self.P, 3)),
                "anchor_tri": np.full((self.B, self.P), -1.0),
                "stuck": np.zeros((self.B, self.P))}

    def node_forces(self) -> np.ndarray:
        """(B, n, 3) force of body a on every node of b at the last substep."""
        return self.world.io.read(self.node_force, self.world.last_force_slot)

    def surface_wrench(self, origins) -> tuple[np.ndarray, np.ndarray]:
        """(force (B, 3), torque (B, 3) about origins (B, 3)) of a on b at the last
        substep: the sensor's reading, from the same node forces b integrates."""
        nf = self.node_forces()
        x = self.world.io.read(self.b.x, self.world.last_force_slot)
        arm = x - np.asarray(origins, dtype=np.float64)[:, None, :]
        return nf.sum(axis=1), np.cross(arm, nf).sum(axis=1)

    def penetration(self) -> np.ndarray:
        """(B, P) signed distance of every point to b's surface found at the last substep
        (negative inside; `cutoff` where no triangle lies within reach)."""
        return self.world.io.read(self.det_dist, self.world.last_force_slot)

    def load(self) -> ContactLoad:
        load = super().load()
        # The object's points cover the contact patch, so a gel node carries about the
        # springs of its own boundary area.
        area = self.b.surface_areas()[None, :]
        v = self.values
        load.k_nodes = np.maximum(v["kn"], v["kt"])[:, None] * area
        load.c_nodes = v["kd"][:, None] * area
        return load

    # ----- the phase -----------------------------------------------------------------------
    @ti.kernel
    def _load_surface(self, h: ti.template(), t: ti.i32):
        for e, i in ti.ndrange(self.B, self.N):
            h.x[e * self.N + i], _v = self.b.node_state(e, t, i)

    @ti.kernel
    def _detect(self, h: ti.template(), t: ti.i32):
        for e, c in ti.ndrange(self.B, self.P):
            x, _v = self.a.point_state(e, t, c)
            tri, dist, _n, w = h.closest_in(x, e)
            if tri >= 0:
                tri -= e * self.K
            self.det_tri[e, t, c] = tri
            self.det_dist[e, t, c] = dist
            self.det_w[e, t, c] = w

    @ti.func
    def _tri_nodes(self, e, t, tri):
        k = self.tris[tri]
        x0, v0 = self.b.node_state(e, t, k[0])
        x1, v1 = self.b.node_state(e, t, k[1])
        x2, v2 = self.b.node_state(e, t, k[2])
        return x0, x1, x2, v0, v1, v2

    @ti.func
    def _closest_weights(self, wd, x, x0, x1, x2):
        """The detected closest point's barycentrics as a smooth function of the point
        and the nodes on the detected feature (face: projection onto the plane; edge:
        onto the edge's line; vertex: constant), so the reverse pass sees how the
        contact point slides and the force's spread moves with it."""
        w = wd
        n2 = (x1 - x0).cross(x2 - x0)
        if wd.min() > 0:
            area2 = n2.norm_sqr()
            wb = (x - x0).cross(x2 - x0).dot(n2) / area2
            wc = (x1 - x0).cross(x - x0).dot(n2) / area2
            w = ti.Vector([1.0 - wb - wc, wb, wc])
        elif wd[0] <= 0 and wd[1] > 0 and wd[2] > 0:
            s = (x - x1).dot(x2 - x1) / (x2 - x1).norm_sqr()
            w = ti.Vector([0.0 * s, 1.0 - s, s])
        elif wd[1] <= 0 and wd[2] > 0 and wd[0] > 0:
            s = (x - x2).dot(x0 - x2) / (x0 - x2).norm_sqr()
            w = ti.Vector([s, 0.0 * s, 1.0 - s])
        elif wd[2] <= 0 and wd[0] > 0 and wd[1] > 0:
            s = (x - x0).dot(x1 - x0) / (x1 - x0).norm_sqr()
            w = ti.Vector([1.0 - s, s, 0.0 * s])
        return w

    @ti.kernel
    def _forces(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for e, i in ti.ndrange(self.B, self.N):
            self.node_force[e, t1, i] = ti.Vector.zero(self.fdtype, 3)
        for e in range(self.B):
            self.force_acc[e, t1] = ti.Vector.zero(self.fdtype, 3)
        for e, c in ti.ndrange(self.B, self.P):
            x, v = self.a.point_state(e, t, c)
            tri = self.det_tri[e, t, c]
            zero = ti.Vector.zero(self.fdtype, 3)
            anchor_w, anchor_tri, stuck = zero, -1.0 + 0.0 * x[0], 0.0 * x[0]
            if tri >= 0 and self.det_dist[e, t, c] < self.offset[None]:
                k = self.tris[tri]
                x0, x1, x2, v0, v1, v2 = self._tri_nodes(e, t, tri)
                w = self._closest_weights(self.det_w[e, t, c], x, x0, x1, x2)
                q = w[0] * x0 + w[1] * x1 + w[2] * x2
                vq = w[0] * v0 + w[1] * v1 + w[2] * v2
                n2 = (x1 - x0).cross(x2 - x0)
                n = n2.normalized()
                if self.det_w[e, t, c].min() <= 0:
                    # Off the face the normal points from the edge or vertex to a point
                    # outside, and away from a point inside.
                    d = x - q
                    if self.det_dist[e, t, c] < 0:
                        d = -d
                    # 1e-30 keeps the reverse pass finite for a point on the surface.
                    n = d / ti.sqrt(d.norm_sqr() + 1e-30)
                phi = n.dot(x - q) - self.offset[None]
                # The tangential stretch is taken at the closest surface point q (it
                # differs from x or the cable's surface x - r n only along n), so the
                # anchor lies on the gel's surface, whichever triangle stores it.
                p = q
                a_world = p
                old = self.anchor_tri[e, t, c]
                if old >= 0:
                    y0, y1, y2, _u0, _u1, _u2 = self._tri_nodes(e, t, ti.cast(old, ti.i32))
                    aw = self.anchor[e, t, c]
                    a_world = aw[0] * y0 + aw[1] * y1 + aw[2] * y2
                f, a_new, s_new = penalty_friction(
                    phi, n, p, v - vq, a_world, self.stuck[e, t, c], self.a.point_area(c),
                    self.c_kn[e, c], self.c_kd[e, c], self.c_kt[e, c], self.c_mu[e, c])
                self.a.add_point_force(e, t, c, f)
                for j in ti.static(range(3)):
                    self.b.add_node_force(e, t, k[j], -w[j] * f)
                    self.node_force[e, t, k[j]] += -w[j] * f
                self.force_acc[e, t] += -f
                if s_new > 0.5:
                    # The new anchor is the closest point of this triangle: a point near
                    # an edge maps to the same place of the surface whichever of the
                    # edge's two triangles detection picked (a projection onto the
                    # triangle's plane would not, where the faces meet at an angle).
                    anchor_w, _feat = _closest_point(a_new, x0, x1, x2)
                    anchor_tri = ti.cast(tri, self.fdtype)
                    stuck = s_new
            self.anchor[e, t1, c] = anchor_w
            self.anchor_tri[e, t1, c] = anchor_tri
            self.stuck[e, t1, c] = stuck

    def apply(self, t, t1, g) -> None:
        self._load_surface(self.hash, t)
        self.hash.rebuild()
        self._detect(self.hash, t)
        self._forces(t, t1, g)

    def apply_grad(self, t, t1, g) -> None:
        # The detection of this substep is still in its slot (the segment was recomputed).
        self._forces.grad(t, t1, g)
