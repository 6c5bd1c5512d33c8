"""Regenerate the environment table in README.md from the registry (`make readme`)."""

import argparse
from pathlib import Path

from tacsuite.commands.envs import env_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- envs:begin -->", "<!-- envs:end -->"

if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__).parse_args()
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{env_table_markdown()}\n{END}{tail}")
    print(f"updated {README}")
