"""Independent numpy version of the stable Neo-Hookean law for the tests."""

import numpy as np


def stress(F, mu, lam):
    ic = np.sum(F * F, axis=(-2, -1))[..., None, None]
    J = np.linalg.det(F)[..., None, None]
    cof = J * np.swapaxes(np.linalg.inv(F), -1, -2)
    return mu * (1 - 1 / (ic + 1)) * F + (lam * (J - 1) - 0.75 * mu) * cof


def energy(F, mu, lam):
    ic = np.sum(F * F, axis=(-2, -1))
    J = np.linalg.det(F)
    alpha = 1 + 0.75 * mu / lam
    return (mu / 2 * (ic - 3) + lam / 2 * (J - alpha) ** 2 - mu / 2 * np.log(ic + 1)
            - (lam / 2 * (1 - alpha) ** 2 - mu / 2 * np.log(4)))


def deformation_gradients(X, x, tets):
    def edges(p):
        q = p[tets]
        return np.stack([q[:, 1] - q[:, 0], q[:, 2] - q[:, 0], q[:, 3] - q[:, 0]], axis=2)
    return edges(x) @ np.linalg.inv(edges(X))


def total_energy(mesh, x, v, mu, lam, density):
    from tacsuite.sim.fem import shape_gradients
    V0, _, _ = shape_gradients(mesh.points, mesh.tets)
    F = deformation_gradients(mesh.points, x, mesh.tets)
    m = np.zeros(mesh.n_nodes)
    for k in range(4):
        np.add.at(m, mesh.tets[:, k], density * V0 / 4)
    return 0.5 * np.sum(m[:, None] * v * v), float(np.sum(V0 * energy(F, mu, lam)))
