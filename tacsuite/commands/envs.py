"""`tacsuite envs`: every registered environment id with its one-line summary."""

from __future__ import annotations

import dataclasses

from tacsuite.common.cliargs import run_config
from tacsuite.envs.registration import ENVS, registered_ids, summary


@dataclasses.dataclass
class EnvsConfig:
    markdown: bool = False
    """Print a Markdown table (the one in the README) instead of plain lines."""


def env_table_markdown() -> str:
    """Every environment of the suite, optional ones marked with the extra they need."""
    rows = ["| id | summary |", "|---|---|"]
    for e in sorted(ENVS, key=lambda e: e.id):
        note = f" (needs the `{e.extra}` extra)" if e.extra else ""
        rows.append(f"| `{e.id}` | {summary(e.id)}{note} |")
    return "\n".join(rows)


def main(argv: list[str], prog: str) -> int:
    cfg = run_config(EnvsConfig, argv, prog, description="List the registered environments.")
    if cfg.markdown:
        print(env_table_markdown())
    else:
        ids = registered_ids()
        width = max(len(i) for i in ids) + 2
        for i in ids:
            print(f"{i:<{width}}{summary(i)}")
    return 0
