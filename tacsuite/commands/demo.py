"""`tacsuite demo`: a few-minute tour that writes one PNG per capability and summary.json."""

from __future__ import annotations

import dataclasses
import importlib
import time
from pathlib import Path

from tacsuite.common import atomic
from tacsuite.common.cliargs import run_config
from tacsuite.demos import PARTS


@dataclasses.dataclass
class DemoConfig:
    out: str = "runs/demo"
    """Folder for the tour's PNGs and summary.json."""
    only: str = ""
    """Comma-separated parts to run (default: all). Parts: see `tacsuite demo --help`."""


def run_demo(out: str | Path, only: list[str] | None = None) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = only or list(PARTS)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise ValueError(f"unknown demo part(s) {unknown}; choose from {list(PARTS)}")
    summary: dict = {"parts": {}}
    for name in names:
        t0 = time.perf_counter()
        print(f"[demo] {name} ...", flush=True)
        part = importlib.import_module(PARTS[name]).run(out)
        part["seconds"] = round(time.perf_counter() - t0, 2)
        summary["parts"][name] = part
        print(f"[demo] {name} done in {part['seconds']:.1f} s -> {out / part['png']}", flush=True)
    summary["seconds"] = round(sum(p["seconds"] for p in summary["parts"].values()), 2)
    atomic.write_json(out / "summary.json", summary)
    return summary


def main(argv: list[str], prog: str) -> int:
    cfg = run_config(DemoConfig, argv, prog,
                     description=f"Tour of the suite. Parts: {', '.join(PARTS)}.")
    only = [p.strip() for p in cfg.only.split(",") if p.strip()] or None
    run_demo(cfg.out, only)
    print(f"[demo] wrote {Path(cfg.out) / 'summary.json'}")
    return 0
