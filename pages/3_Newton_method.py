"""Chapter: Newton's method -- the seed article's section 3.4 made visible: the tangent parabola in
one dimension, the local quadratic model (ellipse or hyperbola) on a surface, pure / damped /
Levenberg–Marquardt Newton, and what curvature costs against gradient descent and BFGS.

Iterates are computed once per setting (cached); the iteration sliders and ◀ ▶ buttons sit in
``st.fragment`` sections, so stepping through a run redraws one figure only.
"""
import streamlit as st

from optlab import figures, specs, ui
from optlab.chapters import newton as model
from optlab.figures import newton as fig
from optlab.ui import newton as view

ui.page_config("Newton's method")
ui.page_header(
    "Newton's method",
    "What does knowing the curvature buy you — and what does it cost?",
    "Gradient descent only knows the slope, so it must guess a step size. Newton's method (the seed article's "
    "section 3.4) also uses the second derivative: it fits a parabola — in several dimensions a quadratic bowl — "
    "to the function at the current point and jumps straight to the parabola's vertex. On a bowl that vertex is "
    "the minimum. On a hump or a saddle it is not, and Newton goes there anyway.",
)


# ----------------------------------------------------------------------------------------------
# 1 · One dimension
# ----------------------------------------------------------------------------------------------
def set_1d(name: str, x0: float, variant: str):
    def apply(state):
        state["nw1_fun"] = name
        state["nw1_fun_for"] = name
        state["nw1_x0"] = float(x0)
        state["nw1_variant"] = variant
        state["nw1_k"] = 0
    return apply


@st.fragment
def one_dimension():
    st.header("1 · One dimension: the tangent parabola")
    st.latex(model.TAYLOR_1D_LATEX)
    st.latex(model.NEWTON_1D_LATEX)
    st.caption("μₖ = 0 for pure Newton; Levenberg–Marquardt adds μₖ > 0 to the curvature.")
    c1, c2, c3 = st.columns([1.2, 1.2, 1.3], gap="large")
    with c1:
        ui.init_state("nw1_fun", "quartic")
        name = st.selectbox("Function", model.names_1d(), key="nw1_fun", format_func=lambda n: model.get_1d(n).title)
        fun = model.get_1d(name)
        if st.session_state.get("nw1_fun_for") != name:  # a new function gets its own suggested start
            st.session_state["nw1_x0"] = float(fun.start)
            st.session_state["nw1_fun_for"] = name
        st.caption(fun.description)
    with c2:
        ui.init_state("nw1_x0", float(fun.start))
        lo, hi = fun.window
        x0 = st.slider("start x₀", float(lo), float(hi), step=0.01, key="nw1_x0")
    with c3:
        variant, hyper = view.variant_controls("nw1", default="pure")
    # one line each: side by side they ran off the column on a projector-width screen
    st.latex(r"\begin{gathered}" + fun.latex + r"\\ " + fun.dlatex + r"\\ " + fun.d2latex + r"\end{gathered}")
    res = view.run_1d(name, float(x0), specs.hyper_items(hyper))
    label = view.variant_label(variant, hyper)
    ui.divergence_warnings([view.trajectory_1d(res, label)])
    k = view.step_control("nw1_k", res.last)
    ui.show_figure(fig.taylor_1d(fun, res, k), key="nw1_fig")
    st.markdown(view.caption_1d(fun, res, k, hyper))
    e1, e2 = st.columns([1.4, 1], gap="large")
    with e1:
        ui.show_figure(fig.error_1d(res, k, model.x_star_1d(fun, res)), key="nw1_err")
    with e2:
        st.markdown("**How fast?**")
        st.markdown(view.rate_caption(fun, res))
        st.latex(model.RATE_LATEX["quadratic"])
        st.latex(model.RATE_LATEX["linear"])

    st.subheader("Predict, then press")
    c = st.columns(3)
    with c[0]:
        ui.experiment(
            "Negative curvature",
            "On the tilted double well, start at x₀ = 0.5, where f″ < 0. Which way will pure Newton step: down into "
            "a valley, or up the hump?",
            set_1d("quartic", 0.5, "pure"),
            "The tangent parabola at 0.5 opens **downwards**; its vertex is a maximum, and Newton jumps to it. Step "
            "through: the iterates climb to the local **maximum** of f between the two valleys and stop there, "
            "because f′ = 0 there too. Now choose *Damped Newton*: the line search notices that the Newton "
            "direction goes uphill, walks along −f′ instead and ends in a valley. *Levenberg–Marquardt* with δ "
            "raises the curvature of the model to δ > 0 first, so the parabola opens upwards.",
            key="nw1_negative")
    with c[1]:
        ui.experiment(
            "Flat far away",
            "log cosh x is convex with a single minimum at 0. Will pure Newton from x₀ = 1.2 find it?",
            set_1d("log_cosh", 1.2, "pure"),
            "No: far from 0 the function is almost a straight line (f″ → 0), so the parabola is very flat and its "
            "vertex very far. Each jump lands further out than the last, the run is stopped and a warning names "
            "the step. Move x₀ below 1.09 and it converges in a handful of steps. *Damped Newton* converges from "
            "anywhere: the line search shortens the overshooting jumps.",
            key="nw1_flat")
    with c[2]:
        ui.experiment(
            "A flat minimum",
            "f = x⁴ has its minimum at 0 with f″(0) = 0. Does Newton still double the number of correct digits at "
            "every step?",
            set_1d("x4", 1.5, "pure"),
            "No: the vertex of the parabola at x is at 2x/3, so the error only shrinks by the factor 2/3 per step — "
            "linear convergence, like gradient descent. Quadratic convergence needs f″(x*) > 0; compare with "
            "*Smooth and convex eˣ − 2x*, where the errors are squared.",
            key="nw1_x4")


one_dimension()


# ----------------------------------------------------------------------------------------------
# 2 · Two dimensions
# ----------------------------------------------------------------------------------------------
st.header("2 · Two dimensions: a bowl, or a saddle")
st.markdown(
    "In several dimensions the parabola becomes the **local quadratic model**: its level curves are "
    "ellipses when the Hessian's eigenvalues are all positive (a bowl), hyperbolas when they have both signs "
    "(a saddle). The eigenvectors are the model's axes; each eigenvalue is the curvature along its axis. "
    "Newton's step goes to the model's stationary point — whatever kind of point it is."
)
st.latex(model.MODEL_LATEX)


def set_2d(surface: str, start, variant: str, **extra):
    def apply(state):
        state["nw2_surface"] = surface
        state["nw2_start_for"] = surface
        state["nw2_x0"], state["nw2_y0"] = float(start[0]), float(start[1])
        state["nw2_variant"] = variant
        state["nw2_k"] = 0
        state["nw3_k"] = 0
        for k, v in extra.items():
            state[k] = v
    return apply


c1, c2, c3 = st.columns([1.2, 1.1, 1.2], gap="large")
with c1:
    surface = ui.surface_picker("nw2", default="himmelblau", show_formula=False)
if surface is None:
    st.info("Parts 2 and 3 need a surface: correct the formula above (your text is kept).", icon="✏️")
    st.stop()
with c2:
    ui.init_state("nw2_x0", 0.0)
    ui.init_state("nw2_y0", 0.0)
    new_surface = st.session_state.get("nw2_start_for") != surface.name
    # a changed formula keeps the start, unless the new f is undefined there (log(x) at x < 0 …)
    changed = st.session_state.get("nw2_start_spec") != specs.surface_spec(surface)
    if new_surface or (changed and not model.defined_at(surface, (st.session_state["nw2_x0"], st.session_state["nw2_y0"]))):
        st.session_state["nw2_x0"], st.session_state["nw2_y0"] = model.suggested_start(surface)
        st.session_state["nw2_start_for"] = surface.name
    st.session_state["nw2_start_spec"] = specs.surface_spec(surface)
    # one above the other: side by side, an 800-px projector left each box too narrow for "-1.500"
    x0 = st.number_input("start x₀", key="nw2_x0", step=0.1, format="%.3f")
    y0 = st.number_input("start y₀", key="nw2_y0", step=0.1, format="%.3f")
    ui.init_state("nw2_steps", 50)
    steps = st.slider("most iterations", 5, 200, step=5, key="nw2_steps")
with c3:
    variant, hyper = view.variant_controls("nw2", default="damped")
ui.show_surface_formula(surface)

spec = specs.surface_spec(surface)
start = (float(x0), float(y0))
label2 = view.variant_label(variant, hyper)


@st.fragment
def step_view(spec: tuple, start: tuple, variant: str, hyper: dict, steps: int, label: str):
    surface = ui.get_surface(spec)
    tr = view.run_2d(spec, specs.hyper_items(hyper), start, steps)
    tr.label = label
    ui.divergence_warnings([tr])
    st.markdown(view.summary_caption(surface, tr, label))
    k = view.step_control("nw2_k", model.last_iterate(tr))
    local, trace, nxt = view.step_details(surface, tr, k, hyper)
    ui.show_figure(fig.model_2d(surface, tr.xs, k, local, next_x=nxt, trace=trace, label=label), key="nw2_fig")
    tex = local.latex()
    st.latex(tex["gradient"] + r",\qquad " + tex["hessian"])
    st.latex(tex["eigen"])
    st.latex(tex["step"])
    left, right = st.columns([1, 1.2] if trace is not None else [1, 0.01], gap="large")
    with left:
        st.markdown(view.caption_2d(local, trace, nxt, k, label))
    if trace is not None:
        with right:
            ui.show_figure(fig.line_search(trace, height=340), key="nw2_linesearch")
            st.caption("The line search along the chosen direction d: φ(s) = f(x + s·d). A step length is accepted "
                       "once φ lies below the dashed Armijo line (a fixed fraction c₁ of the decrease the tangent "
                       "promises); each rejection halves s.")
    ui.show_figure(figures.curves([view.until_stop(tr)], gap_to=surface.min_value, height=300), key="nw2_curves")


step_view(spec, start, variant, hyper, int(steps), label2)

st.subheader("Predict, then press")
c = st.columns(4)
with c[0]:
    ui.experiment(
        "A long narrow bowl",
        "Gradient descent needs about a thousand steps on a quadratic bowl with condition number κ = 100. How many "
        "does pure Newton need?",
        set_2d("quadratic", (-2.5, 1.5), "pure", nw2_p_quadratic_condition=100.0, nw2_p_quadratic_angle=30.0),
        "One. A quadratic is its own Taylor model: the ellipse drawn at x₀ is exactly a level curve of f, and its "
        "centre is the minimum. κ does not matter to Newton — the Hessian's inverse undoes the stretching that "
        "slows gradient descent down (part 3 counts the gradient-descent steps).",
        key="nw2_kappa")
with c[1]:
    ui.experiment(
        "Pure Newton near a saddle",
        "On Himmelblau's function, from (1, 2.5), pure Newton converges quickly. To which of the four minima?",
        set_2d("himmelblau", (1.0, 2.5), "pure"),
        "To none: it converges to a **saddle point** ◆, where the gradient is zero too. At x₀ the model is already a "
        "saddle (hyperbolas, one green and one red axis), and Newton jumps to the model's saddle point every "
        "time. Now choose *Damped Newton*: the line search only accepts steps that go downhill, and the run "
        "escapes to the minimum at (3, 2).",
        key="nw2_saddle")
with c[2]:
    ui.experiment(
        "When the line search is not enough",
        "From (−0.5, 2.5) on Himmelblau, where does damped Newton (with its line search) end up?",
        set_2d("himmelblau", (-0.5, 2.5), "damped"),
        "At the saddle again: along the way the Newton direction still points downhill, so every step passes the "
        "Armijo test. The fix is to change the model, not the step: choose *Levenberg–Marquardt* with "
        "*raise μ where the Hessian is indefinite*. Then every eigenvalue of H + μI is at least δ, the model is a "
        "bowl (ellipses), and the run reaches a minimum.",
        key="nw2_lm")
with c[3]:
    ui.experiment(
        "A singular Hessian",
        "Type-your-own: f = (x − 1)² does not depend on y at all. What will pure Newton do?",
        set_2d("custom", (-1.5, 1.5), "pure", nw2_formula="(x - 1)**2"),
        "Its Hessian is [[2, 0], [0, 0]]: singular, the model is a valley with a flat floor and the linear system "
        "for the Newton step has no solution. The first step is undefined (NaN) and the run stops with a warning. "
        "*Damped Newton* falls back to −∇f; *Levenberg–Marquardt* adds μ so that H + μI is invertible.",
        key="nw2_singular")

with st.expander("Newton's update rule, as the engine runs it", expanded=False):
    ui.show_update_rule("newton")


# ----------------------------------------------------------------------------------------------
# 3 · Cost
# ----------------------------------------------------------------------------------------------
st.header("3 · What it costs")
st.markdown(
    "Fewer iterations is only half the story: each Newton iteration needs the Hessian (n² second derivatives) and "
    "the solution of an n × n linear system (≈ n³/3 operations), where gradient descent needs one gradient (≈ n). "
    f"Below: the same surface and start as above, every method run until ‖∇f‖ ≤ {view.TOL:g}."
)

runs, gd, bfgs_tr, rows = view.comparison(spec, start, int(steps), variant, hyper)
it_left, it_right = st.columns([1.3, 1], gap="large")
with it_left:
    ui.show_figure(fig.iterations(rows, height=60 + 48 * len(rows)), key="nw3_iter")
with it_right:
    text, warn = view.comparison_text(surface, runs, gd, rows)
    st.markdown(text)
    if warn:
        st.warning(warn, icon="⚠️")
    # the run of part 2 has its warning there already
    ui.divergence_warnings([tr for lbl, tr in runs if lbl != label2] + [bfgs_tr])


@st.fragment
def work_per_iteration(iters: dict):
    st.subheader("Work per iteration in n dimensions")
    options = [2, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]
    ui.init_state("nw3_n", 1_000_000)
    n = st.select_slider("number of parameters n", options, key="nw3_n",
                         format_func=lambda v: f"{v:,}".replace(",", " "))
    table, captions, text = view.cost_text(n, iters)
    st.markdown(table)
    left, right = st.columns([1, 1.1], gap="large")
    with left:
        st.markdown(text)
        for line in captions:
            st.caption(line)
    with right:
        ui.show_figure(fig.cost(n, height=380), key="nw3_cost")


work_per_iteration({lbl: (name, it) for lbl, name, it, _ in rows if it >= 0})


@st.fragment
def bfgs_view(spec: tuple, start: tuple):
    st.subheader("BFGS: the middle road")
    st.markdown(
        "BFGS never computes a Hessian. After each step it compares how the gradient changed (y) with how far it "
        "moved (s) and corrects its estimate so that B·s = y. Cost per iteration: matrix–vector products (n²), "
        "no n³ solve. Step through and watch the estimate (dashed) learn the shape of the true curvature (solid)."
    )
    surface = ui.get_surface(spec)
    tr = view.run_bfgs(spec, start)
    tr.label = "BFGS"
    est, true, err = view.bfgs_estimates(spec, start)
    last = len(err) - 1
    k = view.step_control("nw3_k", last, label="BFGS iteration k")
    ui.show_figure(fig.bfgs_hessian(surface, tr.xs, k, true[k], est[k]), key="nw3_bfgs")
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.latex(rf"B_{{{k}}} = {model.tex_matrix(est[k])},\qquad \nabla^2 f(x_{{{k}}}) = {model.tex_matrix(true[k])}")
        st.markdown(f"Relative error ‖B{view.sub(k)} − ∇²f(x{view.sub(k)})‖ / ‖∇²f(x{view.sub(k)})‖ = "
                    f"**{err[k]:.3g}**" + (" — B₀ is the identity: BFGS starts as gradient descent." if k == 0 else "."))
        st.caption("The two curves show the shapes of the quadratic forms ½dᵀMd (each drawn at its own scale): "
                   "an ellipse for a positive definite matrix, hyperbolas for an indefinite one. BFGS's estimate "
                   "stays positive definite, so it is always an ellipse — even where the surface is a saddle.")
    with right:
        ui.show_figure(fig.bfgs_error(err, k, height=280), key="nw3_bfgs_err")
    with st.expander("BFGS's update rule, as the engine runs it", expanded=False):
        ui.show_update_rule("bfgs")


bfgs_view(spec, start)

ui.experiment(
    "How fast does BFGS learn the curvature?",
    "On the quadratic bowl with κ = 100, how many steps does BFGS need before its estimate equals the true "
    "Hessian? And on Rosenbrock's curved valley?",
    set_2d("quadratic", (-2.5, 1.5), "damped", nw2_p_quadratic_condition=100.0, nw2_p_quadratic_angle=30.0),
    "On the quadratic the Hessian is the same everywhere, and two independent steps (n = 2) pin it down: the "
    "error drops to round-off and BFGS then takes Newton steps. On Rosenbrock (choose it above) the true Hessian "
    "changes along the valley; the estimate only has to be right along the directions it moves in, so its error "
    "jumps around while the run still converges far faster than gradient descent.",
    key="nw3_bfgs_learn")
