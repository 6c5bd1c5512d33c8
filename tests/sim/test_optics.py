"""Optical model: a flat gel renders uniform, a sphere press shows a shading ring, the
learned per-pixel model beats the polynomial lookup on held-out synthetic data, the
folder format round-trips, and image gradients match central differences."""

import numpy as np
import torch

from tacsuite.sim import optics

PX = (2e-4, 2e-4)


def _sphere_height(shape=(41, 41), R=3e-3, depth=4e-4):
    H, W = shape
    xs = (np.arange(W) - (W - 1) / 2) * PX[0]
    X, Y = np.meshgrid(xs, xs[:H])
    cap = np.sqrt(np.clip(R * R - X**2 - Y**2, 0, None)) - (R - depth)
    return -np.clip(cap, 0, None), np.sqrt(X**2 + Y**2), np.sqrt(2 * R * depth)


def test_flat_gel_renders_uniform_and_sphere_press_gives_a_ring():
    _, n = optics.depth_normals(torch.zeros(1, 20, 30, dtype=torch.float64), PX)
    flat_f = optics.shade(n)
    flat = optics.to_uint8(flat_f)
    assert flat.min(axis=(0, 1, 2)).tolist() == flat.max(axis=(0, 1, 2)).tolist()
    h, r, a = _sphere_height()
    _, n = optics.depth_normals(torch.as_tensor(h[None]), PX)
    img = optics.shade(n)[0].numpy()
    dev = np.linalg.norm(img - flat_f[0, 0, 0].numpy(), axis=-1)
    ring = (r > 0.5 * a) & (r < 0.95 * a)
    assert dev[ring].mean() > 5 * dev[r < 0.15 * a].mean() + 0.02
    assert dev[r > 1.3 * a].max() < 1e-9
    # the ring's colour turns with the azimuth: three lights, three hues
    hue = img[ring].argmax(-1)
    assert set(hue.tolist()) == {0, 1, 2}


def test_pixel_net_beats_polynomial_lookup_on_held_out_data(tmp_path):
    torch.set_num_threads(1)
    h, im, occ = optics.synthetic_pairs(12, shape=(32, 40), seed=0)
    optics.save_pairs(tmp_path / "train", h, im, PX, occ)
    h, im, occ, px = optics.load_pairs(tmp_path / "train")
    ht, imt, occt = optics.synthetic_pairs(4, shape=(32, 40), seed=1)
    n, _, _ = optics.pair_features(h, px, occ)
    poly = optics.PolyLookup(4).fit(n, torch.as_tensor(im / 255.0))
    net = optics.train_pixel_net(h, im, px, occ, epochs=150, batch_pixels=2048)
    nt, dt, ot = optics.pair_features(ht, px, occt)
    with torch.no_grad():
        p_net = optics.psnr(optics.to_uint8(net.predict_features(nt, dt, ot)), imt)
    p_poly = optics.psnr(optics.to_uint8(poly.predict_features(nt)), imt)
    assert p_net > p_poly + 5, (p_net, p_poly)


def test_shading_and_net_gradients_match_central_differences():
    h, _, _ = _sphere_height(shape=(7, 7), R=1e-3, depth=3e-4)
    ht = torch.as_tensor(h[None]).requires_grad_(True)
    occ = torch.rand(1, 7, 7, dtype=torch.float64)
    net = optics.PixelNet(hidden=8)

    def f(hh):
        d, n = optics.depth_normals(hh, PX)
        return optics.shade(n, occ).sum() + net.predict_features(n, d, occ).sum()

    assert torch.autograd.gradcheck(f, (ht,), eps=1e-9, atol=1e-4, rtol=1e-3)


def test_sim_run_images_writes_tactile_frames_and_marker_flows(tmp_path):
    from tacsuite.commands.sim_run import resolve_scene, run_scene
    s = run_scene(resolve_scene("fingertip_press_slide"), tmp_path, images=True,
                  duration=0.8)
    assert s["tactile_images"] == s["frames"] and not s["tactile_skipped"]
    flow = np.load(tmp_path / "tactile.npz")["finger/markers"]
    assert np.abs(flow[0]).max() < 1e-9 < np.abs(flow[-1]).max()
    assert len(list((tmp_path / "tactile").glob("finger_*.png"))) == s["frames"]
