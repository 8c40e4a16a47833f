"""OptLab home page: what OptLab answers, the chapter map, how to use it in class."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from optlab import figures
from optlab import ui

ui.page_config()
HERE = Path(__file__).resolve().parent

# (page file, title, icon, what it teaches). Only chapters whose file exists are listed.
CHAPTERS = [
    ("pages/1_Loss_functions.py", "Loss functions", "🎯",
     "What a loss measures: squared, absolute, Huber, cross-entropy; their shapes, gradients and when to use which."),
    ("pages/2_Gradient_descent.py", "Gradient descent", "⛰️",
     "Step downhill along −∇f: batch, mini-batch and stochastic; the learning rate, why too large diverges, "
     "and schedules."),
    ("pages/3_Newton_method.py", "Newton's method", "📐",
     "Use the curvature (the Hessian): one step on a quadratic, and what goes wrong at saddles and far away."),
    ("pages/4_Adaptive_methods.py", "Adaptive methods", "⚙️",
     "Momentum and Nesterov in narrow valleys, then AdaGrad, RMSProp, Adam and friends: a step size per "
     "coordinate, from running averages of the gradient."),
    ("pages/5_Overfitting_and_gradients.py", "Overfitting and gradients", "📈",
     "Real models: training vs validation loss, regularization, vanishing and exploding gradients, clipping."),
    ("pages/7_Optimizer_arena.py", "Optimizer arena", "🏁",
     "Race any optimizers on any surface; tune learning rates; share the race as a link."),
]

st.title("📉 OptLab")
st.markdown(
    "### How does a machine find the bottom of a loss function — and why do some optimizers get there "
    "faster, or not at all?"
)
st.markdown(
    "Training a model means minimizing a **loss function**: a surface over the model's parameters. "
    "OptLab lets you watch optimizers walk on such surfaces — plain gradient descent, momentum, Newton's "
    "method, Adam and the rest of `torch.optim` — with every update rule written out, every number "
    "computed live, and nothing hidden."
)

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Chapters")
    listed = 0
    for path, title, icon, teaches in CHAPTERS:
        if not (HERE / path).exists():
            continue
        listed += 1
        st.page_link(path, label=f"**{title}**", icon=icon)
        st.caption(teaches)
    if listed == 0:
        st.write("The chapters are in the sidebar.")

with right:
    st.subheader("A race in one picture")

    @st.cache_resource(max_entries=1, show_spinner=False)
    def teaser():
        # cached once per server: the same small figure for every visitor
        s = ui.get_surface(("rosenbrock", ()))
        runs = []
        for name, hyper in (("sgd", (("lr", 0.001),)), ("adam", (("lr", 0.05),))):
            tr = ui.cached_run(("rosenbrock", ()), name, hyper, (-1.5, 2.0), 300)
            tr.label = f"{'SGD' if name == 'sgd' else 'Adam'} (lr = {dict(hyper)['lr']:g})"
            runs.append(tr)
        return figures.contour(s, runs, n=80, height=380, colorbar=False, showlegend=False)

    ui.show_figure(teaser(), key="home_teaser")
    st.caption("300 steps on the Rosenbrock valley from (−1.5, 2): SGD (blue, lr = 0.001) slides into the "
               "valley and crawls; Adam (orange, lr = 0.05) follows the curved floor towards the minimum ★ at (1, 1).")

st.subheader("Using this in class")
st.markdown(
    """
- **Projector:** the app opens in wide mode; collapse the sidebar (‹ at its top) for more room, and zoom the
  browser (Ctrl +) so the back row can read the axes. Add `?embed=true` to a page's address to hide
  Streamlit's menus.
- **Predict, then run:** every chapter has *guided experiments* — a question, a button that sets the
  widgets, and what to look for. Ask the class to commit to a prediction before pressing the button.
- **Presets:** the arena has ready-made races ("momentum overshoots", "Adam vs SGD on Rosenbrock",
  "saddle escape" …), each with a one-line question.
- **Shareable links:** the arena keeps the whole race (surface, start, optimizers, hyperparameters, steps)
  in its address. Copy the link into your slides or a message; opening it restores the race exactly.
- **Homework:** the arena exports the trajectories (CSV), the figure (standalone HTML) and a Python
  snippet that reproduces the race with the `optlab` library in a notebook.
"""
)
