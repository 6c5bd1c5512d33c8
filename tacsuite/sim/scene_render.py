"""Pictures of recorded scene frames: a side view (x-z) and a top view (x-y) of every
body (gel nodes, rigid and kinematic surface samples, the ground line), and a video of
them (GIF through Pillow, MP4 through imageio-ffmpeg).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots
from tacsuite.sim import quat
from tacsuite.sim.se3 import rotation_matrix


def body_points(frame: dict, geometry: dict, env: int = 0) -> dict[str, np.ndarray]:
    """{body id: (n, 3) world points to draw} for one recorded frame and environment."""
    out = {}
    for bid, geo in geometry.items():
        kind = geo["type"]
        if kind == "fem":
            out[bid] = frame[f"fem/{bid}/x"][env][geo["surface"]]
        elif kind == "rigid":
            R = quat.np_to_matrix(frame[f"rigid/{bid}/q"][env])
            out[bid] = geo["points"] @ R.T + frame[f"rigid/{bid}/x"][env]
        elif kind in ("mpm", "cable"):
            out[bid] = frame[f"{kind}/{bid}/x"][env]
        elif kind == "kinematic":
            p = frame[f"kinematic/{bid}/pose"][env]
            out[bid] = geo["points"] @ rotation_matrix(p[3:]).T + p[:3]
    return out


def view_limits(frames: list[dict], geometry: dict) -> tuple[np.ndarray, np.ndarray]:
    pts = np.concatenate([np.concatenate(list(body_points(f, geometry).values()))
                          for f in frames])
    lo, hi = pts.min(0), pts.max(0)
    pad = 0.08 * float(np.max(hi - lo)) + 1e-6
    return lo - pad, hi + pad


def save_frame(path, frame: dict, geometry: dict, limits, title: str) -> Path:
    fig, axes = plots.figure(ncols=2, width=4.4, height=3.8)
    fig.subplots_adjust(wspace=0.35, top=0.84)
    lo, hi = limits
    pts = body_points(frame, geometry)
    for ax, (i, j), name in ((axes[0, 0], (0, 2), "side view (x-z)"),
                             (axes[0, 1], (0, 1), "top view (x-y)")):
        for k, (bid, p) in enumerate(pts.items()):
            ax.scatter(p[:, i] * 1e3, p[:, j] * 1e3, s=4, color=plots.PALETTE[k % 8],
                       label=bid)
        for bid, geo in geometry.items():
            if geo["type"] == "ground" and j == 2:
                n, p0 = np.asarray(geo["normal"]), np.asarray(geo["point"])
                xs = np.array([lo[0], hi[0]])
                # the plane's trace in the x-z plane (y = 0): n_x x + n_z z = n . p0
                if abs(n[2]) > 1e-9:
                    zs = (n @ p0 - n[0] * xs) / n[2]
                    ax.plot(xs * 1e3, zs * 1e3, color="0.4", lw=1.5, label=bid)
        ax.set_xlim(lo[i] * 1e3, hi[i] * 1e3)
        ax.set_ylim(lo[j] * 1e3, hi[j] * 1e3)
        ax.set_aspect("equal")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel(("y", "y", "z")[j] + " (mm)")
        ax.set_title(name, fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, markerscale=3, ncol=1)
    fig.suptitle(title, x=0.4)
    path = Path(path)
    atomic.savefig(path, fig)
    plots.close(fig)
    return path


def save_gif(path, pngs: list[Path], fps: float = 10.0) -> Path:
    from PIL import Image

    images = [Image.open(p).convert("P", palette=Image.ADAPTIVE) for p in pngs]
    import io

    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 / fps), loop=0)
    return atomic.write_bytes(path, buf.getvalue())


VIDEO_FORMATS = ("gif", "mp4")


def save_mp4(path, pngs: list[Path], fps: float = 10.0) -> Path:
    """H.264 MP4 of the PNGs through imageio-ffmpeg's ffmpeg (the `video` extra); frames
    are padded with white to a multiple of 16 pixels, which the encoder's macroblocks
    need, instead of being resampled."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ValueError("MP4 output needs imageio-ffmpeg (`pip install 'tacsuite[video]'`); "
                         "use the GIF format (Pillow) instead") from None
    from PIL import Image

    frames = []
    for p in pngs:
        with Image.open(p) as im:
            img = np.asarray(im.convert("RGB"))
        h, w = img.shape[:2]
        H, W = -(-h // 16) * 16, -(-w // 16) * 16
        frames.append(np.pad(img, ((0, H - h), (0, W - w), (0, 0)), constant_values=255))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.mp4")
    try:
        H, W = frames[0].shape[:2]
        gen = imageio_ffmpeg.write_frames(str(tmp), (W, H), fps=fps, codec="libx264",
                                          macro_block_size=16, pix_fmt_out="yuv420p")
        gen.send(None)
        for f in frames:
            gen.send(np.ascontiguousarray(f))
        gen.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def save_video(path, pngs: list[Path], fps: float = 10.0) -> Path:
    """A GIF or an MP4 of the frames, by the suffix of `path`."""
    kind = Path(path).suffix.lstrip(".").lower()
    if kind not in VIDEO_FORMATS:
        raise ValueError(f"video format {kind!r} is not supported; choose one of "
                         f"{list(VIDEO_FORMATS)}")
    return save_gif(path, pngs, fps) if kind == "gif" else save_mp4(path, pngs, fps)
