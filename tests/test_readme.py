"""README.md: the notebook example runs as printed, against the public API it documents."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def notebook_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## `optlab` in a notebook"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_notebook_example_runs(monkeypatch, capsys):
    import plotly.graph_objects as go

    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda fig, *a, **k: shown.append(fig))
    ns: dict = {}
    exec(compile(notebook_example(), "README.md", "exec"), ns)   # the README's own code, nothing else
    out = capsys.readouterr().out
    assert "ran 200 steps" in out or "converged" in out          # print(tr.message, tr.final_x)
    tr, s = ns["tr"], ns["s"]
    assert tr.diverged_at.shape == (200,) and (tr.diverged_at >= 0).any() and (tr.diverged_at < 0).any()
    assert 0 < ns["best_lr"] and ns["sweep"].shape == (60,)
    assert ns["mine"].name == "custom" and s.name == "rosenbrock"
    newton_step = ns["optlab"].run(ns["q"], ns["optlab"].optimizers.make("newton"), [2.0, 1.0], 1).xs[-1]
    np.testing.assert_allclose(newton_step, [0.0, 0.0], atol=1e-12)   # "the minimum in one step"
    assert len(shown) == 1 and shown[0].data                          # figures.contour(s, [tr]).show()
