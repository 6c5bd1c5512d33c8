"""`tacsuite envs`: every registered environment id with its one-line summary."""

from __future__ import annotations

import dataclasses

from tacsuite.common.cliargs import run_config
from tacsuite.envs.registration import registered_ids, summary


@dataclasses.dataclass
class EnvsConfig:
    markdown: bool = False
    """Print a Markdown table (the one in the README) instead of plain lines."""


def env_table_markdown() -> str:
    rows = ["| id | summary |", "|---|---|"]
    rows += [f"| `{i}` | {summary(i)} |" for i in registered_ids()]
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
