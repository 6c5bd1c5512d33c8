"""Tactile images of the deformed gel: a physically based shader, a learned per-pixel
model and the polynomial calibration baseline, all in torch (differentiable to the
physics through `GelReadout` and `sysid.Rig.states_fn`).

The image is an orthographic view of the gel's top face from the camera side (the
raster of `GelReadout`: rows along y, columns along x). Per pixel the model sees the
surface's depth towards the camera d = -height (m, >= 0 where pressed), its unit normal
n in view space (n = (0, 0, 1) on a flat gel) and the marker occupancy o in [0, 1].

- `shade` (no training): ambient plus Lambert and Phong terms of three coloured
  directional lights at 120 degree azimuths (as GelSight-style sensors are lit), markers
  drawn dark: I = (1 - k_m o) [a + sum_k c_k (k_d max(n.l_k, 0) + k_s max(r_k.v, 0)^p)].
  A flat gel is uniform; a sphere press tints a ring by the light each slope faces.
- `PixelNet`: an MLP per pixel from (n, depth, o, pixel position) to RGB, trained on
  (height map, image) pairs (`train_pixel_net`).
- `PolyLookup`: Taxim-style calibration, a least-squares polynomial per colour channel
  in the normal's (n_x, n_y).
- `synthetic_pairs`: height maps of random sphere presses with a marker grid, imaged by
  a reference sensor the shader does not match exactly (other lights, depth attenuation,
  vignetting, camera gamma), so learned models have something to learn.
- `load_pairs(folder)`: the documented folder format for measured data:

      folder/meta.json          {"pixel_size": [dx, dy]}  metres per pixel along x and y
      folder/heights/NAME.npy   (H, W) float height change of the gel (m, < 0 pressed)
      folder/images/NAME.png    (H, W, 3) 8-bit RGB tactile image of the same contact
      folder/markers/NAME.npy   optional (H, W) marker occupancy in [0, 1]

  `save_pairs` writes the same format.
"""

import json
import math
from pathlib import Path

import numpy as np
import torch

LIGHTS = {"azimuth_deg": (90.0, 210.0, 330.0), "elevation_deg": 35.0,
          "colors": ((1.0, 0.15, 0.1), (0.1, 1.0, 0.2), (0.15, 0.25, 1.0))}


def depth_normals(height: torch.Tensor, pixel_size) -> tuple[torch.Tensor, torch.Tensor]:
    """(depth (B, H, W), view-space unit normals (B, H, W, 3)) of height maps (B, H, W)."""
    if height.ndim != 3:
        raise ValueError(f"height maps must have shape (B, H, W), got {tuple(height.shape)}")
    dx, dy = (float(p) for p in pixel_size)
    if not (dx > 0 and dy > 0):
        raise ValueError(f"pixel_size must be two positive lengths, got {pixel_size!r}")
    d = -height
    gy, gx = torch.gradient(d, spacing=(dy, dx), dim=(1, 2))
    n = torch.stack([-gx, -gy, torch.ones_like(d)], -1)
    return d, n / torch.linalg.norm(n, dim=-1, keepdim=True)


def light_dirs(azimuth_deg=LIGHTS["azimuth_deg"], elevation_deg=LIGHTS["elevation_deg"]):
    el = math.radians(elevation_deg)
    return torch.tensor([[math.cos(el) * math.cos(math.radians(a)),
                          math.cos(el) * math.sin(math.radians(a)), math.sin(el)]
                         for a in azimuth_deg], dtype=torch.float64)


def shade(normals: torch.Tensor, occupancy: torch.Tensor | None = None, ambient=0.25,
          kd=0.55, ks=0.15, shininess=12.0, marker_darkness=0.85, lights=None,
          colors=LIGHTS["colors"]) -> torch.Tensor:
    """(B, H, W, 3) RGB in [0, 1] of view-space normals (B, H, W, 3); see the docstring."""
    L = light_dirs() if lights is None else lights
    L = L.to(normals.dtype)
    C = torch.as_tensor(colors, dtype=normals.dtype)
    ndl = normals @ L.T                                                  # (B, H, W, k)
    view = torch.tensor([0.0, 0.0, 1.0], dtype=normals.dtype)
    r = 2 * ndl[..., None] * normals[..., None, :] - L                  # reflected lights
    spec = torch.clamp(r @ view, min=0) ** shininess
    lam = torch.clamp(ndl, min=0)
    img = ambient + (kd * lam + ks * spec) @ C
    if occupancy is not None:
        img = img * (1 - marker_darkness * occupancy[..., None])
    return img.clamp(0, 1)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    return (img.detach().clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio (dB) of two images in [0, 1] or two uint8 images."""
    a, b = (np.asarray(t.detach() if isinstance(t, torch.Tensor) else t, dtype=np.float64)
            for t in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"psnr of images with shapes {a.shape} and {b.shape}")
    peak = 255.0 if max(a.max(), b.max()) > 1.0 else 1.0
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def marker_occupancy(centres: torch.Tensor, shape, pixel_size, origin, radius: float):
    """(B, H, W) flat-topped soft discs of `radius` (m) around marker centres (B, M, 2)
    (x, y in m); origin: (x, y) of pixel (0, 0).

    Each marker is a Gaussian G reaching 1/2 at the radius, drawn as min(2 G, 1): the
    Gaussian separates into x and y factors, so the image is one batched matrix product
    (M (H + W) exponentials instead of M H W)."""
    H, W = shape
    xs = origin[0] + torch.arange(W, dtype=centres.dtype) * pixel_size[0]
    ys = origin[1] + torch.arange(H, dtype=centres.dtype) * pixel_size[1]
    s2 = radius * radius / (2 * math.log(2.0))
    gx = torch.exp(-(xs[None, None, :] - centres[:, :, 0, None]) ** 2 / (2 * s2))  # (B, M, W)
    gy = torch.exp(-(ys[None, None, :] - centres[:, :, 1, None]) ** 2 / (2 * s2))  # (B, M, H)
    return torch.clamp(2 * gy.transpose(1, 2) @ gx, max=1.0)


def render(readout, x: torch.Tensor, marker_radius: float | None = None, model=None):
    """(B, rows, cols, 3) image of gel node positions x (B, n, 3) in the sensor frame.

    model: None for `shade`, or a trained `PixelNet` / `PolyLookup`."""
    h = readout.height_map(x)
    px = readout.pixel_size()
    d, n = depth_normals(h, px)
    m = readout.markers(x)[..., :2]
    r = marker_radius or 0.25 * min(readout.size) / max(readout.m_idx.shape[0] ** 0.5, 1) / 2
    occ = marker_occupancy(m, h.shape[1:], px, (readout.xs[0], readout.ys[0]), r)
    if model is None:
        return shade(n, occ)
    return model.predict_features(n, d, occ)


# ----- learned and calibrated models ----------------------------------------------------------
def _positions(shape, dtype):
    H, W = shape
    v = torch.linspace(-1, 1, H, dtype=dtype)[:, None].expand(H, W)
    u = torch.linspace(-1, 1, W, dtype=dtype)[None, :].expand(H, W)
    return u, v


class PixelNet(torch.nn.Module):
    """Per-pixel MLP: (n, depth / depth_scale, occupancy, u, v) -> RGB in [0, 1]."""

    def __init__(self, hidden=32, depth_scale=5e-4, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.depth_scale = float(depth_scale)
        self.net = torch.nn.Sequential(torch.nn.Linear(7, hidden), torch.nn.SiLU(),
                                       torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
                                       torch.nn.Linear(hidden, 3)).double()

    def features(self, n, d, occ):
        u, v = _positions(d.shape[1:], d.dtype)
        B = d.shape[0]
        return torch.cat([n, (d / self.depth_scale)[..., None], occ[..., None],
                          u.expand(B, -1, -1)[..., None], v.expand(B, -1, -1)[..., None]], -1)

    def predict_features(self, n, d, occ):
        return torch.sigmoid(self.net(self.features(n, d, occ)))


class PolyLookup:
    """Colour = polynomial of degree `degree` in (n_x, n_y), one per channel (Taxim)."""

    def __init__(self, degree=4):
        self.degree = int(degree)
        self.coef = None

    def _basis(self, n):
        nx, ny = n[..., 0], n[..., 1]
        return torch.stack([nx**i * ny**j for i in range(self.degree + 1)
                            for j in range(self.degree + 1 - i)], -1)

    def fit(self, n, images, ridge=1e-8):
        A = self._basis(n).reshape(-1, (self.degree + 1) * (self.degree + 2) // 2)
        y = images.reshape(-1, 3).to(A.dtype)
        self.coef = torch.linalg.solve(A.T @ A + ridge * torch.eye(A.shape[1], dtype=A.dtype),
                                       A.T @ y)
        return self

    def predict_features(self, n, d=None, occ=None):
        if self.coef is None:
            raise ValueError("PolyLookup.fit must run before predict")
        return (self._basis(n) @ self.coef).clamp(0, 1)


def pair_features(heights, pixel_size, occupancy=None):
    h = torch.as_tensor(np.asarray(heights, dtype=np.float64))
    d, n = depth_normals(h, pixel_size)
    occ = torch.zeros_like(d) if occupancy is None else torch.as_tensor(
        np.asarray(occupancy, dtype=np.float64))
    return n, d, occ


def train_pixel_net(heights, images, pixel_size, occupancy=None, epochs=300, lr=1e-2,
                    batch_pixels=8192, seed=0, hidden=32) -> PixelNet:
    """Fit a `PixelNet` to pairs: heights (N, H, W) m, images (N, H, W, 3) uint8."""
    n, d, occ = pair_features(heights, pixel_size, occupancy)
    y = torch.as_tensor(np.asarray(images, dtype=np.float64) / 255.0)
    model = PixelNet(hidden=hidden, seed=seed)
    X = model.features(n, d, occ).reshape(-1, 7)
    Y = y.reshape(-1, 3)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    g = torch.Generator().manual_seed(seed)
    for _ in range(int(epochs)):
        idx = torch.randint(0, X.shape[0], (min(batch_pixels, X.shape[0]),), generator=g)
        loss = torch.mean((torch.sigmoid(model.net(X[idx])) - Y[idx]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model


# ----- data ------------------------------------------------------------------------------------
def synthetic_pairs(n: int, shape=(48, 64), pixel_size=(2e-4, 2e-4), seed=0):
    """(heights (n, H, W), images (n, H, W, 3) uint8, occupancy (n, H, W)) of random
    sphere presses imaged by the reference sensor of the module docstring."""
    rng = np.random.default_rng(seed)
    H, W = shape
    xs = (np.arange(W) - (W - 1) / 2) * pixel_size[0]
    ys = (np.arange(H) - (H - 1) / 2) * pixel_size[1]
    X, Y = np.meshgrid(xs, ys)
    heights, occs = np.zeros((n, H, W)), np.zeros((n, H, W))
    for k in range(n):
        for _ in range(rng.integers(1, 3)):
            R = rng.uniform(1.5e-3, 4e-3)
            dep = rng.uniform(1e-4, 6e-4)
            cx, cy = rng.uniform(-0.3, 0.3) * xs[-1] * 2, rng.uniform(-0.3, 0.3) * ys[-1] * 2
            r2 = (X - cx) ** 2 + (Y - cy) ** 2
            cap = np.sqrt(np.clip(R * R - r2, 0, None)) - (R - dep)
            heights[k] = np.minimum(heights[k], -np.clip(cap, 0, None))
        pitch = rng.uniform(1.2e-3, 1.8e-3)
        ox, oy = rng.uniform(0, pitch, 2)
        gx = np.abs(((X - ox) / pitch + 0.5) % 1 - 0.5) * pitch
        gy = np.abs(((Y - oy) / pitch + 0.5) % 1 - 0.5) * pitch
        occs[k] = 1 / (1 + np.exp((gx**2 + gy**2 - (2.5e-4) ** 2) / (2e-8)))
    n_t, d_t, o_t = pair_features(heights, pixel_size, occs)
    lights = light_dirs((80.0, 200.0, 320.0), 40.0)
    img = shade(n_t, o_t, ambient=0.2, kd=0.6, ks=0.25, shininess=8.0, lights=lights,
                colors=((0.95, 0.2, 0.15), (0.15, 0.9, 0.25), (0.2, 0.3, 0.95)))
    rr = torch.as_tensor((X / xs[-1]) ** 2 + (Y / ys[-1]) ** 2)
    img = img * (1 - 0.18 * rr)[None, ..., None] * torch.exp(-d_t / 1.5e-3)[..., None]
    img = img.clamp(0, 1) ** 0.8
    img = img + torch.as_tensor(rng.normal(0, 0.005, img.shape))
    return heights, to_uint8(img), occs


def save_pairs(folder, heights, images, pixel_size, occupancy=None) -> None:
    import matplotlib.image as mpimg

    from tacsuite.common import atomic
    root = Path(folder)
    for sub in ("heights", "images") + (("markers",) if occupancy is not None else ()):
        (root / sub).mkdir(parents=True, exist_ok=True)
    atomic.write_json(root / "meta.json", {"pixel_size": [float(p) for p in pixel_size]})
    for i in range(len(heights)):
        atomic.save_npy(root / "heights" / f"{i:04d}.npy", np.asarray(heights[i]))
        mpimg.imsave(root / "images" / f"{i:04d}.png", np.asarray(images[i], dtype=np.uint8))
        if occupancy is not None:
            atomic.save_npy(root / "markers" / f"{i:04d}.npy", np.asarray(occupancy[i]))


def load_pairs(folder):
    """(heights, images uint8, occupancy or None, pixel_size) of a folder (docstring format)."""
    import matplotlib.image as mpimg
    root = Path(folder)
    meta = root / "meta.json"
    if not meta.is_file():
        raise ValueError(f"{root}: no meta.json with {{'pixel_size': [dx, dy]}}")
    px = json.loads(meta.read_text())["pixel_size"]
    names = sorted(p.stem for p in (root / "heights").glob("*.npy"))
    if not names:
        raise ValueError(f"{root}/heights holds no .npy height maps")
    hs, ims, occ = [], [], []
    for name in names:
        png = root / "images" / f"{name}.png"
        if not png.is_file():
            raise ValueError(f"{root}: height map {name}.npy has no images/{name}.png")
        h = np.load(root / "heights" / f"{name}.npy")
        im = mpimg.imread(png)
        im = (im[..., :3] * 255).round().astype(np.uint8) if im.dtype != np.uint8 else im[..., :3]
        if im.shape[:2] != h.shape:
            raise ValueError(f"{root}: {name} image {im.shape[:2]} and height {h.shape} differ")
        hs.append(h)
        ims.append(im)
        m = root / "markers" / f"{name}.npy"
        occ.append(np.load(m) if m.is_file() else np.zeros_like(h))
    return np.stack(hs), np.stack(ims), np.stack(occ), tuple(px)
