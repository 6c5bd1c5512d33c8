"""`tacsuite sim run SCENE --out DIR`: run a scene file and record it.

Writes DIR/states.npz (per saved frame: node positions of every FEM body, pose of every
rigid and kinematic body, the force of every contact pair, the contact force and torque
on every FEM sensor about its frame origin, hinge angles), DIR/scene.json (the validated
scene) and DIR/summary.json; with --frames-png a PNG per saved frame in DIR/frames/, with
--gif DIR/scene.gif. SCENE is a path or the name of a shipped example
(`tacsuite sim run --list` prints them).
"""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import tyro

from tacsuite.common import atomic
from tacsuite.common.cliargs import run_config


@dataclasses.dataclass
class SimRunConfig:
    scene: Annotated[str, tyro.conf.Positional] = ""
    """Scene file (.json, .yaml or .yml) or the name of a shipped example scene."""
    out: str = "runs/sim_run"
    """Folder for states.npz, scene.json, summary.json and the pictures."""
    frames_png: bool = False
    """Write a PNG of every saved frame into OUT/frames/."""
    video: Literal["none", "gif", "mp4"] = "none"
    """Write OUT/scene.gif (Pillow) or OUT/scene.mp4 (imageio-ffmpeg, the `video` extra)
    of the saved frames (implies drawing them)."""
    images: bool = False
    """Write tactile images (three-light shader, markers) of every saved frame of every
    FEM body whose top face is a node lattice into OUT/tactile/, and their marker
    displacements (px) into OUT/tactile.npz."""
    duration: float | None = None
    """Override the scene's time.duration (s)."""
    list: bool = False
    """Print the shipped example scenes and exit."""


def resolve_scene(name: str) -> Path:
    from tacsuite.sim.scene import example_scenes

    p = Path(name)
    if p.suffix.lower() in (".json", ".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"no such scene file: {p}")
        return p
    examples = example_scenes()
    if name not in examples:
        raise ValueError(f"scene {name!r} is neither a file nor a shipped example; "
                         f"examples: {sorted(examples)}")
    return examples[name]


def _geometry(scene: dict, objs: dict) -> dict:
    geo = {}
    for b in scene["bodies"]:
        o = objs[b["id"]]
        if b["type"] == "fem":
            geo[b["id"]] = {"type": "fem", "surface": np.unique(o.mesh.surface_tris)}
        elif b["type"] in ("rigid", "kinematic"):
            geo[b["id"]] = {"type": b["type"], "points": o.draw_points}
        elif b["type"] in ("mpm", "cable"):
            geo[b["id"]] = {"type": b["type"]}
        else:
            geo[b["id"]] = {"type": "ground", "normal": b["normal"], "point": b["point"]}
    return geo


def _record(scene, world, objs, t: float) -> dict:
    from tacsuite.sim.readout import pair_wrench

    fr = {"time": t}
    B = world.batch
    first = world.n_steps == 0
    for b in scene["bodies"]:
        o, bid = objs[b["id"]], b["id"]
        if b["type"] == "fem":
            fr[f"fem/{bid}/x"] = o.positions()
            fr[f"fem/{bid}/pose"] = (o.initial_pose if first else world._pose_now[bid]).copy()
            origin = world._pose_now[bid][:, :3] if not first else o.initial_pose[:, :3]
            force, torque = np.zeros((B, 3)), np.zeros((B, 3))
            for c in scene["contacts"]:
                if first or bid not in (c["a"], c["b"]):
                    continue
                pair = objs[f"{c['a']}-{c['b']}"]
                if c["a"] == bid:
                    f, tq = pair_wrench(pair, origin)
                elif c.get("surface"):
                    f, tq = pair.surface_wrench(origin)
                else:
                    continue
                force += f
                torque += tq
            fr[f"sensor/{bid}/force"], fr[f"sensor/{bid}/torque"] = force, torque
        elif b["type"] == "rigid":
            st = o.state()
            fr[f"rigid/{bid}/x"], fr[f"rigid/{bid}/q"] = st["x"], st["q"]
        elif b["type"] in ("mpm", "cable"):
            fr[f"{b['type']}/{bid}/x"] = o.positions()
        elif b["type"] == "kinematic":
            fr[f"kinematic/{bid}/pose"] = (o.initial_pose if first else o.pose()).copy()
    for c in scene["contacts"]:
        name = f"{c['a']}-{c['b']}"
        fr[f"contact/{name}/force"] = np.zeros((B, 3)) if first else objs[name].force()
    for j in scene["joints"]:
        fr[f"joint/{j['id']}/angle"] = objs[j["id"]].angle()
    return fr


def _tactile_images(scene, objs, arrays, out: Path) -> dict:
    """PNG per frame, environment 0, and marker flows of every lattice-topped FEM body."""
    import matplotlib.image as mpimg
    import torch

    from tacsuite.sim import optics
    from tacsuite.sim.readout import GelReadout, to_sensor_frame

    flows, skipped, n = {}, [], 0
    for b in scene["bodies"]:
        if b["type"] != "fem":
            continue
        try:
            ro = GelReadout(objs[b["id"]].mesh, res=(120, 160))
        except ValueError:
            skipped.append(b["id"])
            continue
        xs, poses = arrays[f"fem/{b['id']}/x"], arrays[f"fem/{b['id']}/pose"]
        flow = []
        for k in range(xs.shape[0]):
            with torch.no_grad():
                x = to_sensor_frame(torch.as_tensor(xs[k]), torch.as_tensor(poses[k]))
                flow.append(ro.marker_flow(x).numpy())
                img = optics.to_uint8(optics.render(ro, x[:1]))[0]
            (out / "tactile").mkdir(parents=True, exist_ok=True)
            mpimg.imsave(out / "tactile" / f"{b['id']}_{k:04d}.png", img, origin="lower")
            n += 1
        flows[f"{b['id']}/markers"] = np.stack(flow)
    if flows:
        buf = io.BytesIO()
        np.savez_compressed(buf, **flows)
        atomic.write_bytes(out / "tactile.npz", buf.getvalue())
    return {"tactile_images": n, "tactile_dir": str(out / "tactile"),
            "tactile_skipped": skipped}


def run_scene(path, out, frames_png: bool = False, video: str = "none",
              duration: float | None = None, images: bool = False) -> dict:
    from tacsuite.sim.backend import compiler
    from tacsuite.sim.scene import actions_at, build, load_scene, n_steps

    if video not in ("none", "gif", "mp4"):
        raise ValueError(f"video must be 'none', 'gif' or 'mp4', got {video!r}")
    if video == "mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise ValueError("--video mp4 needs imageio-ffmpeg (`pip install "
                             "'tacsuite[video]'`), which is not installed; use --video gif "
                             "(Pillow) instead") from None
    scene = load_scene(path)
    if duration is not None:
        if not duration > 0:
            raise ValueError(f"--duration must be positive, got {duration}")
        scene["time"]["duration"] = float(duration)
    out = Path(out)
    t0 = time.perf_counter()
    world, objs = build(scene)
    world.reset()
    steps = n_steps(scene, world.dt)
    every = scene["time"]["save_every"]
    ctrl = world.dt * world.substeps
    frames = [_record(scene, world, objs, 0.0)]
    t_build = time.perf_counter() - t0
    for i in range(steps):
        world.step(actions_at(scene, i, world.dt))
        if (i + 1) % every == 0 or i + 1 == steps:
            frames.append(_record(scene, world, objs, (i + 1) * ctrl))
    t_sim = time.perf_counter() - t0 - t_build
    arrays = {k: np.stack([np.asarray(f[k]) for f in frames]) for k in frames[0]}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic.write_bytes(out / "states.npz", buf.getvalue())
    atomic.write_json(out / "scene.json", scene)
    summary = {"scene": scene["name"], "steps": steps, "substeps": world.substeps,
               "dt": world.dt, "frames": len(frames), "batch": world.batch,
               "seconds_build": round(t_build, 3), "seconds_simulate": round(t_sim, 3),
               "states": str(out / "states.npz"), "keys": sorted(arrays),
               "compiler": compiler()}
    if images:
        summary.update(_tactile_images(scene, objs, arrays, out))
    if frames_png or video != "none":
        from tacsuite.sim import scene_render as sr

        geo = _geometry(scene, objs)
        limits = sr.view_limits(frames, geo)
        pngs = [sr.save_frame(out / "frames" / f"frame_{k:04d}.png", f, geo, limits,
                              f"{scene['name']}  t = {f['time']:.3f} s")
                for k, f in enumerate(frames)]
        summary["frames_png"] = str(out / "frames")
        fps = min(30.0, max(2.0, 1.0 / (every * ctrl) / 10))
        if video != "none":
            summary["video"] = str(sr.save_video(out / f"scene.{video}", pngs, fps))
    atomic.write_json(out / "summary.json", summary)
    return summary


def main(argv: list[str], prog: str) -> int:
    cfg = run_config(SimRunConfig, argv, prog,
                     description="Run a scene file and record states.npz (and pictures).")
    if cfg.list:
        from tacsuite.sim.scene import example_scenes

        for name, p in example_scenes().items():
            print(f"{name}\t{p}")
        return 0
    if not cfg.scene:
        raise ValueError("give a scene file or example name (see --list)")
    s = run_scene(resolve_scene(cfg.scene), cfg.out, cfg.frames_png, cfg.video, cfg.duration,
                  cfg.images)
    print(f"{s['scene']}: {s['steps']} steps x {s['substeps']} substeps of {s['dt']:.3g} s, "
          f"{s['frames']} frames in {s['seconds_build'] + s['seconds_simulate']:.1f} s "
          f"-> {s['states']}")
    return 0
