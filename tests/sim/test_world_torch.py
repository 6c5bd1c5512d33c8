"""torch bridge: autograd through a world rollout matches the world's gradient and FD."""

import numpy as np
import pytest

from tests.sim.world_scenes import press_slide_actions, press_world

torch = pytest.importorskip("torch")
T = 4


def test_rollout_fn_gradient_matches_central_differences():
    from tacsuite.sim.torch import rollout_fn
    w, gel, ball, pair = press_world(requires_grad=True, segment=2)
    fn = rollout_fn(w, driven=("ball",), params={"gel": ("E",), "press": ("kn", "mu")},
                    outputs=("press.force", "gel.x"))
    acts = np.stack([a["ball"] for a in press_slide_actions(T)])          # (T, 1, 6)
    wx = torch.as_tensor(np.random.default_rng(0).normal(size=(1, gel.n, 3)))

    def loss(a, E, kn, mu):
        force, x = fn(a, E, kn, mu)
        return (force[:, :, 2] ** 2).sum() * 1e2 + (wx * x).sum()

    args = [torch.tensor(acts, requires_grad=True), torch.tensor([5e4], requires_grad=True),
            torch.tensor([2e9], requires_grad=True), torch.tensor([0.4], requires_grad=True)]
    L = loss(*args)
    L.backward()
    with torch.no_grad():
        for k, (idx, eps) in enumerate([((2, 0, 2), 1e-9), ((3, 0, 3), 1e-6), ((0,), 5.0),
                                        ((0,), 2e5), ((0,), 4e-5)]):
            i = 0 if k < 2 else k - 1
            plus = [a.detach().clone() for a in args]
            minus = [a.detach().clone() for a in args]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            fd = float(loss(*plus) - loss(*minus)) / (2 * eps)
            got = float(args[i].grad[idx])
            assert got == pytest.approx(fd, rel=1e-3, abs=1e-9 * abs(float(L))), (k, got, fd)
    with pytest.raises(ValueError, match="actions must have shape"):
        fn(torch.zeros(T, 1, 3), *args[1:])
