"""Saved agents as data: `agent.json` (format, version, kind, options) + an `.npz` of arrays.

Nothing here unpickles: arrays are read with `allow_pickle=False`, torch weights are
rebuilt from plain arrays into modules the code constructs itself. `agent.json` records
the SHA-256 of its array file, so a truncated, swapped or edited array file is rejected
before it is parsed, as are files of another format or version.

    save_agent(run_dir, "bc", {"obs_dim": 2, ...}, {"net.0.weight": ..., ...})
    kind, meta, arrays = load_agent(run_dir)
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tacsuite.common import atomic

FORMAT = "tacsuite-agent"
VERSION = 1
AGENT = "agent"            # agent.json + agent-<sha>.npz: what `evaluate` needs
CHECKPOINT = "checkpoint"  # checkpoint.json + checkpoint-<sha>.npz: what `--resume` needs
AGENT_JSON = "agent.json"
LEGACY_PICKLE = "agent.pkl"


class SavedAgentError(ValueError):
    """A saved agent that cannot be read: missing, truncated, foreign or of another version."""


def save_agent(folder: str | Path, kind: str, meta: dict[str, Any],
               arrays: dict[str, np.ndarray], name: str = AGENT) -> Path:
    """Write the arrays under a name carrying their checksum, then the JSON naming them.

    The JSON is the commit point: a process killed before it leaves the previous pair
    intact, so a checkpoint is never half old, half new.
    """
    folder = Path(folder)
    buf = io.BytesIO()
    np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    blob = buf.getvalue()
    sha = hashlib.sha256(blob).hexdigest()
    data_name = f"{name}-{sha[:16]}.npz"
    atomic.write_bytes(folder / data_name, blob)
    head = atomic.write_json(folder / f"{name}.json", {
        "format": FORMAT, "version": VERSION, "kind": kind, "meta": meta,
        "file": data_name, "arrays": sorted(arrays), "sha256": sha, "bytes": len(blob)})
    for old in folder.glob(f"{name}-*.npz"):
        if old.name != data_name:
            old.unlink(missing_ok=True)
    return head


def has_agent(folder: str | Path, name: str = AGENT) -> bool:
    return (Path(folder) / f"{name}.json").is_file()


def load_agent(folder: str | Path, kinds: tuple[str, ...] | None = None, name: str = AGENT
               ) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """(kind, meta, arrays) of a saved agent; SavedAgentError names what is wrong."""
    folder = Path(folder)
    head_path = folder / f"{name}.json"
    if not head_path.is_file():
        if name == AGENT and (folder / LEGACY_PICKLE).is_file():
            raise SavedAgentError(
                f"{folder / LEGACY_PICKLE} is a pickle from an older tacsuite; pickles are "
                f"never loaded (they can run code). Train again to write {AGENT_JSON}")
        raise SavedAgentError(f"{head_path} not found: no saved agent in {folder}")
    try:
        head = atomic.read_json(head_path)
    except ValueError as exc:
        raise SavedAgentError(f"{head_path} is not a saved tacsuite agent ({exc})") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise SavedAgentError(f"{head_path} is not a saved tacsuite agent (format "
                              f"{head.get('format') if isinstance(head, dict) else None!r}, "
                              f"expected {FORMAT!r})")
    if head.get("version") != VERSION:
        raise SavedAgentError(f"{head_path} has agent format version {head.get('version')!r};"
                              f" this tacsuite reads version {VERSION}: train again")
    kind = head.get("kind")
    if kinds is not None and kind not in kinds:
        raise SavedAgentError(f"{head_path} holds a {kind!r} agent; expected one of "
                              f"{', '.join(kinds)}")
    data_name = head.get("file")
    if not isinstance(data_name, str) or Path(data_name).name != data_name:
        raise SavedAgentError(f"{head_path} names no array file in its own folder")
    data_path = folder / data_name
    if not data_path.is_file():
        raise SavedAgentError(f"{data_path} not found (the arrays {head_path} names)")
    blob = data_path.read_bytes()
    if len(blob) != head.get("bytes") or hashlib.sha256(blob).hexdigest() != head.get("sha256"):
        raise SavedAgentError(f"{data_path} is truncated or was modified ({len(blob)} bytes, "
                              f"{head.get('bytes')} saved): train again")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise SavedAgentError(f"{data_path} cannot be read as arrays ({exc})") from None
    if sorted(arrays) != head.get("arrays"):
        raise SavedAgentError(f"{data_path} does not hold the arrays {head_path} lists")
    return kind, head.get("meta", {}), arrays


# ------------------------------------------------------------------ torch modules

def module_arrays(prefix: str, module) -> dict[str, np.ndarray]:
    """A torch module's state as plain arrays, keys `prefix.name`."""
    return {f"{prefix}.{k}": v.detach().cpu().numpy().copy()
            for k, v in module.state_dict().items()}


def load_module(prefix: str, module, arrays: dict[str, np.ndarray]):
    """Fill a freshly built module from `module_arrays` output (shapes must match)."""
    import torch

    state = {k[len(prefix) + 1:]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
             if k.startswith(prefix + ".")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise SavedAgentError(f"saved weights {prefix!r} do not fit the model: {exc}") from None
    module.eval()
    return module
