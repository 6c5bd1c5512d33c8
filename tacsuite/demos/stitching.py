"""Demo: MBRCSL stitches the dataset's two route halves into the shortest path on GridStitch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots

SMALL = dict(model_hidden=(128, 128), model_epochs=8, behavior_hidden=(128, 128),
             behavior_epochs=10, rcsl_hidden=(128, 128), rcsl_epochs=15, keep=100,
             eval_episodes=10)


def _draw_maze(ax) -> None:
    from tacsuite.envs.grid_stitch import GOAL_CELL, MAZE, MID_CELL, START_CELL, cell_center

    ax.imshow(MAZE, cmap="Greys", vmin=0, vmax=1.6, extent=(0, MAZE.shape[1], MAZE.shape[0], 0))
    for cell, name in ((START_CELL, "S"), (MID_CELL, "M"), (GOAL_CELL, "G")):
        x, y = cell_center(cell)
        ax.text(x + 0.3, y - 0.3, name, fontsize=12, weight="bold")
    gx, gy = cell_center(GOAL_CELL)
    ax.add_patch(plots.plt.Circle((gx, gy), 0.5, color="#009E73", alpha=0.25))
    ax.set_xlim(0.8, 5.2)
    ax.set_ylim(3.2, 0.8)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def run(out: Path) -> dict:
    from tacsuite.agents import mbrcsl, rcsl
    from tacsuite.envs import datasets

    episodes = datasets.load("gridstitch-mixed")
    mb = mbrcsl.train(mbrcsl.Config(seed=0, out=str(out / "stitching_runs" / "mbrcsl"),
                                    overwrite=True, **SMALL))
    rc = rcsl.train(rcsl.Config(seed=0, out=str(out / "stitching_runs" / "rcsl"),
                                hidden=(128, 128), epochs=15, eval_episodes=10, overwrite=True))
    paths = np.load(out / "stitching_runs" / "mbrcsl" / "eval_paths.npy")
    kept = np.load(out / "stitching_runs" / "mbrcsl" / "rollouts_kept.npy")
    fig, axes = plots.figure(ncols=2, width=5.2, height=3.8, layout="constrained")
    ax = axes[0, 0]
    _draw_maze(ax)
    for i, ep in enumerate(episodes[:60]):
        o = ep["observations"]
        ax.plot(o[:, 0], o[:, 1], color=plots.PALETTE[1] if i % 2 else plots.PALETTE[5],
                lw=0.6, alpha=0.6)
    ax.plot([], [], color=plots.PALETTE[5], label="dataset: start -> midpoint (return 0)")
    ax.plot([], [], color=plots.PALETTE[1], label=f"dataset: detour (best return "
                                                   f"{mb['dataset_max_return']:.0f})")
    ax.set_title("offline data: no episode takes S -> M -> G")
    ax = axes[0, 1]
    _draw_maze(ax)
    for o in kept[:30]:
        ax.plot(o[:, 0], o[:, 1], color="0.5", lw=0.5, alpha=0.5)
    ax.plot(paths[0, :, 0], paths[0, :, 1], color=plots.PALETTE[0], lw=2.5,
            label=f"MBRCSL policy (return {mb['eval_return']:.1f})")
    ax.plot([], [], color="0.5", label="kept model rollouts")
    plots.legend_below(fig, ncol=2, fontsize=7)
    ax.set_title(f"stitched: MBRCSL {mb['eval_return']:.1f} vs RCSL {rc['eval_return']:.1f}")
    atomic.savefig(out / "stitching.png", fig)
    plots.close(fig)
    return {"png": "stitching.png", "mbrcsl_return": mb["eval_return"],
            "rcsl_return": rc["eval_return"], "dataset_max_return": mb["dataset_max_return"],
            "kept_rollouts": mb["kept_rollouts"]}
