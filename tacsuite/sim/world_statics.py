"""Quasi-static equilibrium of a world's FEM body against a kinematic body it touches.

    world = World(dtype=ti.f64)
    gel = world.add(FEMBody("gel", mesh, E=1e5, nu=0.3, density=1000))
    ball = world.add(KinematicRigid("ball", Sphere(5e-3, dtype=ti.f64), pose=(0, 0, 9e-3, 0, 0, 0)))
    world.add_pair(ContactPair(gel, ball, kn=1e10, kt=1e10, mu=0.5))
    static = StaticSolver(world)
    for z in heights:
        out = static.solve({"ball": (0, 0, z, 0, 0, 0)})   # one dict per environment
    grads = static.gradients()            # of the normal force, in the world's names

The solve is `statics.QuasiStaticGel` (Newton-PCG with an energy line search, and its
checked adjoint) or, when the pair has friction (mu > 0), `friction_statics`'
stick/slip fixed point; this module only maps the world onto it and back:

- geometry: the FEM body's mesh, bonded nodes and symmetry planes, solved in the body's
  own frame (elasticity does not see a rigid motion of the whole), with the kinematic
  body's pose expressed in that frame (translation and rotation, `FramedShape`);
- parameters per environment: E, nu of the body, kn, kt, mu of the pair (kd, density and
  damping do not enter an equilibrium); environments are solved one after the other;
- state: each solve starts from the body's current node positions in the world and
  leaves the equilibrium there (velocities zero), the kinematic poses set, and the
  pair's friction anchors where the stick/slip solve left them (in the kinematic body's
  frame, as the explicit contact law keeps them), so `world.step` can go on from an
  equilibrium. The friction history of successive static solves (each is a load step)
  is kept, the anchors riding on the kinematic body from one solve to the next (so
  moving it sideways or turning it drags the sticking nodes: a quasi-static slide or
  twist); once the world has been stepped, reset or set in between, it starts afresh
  (nodes in contact stick where they are). Gradients go back through every solve of the
  history (`friction_history`).

Not covered: gravity (body forces are not part of the static problem: refused), more
than one pair acting on the body, dynamic rigid bodies and joints, gradients by the
kinematic body's rotation.
"""

import numpy as np

from tacsuite.sim import friction_history, material
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem_body import FEMBody
from tacsuite.sim.friction_statics import FrictionalQuasiStaticGel
from tacsuite.sim.indenters import Indenter
from tacsuite.sim.kinematic import KinematicRigid
from tacsuite.sim.se3 import as_poses, rotation_matrix
from tacsuite.sim.statics import QuasiStaticGel

ti = import_taichi()

_HISTORY = ("state", "anchor", "anchor_next", "load", "ajac", "lim")


@ti.data_oriented
class FramedShape(Indenter):
    """A kinematic body's shape placed at a pose (pos[0], rot) in the solver's frame.

    The shape's own signed distance is in its frame (its pose 0 at the origin, as
    `KinematicRigid` keeps it): phi(x) = phi_s(R^T (x - p)), n = R n_s, dn/dx = R H_s R^T.
    """

    kind = "framed"

    def __init__(self, shape: Indenter):
        super().__init__(1, dtype=shape.dtype)
        self.shape = shape
        self.rot = ti.Matrix.field(3, 3, self.dtype, shape=())
        self.rot[None] = np.eye(3).tolist()

    def set_rotation(self, R) -> None:
        self.rot[None] = np.asarray(R, dtype=np.float64).tolist()

    @ti.func
    def sdf(self, x, t):
        R = self.rot[None]
        phi, n = self.shape.sdf(R.transpose() @ (x - self.pos[t]), 0)
        return phi, R @ n

    @ti.func
    def sdf_hessian(self, x, t):
        R = self.rot[None]
        return R @ self.shape.sdf_hessian(R.transpose() @ (x - self.pos[t]), 0) @ R.transpose()

    def describe(self) -> dict:
        return self.shape.describe()


class StaticSolver:
    """Quasi-static solves of a world's FEM body against one contact pair; see the module."""

    def __init__(self, world, pair=None):
        pairs = list(world.pairs) if pair is None else [
            world.named(pair) if isinstance(pair, str) else pair]
        if len(pairs) != 1:
            raise ValueError(f"a static solve takes one contact pair; the world has "
                             f"{[p.name for p in world.pairs]}: name one with pair=")
        p = pairs[0]
        if not isinstance(p.a, FEMBody) or not isinstance(p.b, KinematicRigid):
            raise ValueError(f"pair {p.name!r}: a static solve needs an FEM body against a "
                             f"kinematic rigid body, got {p.a.kind} against {p.b.kind}")
        others = [q.name for q in world.pairs if q is not p and p.a in (q.a, q.b)]
        if others or world.joints:
            raise ValueError(f"the static solve sees only pair {p.name!r}; body {p.a.name!r} "
                             f"is also in {others} and the world has joints "
                             f"{[j.name for j in world.joints]}")
        g = world.gravity[None].to_numpy()
        if np.any(g != 0):
            raise ValueError(f"a static solve has no body forces: the world's gravity must be "
                             f"zero, got {g.tolist()}")
        self.world, self.pair, self.body, self.rigid = world, p, p.a, p.b
        self.gel = None
        self._history = {}        # env -> friction history of its last static solve
        self._steps = {}          # env -> every load step of that history (for gradients)
        self._token = None        # the world state the last solve wrote
        self._env = None          # the environment the gel holds
        self._frames = {}

    # ----- the solver ----------------------------------------------------------------------
    def build(self, frictional: bool | None = None):
        """Create the Newton solver (compiles its kernels on first use); returns it.

        frictional: build the stick/slip solver (default: when any environment has mu > 0);
        it solves frictionless environments too.
        """
        v, pv = self.body.values, self.pair.values
        if frictional is None:
            frictional = bool(np.any(pv["mu"] > 0))
        if self.gel is not None and (frictional and not self.frictional):
            raise ValueError("this static solver was built without friction; build a new "
                             "StaticSolver for a pair with mu > 0")
        if self.gel is None:
            kw = dict(dtype=self.world.dtype, symmetry_planes=self.body.symmetry_planes,
                      fixed_nodes=self.body._fixed_nodes)
            shape = FramedShape(self.rigid.shape)
            E, nu, kn = v["E"][0], v["nu"][0], pv["kn"][0]
            if frictional:
                self.gel = FrictionalQuasiStaticGel(mesh=self.body.mesh, E=E, nu=nu, kn=kn,
                                                    indenter=shape, mu_f=pv["mu"][0],
                                                    kt=self._kt(0, required=False), **kw)
            else:
                self.gel = QuasiStaticGel(self.body.mesh, E, nu, kn, shape, **kw)
            self.frictional = frictional
            self._material = (E, nu)
        return self.gel

    def _kt(self, b: int, required: bool = True) -> float:
        kt, mu = self.pair.values["kt"][b], self.pair.values["mu"][b]
        if kt > 0:
            return float(kt)
        if required and mu > 0:
            raise ValueError(f"pair {self.pair.name!r}: friction mu = {mu:g} needs a tangential "
                             f"stiffness kt > 0 in a static solve (environment {b})")
        return float(self.pair.values["kn"][b])

    def _configure(self, b: int) -> None:
        """Material, contact, friction and relative pose of environment b into the gel."""
        gel, v, pv = self.gel, self.body.values, self.pair.values
        mat = (float(v["E"][b]), float(v["nu"][b]))
        if mat != self._material:
            gel.set_material(*mat)
            self._material = mat
        gel.set_contact(float(pv["kn"][b]))
        mu = float(pv["mu"][b])
        if mu > 0 and not self.frictional:
            raise ValueError(f"pair {self.pair.name!r} has mu = {mu:g} in environment {b}, but "
                             "this static solver was built without friction")
        if self.frictional:
            gel.mu_f[None], gel.kt[None] = mu, self._kt(b)
        Rg, pg, Rr, pr = self._frames[b]
        gel.indenter.set_rotation(Rg.T @ Rr)
        gel.indenter.set_pose(Rg.T @ (pr - pg))

    def _poses(self, actions: dict) -> None:
        w = self.world
        names = {self.body.name, self.rigid.name}
        bad = set(actions) - names
        if bad:
            raise ValueError(f"static actions for {sorted(bad)}: only {sorted(names)} are posed")
        now = w._pose_now
        self.poses = {n: as_poses(actions[n], w.batch, f"action for {n!r}") if n in actions
                      else now[n].copy() for n in names}
        for b in range(w.batch):
            pg, pr = self.poses[self.body.name][b], self.poses[self.rigid.name][b]
            self._frames[b] = (rotation_matrix(pg[3:]), pg[:3], rotation_matrix(pr[3:]), pr[:3])

    def _history_valid(self) -> bool:
        w = self.world
        return self._token is not None and w.n_steps == 0 and w._ckpt[0][0] is self._token

    def _load(self, b: int, x_world: np.ndarray, history: bool, carry: bool = False) -> None:
        """Environment b's state into the gel; with `carry`, a new load step: anchors move
        with the kinematic body to its new pose (each is a material point of its surface)."""
        Rg, pg, Rr, pr = self._frames[b]
        gel = self.gel
        gel.x.from_numpy(((x_world - pg) @ Rg).astype(gel.npf))
        if self.frictional:
            h = self._history.get(b) if history else None
            if h is None:
                gel.state.fill(0)
                gel.load.fill(0)
                gel.ajac.fill(0)
            else:
                for k in _HISTORY:
                    getattr(gel, k).from_numpy(h[k])
                if carry:
                    on = h["state"] != 0
                    moved = ((h["anchor_local"] @ Rr.T + pr) - pg) @ Rg
                    gel.anchor_next.from_numpy(
                        np.where(on[:, None], moved, h["anchor_next"]).astype(gel.npf))
                    jac = np.where(on[:, None, None], np.eye(3), 0.0)
                    gel.ajac.from_numpy(jac.astype(gel.npf))
        self._env = b

    # ----- solving -------------------------------------------------------------------------
    def solve(self, actions: dict | None = None, scale: float | None = None, **kw) -> list:
        """Equilibrium of every environment at the poses in `actions` ({body: pose}).

        scale: multiply each environment's displacement from rest by this factor before
        solving (a predictor for proportional loading). kw go to `QuasiStaticGel.solve`.
        Returns per environment {"newton", "force" (normal force in the FEM body's z),
        "force_vector" and "torque_vector" (about the kinematic body's origin; world frame),
        "contact_radius"}, the contact's force and torque on the kinematic body of the whole
        (unfolded) model. Raises NotConverged with the solver's message.
        """
        w = self.world
        if not hasattr(w, "_t"):
            w.reset()
        self._poses(dict(actions or {}))
        gel = self.build()
        history = self._history_valid()
        state = w.get_state()
        x_all = state[self.body.name]["x"]
        pair_state = state[self.pair.name]
        out = []
        for b in range(w.batch):
            self._load(b, x_all[b], history, carry=True)
            self._configure(b)
            if scale is not None:
                gel.scale_displacement(float(scale))
            gel.project_contact()
            if self.frictional and self.pair.values["mu"][b] > 0:
                info = gel.solve_with_friction(**kw)
            else:
                info = gel.solve(**kw)
            res = gel.readout()
            Rg, pg, Rr, pr = self._frames[b]
            x = gel.x.to_numpy().astype(np.float64)
            x_all[b] = x @ Rg.T + pg
            if self.frictional:
                if not history:
                    self._steps[b] = []
                if self.pair.values["mu"][b] > 0:
                    self._steps.setdefault(b, []).append(
                        friction_history.snapshot(gel, self._frames[b], scale))
                h = {k: getattr(gel, k).to_numpy() for k in _HISTORY}
                h["anchor_local"] = (((h["anchor_next"].astype(np.float64) @ Rg.T + pg) - pr)
                                     @ Rr)
                self._history[b] = h
                a, s = self._anchors(b)
                pair_state["anchor"][b], pair_state["stuck"][b] = a, s
            else:
                pair_state["stuck"][b] = 0.0
            out.append({"newton": info["newton"], "force": res["force"],
                        "force_vector": (Rg @ np.asarray(res["force_vector"])).tolist(),
                        "torque_vector": (Rg @ np.asarray(res["torque_vector"])).tolist(),
                        "contact_radius": res["contact_radius"]})
        w.set_state({self.body.name: {"x": x_all, "v": np.zeros_like(x_all),
                                      "pose": self.poses[self.body.name]},
                     self.rigid.name: {"pose": self.poses[self.rigid.name]},
                     self.pair.name: pair_state})
        self._token = w._ckpt[0][0]
        return out

    def _anchors(self, b: int):
        """(anchor (P, 3) in the kinematic body's frame, stuck (P,)) of environment b."""
        gel = self.gel
        P = self.pair.P
        h = self._history[b]
        local = h["anchor_local"][:P]
        touching = gel.node_distances()[:P] < 0
        stuck = ((h["state"][:P] != 0) & touching).astype(np.float64)
        return local * stuck[:, None], stuck

    # ----- gradients -----------------------------------------------------------------------
    def _hold(self, env: int) -> None:
        if not 0 <= env < self.world.batch:
            raise ValueError(f"env must lie in [0, {self.world.batch}), got {env}")
        if self.gel is None or not self._history_valid():
            raise ValueError("gradients need a converged static solve: call solve() first "
                             "(and do not step, reset or set the world in between)")
        if self._env != env:
            x = self.world.get_state()[self.body.name]["x"][env]
            self._load(env, x, history=True)
            self._configure(env)

    def gradients(self, dL_dx=None, env: int = 0) -> dict:
        """Derivatives of the normal force (dL_dx None) or of a loss L(x) at equilibrium.

        dL_dx: (n, 3) world-frame derivative of L by the FEM body's node positions in
        environment env, or (S, n, 3), of a loss of the equilibria of all S solves of the
        friction history (oldest first; with friction only). Returns {"params": {body:
        {"E", "nu"}, pair: {"kn", "kt", "mu"}}, "actions": {kinematic body: d/d(its
        position) (3,)}, "action_steps": {kinematic body: (S, 3) d/d(its position) at
        each of the S solves of the friction history, the last one the solve just
        done}}, in the world frame, from one checked adjoint
        solve per step. With friction the derivatives go back through every step of the
        history, each step's anchors depending on the one before
        (`friction_history`, which also says what is held fixed); the parameters are
        taken to be the same in every step.
        """
        self._hold(env)
        Rg = self._frames[env][0]
        g = None
        steps = self._steps.get(env, []) if self.frictional else []
        if dL_dx is not None:
            g = np.asarray(dL_dx, dtype=np.float64)
            n = self.body.n
            if g.ndim == 3:
                if not steps or g.shape != (len(steps), n, 3):
                    raise ValueError(f"per-step dL_dx must have shape ({len(steps)}, {n}, 3) "
                                     f"(the solves of the friction history), got {g.shape}")
            elif g.shape != (n, 3):
                raise ValueError(f"dL_dx must have shape ({n}, 3), got {g.shape}")
            if not np.all(np.isfinite(g)):
                raise ValueError("dL_dx must be finite")
            if g.ndim == 3:    # each step's seed into the gel frame it was solved in
                g = np.stack([gs @ snap["frames"][0] for gs, snap in zip(g, steps, strict=True)])
            else:
                g = g @ Rg
        if len(steps) > 1 and self.pair.values["mu"][env] > 0:
            raw = friction_history.sequence_gradients(self.gel, steps, g)
            per_step = [snap["frames"][0] @ p
                        for snap, p in zip(steps, raw["positions"], strict=True)]
        else:
            raw = (self.gel.force_gradients() if g is None
                   else self.gel.loss_gradients(g[-1] if g.ndim == 3 else g))
            per_step = [Rg @ np.asarray(raw["position"], dtype=float)]
        v = self.body.values
        (mE, mnu), (lE, lnu) = material.snh_params_jacobian(v["E"][env], v["nu"][env])
        return {"params": {self.body.name: {"E": raw["mu"] * mE + raw["lam"] * lE,
                                            "nu": raw["mu"] * mnu + raw["lam"] * lnu},
                           self.pair.name: {"kn": float(raw["kn"]),
                                            "kt": float(raw.get("kt", 0.0)),
                                            "mu": float(raw.get("mu_f", 0.0))}},
                "actions": {self.rigid.name: Rg @ np.asarray(raw["position"], dtype=float)},
                "action_steps": {self.rigid.name: np.array(per_step)}}
