"""Chapter: Newton's method -- the seed article's section 3.4 made visible: the tangent parabola in
one dimension, the local quadratic model (ellipse or hyperbola) on a surface, pure / damped /
Levenberg–Marquardt Newton, and what curvature costs against gradient descent and BFGS.

Four sections (the "Section" control, kept in the URL with every widget: optlab/ui/newton.py
declares them).  Iterates are computed once per setting (cached); the iteration sliders and ◀ ▶
buttons sit in ``st.fragment`` sections, so stepping through a run redraws one figure only.  Every
caption that claims something is chosen in optlab/ui/newton.py from a verdict on the numbers.
"""
import streamlit as st

from optlab import figures, ui
from optlab.chapters import newton as model
from optlab.figures import newton as fig
from optlab.i18n import domain, sentence_gap
from optlab.specs import hyper_items
from optlab.ui import lessons, state
from optlab.ui import newton as view

_, N_, ngettext = domain("newton")

ui.page_config(_("Newton's method"))
ui.page_header(
    _("Newton's method"),
    _("What does knowing the curvature buy you — and what does it cost?"),
    _("Gradient descent only knows the slope, so it must guess a step size. Newton's method (the seed article's "
      "section 3.4) also uses the second derivative: it fits a parabola — in several dimensions a quadratic bowl — "
      "to the function at the current point and jumps straight to the parabola's vertex. On a bowl that vertex is "
      "the minimum. On a hump or a saddle it is not, and Newton goes there anyway."),
)
lessons.open(view.CHAPTER, step_card_in_page=True)
view.keep_values()
PRESENT = state.presenting()
section = state.section(view.SECTION)  # the full width: the four names need ~415 of 564 px at 1024 px


def copy_link():
    """"Copy link" at the top of a section's controls (beside the Section control it cut the names
    or its own label at 1024 px, in one language or the other)."""
    if not PRESENT:
        state.copy_link()


def locked(what: str) -> None:
    st.caption(_("🔒 {what}: shown once you commit your prediction.").format(what=what))


# ----------------------------------------------------------------------------------------------
# One dimension
# ----------------------------------------------------------------------------------------------
@st.fragment
def step_1d(name: str, x0: float, items: tuple, label: str, hide: bool):
    fun = model.get_1d(name)
    res = view.run_1d(name, x0, items)
    hyper = dict(items)
    if not hide:
        ui.divergence_warnings([view.labelled(res.trajectory, label)])
    k = view.step_control(view.K1, res.last, disabled=hide)
    if hide:
        k = 0
    ui.show_figure(fig.taylor_1d(fun, res, k, height=state.chart_height(420, 380), show_step=not hide), key="nw1_fig")
    st.markdown(view.caption_1d(res, k, hyper, label, hide_step=hide))
    if hide:
        locked(_("The iterates, the errors and the rate"))
        return
    ui.show_figure(fig.error_1d(res, k, model.x_star_1d(fun, res), height=260), key="nw1_err")
    if not PRESENT:
        st.markdown(_("**How fast?** {rate}").format(rate=view.rate_caption(fun, res)))


def one_dimension():
    c_ctl, c_fig = state.chart_first_columns((1, 2.2), present=(1, 1.5), gap="medium")
    with c_ctl:
        copy_link()
        lessons.step_card()
        fun, x0 = view.function_controls()
        st.caption(fun.description)
        variant, hyper = view.variant_controls(view.M1, view.MU1, view.DON1, view.D1, view.LS1)
    label = view.variant_label(variant, hyper)
    with c_fig:
        step_1d(fun.name, x0, hyper_items(hyper), label, lessons.hidden())
    if PRESENT:
        if not lessons.hidden():  # the key numbers beside the chart, in the first screen
            with c_ctl:
                res = view.run_1d(fun.name, x0, hyper_items(hyper))
                st.markdown(_("**How fast?** {rate}").format(rate=view.rate_caption(fun, res)))
        return
    st.markdown(_("Newton fits the **tangent parabola** qₖ to f at xₖ (same value, slope and curvature) and jumps to "
                  "its vertex. μₖ = 0 for pure Newton; Levenberg–Marquardt adds μₖ > 0 to the curvature."))
    st.latex(r"\begin{gathered}" + fun.latex + r",\quad " + fun.dlatex + r",\quad " + fun.d2latex + r"\\ "
             + model.TAYLOR_1D_LATEX + r"\\ " + model.NEWTON_1D_LATEX + r"\end{gathered}")
    c = st.columns(3, gap="small")
    for col, q in zip(c, (view.Q_NEGATIVE, view.Q_FLAT, view.Q_X4)):
        with col:
            lessons.ask(q)
    with st.expander(_("The rates, as formulas")):
        st.latex(model.RATE_LATEX["quadratic"])
        st.latex(model.RATE_LATEX["linear"])


# ----------------------------------------------------------------------------------------------
# Two dimensions
# ----------------------------------------------------------------------------------------------
@st.fragment
def step_2d(spec: tuple, start: tuple, items: tuple, steps: int, label: str, hide: bool):
    surface = ui.get_surface(spec)
    hyper = dict(items)
    tr = view.run_2d(spec, items, start, steps)
    end = model.ending(surface, tr)
    if not hide:
        ui.divergence_warnings([view.labelled(tr, label)])
    k = view.step_control(view.K2, model.last_iterate(tr), disabled=hide)
    if hide:
        k = 0
    local, trace, nxt = view.step_details(surface, tr, k, hyper)
    if hide:
        trace, nxt = None, None
    ui.show_figure(fig.model_2d(surface, tr.xs, k, local, next_x=nxt, trace=trace, label=label,
                                height=state.chart_height(540, 440)), key="nw2_fig")
    if not hide and not PRESENT:
        st.markdown(view.summary_caption(end, label))
    st.markdown(view.caption_2d(local, trace, nxt, k, label))
    tex = local.latex()
    st.latex(tex["gradient"])
    st.latex(tex["hessian"])
    st.latex(tex["eigen"])
    if hide:
        locked(_("The path, the steps and the loss curves"))
        return
    st.latex(tex["step"])
    if trace is not None:
        ui.show_figure(fig.line_search(trace, height=300), key="nw2_linesearch")
        st.caption(_("The line search along the chosen direction d: φ(s) = f(x + s·d). A step length is accepted "
                     "once φ lies below the dashed Armijo line (a fixed fraction c₁ of the decrease the tangent "
                     "promises); each rejection halves s."))
    run = [view.until_stop(tr, label)]
    c_loss, c_grad = st.columns(2, gap="small")
    with c_loss:
        ui.show_figure(figures.loss_curves(run, gap_to=surface.min_value, height=260, showlegend=False),
                       key="nw2_curves")
    with c_grad:
        ui.show_figure(figures.grad_norm_curves(run, height=260, showlegend=False), key="nw2_grads")


def two_dimensions():
    c_ctl, c_fig = state.chart_first_columns((1, 2.2), present=(1, 1.5), gap="medium")
    with c_ctl:
        copy_link()
        lessons.step_card()
        prob = view.surface_controls()
        variant, hyper = view.variant_controls(view.M2, view.MU2, view.DON2, view.D2, view.LS2)
        steps = state.slider(view.N2)
        if not PRESENT:  # the questions sit next to the widgets they set
            for q in (view.Q_KAPPA, view.Q_SADDLE, view.Q_LINESEARCH, view.Q_SINGULAR):
                lessons.ask(q)
    label = view.variant_label(variant, hyper)
    hide = lessons.hidden()
    with c_fig:
        if prob.surface is None:
            st.info(_("The charts need a surface: correct the formula (your text is kept), choose another start, or "
                      "choose another surface."), icon="✏️")
            view.step_control(view.K2, 0, disabled=True)
        else:
            step_2d(prob.spec, prob.start, hyper_items(hyper), int(steps), label, hide)
    if PRESENT:
        if prob.surface is not None and not hide:  # the key numbers beside the chart, in the first screen
            tr = view.run_2d(prob.spec, hyper_items(hyper), prob.start, int(steps))
            with c_ctl:
                st.markdown(view.summary_caption(model.ending(prob.surface, tr), label))
        return
    st.markdown(_("In several dimensions the parabola becomes the **local quadratic model**: its level curves are "
                  "ellipses when the Hessian's eigenvalues are all positive (a bowl), hyperbolas when they have both "
                  "signs (a saddle). The eigenvectors are the model's axes; each eigenvalue is the curvature along "
                  "its axis. Newton's step goes to the model's stationary point — whatever kind of point it is."))
    st.latex(model.MODEL_LATEX)
    if prob.surface is not None:
        ui.show_surface_formula(prob.surface)
    with st.expander(_("Newton's update rule, as the engine runs it"), expanded=False):
        ui.show_update_rule("newton")


# ----------------------------------------------------------------------------------------------
# What it costs
# ----------------------------------------------------------------------------------------------
def cost():
    hide = lessons.hidden()
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.5), gap="medium")
    with c_ctl:
        copy_link()
        lessons.step_card()
        prob = view.surface_controls()
    entries = None
    with c_fig:
        if prob.surface is None:
            st.info(_("The comparison needs a surface: correct the formula (your text is kept), choose another start, "
                      "or choose another surface."), icon="✏️")
        elif hide:  # the setup stays on screen: the surface and the start every method runs from
            ui.show_figure(figures.contour(prob.surface, [(_("start x₀"), [list(prob.start)], {"name": "newton"})],
                                           height=state.chart_height(420, 400), colorbar=False), key="nw3_setup")
            locked(_("The iterations of every method"))
        else:
            entries, gd = view.race(prob.spec, prob.start)
            ui.show_figure(fig.iterations(view.bar_rows(entries)), key="nw3_iter")
            text, warn = view.race_text(entries, gd)
            with c_ctl if PRESENT else st.container():  # presenter: the verdicts beside the bars
                st.markdown(text)
                if warn:
                    st.warning(warn, icon="⚠️")
            ui.divergence_warnings([view.labelled(e.trajectory, view.entry_label(e)) for e in entries
                                    if e.trajectory is not None])
    if not PRESENT:
        st.markdown(_("The bars: every method on the same surface from the same start, run until ‖∇f‖ ≤ {tol}. Fewer "
                      "iterations is only half the story: each Newton iteration needs the Hessian (n² second "
                      "derivatives) and the solution of an n × n linear system (≈ n³/3 operations), where gradient "
                      "descent needs one gradient (≈ n).").format(tol=view.TOL_TEXT))
    st.subheader(_("Work per iteration in n dimensions"))
    n = int(state.select_slider(view.ND, format_func=lambda v: f"{v:,}".replace(",", " ")))
    st.markdown(view.cost_table_markdown(n, numbers=not hide))
    left, right = st.columns([1, 1.05], gap="large")
    with left:
        if hide:
            locked(_("The flop counts at this n"))
        else:
            st.markdown(view.cost_text(n))
    with right:
        if not hide:
            ui.show_figure(fig.cost(n, height=state.chart_height(360, 330)), key="nw3_cost")
    if not hide and entries is not None:
        for line in view.cost_captions(n, entries):
            st.caption(line)
    if not PRESENT:
        c = st.columns(2, gap="small")
        with c[0]:
            lessons.ask(view.Q_GD)
        with c[1]:
            lessons.ask(view.Q_CROSSOVER)


# ----------------------------------------------------------------------------------------------
# BFGS
# ----------------------------------------------------------------------------------------------
@st.fragment
def bfgs_view(spec: tuple, start: tuple, hide: bool):
    surface = ui.get_surface(spec)
    tr = view.run_bfgs(spec, start)
    est, true, err = view.bfgs_estimates(spec, start)
    end = model.ending(surface, tr)
    if not hide:
        ui.divergence_warnings([view.labelled(tr, "BFGS")])
        if end.status == "cut" and not PRESENT:  # the work limit: where the iterations stop, and why (presenter
            # mode says it beside the chart)
            st.markdown(view.summary_caption(end, "BFGS"))
    k = view.step_control(view.KB, len(err) - 1, disabled=hide)
    if hide:
        k = 0
    ui.show_figure(fig.bfgs_hessian(surface, tr.xs, k, true[k], est[k], height=state.chart_height(520, 420)),
                   key="nw3_bfgs")
    # one formula, the two matrices one above the other: side by side in two columns the second was cut
    # at 1024 px
    st.latex(rf"\begin{{aligned}} B_{{{k}}} &= {model.tex_matrix(est[k])} \\[2pt] "
             rf"\nabla^2 f(x_{{{k}}}) &= {model.tex_matrix(true[k])} \end{{aligned}}")
    text, shape = view.bfgs_caption(est, true, err, k)
    if hide:
        locked(_("The estimate's error"))
        return
    st.markdown(text)
    st.caption(_("The two curves show the shapes of the quadratic forms ½dᵀMd (each drawn at its own scale): an "
                 "ellipse for a definite matrix, hyperbolas for an indefinite one.") + sentence_gap() + shape)
    ui.show_figure(fig.bfgs_error(err, k, height=250), key="nw3_bfgs_err")


def bfgs():
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.5), gap="medium")
    with c_ctl:
        copy_link()
        lessons.step_card()
        prob = view.surface_controls()
    with c_fig:
        if prob.surface is None:
            st.info(_("BFGS needs a surface: correct the formula (your text is kept), choose another start, or choose "
                      "another surface."), icon="✏️")
            view.step_control(view.KB, 0, disabled=True)
        else:
            bfgs_view(prob.spec, prob.start, lessons.hidden())
    if PRESENT:
        if prob.surface is not None and not lessons.hidden():  # the key numbers beside the chart
            with c_ctl:
                st.markdown(view.bfgs_key_numbers(prob.spec, prob.start))
        return
    with c_ctl:
        st.markdown(_("BFGS never computes a Hessian. After each step it compares how the gradient changed (y) "
                      "with how far it moved (s) and corrects its estimate so that B·s = y. Cost per iteration: "
                      "matrix–vector products (n²), no n³ solve. Step through and watch the estimate (dashed) "
                      "learn the shape of the true curvature (solid)."))
        lessons.ask(view.Q_BFGS)
    with st.expander(_("BFGS's update rule, as the engine runs it"), expanded=False):
        ui.show_update_rule("bfgs")


{view.S1D: one_dimension, view.S2D: two_dimensions, view.SCOST: cost, view.SBFGS: bfgs}[section]()
