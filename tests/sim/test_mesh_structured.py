import numpy as np
import pytest

from tacsuite.sim.mesh import TetMesh, structured_box


def test_structured_box_volume_orientation_and_surface():
    m = structured_box((0.02, 0.03, 0.005), (4, 5, 2))
    assert m.n_tets == 6 * 4 * 5 * 2
    assert np.all(m.volumes() > 0)
    assert m.volumes().sum() == pytest.approx(0.02 * 0.03 * 0.005, rel=1e-12)
    p, t = m.points, m.surface_tris
    n = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
    # Divergence theorem with outward normals: sum over faces of (x . n)/6 = volume.
    assert np.einsum("ij,ij->i", n, p[t].mean(1)).sum() / 6 == pytest.approx(3e-6, rel=1e-12)
    assert len(m.bottom_nodes) == 5 * 6


def test_inverted_tets_rejected():
    m = structured_box(cells=(1, 1, 1))
    bad = m.tets.copy()
    bad[0] = bad[0][[0, 2, 1, 3]]
    with pytest.raises(ValueError, match="inverted"):
        TetMesh(m.points, bad)
