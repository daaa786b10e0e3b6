"""Every Python example in the README runs, in order, in a scratch folder."""

import re
import warnings
from pathlib import Path

import chainrule as cr

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cr.ConvergenceWarning)  # the XOR perceptron example
        for block in blocks:
            exec(compile(block, str(README), "exec"), scope)
    assert scope["report"].passed
    assert scope["p"].converged_
