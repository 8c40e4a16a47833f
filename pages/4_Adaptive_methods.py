"""Chapter: Adaptive methods -- momentum, the adaptive family, their state step by step, the Adam
family's differences, learning-rate schedules and the LR range test.

One section is shown at a time (chosen at the top), and each is an ``st.fragment``: moving one of its
widgets reruns that section only.  All numbers come from optlab; this file only wires widgets.
"""
import streamlit as st

from optlab import figures, optimizers, schedules, specs, sweeps, theory, ui
from optlab.chapters import adaptive as model
from optlab.figures import adaptive as fig
from optlab.optimizers import variants
from optlab.ui import adaptive as view
from optlab.ui import lessons, state

ui.page_config("Adaptive methods")

SECTIONS = view.SECTIONS
FAMILY = ["Bias correction", "AdamW vs L2", "AMSGrad", "NAdam", "RAdam"]
ADAPTIVE = ["adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam"]
FIRST_ORDER = list(optimizers.FIRST_ORDER)
TITLE = {n: optimizers.info(n).title for n in FIRST_ORDER}
SHRINK = view.SHRINK  # "converged": the loss shrunk by this factor
SHRINK_TEXT = "10⁶×"


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def fmt_steps(k, steps):
    return f"{k} steps" if k >= 0 else f"more than {steps} steps"


# ----------------------------------------------------------------------------------------------
# Guided experiments (sidebar): each sets the section and its widgets, then the page reruns
# ----------------------------------------------------------------------------------------------
def exp_adam_first_step(ss):
    ss.update({"ad_section": "State at a step", "ad_st_surface": "quadratic", "ad_st_opts": ["adam", "sgd"],
                  "ad_st_T": 50, "ad_st_t": 1})
    ui.set_hyper_state("adam", "ad_st_adam", {"lr": 0.1}, ss)
    ui.set_hyper_state("sgd", "ad_st_sgd", {"lr": 0.05, "momentum": 0.9}, ss)


def exp_adagrad_rmsprop(ss):
    ss.update({"ad_section": "State at a step", "ad_st_surface": "rosenbrock", "ad_st_opts": ["adagrad", "rmsprop"],
                  "ad_st_T": 500, "ad_st_t": 500})
    ui.set_hyper_state("adagrad", "ad_st_adagrad", {"lr": 0.05}, ss)
    ui.set_hyper_state("rmsprop", "ad_st_rmsprop", {"lr": 0.05}, ss)


def exp_bias(ss):
    ss.update({"ad_section": "Adam family", "ad_fam": "Bias correction", "ad_bc_kappa": 10, "ad_bc_lr": 0.05,
                  "ad_bc_b1": 0.9, "ad_bc_b2": 0.999, "ad_bc_steps": 100})


def exp_lr_finder(ss):
    ss.update({"ad_section": "LR finder", "ad_lf_problem": "Quadratic bowl", "ad_lf_kappa": 1, "ad_lf_opt": "sgd",
                  "ad_lf_mom": 0.0, "ad_lf_smooth": 0.0, "ad_lf_lrmin": 1e-4, "ad_lf_lrmax": 5.0, "ad_lf_steps": 100})


with st.sidebar:
    st.header("Guided experiments")
    st.caption("Predict first, then press the button: it sets the section and its widgets.")
    ui.experiment(
        "Adam's first step",
        "Adam's first step has the same length whatever the gradient's scale. Predict its length for lr = 0.1.",
        exp_adam_first_step,
        "At t = 1, m̂₁ = g₁ and v̂₁ = g₁², so the step is −γ·g₁/(|g₁| + ε) ≈ −γ·sign(g₁): **0.1 along each "
        "coordinate** (length 0.1·√2 ≈ 0.141 diagonally), however steep the surface. Compare the Δθ₁ row of the "
        "trace table with SGD's, which is γ times the gradient. Change κ and look again.",
        key="ad_exp_adam1")
    ui.experiment(
        "AdaGrad vs RMSProp in a long valley",
        "Rosenbrock, both at lr = 0.05, after 500 steps: which one is still moving?",
        exp_adagrad_rmsprop,
        "AdaGrad's √S only grows: the steep start fills it, so its steps shrink for good and it stalls near the "
        "start. RMSProp's √v forgets (α = 0.99: a memory of ~100 steps), so in the flat valley its steps grow "
        "back and it keeps moving. Compare the accumulators at step 500 (right panel).",
        key="ad_exp_acc")
    ui.experiment(
        "Switching off bias correction",
        "Without bias correction m starts at 0: are Adam's first steps smaller or larger?",
        exp_bias,
        "**Larger.** v starts at 0 as well, and with β₂ = 0.999 it is the more biased of the two: the raw step "
        "is (1 − β₁ᵗ)/√(1 − β₂ᵗ) times Adam's, 3.16× at t = 1 and ~6.5× around t = 10 (grey curve).",
        key="ad_exp_bias")
    ui.experiment(
        "Where does the range test blow up?",
        "Plain gradient descent on ½(x² + y²) (κ = 1): from which learning rate will the loss explode?",
        exp_lr_finder,
        "Each step multiplies the loss by (1 − γ)²: below γ = 2 = 2/λ_max it shrinks, above it grows. "
        "The red dotted line is 2/λ_max; the test stops a few steps later, when the loss passes 4× its lowest "
        "value. The suggestions (steepest point, min/10) lie well below it.",
        key="ad_exp_lf")


# ----------------------------------------------------------------------------------------------
ui.page_header(
    "Adaptive methods: from momentum to Adam",
    "What do momentum and adaptive step sizes keep in memory, and why does it help?",
    "Plain gradient descent forgets everything after each step. **Momentum** remembers a running direction; "
    "**AdaGrad, RMSProp, Adam** remember running sizes of the gradient per coordinate and divide by them. "
    "Pick a section; the guided experiments in the sidebar set one up for you.",
)
lessons.open(view.CHAPTER, step_card_in_page=True)  # the momentum section shows a lesson's question
if state.presenting():
    section = state.section(view.SECTION)
else:
    c_sec, c_link = st.columns([5, 1.3], vertical_alignment="bottom")
    with c_sec:
        section = state.section(view.SECTION)
    with c_link:
        state.copy_link()


# ----------------------------------------------------------------------------------------------
# 1. Momentum and Nesterov on an ill-conditioned quadratic
# ----------------------------------------------------------------------------------------------
@st.fragment
def momentum_section():
    presenting = state.presenting()
    if not presenting:
        st.header("Momentum and Nesterov on a narrow valley")
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()  # a lesson step's prediction, beside the chart
        kappa = state.select_slider(view.MO_KAPPA)
        lr = float(state.select_slider(view.MO_LR))
        beta = state.slider(view.MO_BETA)
        steps = state.slider(view.MO_STEPS)
        kind = state.radio(view.MO_PHASE, "phase diagram for", horizontal=True)
    surface, gd, hb, nv = view.momentum_runs(kappa, lr, beta, steps)
    x0 = tuple(float(v) for v in surface.starts[0])
    gd.label = f"SGD, plain GD (lr = {lr:g})"
    trs = [gd]
    if beta > 0:
        hb.label = f"SGD, momentum {beta:g}"
        nv.label = f"SGD, Nesterov momentum {beta:g}"
        trs += [hb, nv]
    hide = lessons.hidden()  # a prediction is set up and not committed: no paths, no verdicts yet
    with c_fig:
        if not hide:
            ui.divergence_warnings(trs)
        ui.show_figure(figures.contour(surface, [] if hide else trs, height=state.chart_height(470, 410),
                                    colorbar=False), key="ad_mo_contour")
        numbers = st.container() if presenting else None  # presenter: the key numbers under the chart
        if hide:
            st.caption("🔒 The paths, step counts and loss curves are shown once you commit your prediction.")
    lam = [1.0, float(kappa)]
    r_gd = float(theory.heavy_ball_rate(lr, 0.0, lam))
    r_hb = float(theory.heavy_ball_rate(lr, beta, lam))
    b_star = float(theory.critical_momentum(lr, lam))
    p_lr, p_b, p_rho = theory.polyak_optimum(1.0, float(kappa))
    f0 = float(gd.losses[0])
    tol = f0 / SHRINK
    seen = [sweeps.steps_to_tolerance(surface, t, tol) for t in trs]
    pred = [float(theory.steps_to_shrink(r * r, SHRINK)) for r in (r_gd, r_hb)]
    with c_ctl:
        lessons.ask(view.Q_MOMENTUM)
        if hide:
            st.markdown(f"Eigenvalues of the Hessian: λ = 1 and {kappa:g}.")
            return
        damping = ("**under-damped** (β > β\\*): the error spirals, shrinking by √β per step"
                   if beta > b_star else "**over-damped** (β < β\\*): no spiralling, but slower than at β\\*")
        if b_star >= 1:
            damping = f"no momentum converges at this lr: γ·λ_max = {lr * kappa:g} ≥ 4"
    if presenting:
        with numbers:
            st.markdown(
                f"**ρ per step:** GD {r_gd:.4f}" + (f", β = {beta:g}: {r_hb:.4f}" if beta > 0 else "")
                + f" · **β\\*** = {b_star:.3f}  \n**Steps to {SHRINK_TEXT}:** GD {fmt_steps(seen[0], steps)}"
                + (f", momentum {fmt_steps(seen[1], steps)}, Nesterov {fmt_steps(seen[2], steps)}" if beta > 0 else ""))
    else:
        c_ctl.markdown(
            f"Eigenvalues of the Hessian: λ = 1 and {kappa:g}. At γ = {lr:g}: plain GD shrinks the error by "
            f"**ρ = {r_gd:.4f}** per step; with β = {beta:g} by **ρ = {r_hb:.4f}**. The critically damped momentum "
            f"is **β\\* = {b_star:.3f}**; yours is {damping}.")
    if not presenting:
        st.latex(surface.latex)
    st.caption(
        f"Steps to shrink the loss {SHRINK_TEXT}: GD {fmt_steps(seen[0], steps)} (theory ≈ {pred[0]:.0f})"
        + (f", momentum {fmt_steps(seen[1], steps)} (theory ≈ {pred[1]:.0f}), Nesterov {fmt_steps(seen[2], steps)}"
           if beta > 0 else "")
        + f". Best pair for κ = {kappa:g} (Polyak): γ = {p_lr:.3g}, β = {p_b:.3f}, ρ = {p_rho:.3f} — against GD's "
          f"best ρ = {theory.gd_best_rate(1.0, kappa):.3f}. All three are torch's SGD: plain GD in SGD's colour "
          f"({figures.style.color_name('sgd')}), heavy-ball momentum in {figures.style.color_name('sgd', 1)}, "
          f"Nesterov in {figures.style.color_name('sgd', 2)}.")

    l_col, r_col = st.columns([1, 1.25], gap="medium")
    with l_col:
        st.subheader("Loss")
        ui.show_figure(figures.loss_curves(trs, gap_to=0.0, height=380), key="ad_mo_loss")
    with r_col:
        st.subheader(f"The (learning rate, β) phase diagram: {kind}")
        nest = kind == "Nesterov"
        lo, hi = model.phase_range(float(kappa), lr)
        res = view.phase_sweep(float(kappa), int(steps), nest, lo, hi, x0, SHRINK)
        ui.show_figure(fig.phase_diagram(res, 1.0, float(kappa), current=(lr, beta), theory=not nest,
                                           shrink=SHRINK, height=420), key="ad_mo_phase_fig")
        n_div = int(res.diverged.sum())
        best = res.best()
        st.caption(
            f"One batched sweep: {res.diverged.size} runs of {steps} steps ({plural(n_div, 'run')} diverged, dark "
            f"red). Fastest on this grid: γ = {best['lr']:.3g}, β = {best['momentum']:.2f} "
            f"({fmt_steps(best['steps_to_tol'], steps)})."
            + (" White: β\\*(γ) = max over λ ∈ {1, κ} of (1 − √(γλ))² — the fastest β for each γ; red dashes: "
               "the stability limit γ = 2(1 + β)/λ_max; ★ Polyak's pair." if not nest else
               " The heavy-ball curves are not drawn: Nesterov's look-ahead has other damping conditions.")
        )
    with st.expander("Update rule (torch.optim.SGD) and torch vs textbook"):
        ui.show_update_rule("sgd")


# ----------------------------------------------------------------------------------------------
# 2. The adaptive family: update rules and what they remember
# ----------------------------------------------------------------------------------------------
@st.fragment
def rules_section():
    st.header("The adaptive family: update rules and hyperparameters")
    st.dataframe(view.memory_rows(FIRST_ORDER), hide_index=True, width="stretch",
                 column_config={"in one line": st.column_config.TextColumn(width="large")})
    ui.init_state("ad_rule_opt", "adam")
    name = st.radio("optimizer", ADAPTIVE + ["sgd"], key="ad_rule_opt", horizontal=True, format_func=TITLE.get)
    info = optimizers.info(name)
    st.subheader(f"{info.title} — `{info.torch}`")
    st.markdown(info.summary)
    ui.show_update_rule(name)
    c1, c2 = st.columns([1.6, 1], gap="large")
    with c1:
        st.markdown("**Hyperparameters** (torch's names and defaults)")
        st.markdown(view.hyper_markdown(name))
    with c2:
        st.markdown("**Kept in memory between steps**")
        st.markdown(view.state_markdown(name))


# ----------------------------------------------------------------------------------------------
# 3. State glyphs and the per-step trace table
# ----------------------------------------------------------------------------------------------
@st.fragment
def state_section():
    st.header("What each optimizer holds at one step")
    ui.init_state("ad_st_opts", ["sgd", "rmsprop", "adam"])
    ui.init_state("ad_st_T", 100)
    c_ctl, c_fig = st.columns([1, 2.3], gap="medium")
    with c_ctl:
        surface = ui.surface_picker("ad_st", default="quadratic", show_formula=False)
        if surface is None:
            return
        names = st.multiselect("optimizers", FIRST_ORDER, key="ad_st_opts", format_func=TITLE.get, max_selections=4)
        T = st.slider("steps to run", 5, 500, step=5, key="ad_st_T")
        ui.init_state("ad_st_t", min(10, T))
        st.session_state["ad_st_t"] = min(max(int(st.session_state["ad_st_t"]), 1), T)
        t = st.slider("show step t", 1, T, key="ad_st_t")
        ui.init_state("ad_st_zoom", True)
        zoom = st.toggle("zoom on step t", key="ad_st_zoom")
    if not names:
        st.info("Choose at least one optimizer.")
        return
    spec = specs.surface_spec(surface)
    x0 = tuple(float(v) for v in surface.starts[0]) if surface.starts else (0.5, 0.5)
    cols = st.columns(len(names))
    trs = []
    for col, name in zip(cols, names):
        with col:
            st.markdown(f"<span style='color:{figures.optimizer_color(name)};font-size:1.2em'>●</span> "
                        f"**{TITLE[name]}**", unsafe_allow_html=True)
            hyper = ui.optimizer_controls(name, f"ad_st_{name}", defaults=view.PAGE_DEFAULTS.get(name))
            err = ui.hyper_error(name, hyper)
            if err:
                st.error(err)
                continue
        tr = ui.cached_run(spec, name, specs.hyper_items(hyper), x0, T, record="full")
        tr.label = TITLE[name]
        trs.append(tr)
    if not trs:
        return
    with c_fig:
        ui.divergence_warnings(trs)
        ui.show_figure(fig.state_glyphs(surface, trs, t, zoom=zoom, height=540), key="ad_st_glyphs")
    vecs = [fig.glyph_vectors(tr, t) for tr in trs]
    g_scale, mag = fig.glyph_scales(vecs, fig.glyph_window(surface, vecs) if zoom else surface.window)
    lengths = ", ".join(f"{tr.label} ‖Δθ{t}‖ = {float(fig.step_lengths(tr)[t - 1]):.4g}" for tr, v in zip(trs, vecs) if v)
    st.caption(
        f"At θ before step t = {t}: dotted −g, dashed −(momentum buffer or first moment), thick the step Δθ "
        f"actually taken. Gradient-unit arrows are drawn ×{g_scale:.3g}; steps "
        + (f"×{mag:g} (they are short)" if mag != 1 else "to scale") + f". {lengths}.")

    # AdaGrad's sum vs RMSProp's average, with the user's hyperparameters when they are selected
    acc = {}
    for name in ("adagrad", "rmsprop"):
        if name in names and any(tr.optimizer == name for tr in trs):
            acc[name] = next(tr for tr in trs if tr.optimizer == name)
        else:
            tr = ui.cached_run(spec, name, specs.hyper_items(view.PAGE_DEFAULTS[name]), x0, T, record="full")
            tr.label = f"{TITLE[name]} (lr = {view.PAGE_DEFAULTS[name]['lr']:g})"
            acc[name] = tr
    st.subheader("The per-coordinate accumulator: a growing sum against a decaying average")
    a_col, b_col = st.columns([2.2, 1], gap="medium")
    with a_col:
        ui.show_figure(fig.accumulators(acc["adagrad"], acc["rmsprop"], t), key="ad_st_acc")
    S = acc["adagrad"].states["sum"]
    V = acc["rmsprop"].states["square_avg"]
    with b_col:
        st.markdown(
            f"At step {t} AdaGrad's √S = ({float(S[t - 1][0]) ** 0.5:.3g}, {float(S[t - 1][1]) ** 0.5:.3g}) and "
            f"RMSProp's √v = ({float(V[t - 1][0]) ** 0.5:.3g}, {float(V[t - 1][1]) ** 0.5:.3g}). "
            f"S adds every g², so √S only grows and AdaGrad's steps γ/√S only shrink; v forgets with "
            f"α = {float(acc['rmsprop'].hyper['alpha']):g} (a memory of about {1 / (1 - float(acc['rmsprop'].hyper['alpha'])):.0f} "
            f"steps), so RMSProp's steps follow the current gradient size.")
        ha, hr = acc["adagrad"].hyper, acc["rmsprop"].hyper
        st.caption(f"torch: AdaGrad starts at S₀ = {float(ha['initial_accumulator_value']):g} with ε = "
                   f"{float(ha['eps']):g} outside the root; RMSProp starts at v₀ = 0 with no bias correction, so its "
                   f"first step is γ/√(1 − α) = {1 / (1 - float(hr['alpha'])) ** 0.5:.3g}·γ per coordinate.")

    st.subheader(f"Step {t}, number by number")
    st.markdown("Every number is read from the engine's record of the run; the formula beside it is torch's, "
                "with this run's hyperparameters filled in.")
    tabs = st.tabs([tr.label for tr in trs])
    for tab, tr in zip(tabs, trs):
        with tab:
            if fig.glyph_vectors(tr, t) is None:
                st.warning(f"{tr.label} had diverged before step {t} (at step {int(tr.diverged_at)}).")
                continue
            st.dataframe(fig.trace_table(tr, t), hide_index=True, width="stretch",
                         column_config={"x": st.column_config.NumberColumn("x (coordinate 1)", format="%.6g"),
                                        "y": st.column_config.NumberColumn("y (coordinate 2)", format="%.6g")})
            with st.expander(f"{tr.label}: the full update rule"):
                ui.show_update_rule(tr.optimizer)


# ----------------------------------------------------------------------------------------------
# 4. The Adam family's differences
# ----------------------------------------------------------------------------------------------
def _steps_slider(key, default, hi=1000):
    ui.init_state(key, default)
    return st.slider("steps", 10, hi, step=10, key=key)


def _surface_select(key, options, default):
    ui.init_state(key, default)
    name = st.selectbox("surface", options, key=key, format_func=lambda n: ui.get_surface((n, ())).title.split(" (")[0])
    return (name, ())


def family_bias():
    k1, k2, k3, k4, k5 = st.columns(5, gap="medium")
    ui.init_state("ad_bc_kappa", 10)
    kappa = k1.select_slider("condition number κ", options=view.KAPPAS, key="ad_bc_kappa")
    with k2:
        lr = view.lr_select("learning rate γ", "ad_bc_lr", 0.05)
    ui.init_state("ad_bc_b1", 0.9)
    ui.init_state("ad_bc_b2", 0.999)
    b1 = k3.select_slider("β₁", options=view.BETA_CHOICES[:6], key="ad_bc_b1")
    b2 = k4.select_slider("β₂", options=view.BETA_CHOICES[3:], key="ad_bc_b2")
    with k5:
        steps = _steps_slider("ad_bc_steps", 100, 500)
    spec = view.quadratic_spec(kappa)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    h = {"lr": lr, "betas": (b1, b2)}
    a = ui.cached_run(spec, "adam", specs.hyper_items(h), x0, steps, record="full")
    a.label = "Adam"
    raw = view.variant_run(spec, "adam_no_bias_correction", specs.hyper_items(h), x0, steps)
    raw.label = "Adam without bias correction"
    ui.divergence_warnings([a, raw])
    f1, f2 = st.columns([1, 1.4])
    with f1:
        ui.show_figure(fig.paths(surface, [a, raw], height=440), key="ad_bc_paths")
    with f2:
        ui.show_figure(fig.bias_correction_figure(a, raw, b1, b2, height=440), key="ad_bc_steps_fig")
    l_a, l_r = (float(v) for v in (fig.step_lengths(a)[0], fig.step_lengths(raw)[0]))
    fac1 = float(variants.uncorrected_step_factor(b1, b2, 1))
    st.caption(
        f"Step 1: Adam moves ‖Δθ₁‖ = {l_a:.4g} (= γ·√2 = {lr * 2 ** 0.5:.4g}: m̂₁/√v̂₁ = sign g₁), the uncorrected "
        f"variant {l_r:.4g}, {l_r / l_a:.3g}× as far (theory (1 − β₁)/√(1 − β₂) = {fac1:.3g}). Final loss after "
        f"{steps} steps: Adam {float(a.final_loss):.3g}, uncorrected {float(raw.final_loss):.3g}.")
    st.markdown("**torch vs textbook:** " + variants.ADAM_NO_BIAS_CORRECTION.notes)
    with st.expander("The uncorrected variant's update rule (a teaching variant, not in torch.optim)"):
        st.latex(variants.ADAM_NO_BIAS_CORRECTION.latex)


def family_decay():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select("ad_wd_surface", ["rosenbrock", "booth", "himmelblau"], "rosenbrock")
    ui.init_state("ad_wd_lam", 0.1)
    lam = k2.slider("weight decay λ", 0.0, 0.5, step=0.01, key="ad_wd_lam")
    with k3:
        lr = view.lr_select("learning rate γ", "ad_wd_lr", 0.05)
    with k4:
        steps = _steps_slider("ad_wd_steps", 600)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    l2 = ui.cached_run(spec, "adam", specs.hyper_items({"lr": lr, "weight_decay": lam}), x0, steps, record="full")
    l2.label = f"Adam, L2 λ = {lam:g}"
    w = ui.cached_run(spec, "adamw", specs.hyper_items({"lr": lr, "weight_decay": lam}), x0, steps, record="full")
    w.label = f"AdamW, λ = {lam:g}"
    p = view.l2_point(spec, lam, tuple(float(v) for v in surface.minima[0]))
    ui.divergence_warnings([l2, w])
    f1, f2 = st.columns([1, 1.2])
    with f1:
        ui.show_figure(fig.decay_figure(surface, l2, w, p, height=460), key="ad_wd_paths")
    with f2:
        if lam > 0:
            ui.show_figure(fig.decay_pull_figure(l2, w, lam, height=460), key="ad_wd_pull")
        else:
            st.info("With λ = 0 both are plain Adam: AdamW(weight_decay=0) is exactly Adam.")
    d = []
    for tr in (l2, w):
        fx = tr.final_x
        d.append(((float(fx[0]) - p[0]) ** 2 + (float(fx[1]) - p[1]) ** 2) ** 0.5 if tr.diverged_at < 0 else float("nan"))
    st.caption(
        f"After {steps} steps Adam with L2 is {d[0]:.3g} from the minimum of f + ½λ‖θ‖² at ({p[0]:.3f}, {p[1]:.3f}) "
        f"— the only point where g + λθ = 0 — and AdamW {d[1]:.3g} from it, at ({float(w.final_x[0]):.3f}, "
        f"{float(w.final_x[1]):.3f}). Right: the L2 term goes through Adam's division by √v̂, so a coordinate "
        f"with large gradients is barely pulled; AdamW shrinks every θᵢ by the same factor 1 − γλ = {1 - lr * lam:.4g}.")
    st.markdown("**torch vs textbook:** " + optimizers.info("adamw").notes + " In torch, `Adam(weight_decay=λ)` "
                "is the coupled L2 form and `AdamW` (or `Adam(decoupled_weight_decay=True)`) the decoupled one.")


def family_amsgrad():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select("ad_am_surface", ["rosenbrock", "cliff", "quadratic"], "rosenbrock")
    with k2:
        lr = view.lr_select("learning rate γ", "ad_am_lr", 0.05)
    ui.init_state("ad_am_b2", 0.99)
    b2 = k3.select_slider("β₂", options=view.BETA_CHOICES[3:], key="ad_am_b2")
    with k4:
        steps = _steps_slider("ad_am_steps", 400)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    a = ui.cached_run(spec, "adam", specs.hyper_items({"lr": lr, "betas": (0.9, b2)}), x0, steps, record="full")
    a.label = "Adam"
    m = ui.cached_run(spec, "adam", specs.hyper_items({"lr": lr, "betas": (0.9, b2), "amsgrad": True}), x0, steps,
                      record="full")
    m.label = "AMSGrad"
    ui.divergence_warnings([a, m])
    f1, f2 = st.columns([1, 1.4])
    with f1:
        ui.show_figure(fig.paths(surface, [a, m], height=440), key="ad_am_paths")
    with f2:
        ui.show_figure(fig.amsgrad_figure(a, m, height=440), key="ad_am_denoms")
    da, dm = a.states["denom"], m.states["denom"]
    st.caption(
        f"At the last step Adam divides by √v̂ + ε = ({float(da[-1][0]):.3g}, {float(da[-1][1]):.3g}), AMSGrad by "
        f"({float(dm[-1][0]):.3g}, {float(dm[-1][1]):.3g}): AMSGrad's v is the running maximum, so after the steep "
        f"start its steps stay short. Final loss: Adam {float(a.final_loss):.3g}, AMSGrad {float(m.final_loss):.3g}. "
        f"AMSGrad is drawn as a variant of Adam, in {figures.style.color_name('adam', 1)}: in torch it is "
        f"`Adam(amsgrad=True)`, not a class of its own.")
    st.markdown("**torch vs textbook:** " + optimizers.info("adam").notes)


def family_nadam():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    ui.init_state("ad_na_kappa", 50)
    kappa = k1.select_slider("condition number κ", options=view.KAPPAS, key="ad_na_kappa")
    with k2:
        lr = view.lr_select("learning rate γ", "ad_na_lr", 0.05)
    ui.init_state("ad_na_psi", 0.004)
    psi = k3.select_slider("momentum_decay ψ", options=[0.0, 0.001, 0.002, 0.004, 0.01, 0.02, 0.05, 0.1],
                           key="ad_na_psi")
    with k4:
        steps = _steps_slider("ad_na_steps", 200, 500)
    spec = view.quadratic_spec(kappa)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    a = ui.cached_run(spec, "adam", specs.hyper_items({"lr": lr}), x0, steps, record="full")
    a.label = "Adam"
    n = ui.cached_run(spec, "nadam", specs.hyper_items({"lr": lr, "momentum_decay": psi}), x0, steps, record="full")
    n.label = "NAdam"
    ui.divergence_warnings([a, n])
    f1, f2, f3 = st.columns([1, 1, 1])
    with f1:
        ui.show_figure(fig.paths(surface, [a, n], height=400), key="ad_na_paths")
    with f2:
        ui.show_figure(figures.loss_curves([a, n], gap_to=0.0, height=400), key="ad_na_loss")
    tol = float(a.losses[0]) / SHRINK
    ka, kn = (sweeps.steps_to_tolerance(surface, tr, tol) for tr in (a, n))
    mu = n.states["mu_t"]
    with f3:
        ui.show_figure(fig.nadam_schedule_figure(n, 0.9, height=400), key="ad_na_mu")
    st.caption(
        f"NAdam's step uses the momentum it will have at the next step (μₜ₊₁·mₜ) plus a share (1 − μₜ) of today's "
        f"gradient: a look-ahead. Steps to shrink the loss {SHRINK_TEXT}: Adam {fmt_steps(ka, steps)}, NAdam "
        f"{fmt_steps(kn, steps)}. torch warms the momentum up: μ₁ = {float(mu[0][0]):.4f}, "
        f"μ{steps} = {float(mu[-1][0]):.4f} (ψ = {psi:g}), never quite β₁ = 0.9.")
    st.markdown("**torch vs textbook:** " + optimizers.info("nadam").notes)


def family_radam():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select("ad_ra_surface", ["quadratic", "rosenbrock", "booth"], "quadratic")
    with k2:
        lr = view.lr_select("learning rate γ", "ad_ra_lr", 0.05)
    ui.init_state("ad_ra_b2", 0.999)
    b2 = k3.select_slider("β₂", options=view.BETA_CHOICES[3:], key="ad_ra_b2")
    with k4:
        steps = _steps_slider("ad_ra_steps", 60, 500)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    h = {"lr": lr, "betas": (0.9, b2)}
    r = ui.cached_run(spec, "radam", specs.hyper_items(h), x0, steps, record="full")
    r.label = "RAdam"
    a = ui.cached_run(spec, "adam", specs.hyper_items(h), x0, steps, record="full")
    a.label = "Adam"
    ui.divergence_warnings([r, a])
    f1, f2 = st.columns([1, 1.7])
    with f1:
        ui.show_figure(fig.paths(surface, [r, a], height=440), key="ad_ra_paths")
    with f2:
        ui.show_figure(fig.radam_figure(r, a, height=440), key="ad_ra_fig")
    rho = r.states["rho_t"]
    warm = sum(1 for k in range(len(rho)) if float(rho[k][0]) <= 5)
    l_r, l_a = (float(fig.step_lengths(tr)[0]) for tr in (r, a))
    st.caption(
        f"With β₂ = {b2:g}, ρ∞ = {2 / (1 - b2) - 1:.4g} and the variance estimate is trusted only once ρₜ > 5: here "
        f"the first {plural(warm, 'step')} (shaded) are plain momentum steps −γ·m̂ₜ, **not divided by √v** — so "
        f"their length scales with the gradient: RAdam's first step is {l_r:.3g}, Adam's {l_a:.3g}. After the "
        f"warm-up the rectifier rₜ (< 1) shortens Adam's step while v is still noisy.")
    st.markdown("**torch vs textbook:** " + optimizers.info("radam").notes)


@st.fragment
def family_section():
    st.header("The Adam family: what each change does")
    ui.init_state("ad_fam", FAMILY[0])
    which = st.radio("difference", FAMILY, key="ad_fam", horizontal=True, label_visibility="collapsed")
    {"Bias correction": family_bias, "AdamW vs L2": family_decay, "AMSGrad": family_amsgrad,
     "NAdam": family_nadam, "RAdam": family_radam}[which]()


# ----------------------------------------------------------------------------------------------
# 5. Learning-rate schedules
# ----------------------------------------------------------------------------------------------
@st.fragment
def schedules_section():
    st.header("Learning-rate schedules")
    c_ctl, c_fig = st.columns([1, 2.3], gap="medium")
    with c_ctl:
        ui.init_state("ad_sc_name", "step")
        names = [n for n in schedules.names() if n != "constant"]
        name = st.radio("schedule", names, key="ad_sc_name", horizontal=True,
                        format_func=lambda n: schedules.get(n).title)
        ui.init_state("ad_sc_opt", "sgd")
        opt = st.radio("optimizer", ["sgd", "adam"], key="ad_sc_opt", horizontal=True,
                       format_func=lambda n: "SGD + momentum 0.9" if n == "sgd" else "Adam")
        lr = view.lr_select("base learning rate γ₀", "ad_sc_lr", 0.03 if opt == "sgd" else 0.1)
        ui.init_state("ad_sc_kappa", 25)
        kappa = st.select_slider("condition number κ", options=view.KAPPAS, key="ad_sc_kappa")
        steps = _steps_slider("ad_sc_steps", 120, 500)
        sched_spec = view.schedule_from_widgets(name, "ad_sc", int(steps))
    sched = specs.schedule_from_spec(sched_spec)
    spec = view.quadratic_spec(kappa)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    hyper = {"lr": lr, "momentum": 0.9} if opt == "sgd" else {"lr": lr}
    const = ui.cached_run(spec, opt, specs.hyper_items(hyper), x0, steps)
    const.label = f"{'SGD' if opt == 'sgd' else 'Adam'}, constant γ"
    sch = ui.cached_run(spec, opt, specs.hyper_items(hyper), x0, steps, schedule=sched_spec)
    sch.label = f"{'SGD' if opt == 'sgd' else 'Adam'}, {sched.title.lower()}"
    runs = [(const, "dot"), (sch, "solid")]
    if opt == "sgd":
        tb = view.variant_run(spec, "sgd_textbook_momentum", specs.hyper_items(hyper), x0, steps,
                            schedule=sched_spec, record="path")
        tb.label = f"textbook momentum, {sched.title.lower()}"
        runs.append((tb, "dash"))
    trs = [t for t, _ in runs]
    all_specs = tuple(sched_spec if n == name else view.default_schedule_spec(n, int(steps)) for n in schedules.names())
    with c_fig:
        st.latex(sched.latex)
        st.caption(f"torch: `{sched.torch}`")
        ui.show_figure(fig.schedule_curves(view.schedule_curves(all_specs, lr, int(steps)), highlight=sched.title,
                                             height=260), key="ad_sc_curve")
        ui.divergence_warnings(trs)
        f1, f2 = st.columns(2)
        with f1:
            ui.show_figure(figures.contour(surface, [fig.as_run(t, dash=d) for t, d in runs], height=400, colorbar=False),
                           key="ad_sc_paths")
        with f2:
            ui.show_figure(figures.loss_curves([fig.as_run(t, dash=d) for t, d in runs], gap_to=0.0, height=400),
                           key="ad_sc_loss")
    finals = ", ".join(f"{t.label}: {float(t.final_loss):.3g}" if t.diverged_at < 0 else f"{t.label}: diverged"
                       for t in trs)
    st.caption(f"Final loss after {steps} steps — {finals}. The schedule ends at γ = {float(sched(lr, steps - 1)):.3g}.")
    if opt == "sgd":
        st.markdown("**torch vs textbook:** " + variants.SGD_TEXTBOOK_MOMENTUM.notes +
                    " While γ is constant the dotted and dashed paths would coincide; here the textbook form "
                    "(dashed, a teaching variant) and torch's (solid) part ways at the first change of γ.")


# ----------------------------------------------------------------------------------------------
# 6. The LR range test
# ----------------------------------------------------------------------------------------------
@st.fragment
def finder_section():
    st.header("The learning-rate range test (LR finder)")
    c_ctl, c_fig = st.columns([1, 2.3], gap="medium")
    with c_ctl:
        ui.init_state("ad_lf_problem", "Linear regression (mini-batches)")
        problem_kind = st.radio("problem", ["Quadratic bowl", "Linear regression (mini-batches)"], key="ad_lf_problem")
        if problem_kind == "Quadratic bowl":
            ui.init_state("ad_lf_kappa", 10)
            kappa = st.select_slider("condition number κ", options=view.KAPPAS, key="ad_lf_kappa")
            problem, batch = ("quadratic", float(kappa)), None
        else:
            ui.init_state("ad_lf_bs", 16)
            batch = st.select_slider("mini-batch size", options=[1, 4, 16, 64, 200], key="ad_lf_bs")
            problem = ("regression", 200)
            batch = None if batch >= 200 else int(batch)
        ui.init_state("ad_lf_opt", "sgd")
        opt = st.selectbox("optimizer", FIRST_ORDER, key="ad_lf_opt", format_func=TITLE.get)
        mom = 0.0
        if opt == "sgd":
            ui.init_state("ad_lf_mom", 0.0)
            mom = st.slider("momentum β", 0.0, 0.95, step=0.05, key="ad_lf_mom")
        lo = view.lr_select("start lr", "ad_lf_lrmin", 1e-4, choices=view.LR_CHOICES[:12])
        hi = view.lr_select("end lr", "ad_lf_lrmax", 5.0, choices=view.LR_CHOICES[12:])
        ui.init_state("ad_lf_steps", 100)
        steps = st.slider("steps (one run)", 30, 300, step=10, key="ad_lf_steps")
        ui.init_state("ad_lf_smooth", 0.9)
        smooth = st.slider("smoothing β (fastai: 0.98)", 0.0, 0.98, step=0.02, key="ad_lf_smooth")
    items = specs.hyper_items({"momentum": mom} if opt == "sgd" and mom > 0 else {})
    rt = view.range_test(problem, opt, items, float(lo), float(hi), int(steps), float(smooth), batch)
    surface = view.problem_surface(problem)
    thr, thr_label = None, ""
    if opt == "sgd":
        thr = view.curvature_limit(problem, mom)
        thr_label = "2(1+β)/λ_max" if mom > 0 else "2/λ_max"
    with c_fig:
        st.markdown(f"**{surface.title}**")
        ui.show_figure(fig.lr_finder_figure(rt, threshold=thr, threshold_label=thr_label, height=420),
                       key="ad_lf_fig")
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("steepest descent", f"{rt.suggestion('steepest'):.3g}")
        m2.metric("lowest loss / 10", f"{rt.suggestion('min/10'):.3g}")
        m3.metric("stopped at lr", f"{rt.stop_lr:.3g}" if rt.stop_lr else "never")
        m4.metric(thr_label or "2/λ_max", f"{thr:.3g}" if thr else "—",
                  help="the learning rate above which gradient descent diverges on a quadratic with this Hessian")
    text = (f"One run of {len(rt.lrs)} steps, γ growing ×{(hi / lo) ** (1 / (steps - 1)):.3f} per step from {lo:g}. "
            f"The loss was lowest at γ = {rt.best_lr:.3g}; ")
    if rt.stop_lr:
        text += f"the test stopped at γ = {rt.stop_lr:.3g} ({rt.reason})"
        if thr:
            text += f", {rt.stop_lr / thr:.2g}× the threshold {thr_label} = {thr:.3g}"
        text += ". "
    else:
        text += f"the loss never passed {rt.diverge_factor:g}× its lowest value up to γ = {hi:g}. "
    if thr is None:
        text += (f"{TITLE[opt]} has no 2/λ_max limit: its steps are divided by a gradient size, so the loss rises when "
                 f"γ itself is too large for the problem. ")
    text += ("Plotted: the exact (full-data) loss after each step; steepest = the most negative slope of the "
             "curve against log(lr) before its minimum (fastai's rule).")
    st.caption(text)
    if thr and max(rt.suggestion("steepest"), rt.suggestion("min/10")) > thr:
        st.warning(f"A suggestion lies above {thr_label} = {thr:.3g}: gradient descent diverges there on this "
                   "problem. On a deterministic, elongated bowl the test is fooled: a learning rate near 1/λ_max "
                   "empties the steep direction in a step or two, and the regrowth above 2/λ_max takes a while to "
                   "show in the loss. The test is meant for noisy mini-batch losses.", icon="⚠️")

    st.subheader("Runs at the suggested learning rates")
    base = dict(items)
    trs = []
    for label, value in (("steepest", rt.suggestion("steepest")), ("min/10", rt.suggestion("min/10"))):
        tr = view.problem_run(problem, opt, specs.hyper_items({**base, "lr": float(value)}), 100, batch)
        tr.label = f"{label}: γ = {value:.3g}"
        trs.append(tr)
    ui.divergence_warnings(trs)
    ui.show_figure(figures.loss_curves(trs, gap_to=surface.min_value, height=320), key="ad_lf_runs")
    st.caption("100 steps of " + TITLE[opt] + (f" (mini-batches of {batch})" if batch else "") +
               " at each suggestion. " + "; ".join(
                   f"{t.label} → final f − f* = {float(t.final_loss) - surface.min_value:.3g}" if t.diverged_at < 0
                   else f"{t.label} → diverged at step {int(t.diverged_at)}" for t in trs) + ".")


{"Momentum": momentum_section, "Update rules": rules_section, "State at a step": state_section,
 "Adam family": family_section, "Schedules": schedules_section, "LR finder": finder_section}[section]()
