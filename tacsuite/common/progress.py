"""Progress bars that switch themselves off when stderr is not a terminal (CI logs)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", disable: bool | None = None) -> tqdm:
    if disable is None:
        disable = not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable,
                dynamic_ncols=True, leave=False)


def trange(n: int, **kwargs) -> tqdm:
    return progress(range(n), total=n, **kwargs)
