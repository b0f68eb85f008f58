"""docs/python.md is run: its `python` blocks, in order, in one namespace, from the
repository's root (a walkthrough that stops working fails here)."""
import os
import re

from conftest import ROOT


def blocks(text: str):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_python_walkthrough_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = (ROOT / "docs" / "python.md").read_text()
    code = blocks(text)
    assert len(code) >= 8
    namespace = {"__name__": "docs_python"}
    for i, block in enumerate(code):
        try:
            exec(compile(block, f"docs/python.md block {i + 1}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001 - say which block failed
            raise AssertionError(f"docs/python.md, python block {i + 1} failed: {e!r}\n{block}") from e


def test_the_readme_python_tour_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    code = blocks((ROOT / "README.md").read_text())
    assert code, "README.md has a python block"
    namespace = {"__name__": "readme"}
    for block in code:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["train"].num_rows == 300
