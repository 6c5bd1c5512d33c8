import gymnasium as gym
import numpy as np
import pytest

from tacsuite.envs.american_put import hat_features
from tacsuite.envs.robust_cartpole import state_features


def test_hat_features_are_a_partition_of_unity_and_interpolate_the_payoff():
    d = 30
    width = 100.0 / d
    centres = 80 + width * np.arange(d)
    payoff_nodes = np.maximum(0.0, 100.0 - centres)
    for s in np.linspace(60, 200, 301):
        f = hat_features(s, d)
        assert f.min() >= 0 and f.sum() == pytest.approx(1.0)
        sc = np.clip(s, centres[0], centres[-1])
        # 100 is a node, so the piecewise-linear payoff is interpolated exactly.
        assert f @ payoff_nodes == pytest.approx(max(0.0, 100.0 - sc), abs=1e-9)


def test_put_exercise_pays_and_terminates_and_p_moves_the_price():
    env = gym.make("tacsuite/AmericanPutOption-v0", p=1.0)
    obs, info = env.reset(seed=0)
    assert 95 <= obs[0] <= 105 and info["features"].shape == (2, 60)
    price = float(env.unwrapped.price)
    obs, r, term, trunc, _ = env.step(0)
    assert env.unwrapped.price == pytest.approx(1.02 * price) and r == 0.0 and not term
    obs, r, term, trunc, _ = env.step(1)
    assert term and r == pytest.approx(max(0.0, 100 - 1.02 * price))
    env = gym.make("tacsuite/AmericanPutOption-v0", p=0.0)
    env.reset(seed=1)
    for _ in range(20):
        _, _, term, trunc, _ = env.step(0)
    assert trunc and not term and env.unwrapped.price < 100 * 0.98 ** 19
    with pytest.raises(ValueError, match="p"):
        gym.make("tacsuite/AmericanPutOption-v0", p=1.5)


@pytest.mark.parametrize("kind", ["rbf", "bins"])
def test_cartpole_features_are_probability_vectors(kind):
    rng = np.random.default_rng(0)
    for _ in range(50):
        f = state_features(rng.normal(size=4), kind, 3)
        assert f.shape == (81,) and f.min() >= 0 and f.sum() == pytest.approx(1.0)
    env = gym.make("tacsuite/RobustCartPole-v0", features=kind)
    _, info = env.reset(seed=0)
    assert info["features"].shape == (2, 162)
    assert np.allclose(info["features"].sum(1), 1.0)


def _balance_steps(**kwargs) -> int:
    env = gym.make("tacsuite/RobustCartPole-v0", horizon=500, **kwargs)
    obs, _ = env.reset(seed=3)
    for t in range(500):
        # A fixed PD controller on the pole angle.
        a = int(obs[2] + 0.3 * obs[3] > 0)
        obs, r, term, trunc, _ = env.step(a)
        if term or trunc:
            return t + 1
    return 500


def test_cartpole_perturbations_change_the_dynamics():
    assert _balance_steps() == 500
    # Heavy action noise defeats the same controller.
    assert _balance_steps(action_noise=0.9) < 500
    env0 = gym.make("tacsuite/RobustCartPole-v0")
    env1 = gym.make("tacsuite/RobustCartPole-v0", length=1.5, masspole=0.5)
    env0.reset(seed=0)
    env1.reset(seed=0)
    o0, *_ = env0.step(1)
    o1, *_ = env1.step(1)
    assert not np.allclose(o0, o1)
    with pytest.raises(ValueError, match="length"):
        gym.make("tacsuite/RobustCartPole-v0", length=-1.0)


def test_cartpole_frame_draws_the_pole_at_its_angle():
    from tacsuite.envs.raster import ORANGE

    env = gym.make("tacsuite/RobustCartPole-v0", render_mode="rgb_array")
    env.reset(seed=0)
    u = env.unwrapped
    for theta in (0.0, 0.15, -0.15):
        u.state = np.array([0.0, 0.0, theta, 0.0])
        img = env.render()
        # 60% up the pole, from the cart's top centre (see RobustCartPoleEnv._render_rgb)
        scale = (400 - 40) / (2 * 2.4)
        r = 0.6 * 2 * u.length * scale
        x, y = 200 + r * np.sin(theta), 240 - 60 - 28 - r * np.cos(theta)
        assert tuple(img[int(y), int(x)]) == ORANGE, theta
        mirrored = 200 - r * np.sin(theta)
        assert theta == 0 or tuple(img[int(y), int(mirrored)]) != ORANGE


def test_tabular_frame_marks_the_current_state():
    from tacsuite.envs.raster import BLUE, LIGHT

    env = gym.make("tacsuite/SimulatedLinearMDP-v0", render_mode="rgb_array")
    env.reset(seed=0)
    for s in range(5):
        env.unwrapped.state = s
        img = env.render()
        centres = [tuple(img[28, 8 + i * 40 + 20]) for i in range(5)]
        assert centres == [BLUE if i == s else LIGHT for i in range(5)]
    assert gym.make("tacsuite/RiverSwim-v0", render_mode="ansi").unwrapped.render() \
        .count("[*]") == 1
