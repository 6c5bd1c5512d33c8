"""The tactile read-out of a gel sensor, in one place so the tasks never read the world
directly: contact force and torque on the gel (`tacsuite.sim.readout.pair_wrench`) and
the displacements of a subsample of the gel's contact-surface nodes in the sensor frame,
a stand-in for the markers of an optical sensor.

The pairs are every contact of the gel: as the point side against a rigid object's
surface (ContactPair) or as the surface side against an MPM object's or a cable's points
(SurfacePair, read through `surface_wrench`). Both read-outs are plain functions of the
world state, so the same quantities can be written as differentiable world outputs: the
force is the pair's "force" output (the force of a on b: on the gel of a surface pair,
minus the wrench's force where the gel is a), the marker displacements are a fixed linear
map of the gel's "x" output (`marker_matrix`), which is what the tactile losses use.

Scales: forces are divided by `force_scale` (N) and displacements by `disp_scale` (m),
so the observation entries are O(1) for the task's contact loads.
"""

from __future__ import annotations

import numpy as np

from tacsuite.sim.readout import pair_wrench
from tacsuite.sim.se3 import rotation_matrix


class GelReadout:
    """Force/torque and marker-proxy displacements of one gel against its contact pairs."""

    def __init__(self, gel, pairs, n_markers: int, force_scale: float, disp_scale: float):
        self.gel, self.pairs = gel, list(pairs)
        self.force_scale, self.disp_scale = float(force_scale), float(disp_scale)
        surf = np.asarray(gel.geo.contact_nodes)
        # Markers sit on the contact face, the free face at local z = H opposite the
        # bonded z = 0 face; an even subsample of its nodes.
        X = gel.mesh.points[surf]
        top = surf[np.isclose(X[:, 2], X[:, 2].max())]
        idx = np.linspace(0, len(top) - 1, min(n_markers, len(top))).round().astype(int)
        self.markers = top[np.unique(idx)]
        self.rest_local = gel.mesh.points[self.markers]
        self.n_markers = len(self.markers)
        self.size = 6 + 3 * self.n_markers

    def read(self, pose: np.ndarray, with_force: bool = True) -> np.ndarray:
        """(B, 6 + 3 K) float64: force, torque about the sensor origin (gel frame, scaled),
        and marker displacements in the sensor frame (scaled). Right after a reset no
        substep has run, so there is no contact force to read (with_force=False: zeros)."""
        B = pose.shape[0]
        f = np.zeros((B, 3))
        tau = np.zeros((B, 3))
        for p in self.pairs if with_force else ():
            # the gel is the point side of a rigid-object pair and the surface side of a
            # surface pair (MPM objects, cables): either way, the force on the gel
            fi, ti_ = (p.surface_wrench(pose[:, :3]) if p.b is self.gel
                       else pair_wrench(p, pose[:, :3]))
            f += fi
            tau += ti_
        x = self.gel.positions()[:, self.markers]
        out = np.empty((B, self.size))
        for b in range(B):
            R = rotation_matrix(pose[b, 3:])
            out[b, :3] = R.T @ f[b] / self.force_scale
            out[b, 3:6] = R.T @ tau[b] / (self.force_scale * 0.01)
            local = (x[b] - pose[b, :3]) @ R
            out[b, 6:] = ((local - self.rest_local) / self.disp_scale).ravel()
        return out


class GelImager:
    """Tactile images of one gel: the optical model of `tacsuite.sim.optics` (ambient,
    Lambert and Phong terms of three coloured lights on the contact face's normals, the
    printed markers drawn dark) on a (height, width) raster of the contact face.

    The raster is `tacsuite.sim.readout.GelReadout`'s: bilinear in the face's node lattice,
    so the image is as detailed as the gel's mesh. Row 0 is the face's +y edge (images are
    stored as `tacsuite sim run --images` saves them).
    """

    def __init__(self, gel, height: int, width: int, markers=(6, 6)):
        from tacsuite.sim.readout import GelReadout as FaceRaster

        self.gel = gel
        self.raster = FaceRaster(gel.mesh, markers=markers, res=(height, width))
        self.shape = (int(height), int(width), 3)

    def render(self, pose: np.ndarray, envs=slice(None)) -> np.ndarray:
        """(B, height, width, 3) uint8 images of the gel in environments `envs` (all by
        default), at their sensor poses (B, 6)."""
        import torch

        from tacsuite.sim import optics
        from tacsuite.sim.readout import to_sensor_frame

        with torch.no_grad():
            x = to_sensor_frame(torch.as_tensor(self.gel.positions()[envs],
                                                dtype=torch.float64),
                                torch.as_tensor(pose, dtype=torch.float64))
            img = optics.to_uint8(optics.render(self.raster, x))
        return np.ascontiguousarray(img[:, ::-1])
