"""The README's environment table is generated from the registry and must not go stale."""

from pathlib import Path

from tacsuite.commands.envs import env_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- envs:begin -->", "<!-- envs:end -->"


def test_readme_env_table_is_current():
    text = README.read_text()
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == env_table_markdown(), "run `make readme` to refresh the env table"


def test_readme_names_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_world_example_runs():
    text = README.read_text().split("## Tactile simulator: the world", 1)[1]
    code = text.split("```python", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(code, "README world example", "exec"), scope)
    g = scope["g"]
    assert g["actions"]["ball"].shape == (6, 2, 6)
    assert all(abs(v) > 0 for v in g["params"]["gel"]["E"])
