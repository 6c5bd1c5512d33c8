"""Small pieces every command line shares: `k=v` parsing, sub-command dispatch, tyro."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """Parse `k=v,k2=v2` with values read as Python literals (bare words stay strings).

    Commas inside brackets or quotes do not split, so `sizes=(1,2),name='a,b'` works.
    """
    out: dict[str, Any] = {}
    if not text:
        return out
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    for part in parts:
        if not part.strip():
            continue
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"bad key=value pair {part!r} in {text!r}: expected name=value")
        raw = raw.strip()
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def run_config(cls: type[T], argv: Sequence[str], prog: str, description: str | None = None
               ) -> T:
    """Build a dataclass config from argv; field docstrings become `--help` text."""
    import tyro

    return tyro.cli(cls, args=list(argv), prog=prog, description=description)


Subcommand = tuple[Callable[[list[str], str], int], str]


def dispatch(subcommands: dict[str, Subcommand], argv: Sequence[str], prog: str,
             description: str) -> int:
    """Route `prog NAME ...` to the handler registered for NAME."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        width = max(len(k) for k in subcommands) + 2
        lines = [f"usage: {prog} {{{','.join(subcommands)}}} ...", "", description, "",
                 "commands:"]
        lines += [f"  {name:<{width}}{summary}" for name, (_, summary) in subcommands.items()]
        lines += ["", f"Run `{prog} COMMAND --help` for the options of each command."]
        print("\n".join(lines))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in subcommands:
        print(f"{prog}: unknown command {name!r}; choose from {', '.join(subcommands)}",
              file=sys.stderr)
        return 2
    return subcommands[name][0](rest, f"{prog} {name}")
