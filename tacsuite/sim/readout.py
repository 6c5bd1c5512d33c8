"""Tactile read-outs of a gel's state: what a vision-based sensor and its base measure.

Two kinds:

- `pair_wrench(pair, origins)` (numpy, for recording): re-evaluates a contact pair's law
  at the world's last substep and sums f and (x - o) x f over the points.
- `GelReadout` (torch, differentiable and batched): functions of the gel's node positions
  x (B, n, 3) in the sensor frame (`to_sensor_frame`) and, where forces are involved, of
  its (E, nu). Chain them onto the physics with `tacsuite.sim.sysid.states_fn` (the world's
  node positions at every control step as a torch function whose backward is the world's
  reverse pass) or any other torch source of x.

The gel must be a layer whose top face (z = max) is a rectangular lattice of nodes, as
`mesh.structured_box` makes; the sensor frame has the bonded bottom at z = 0 and the
contact surface at z = H. Read-outs:

- `markers(x)`: a grid of printed markers on the top face (3-D positions, bilinear in
  the lattice's nodes);
- `Camera.project`: their image-plane position through a pinhole or an equidistant
  fisheye camera below the gel looking up (+z); `marker_flow` the 2-D displacement;
- `height_map`, `normal_map`: the top face's height change and unit normal on a raster;
- `node_forces`: the gel's elastic force on every node (stable Neo-Hookean, the same law
  as the simulator); at (quasi-static) equilibrium a free surface node's contact force is
  its negative, so `traction_maps` gives normal pressure and in-plane shear traction;
- `wrench`: force and torque (about the sensor origin, in the sensor frame) that the gel
  transmits to its rigid base, i.e. what a 6-axis load cell under the gel measures. It is
  the sum of the elastic forces on the bonded nodes, exact in dynamics too; at rest it
  equals the total contact wrench on the gel;
- `contact_mask`: a soft (sigmoid) mask of pressure above a threshold; `> 0.5` is the hard
  mask.
"""

import math

import numpy as np
import torch

from tacsuite.sim.backend import import_taichi

ti = import_taichi()


# ----- numpy wrench of a contact pair --------------------------------------------------------
@ti.kernel
def _wrench(pair: ti.template(), t: ti.i32, g: ti.i32, origin: ti.types.ndarray(),
            out: ti.types.ndarray()):
    for e, c in ti.ndrange(pair.B, pair.P):
        x, f, _, _ = pair.point_force(e, t, g, c)
        o = ti.Vector([origin[e, 0], origin[e, 1], origin[e, 2]])
        tau = (x - o).cross(f)
        for k in ti.static(range(3)):
            out[e, k] += f[k]
            out[e, 3 + k] += tau[k]


def pair_wrench(pair, origins) -> tuple[np.ndarray, np.ndarray]:
    """(force (B, 3), torque (B, 3) about origins (B, 3)) on the pair's point side at the
    world's last substep."""
    w = pair.world
    out = np.zeros((pair.B, 6), dtype=w.npf)
    _wrench(pair, w.last_force_slot, w.last_pose_slot,
            np.ascontiguousarray(origins, dtype=w.npf), out)
    out = out.astype(np.float64)
    return out[:, :3], out[:, 3:]


# ----- torch helpers ---------------------------------------------------------------------------
def rotation_matrices(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices (Rodrigues), differentiable."""
    th2 = (rotvec * rotvec).sum(-1, keepdim=True)
    th = torch.sqrt(th2 + 1e-300)
    small = th2 < 1e-12
    a = torch.where(small, 1 - th2 / 6, torch.sin(th) / th)
    b = torch.where(small, 0.5 - th2 / 24, (1 - torch.cos(th)) / (th2 + 1e-300))
    z = torch.zeros_like(rotvec[..., 0])
    kx, ky, kz = rotvec[..., 0], rotvec[..., 1], rotvec[..., 2]
    K = torch.stack([z, -kz, ky, kz, z, -kx, -ky, kx, z], -1).reshape(rotvec.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=rotvec.dtype).expand_as(K)
    return eye + a[..., None] * K + b[..., None] * (K @ K)


def to_sensor_frame(x: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """World positions (B, n, 3) -> the frame of the gel pose (B, 6): R^T (x - p)."""
    R = rotation_matrices(pose[:, 3:])
    return torch.einsum("bji,bnj->bni", R, x - pose[:, None, :3])


def snh_lame(E, nu):
    """Torch version of `material.snh_params`: stable Neo-Hookean (mu, lam) of (E, nu)."""
    mu_l = E / (2 * (1 + nu))
    lam_l = E * nu / ((1 + nu) * (1 - 2 * nu))
    return 4.0 / 3.0 * mu_l, lam_l + 5.0 / 6.0 * mu_l


def _cofactor(F):
    return torch.stack([torch.cross(F[..., :, 1], F[..., :, 2], dim=-1),
                        torch.cross(F[..., :, 2], F[..., :, 0], dim=-1),
                        torch.cross(F[..., :, 0], F[..., :, 1], dim=-1)], dim=-1)


def _positive(name, value, what):
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number ({what}), got {value!r}")
    return float(value)


class Camera:
    """A camera at (0, 0, -distance) in the sensor frame, optical axis +z, image u along x
    and v along y (pixels).

    kind "pinhole": u = cx + f X / Z; "fisheye" (equidistant, as DiffTactile's): the ray's
    angle theta from the axis maps to radius f theta. Z = z + distance is the depth.
    """

    KINDS = ("pinhole", "fisheye")

    def __init__(self, kind="pinhole", f=400.0, width=320, height=240, distance=0.02,
                 cx=None, cy=None):
        if kind not in self.KINDS:
            raise ValueError(f"camera kind must be one of {self.KINDS}, got {kind!r}")
        self.kind = kind
        self.f = _positive("f", f, "focal length in pixels (per radian for fisheye)")
        self.distance = _positive("distance", distance, "metres from the camera to z = 0")
        if int(width) < 1 or int(height) < 1:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self.cx = (self.width - 1) / 2 if cx is None else float(cx)
        self.cy = (self.height - 1) / 2 if cy is None else float(cy)

    def project(self, p: torch.Tensor) -> torch.Tensor:
        """(..., 3) sensor-frame points -> (..., 2) pixel coordinates (u, v)."""
        X, Y, Z = p[..., 0], p[..., 1], p[..., 2] + self.distance
        if self.kind == "pinhole":
            s = self.f / Z
        else:
            rho2 = X * X + Y * Y
            rho = torch.sqrt(rho2 + 1e-300)
            # theta / rho -> 1 / Z on the axis (atan's series), without a 0/0.
            s = self.f * torch.where(rho2 < 1e-18 * Z * Z, 1.0 / Z - rho2 / (3 * Z**3),
                                     torch.atan2(rho, Z) / rho)
        return torch.stack([self.cx + s * X, self.cy + s * Y], -1)


class GelReadout:
    """Differentiable read-outs of a structured gel layer; see the module docstring.

    mesh: the gel's `TetMesh` (rest positions in the sensor frame); markers: (mx, my) grid
    of markers covering `marker_extent` (fraction of the top face); res: (rows, cols) of
    the raster maps, rows along y and cols along x.
    """

    def __init__(self, mesh, markers=(7, 7), marker_extent=0.8, res=(48, 48),
                 camera: Camera | None = None, fixed_nodes=None):
        P = np.asarray(mesh.points, dtype=np.float64)
        z = P[:, 2]
        top = np.flatnonzero(np.isclose(z, z.max(), atol=1e-9 * max(np.ptp(P), 1e-30)))
        xs, ys = np.unique(P[top, 0].round(12)), np.unique(P[top, 1].round(12))
        if len(xs) * len(ys) != len(top) or len(xs) < 2 or len(ys) < 2:
            raise ValueError("GelReadout needs a gel whose top face is a rectangular lattice "
                             f"of nodes (mesh.structured_box); got {len(top)} top nodes on "
                             f"{len(xs)} x {len(ys)} distinct coordinates")
        if not (0 < marker_extent <= 1):
            raise ValueError(f"marker_extent must lie in (0, 1], got {marker_extent!r}")
        mx, my = (int(m) for m in markers)
        if mx < 1 or my < 1:
            raise ValueError(f"markers must be a positive (mx, my) grid, got {markers!r}")
        self.rows, self.cols = (int(r) for r in res)
        if self.rows < 2 or self.cols < 2:
            raise ValueError(f"res must be at least (2, 2), got {res!r}")
        ix = np.searchsorted(xs, P[top, 0].round(12))
        iy = np.searchsorted(ys, P[top, 1].round(12))
        grid = np.empty((len(ys), len(xs)), dtype=np.int64)    # [row = y, col = x]
        grid[iy, ix] = top
        self.grid = torch.as_tensor(grid)
        self.xs, self.ys, self.H = xs, ys, float(z.max())
        self.size = (xs[-1] - xs[0], ys[-1] - ys[0])
        self.n = len(P)
        self.X = torch.as_tensor(P)
        # Markers: bilinear weights of the 4 lattice nodes around each marker.
        ex, ey = marker_extent * self.size[0] / 2, marker_extent * self.size[1] / 2
        mxs = np.linspace(-ex, ex, mx) if mx > 1 else np.zeros(1)
        mys = np.linspace(-ey, ey, my) if my > 1 else np.zeros(1)
        MX, MY = np.meshgrid(mxs + (xs[0] + xs[-1]) / 2, mys + (ys[0] + ys[-1]) / 2)
        self.marker_rest_xy = np.stack([MX.ravel(), MY.ravel()], 1)
        idx, wts = [], []
        for px, py in self.marker_rest_xy:
            i = int(np.clip(np.searchsorted(xs, px) - 1, 0, len(xs) - 2))
            j = int(np.clip(np.searchsorted(ys, py) - 1, 0, len(ys) - 2))
            a = (px - xs[i]) / (xs[i + 1] - xs[i])
            b = (py - ys[j]) / (ys[j + 1] - ys[j])
            idx.append([grid[j, i], grid[j, i + 1], grid[j + 1, i], grid[j + 1, i + 1]])
            wts.append([(1 - a) * (1 - b), a * (1 - b), (1 - a) * b, a * b])
        self.m_idx = torch.as_tensor(np.array(idx))
        self.m_w = torch.as_tensor(np.array(wts))
        self.n_markers = len(idx)
        self.camera = camera or Camera()
        # Elements and their rest shapes for the elastic forces.
        T = np.asarray(mesh.tets, dtype=np.int64)
        Dm = np.stack([P[T[:, k]] - P[T[:, 0]] for k in (1, 2, 3)], axis=-1)
        self.tets = torch.as_tensor(T)
        self.Bm = torch.as_tensor(np.linalg.inv(Dm))
        self.V0 = torch.as_tensor(np.abs(np.linalg.det(Dm)) / 6.0)
        bottom = np.flatnonzero(np.isclose(z, z.min())) if fixed_nodes is None \
            else np.asarray(fixed_nodes, dtype=np.int64)
        self.fixed = torch.as_tensor(bottom)
        # Lumped top-face area of each lattice node (trapezoid weights).
        wx, wy = np.zeros(len(xs)), np.zeros(len(ys))
        wx[:-1] += np.diff(xs) / 2
        wx[1:] += np.diff(xs) / 2
        wy[:-1] += np.diff(ys) / 2
        wy[1:] += np.diff(ys) / 2
        self.node_area = torch.as_tensor(np.outer(wy, wx))

    # ----- geometry ------------------------------------------------------------------------
    def _check_x(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1:] != (self.n, 3):
            raise ValueError(f"x must be a (B, {self.n}, 3) torch tensor of node positions, "
                             f"got {getattr(x, 'shape', type(x))}")
        return x

    def rest(self, batch: int = 1) -> torch.Tensor:
        return self.X.expand(batch, -1, -1).clone()

    def markers(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 3) marker positions."""
        x = self._check_x(x)
        return (x[:, self.m_idx] * self.m_w[None, :, :, None]).sum(2)

    def marker_flow(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 2) image-plane displacement of the markers (pixels) from rest."""
        cam = self.camera
        return cam.project(self.markers(x)) - cam.project(self.markers(self.rest(1)))

    def _raster(self, grid_values: torch.Tensor) -> torch.Tensor:
        """(B, C, ny, nx) lattice values -> (B, C, rows, cols), bilinear (corners aligned)."""
        return torch.nn.functional.interpolate(grid_values, size=(self.rows, self.cols),
                                               mode="bilinear", align_corners=True)

    def height_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, rows, cols) height change of the top face (m; negative where pressed in)."""
        x = self._check_x(x)
        dz = x[:, self.grid, 2] - self.H
        return self._raster(dz[:, None])[:, 0]

    def pixel_size(self) -> tuple[float, float]:
        return self.size[0] / (self.cols - 1), self.size[1] / (self.rows - 1)

    def normal_map(self, height: torch.Tensor) -> torch.Tensor:
        """(B, rows, cols, 3) unit normals of a height map (central differences)."""
        hx, hy = self.pixel_size()
        gy, gx = torch.gradient(height, spacing=(hy, hx), dim=(1, 2))
        n = torch.stack([-gx, -gy, torch.ones_like(height)], -1)
        return n / torch.linalg.norm(n, dim=-1, keepdim=True)

    # ----- forces -----------------------------------------------------------------------------
    def node_forces(self, x: torch.Tensor, E, nu) -> torch.Tensor:
        """(B, n, 3) elastic force of the gel on each node; E, nu scalars or (B,) tensors."""
        x = self._check_x(x)
        B = x.shape[0]
        E = torch.as_tensor(E, dtype=x.dtype).reshape(-1).expand(B)
        nu = torch.as_tensor(nu, dtype=x.dtype).reshape(-1).expand(B)
        mu, lam = snh_lame(E, nu)
        xt = x[:, self.tets]                                           # (B, m, 4, 3)
        Ds = torch.stack([xt[:, :, k] - xt[:, :, 0] for k in (1, 2, 3)], -1)
        F = Ds @ self.Bm
        ic = (F * F).sum((-1, -2))
        J = torch.linalg.det(F)
        mu_, lam_ = mu[:, None, None, None], lam[:, None, None, None]
        P = (mu_ * (1 - 1 / (ic + 1))[..., None, None] * F
             + (lam_ * (J - 1)[..., None, None] - 0.75 * mu_) * _cofactor(F))
        Hf = -self.V0[None, :, None, None] * (P @ self.Bm.transpose(-1, -2))
        f = torch.zeros_like(x)
        for k in range(3):
            f = f.index_add(1, self.tets[:, k + 1], Hf[..., k])
        f = f.index_add(1, self.tets[:, 0], -Hf.sum(-1))
        return f

    def wrench(self, x: torch.Tensor, E, nu) -> torch.Tensor:
        """(B, 6) force and torque (about the sensor origin) the gel puts on its base."""
        f = self.node_forces(x, E, nu)[:, self.fixed]
        tau = torch.cross(x[:, self.fixed], f, dim=-1)
        return torch.cat([f.sum(1), tau.sum(1)], -1)

    def traction_maps(self, x: torch.Tensor, E, nu) -> tuple[torch.Tensor, torch.Tensor]:
        """(pressure (B, rows, cols) Pa, shear (B, rows, cols, 2) Pa) of the contact on the
        top face at equilibrium (minus the elastic force per node area)."""
        f = -self.node_forces(x, E, nu)[:, self.grid] / self.node_area[None, :, :, None]
        t = self._raster(f.permute(0, 3, 1, 2))
        return -t[:, 2], t[:, :2].permute(0, 2, 3, 1)

    @staticmethod
    def contact_mask(pressure: torch.Tensor, threshold: float, width: float | None = None):
        """Soft mask sigmoid((p - threshold) / width) (width: threshold / 4 by default)."""
        threshold = _positive("threshold", threshold, "pressure in Pa")
        width = threshold / 4 if width is None else _positive("width", width, "Pa")
        return torch.sigmoid((pressure - threshold) / width)
