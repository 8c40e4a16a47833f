"""Chapter: Challenges ahead -- the seed article's last section made playable: data too large for one
machine, stale and uneven workers, many tasks in one model, privacy, and complex landscapes.

One section at a time (the "Section" control). The studies, their limits and the verdict codes the
captions are chosen by live in optlab.chapters.challenges_ahead; caching and sentences in
optlab.ui.challenges_ahead; this file only lays the section out.
"""
import streamlit as st

from optlab import distributed, landscapes, multitask, ui
from optlab.i18n import domain
from optlab.ui import challenges_ahead as view
from optlab.ui import lessons, state

_, N_, ngettext = domain("challenges_ahead")

ui.page_config(_("Challenges ahead"))
ui.page_header(
    _("Challenges ahead: scale, many tasks, stale workers, privacy, rough landscapes"),
    _("What gets harder when the data no longer fit one machine, the model serves several tasks, the workers "
      "are slow or the data are private — and what do optimizers do about it?"),
    _("The article ends with five challenges for optimizing loss functions: big data, model complexity, "
      "multi-task learning, heterogeneous computing, security and privacy. Each section turns one of them into "
      "numbers you can move. Every sentence under a chart is chosen by the numbers on screen."),
)
lessons.open(view.CHAPTER, step_card_in_page=True)
presenting = state.presenting()
section = state.section(view.SECTION, _("Section"))
if not presenting:
    state.copy_link()   # under the control: beside it, five sections and the link did not fit 1024 px

hide = lessons.hidden()  # a prediction is set up and not committed: outcomes stay hidden
LOCKED = N_("🔒 The charts and what they show appear once you commit your prediction.")


DP_SGD_LATEX = (r"\bar g_i = g_i \Big/ \max\Big(1, \frac{\lVert g_i\rVert}{C}\Big),\qquad "
                r"\tilde g = \frac{1}{qN}\Big(\sum_{i\in\text{batch}} \bar g_i + \mathcal N(0, \sigma^2 C^2 I)\Big)")


def stacked(latex: str) -> str:
    """A formula of several parts, one part per line (side by side they were cut at 1024 px)."""
    for sep in (r",\qquad ", r",\quad ", r";\quad ", r",\ \ "):
        latex = latex.replace(sep, r",\\ ")
    return r"\begin{gathered}" + latex + r"\end{gathered}"


def say(sentences):
    for s in sentences:
        st.markdown(s)


def locked(latex: str | None = None):
    """In place of the outcome while a prediction waits for Commit: the lock, and the setup's formula
    (something true to look at on a projector, which gives nothing away)."""
    st.caption(_(LOCKED))
    if latex:
        st.latex(stacked(latex))


# ----------------------------------------------------------------------------------------------
# 1. More data than one machine: data-parallel SGD
# ----------------------------------------------------------------------------------------------
def scale_section():
    if not presenting:
        st.header(_("More data than one machine: data-parallel SGD"))
        st.markdown(_("K workers each compute the gradient of a mini-batch of b examples; averaging them is **one "
                      "step with batch B = K·b**. How much faster do more workers train? Linear regression on the "
                      "diabetes data (442 examples); for each batch size the best of eight learning rates; steps "
                      "until the loss is within the target of its minimum."))
        st.latex(distributed.DATA_PARALLEL_LATEX)
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        gap = state.select_slider(view.SC_GAP, format_func=lambda v: f"{100 * v:g} %")
        seeds = state.slider(view.SC_SEEDS)
        lessons.ask(view.Q_DOUBLING)
    with c_fig:
        if hide:
            locked(distributed.SCALING_LATEX)
        else:
            ui.show_figure(view.scaling_figure(gap, seeds, state.chart_height(400, 380)), key="ch_sc_fig")
            say(view.scaling_sentences(gap, seeds))
    if not presenting:
        st.latex(distributed.NOISE_SCALE_LATEX)
        st.caption(_("B_noise: the batch at which the gradient's noise (tr Σ, over examples) equals its signal "
                     "(|G|²). Below it, a larger batch mostly removes noise that slowed the steps; above it, the "
                     "noise is already small and extra examples are wasted. McCandlish et al. 2018."))
    st.subheader(_("The linear scaling rule, with and without warm-up"))
    if not presenting:
        st.markdown(_("Goyal et al. 2017: multiply the learning rate by the batch's growth, and raise it linearly "
                      "over the first steps (warm-up). Logistic regression on the breast-cancer data; the base run "
                      "uses batch 8."))
        st.latex(distributed.GOYAL_LATEX)
    c1, c2 = st.columns([1, 2.3], gap="medium")
    with c1:
        lr = float(state.select_slider(view.WU_LR))
        batch = int(state.select_slider(view.WU_BATCH))
        warm = state.slider(view.WU_WARM)
        lessons.ask(view.Q_WARMUP)
    with c2:
        if hide:
            locked(distributed.GOYAL_LATEX)
        else:
            ui.divergence_box(view.stopped(view.warmup(lr, batch, warm)), others=True)
            ui.show_figure(view.warmup_figure(lr, batch, warm, state.chart_height(380, 360)), key="ch_wu_fig")
            st.markdown(view.warmup_sentence(lr, batch, warm))


# ----------------------------------------------------------------------------------------------
# 2. Stale and uneven workers
# ----------------------------------------------------------------------------------------------
def stale_section():
    if not presenting:
        st.header(_("Stale and uneven workers: asynchronous and local SGD"))
        st.markdown(_("On heterogeneous machines some workers are slower. **Asynchronous SGD** does not wait: it "
                      "applies a gradient computed τ steps ago. On f = ½λθ² the stable learning rate is known in "
                      "closed form (the roots of the delayed recurrence); the runs on the right are simulated and "
                      "agree with it."))
        st.latex(distributed.STALE_LATEX)
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        lr = state.slider(view.ST_LR)
        tau = state.slider(view.ST_TAU)
        lessons.ask(view.Q_STALE)
    with c_fig:
        if hide:
            locked(distributed.STALE_LATEX)
        else:
            ui.show_figure(view.stale_figure(lr, tau, state.chart_height(380, 360)), key="ch_st_fig")
            st.markdown(view.stale_sentence(lr, tau))
    st.subheader(_("Local SGD / federated averaging"))
    if not presenting:
        st.markdown(_("Communication is the bottleneck: each worker takes **H local steps** on its own data, then "
                      "the models are averaged (one communication round). More local steps save rounds — unless the "
                      "workers' data differ."))
        st.latex(distributed.LOCAL_SGD_LATEX)
    c1, c2 = st.columns([1, 2.3], gap="medium")
    with c1:
        data = state.selectbox(view.FL_DATA, format_func=lambda d: _(view.DATASET_NAMES[d]))
        k = state.slider(view.FL_K)
        rounds = state.slider(view.FL_ROUNDS)
        non_iid = state.slider(view.FL_NONIID)
        lessons.ask(view.Q_DRIFT)
    with c2:
        if hide:
            locked(distributed.LOCAL_SGD_LATEX)
        else:
            ui.show_figure(view.federated_figure(data, k, rounds, non_iid, state.chart_height(380, 360)),
                           key="ch_fl_fig")
            st.markdown(view.federated_sentence(data, k, rounds, non_iid))
            st.caption(_("H = 1, 2, 5, 10, 20 local steps per round (full local gradients, learning rate {lr}); "
                         "L* is the best loss on all the data.").format(lr=view.FL_LR[data]))


# ----------------------------------------------------------------------------------------------
# 3. Many tasks, one model
# ----------------------------------------------------------------------------------------------
def tasks_section():
    if not presenting:
        st.header(_("Many tasks, one model"))
        st.markdown(_("Two or three tasks share the same two parameters, each with its own loss surface (faint "
                      "contours) and minimum (★). No point is best for all: the **Pareto set** (black) holds the "
                      "points where one task can improve only at another's expense. The filled contours are the "
                      "equal-weight sum."))
    c_ctl, c_fig = state.chart_first_columns((1, 2.0), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        n = int(state.segmented_control(view.MT_N))
        method = state.selectbox(view.MT_METHOD, format_func=lambda m: _(view.METHOD_NAMES[m]))
        steps = state.slider(view.MT_STEPS)
        lr = float(state.select_slider(view.MT_LR))
        at = state.slider(view.MT_AT)
        if at > steps:
            st.caption(_("Step {at} is past the run's {t} steps: the gradients are drawn at step {t}.").format(
                at=at, t=steps))
    with c_fig:
        if hide:
            locked(multitask.LATEX["pareto"])
        else:
            ui.divergence_box(view.stopped(view.tasks(n, method, steps, lr)))
            ui.show_figure(view.tasks_figure(n, method, steps, lr, min(at, steps), state.chart_height(520, 420)),
                           key="ch_mt_fig")
            say(view.tasks_sentences(n, method, steps, lr, min(at, steps)))
    q1, q2 = st.columns(2, gap="medium")
    with q1:
        lessons.ask(view.Q_PARETO)
    with q2:
        lessons.ask(view.Q_CONFLICT)
    if not presenting:
        st.latex(stacked(multitask.LATEX.get(method, multitask.LATEX["weights"])))
        st.caption(_("Solid arrows: each task's descent direction −∇Lᵢ at the chosen step; dotted: after PCGrad's "
                     "projection (Yu et al. 2020). Uncertainty weighting: Kendall et al. 2018. GradNorm: Chen et "
                     "al. 2018, which balances the tasks' gradient norms and can stop short of the Pareto set."))


# ----------------------------------------------------------------------------------------------
# 4. Privacy: DP-SGD
# ----------------------------------------------------------------------------------------------
def privacy_section():
    if not presenting:
        st.header(_("Security and privacy: differentially private SGD"))
        st.markdown(_("DP-SGD (Abadi et al. 2016): every example joins a step's batch with probability q "
                      "(Poisson sampling), its gradient is **clipped** to length C, and Gaussian **noise** of "
                      "standard deviation σ·C is added to the sum. Logistic regression on the breast-cancer data "
                      "(569 examples), each point the mean of 3 seeds."))
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        sigma = float(state.select_slider(view.PV_SIGMA))
        q = float(state.select_slider(view.PV_Q))
        steps = state.slider(view.PV_STEPS)
        clip = float(state.select_slider(view.PV_CLIP))
        delta = float(state.select_slider(view.PV_DELTA, format_func=lambda d: f"{d:.0e}"))
    eps = view.epsilon(sigma, q, steps, delta)   # one cached accountant curve: ~0.2 ms once it exists
    with c_ctl:
        if not hide:   # ε is the answer of a question: shown after Commit
            st.markdown(_("**Privacy budget:** ε = {e} at δ = {d} (σ = {s}, q = {q}, T = {t}).").format(
                e=view.fmt(eps, 4), d=f"{delta:.0e}", s=view.fmt(sigma), q=view.fmt(q), t=steps))
    with c_fig:
        if hide:
            locked(DP_SGD_LATEX)
        else:
            with st.spinner(_("Training DP-SGD and asking the accountant…")):
                figure = view.privacy_figure(q, steps, clip, delta, sigma, state.chart_height(400, 380))
            ui.show_figure(figure, key="ch_pv_fig")
            say(view.privacy_sentences(sigma, q, steps, clip, delta))
    q1, q2 = st.columns(2, gap="medium")
    with q1:
        lessons.ask(view.Q_EPSILON)
    with q2:
        lessons.ask(view.Q_COST)
    if not presenting:
        st.subheader(_("What ε and δ mean"))
        st.markdown(_(
            "A training run is **(ε, δ)-differentially private** if adding or removing any one example changes the "
            "probability of any outcome (any trained model) by at most a factor e^ε, except with probability δ. "
            "Small ε: an observer of the model can hardly tell whether your record was in the data (ε = 1: odds "
            "change by at most e ≈ 2.7×). δ is the chance that the guarantee fails outright, so it must be far "
            "below 1/N (here N = 569, 1/N ≈ 0.0018)."))
        st.markdown(_(
            "ε is computed by Google's **dp-accounting** library, with its **RDP accountant** (Rényi differential "
            "privacy of the Poisson-subsampled Gaussian mechanism, Mironov et al. 2019, composed over T steps and "
            "converted to (ε, δ)) — the accountant behind TF-Privacy's numbers. It is an upper bound: the true "
            "privacy loss may be smaller. `optlab.privacy.epsilon(noise_multiplier, sample_rate, steps, delta)`."))
        st.latex(DP_SGD_LATEX)


# ----------------------------------------------------------------------------------------------
# 5. Complex, non-convex landscapes
# ----------------------------------------------------------------------------------------------
def landscape_section():
    if not presenting:
        st.header(_("Complex models: non-convex landscapes"))
        st.markdown(_("A complex model's loss has many minima. Where an optimizer ends depends on where it starts "
                      "and on the optimizer; some minima are poor. Three ways out of a poor minimum, on the same "
                      "budget of gradient evaluations: annealed gradient noise, restarts, and sharpness-aware "
                      "minimization (SAM)."))
    surface_fmt = {"format_func": lambda s: _(view.SURFACE_NAMES[s])}
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        surface = state.selectbox(view.LS_SURF, **surface_fmt)
        eta = float(state.select_slider(view.LS_ETA))
        rho = float(state.select_slider(view.LS_RHO))
        restarts = state.slider(view.LS_RESTARTS)
        lessons.ask(view.Q_SAM)
    with c_fig:
        if hide:
            locked(landscapes.LATEX["noise"])
        else:
            ui.divergence_box(view.stopped(view.escape(surface, eta, rho, restarts)), others=True)
            ui.show_figure(view.escape_figure(surface, eta, rho, restarts, state.chart_height(360, 360)),
                           key="ch_ls_escape")
            say(view.escape_sentences(surface, eta, rho, restarts))
            st.caption(_("From ({x}, {y}), {t} steps at learning rate 0.02; noise: best of {r} runs with "
                         "σ_t² = η/(1+t)^0.55 (Neelakantan et al. 2015); SAM: Foret et al. 2021; restarts share the "
                         "same steps among random starts.").format(
                x=view.LS_X0[surface][0], y=view.LS_X0[surface][1], t=view.ESCAPE_STEPS, r=view.ESCAPE_RUNS))
    if not presenting:
        st.latex(landscapes.LATEX["noise"])
    st.subheader(_("Basins of attraction"))
    c1, c2 = st.columns([1, 2.3], gap="medium")
    with c1:
        grid = state.slider(view.LS_GRID)
    with c2:
        lessons.ask(view.Q_BASINS)
    # the three maps get the full width (in a column beside the controls the third was cut at 1024 px)
    if hide:
        locked()
    else:
        figs = view.basins_figures(surface, grid, 320)
        for i, (col, f) in enumerate(zip(st.columns(len(figs)), figs)):
            with col:
                ui.show_figure(f, key=f"ch_ls_basin_{i}")
        st.markdown(view.basins_sentence(surface, grid))
        st.caption(_("Each start of the grid is coloured by the minimum (★) it reached after 300 steps (grey: "
                     "none). SGD lr 0.01, momentum 0.9, Adam lr 0.05."))
    if not presenting:
        st.subheader(_("A slice through a real network's loss"))
        st.markdown(_("The two-spirals network of the overfitting chapter (2 hidden layers of 16 ReLU units), "
                      "trained with Adam. Its loss along two random directions, each rescaled filter by filter to "
                      "the size of the weights (Li et al. 2018):"))
        st.latex(stacked(landscapes.LATEX["filter_norm"]))
        c3, c4 = st.columns([1, 2.3], gap="medium")
        with c3:
            n = state.slider(view.LS_N)
            span = float(state.select_slider(view.LS_SPAN))
            seed = state.slider(view.LS_DIR)
        with c4:
            with st.spinner(_("Computing the slice…")):
                figure = view.slice_figure(n, span, seed, 440)
            ui.show_figure(figure, key="ch_ls_slice")
            st.markdown(view.slice_sentence(n, span, seed))


SECTION_BODIES = {view.S_SCALE: scale_section, view.S_STALE: stale_section, view.S_TASKS: tasks_section,
                  view.S_PRIVACY: privacy_section, view.S_LAND: landscape_section}
SECTION_BODIES[section]()
