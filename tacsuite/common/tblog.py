"""TensorBoard event files beside `metrics.jsonl`, with CleanRL's tag names.

`RunDir.log(**metrics)` forwards each line here when TensorBoard logging is on (`tacsuite
train ... --tensorboard`, or `with tensorboard(True):` around a trainer call), so every
trainer gets it without code of its own. Tags follow CleanRL: episode returns are
`charts/episodic_return`, anything named like a loss (loss, mse, nll) is `losses/<name>`,
other numbers are `charts/<name>`, and `charts/SPS` (steps a second) is added when a line
has both a step and `seconds`. The x axis is the line's step (`global_step`, `step`, `t`,
`episode`, `epoch` or `round`, the first present), else the line's number.
"""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path

_ON: contextvars.ContextVar[bool] = contextvars.ContextVar("tacsuite_tensorboard",
                                                            default=False)
STEP_KEYS = ("global_step", "step", "t", "episode", "epoch", "round")
RETURN_KEYS = ("episodic_return", "episode_return", "train_episode_return", "return")
LENGTH_KEYS = ("episodic_length", "episode_length")
_LOSS_WORDS = ("loss", "mse", "nll")


@contextlib.contextmanager
def tensorboard(enabled: bool = True):
    """Run dirs opened inside this block also write TensorBoard event files."""
    if enabled:
        require()
    token = _ON.set(enabled)
    try:
        yield
    finally:
        _ON.reset(token)


def enabled() -> bool:
    return _ON.get()


def require():
    from tacsuite.common.validate import require as _require

    return _require("tensorboardX", "tensorboard", "--tensorboard")


def tag(key: str) -> str:
    if key in RETURN_KEYS:
        return "charts/episodic_return"
    if key in LENGTH_KEYS:
        return "charts/episodic_length"
    if any(w in key.lower() for w in _LOSS_WORDS):
        return f"losses/{key}"
    return f"charts/{key}"


def scalars(metrics: dict, line: int) -> tuple[int, dict[str, float]]:
    """(step, {tag: value}) of one metrics line; non-numbers are left out."""
    step = next((metrics[k] for k in STEP_KEYS if _number(metrics.get(k))), line)
    out = {tag(k): float(v) for k, v in metrics.items() if k not in STEP_KEYS and _number(v)}
    seconds = metrics.get("seconds")
    if step != line and _number(seconds) and seconds > 0:
        out["charts/SPS"] = float(step) / float(seconds)
    return int(step), out


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


class Writer:
    """One event file under `folder`, flushed after every line (a crash keeps them)."""

    def __init__(self, folder: str | Path):
        self._writer = require().SummaryWriter(logdir=str(folder), flush_secs=3600)
        self._lines = 0

    def add(self, metrics: dict) -> None:
        self._lines += 1
        step, values = scalars(metrics, self._lines)
        for name, value in values.items():
            self._writer.add_scalar(name, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def read_scalars(folder: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the event files under `folder`: {tag: [(step, value), ...]}."""
    import struct

    from tensorboardX.proto import event_pb2

    out: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(folder).rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos + 12 <= len(data):  # record: u64 length, u32 crc, payload, u32 crc
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            for v in event.summary.value:
                out.setdefault(v.tag, []).append((int(event.step), float(v.simple_value)))
    return out
