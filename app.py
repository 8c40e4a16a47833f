"""OptLab home page: what OptLab answers, the chapter map, how to use it in class."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from optlab import figures
from optlab import ui
from optlab.i18n import domain
from optlab.ui.i18n import navigation_entries

_, N_, ngettext = domain("optlab")

ui.page_config()
HERE = Path(__file__).resolve().parent

# What each chapter teaches, by Streamlit's page name; only chapters whose file exists are listed,
# under the title and icon of the sidebar (optlab/ui/i18n.py: PAGES).
TEACHES = {
    "Loss_functions": N_(
        "What a loss measures: squared, absolute, Huber, cross-entropy; their shapes, gradients and when to "
        "use which."),
    "Gradient_descent": N_(
        "Step downhill along −∇f: batch, mini-batch and stochastic; the learning rate, why too large diverges, "
        "and schedules."),
    "Newton_method": N_(
        "Use the curvature (the Hessian): one step on a quadratic, and what goes wrong at saddles and far away."),
    "Adaptive_methods": N_(
        "Momentum and Nesterov in narrow valleys, then AdaGrad, RMSProp, Adam and friends: a step size per "
        "coordinate, from running averages of the gradient."),
    "Overfitting_and_gradients": N_(
        "Real models: training vs validation loss, regularization, vanishing and exploding gradients, clipping."),
    "Challenges_ahead": N_(
        "The article's challenges ahead, in numbers: how far more machines speed training up, stale workers, "
        "tasks that pull apart, the price of privacy, and ways out of a poor minimum."),
    "Optimizer_arena": N_(
        "Race any optimizers on any surface; tune learning rates; share the race as a link."),
}

st.title("📉 OptLab")
st.markdown("### " + _(
    "How does a machine find the bottom of a loss function — and why do some optimizers get there "
    "faster, or not at all?"))
st.markdown(_(
    "Training a model means minimizing a **loss function**: a surface over the model's parameters. "
    "OptLab lets you watch optimizers walk on such surfaces — plain gradient descent, momentum, Newton's "
    "method, Adam and the rest of `torch.optim` — with every update rule written out, every number "
    "computed live, and nothing hidden."))

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader(_("Chapters"))
    listed = 0
    for page in navigation_entries(HERE):
        if page.file == "app.py":
            continue
        listed += 1
        ui.page_link(page.file, f"**{_(page.title)}**", page.icon)
        if page.name in TEACHES:
            st.caption(_(TEACHES[page.name]))
    if listed == 0:
        st.write(_("The chapters are in the sidebar."))

with right:
    st.subheader(_("A race in one picture"))

    @ui.cache_resource(max_entries=2, show_spinner=False)
    def teaser():
        # cached once per server and language: the same small figure for every visitor
        s = ui.get_surface(("rosenbrock", ()))
        runs = []
        for name, hyper in (("sgd", (("lr", 0.001),)), ("adam", (("lr", 0.05),))):
            tr = ui.cached_run(("rosenbrock", ()), name, hyper, (-1.5, 2.0), 300)
            tr.label = f"{'SGD' if name == 'sgd' else 'Adam'} (lr = {dict(hyper)['lr']:g})"
            runs.append(tr)
        return figures.contour(s, runs, n=80, height=380, colorbar=False, showlegend=False)

    ui.show_figure(teaser(), key="home_teaser")
    st.caption(_(
        "300 steps on the Rosenbrock valley from (−1.5, 2): SGD (blue, lr = 0.001) slides into the valley and "
        "crawls; Adam (orange, lr = 0.05) follows the curved floor towards the minimum ★ at (1, 1)."))

st.subheader(_("Using this in class"))
st.markdown(_(
    """
- **Projector:** add `?present=1` to a page's address: no sidebar or menus, larger text, the section's
  chart and its key numbers in the first 1024×768 screen. Zoom the browser (Ctrl +) if the back row
  needs more.
- **Predict, commit, check:** every chapter asks questions (🔬). *Set it up* puts the page in the
  question's state and hides the outcome; the class picks an answer, *Commit* shows the run and says
  whether the prediction was right, judged on the run itself.
- **Lessons:** a chapter's lesson is a short series of such questions; ◀ ▶ or the arrow keys step
  through it, and the address names the step, so a link in your slides opens exactly that step.
- **Teacher mode:** `?teacher=1` shows the answers before Commit and offers each chapter's printable
  worksheet and answer key, with a link per question.
- **Shareable links:** every page keeps its section and widgets in its address (the arena the whole
  race). Copy the link (🔗) into your slides or a message; a link is checked like the widgets, and a
  value out of range is clamped and said.
- **Language:** switch between English and 中文 at the top of the sidebar; the address keeps the choice
  (`?lang=zh` or `?lang=en`), so a link you share opens in the same language.
- **Homework:** the arena exports the trajectories (CSV), the figure (standalone HTML) and a Python
  snippet that reproduces the race with the `optlab` library in a notebook.
"""))
