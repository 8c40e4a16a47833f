"""Chapter: Adaptive methods -- momentum, the adaptive family, their state step by step, the Adam
family's differences, learning-rate schedules and the LR range test.

One section is shown at a time (the "Section" control, kept in the URL), and each is an
``st.fragment``: moving one of its widgets reruns that section only.  Every widget is declared in
``optlab/ui/adaptive.py`` (URL state); every claim is chosen by a verdict of
``optlab/chapters/adaptive.py``; every computation is planned within a work budget.  All numbers
come from optlab; this file only wires widgets and picks sentences.
"""
import re

import streamlit as st

from optlab import figures, optimizers, schedules, specs, sweeps, theory, ui
from optlab import format as fmt
from optlab.chapters import adaptive as model
from optlab.errors import FormulaError, OptlabError
from optlab.figures import adaptive as fig
from optlab.i18n import current, domain, listing, sentence_gap, sentences
from optlab.optimizers import variants
from optlab.ui import adaptive as view
from optlab.ui import lessons, state

_, N_, ngettext = domain("adaptive")

ui.page_config(_("Adaptive methods"))

FIRST_ORDER = view.FIRST_ORDER
TITLE = {n: optimizers.info(n).title for n in FIRST_ORDER}
SHRINK = view.SHRINK  # "converged": the loss shrunk by this factor
SHRINK_TEXT = "10⁶×"


def fmt_steps(k, steps):
    """"42 steps" or "more than 300 steps" (a run that never got there, or diverged)."""
    if k is None or k < 0 or k == float("inf"):
        return ngettext("more than {n} step", "more than {n} steps", int(steps)).format(n=int(steps))
    return ngettext("{n} step", "{n} steps", int(k)).format(n=int(k))


# the colour names a caption may use (figures.style.color_name gives the English name)
COLOUR_NAMES = (N_("blue"), N_("indigo"), N_("orange"), N_("olive"), N_("vermilion"), N_("green"), N_("pink"),
                N_("sky blue"), N_("black"), N_("wine red"), N_("purple"), N_("teal"))


def colour(name, variant=0):
    """The translated name of an optimizer's (or a variant's) colour, for a caption."""
    return _(figures.style.color_name(name, variant))


def say_cuts(*cuts):
    """One sentence per budget cut, in the page (never silently cut)."""
    for c in cuts:
        if c is not None:
            st.info(c.sentence(), icon="✂️")


def num(v, spec=".3g"):
    """A number (optlab.format: "−" minus sign), or "—" when it is undefined (NaN, ∞)."""
    if spec in (".3g", ".4g"):
        return fmt.number(v, int(spec[1]))
    x = fmt.value(v)
    return "—" if x is None else format(x, spec).replace("-", fmt.MINUS)


# ----------------------------------------------------------------------------------------------
ui.page_header(
    _("Adaptive methods: from momentum to Adam"),
    _("What do momentum and adaptive step sizes keep in memory, and why does it help?"),
    _("Plain gradient descent forgets everything after each step. **Momentum** remembers a running direction; "
      "**AdaGrad, RMSProp, Adam** remember running sizes of the gradient per coordinate and divide by them."),
)
lessons.open(view.CHAPTER, step_card_in_page=True)  # a lesson's question sits beside the section's chart
view.keep_values()  # values of the sections not shown are kept (no jump back to defaults)
section = state.section(view.SECTION)  # full width: six sections fit one row at 1024 px


def section_header(title):
    """The section's title with "Copy link" beside it (presenter mode: neither, the chart comes first)."""
    if state.presenting():
        return
    c_title, c_link = st.columns([5, 1.4], vertical_alignment="center")
    with c_title:
        st.subheader(title)
    with c_link:
        state.copy_link()


# ----------------------------------------------------------------------------------------------
# 1. Momentum and Nesterov on an ill-conditioned quadratic
# ----------------------------------------------------------------------------------------------
DAMPING = {
    "gd": N_("plain gradient descent (β = 0)"),
    "gd_unstable": N_("plain gradient descent beyond its stability limit (γ·λ_max = {glm:.3g} ≥ 2): it diverges"),
    "unstable": N_("**beyond the stability limit** (γ·λ_max = {glm:.3g} ≥ 2(1 + β) = {lim:.3g}): it diverges"),
    "no_beta": N_("stable, but no β < 1 is critically damped at this γ (β\\* ≥ 1)"),
    "critical": N_("**critically damped** (β ≈ β\\*): the fastest momentum for this γ"),
    "under": N_("**under-damped** (β > β\\*): the error spirals, shrinking by √β per step"),
    "over": N_("**over-damped** (β < β\\*): no spiralling, but slower than at β\\*"),
}


def rho_text(r):
    verdict = model.rate_verdict(r)
    if verdict == "shrinks":
        return _("shrinks the error by **ρ = {r:.4f}** per step").format(r=r)
    if verdict == "grows":
        return _("**multiplies** the error by ρ = {r:.4f} per step: it grows").format(r=r)
    if verdict == "stalls":
        return _("keeps the error (ρ = 1): it does not converge")
    return _("has no defined rate here")


def race_text(verdict, a_name, b_name):
    return {
        "a": _("{a} gets there before {b}."), "b": _("{b} gets there before {a}."),
        "tie": _("{a} and {b} get there at the same step."),
        "neither": _("Neither gets there within the run."),
        "both_diverged": _("Both diverge."),
    }[verdict].format(a=a_name, b=b_name)


@st.fragment
def momentum_section():
    presenting = state.presenting()
    section_header(_("Momentum and Nesterov on a narrow valley"))
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()  # a lesson step's prediction, beside the chart
        kappa = state.select_slider(view.MO_KAPPA)
        lr = float(state.select_slider(view.MO_LR))
        beta = state.slider(view.MO_BETA)
        steps = state.slider(view.MO_STEPS)
        kind = state.radio(view.MO_PHASE, horizontal=True)
    run_steps, cut = view.momentum_plan(steps)
    surface, gd, hb, nv = view.momentum_runs(kappa, lr, beta, steps)
    x0 = tuple(float(v) for v in surface.starts[0])
    gd.label = _("SGD, plain GD (lr = {lr:g})").format(lr=lr)
    trs = [gd]
    if beta > 0:
        hb.label = _("SGD, momentum {b:g}").format(b=beta)
        nv.label = _("SGD, Nesterov momentum {b:g}").format(b=beta)
        trs += [hb, nv]
    hide = lessons.hidden()  # a prediction is set up and not committed: no paths, no verdicts yet
    with c_fig:
        say_cuts(cut)
        if not hide:
            ui.divergence_warnings(trs)
        ui.show_figure(figures.contour(surface, [] if hide else trs, height=state.chart_height(470, 410),
                                       colorbar=False), key="ad_mo_contour")
        numbers = st.container() if presenting else None  # presenter: the key numbers under the chart
        if hide:
            st.caption(_("🔒 The paths, step counts and loss curves are shown once you commit your prediction."))
    lam = [1.0, float(kappa)]
    r_gd = float(theory.heavy_ball_rate(lr, 0.0, lam))
    r_hb = float(theory.heavy_ball_rate(lr, beta, lam))
    b_star = float(theory.critical_momentum(lr, lam))
    p_lr, p_b, p_rho = theory.polyak_optimum(1.0, float(kappa))
    f0 = float(gd.losses[0])
    tol = f0 / SHRINK
    seen = [view.steps_to_shrink(surface, t) for t in trs]
    pred = [float(theory.steps_to_shrink(r * r, SHRINK)) if model.rate_verdict(r) == "shrinks" else None
            for r in (r_gd, r_hb)]
    regime = model.damping(lr, beta, kappa)
    with c_ctl:
        lessons.ask(view.Q_MOMENTUM)
        if hide:
            st.markdown(_("Eigenvalues of the Hessian: λ = 1 and {k:g}.").format(k=kappa))
            return
    damping = _(DAMPING[regime]).format(glm=lr * kappa, lim=2 * (1 + beta))
    b_star_text = (_("The critically damped momentum is **β\\* = {b:.3f}**.").format(b=b_star)
                   if b_star < 1 else _("No β < 1 is critically damped at this γ."))
    race = model.race(seen[1], seen[0], diverged_a=int(hb.diverged_at) >= 0, diverged_b=int(gd.diverged_at) >= 0) \
        if beta > 0 else None
    race_line = race_text(race, _("Heavy-ball momentum"), _("GD")) if race else ""
    # sentences as the language writes them: "a. b" / "a。b"
    stop, space = "。" if current() == "zh" else ".", sentence_gap()
    if presenting:
        with numbers:
            st.markdown(
                _("**ρ per step:** GD {gd}").format(gd=num(r_gd, ".4f"))
                + (_(", β = {b:g}: {r}").format(b=beta, r=num(r_hb, ".4f")) if beta > 0 else "")
                + (_(" · **β\\*** = {b:.3f}").format(b=b_star) if b_star < 1 else "")
                + "  \n" + _("**Steps to {shrink}:** GD {gd}").format(shrink=SHRINK_TEXT, gd=fmt_steps(seen[0], run_steps))
                + (_(", momentum {hb}, Nesterov {nv}").format(hb=fmt_steps(seen[1], run_steps),
                                                              nv=fmt_steps(seen[2], run_steps)) if beta > 0 else "")
                + (("  \n" + race_line) if race_line else ""))
    else:
        text = _("Eigenvalues of the Hessian: λ = 1 and {k:g}. At γ = {lr:g}: plain GD {gd}.").format(
            k=kappa, lr=lr, gd=rho_text(r_gd))
        if beta > 0:
            text += space + _("With β = {b:g} heavy ball {hb}.").format(b=beta, hb=rho_text(r_hb))
        text += space + b_star_text + space + _("Yours is {damping}.").format(damping=damping)
        c_ctl.markdown(text)
    if not presenting:
        st.latex(surface.latex)
    theory_gd = _(" (theory ≈ {n:.0f})").format(n=pred[0]) if pred[0] is not None else ""
    theory_hb = _(" (theory ≈ {n:.0f})").format(n=pred[1]) if pred[1] is not None else ""
    cap = _("Steps to shrink the loss {shrink}: GD {gd}{tgd}").format(
        shrink=SHRINK_TEXT, gd=fmt_steps(seen[0], run_steps), tgd=theory_gd)
    if beta > 0:
        cap += _(", momentum {hb}{thb}, Nesterov {nv}").format(hb=fmt_steps(seen[1], run_steps), thb=theory_hb,
                                                               nv=fmt_steps(seen[2], run_steps))
        cap += stop + (space + race_line if race_line else "")
    else:
        cap += stop
    cap += space + _("Best pair for κ = {k:g} (Polyak): γ = {plr:.3g}, β = {pb:.3f}, ρ = {prho:.3f} — against GD's "
                   "best ρ = {gbest:.3f}. All three are torch's SGD: plain GD in SGD's colour ({c0}), heavy-ball "
                   "momentum in {c1}, Nesterov in {c2}.").format(
        k=kappa, plr=p_lr, pb=p_b, prho=p_rho, gbest=theory.gd_best_rate(1.0, kappa), c0=colour("sgd"),
        c1=colour("sgd", 1), c2=colour("sgd", 2))
    st.caption(cap)

    l_col, r_col = st.columns([1, 1.25], gap="medium")
    with l_col:
        st.subheader(_("Loss"))
        # a narrow column at 1024 px: long (Chinese) names on two lines rather than cut at the edge
        ui.show_figure(figures.wrap_legend(figures.loss_curves(trs, gap_to=0.0, height=380), 24), key="ad_mo_loss")
    with r_col:
        st.subheader(_("The (learning rate, β) phase diagram: {kind}").format(kind=_(kind)))
        nest = kind == "Nesterov"
        lo, hi = model.phase_range(float(kappa), lr)
        n_lr, n_beta, p_steps, p_cuts = view.phase_plan(steps)
        say_cuts(*p_cuts)
        res = view.phase_sweep(float(kappa), int(p_steps), nest, lo, hi, x0, SHRINK, n_lr, n_beta)
        ui.show_figure(fig.phase_diagram(res, 1.0, float(kappa), current=(lr, beta), theory=not nest,
                                         shrink=SHRINK, height=420), key="ad_mo_phase_fig")
        n_div = int(res.diverged.sum())
        best = res.best()
        text = ngettext("One batched sweep: {runs} runs of {steps} steps ({n} run diverged, dark red).",
                        "One batched sweep: {runs} runs of {steps} steps ({n} runs diverged, dark red).",
                        n_div).format(runs=res.diverged.size, steps=res.steps, n=n_div)
        if int(best["steps_to_tol"]) >= 0 and int(best["diverged_at"]) < 0:
            text += sentence_gap() + _("Fastest on this grid: γ = {lr:.3g}, β = {b:.2f} ({k}).").format(
                lr=best["lr"], b=best["momentum"], k=fmt_steps(best["steps_to_tol"], res.steps))
        else:
            text += sentence_gap() + _("No run of this grid shrank the loss {shrink} within {n} steps.").format(
                shrink=SHRINK_TEXT, n=res.steps)
        text += sentence_gap() + (_("White: β\\*(γ) = max over λ ∈ {1, κ} of (1 − √(γλ))² — the fastest β for each γ; red "
                                    "dashes: the stability limit γ = 2(1 + β)/λ_max; ★ Polyak's pair.") if not nest else
                       _("The heavy-ball curves are not drawn: Nesterov's look-ahead has other damping conditions."))
        st.caption(text)
    with st.expander(_("Update rule (torch.optim.SGD) and torch vs textbook")):
        ui.show_update_rule("sgd")


# ----------------------------------------------------------------------------------------------
# 2. The adaptive family: update rules and what they remember
# ----------------------------------------------------------------------------------------------
@st.fragment
def rules_section():
    section_header(_("The adaptive family: update rules and hyperparameters"))
    name = state.radio(view.RU_OPT, horizontal=True, format_func=TITLE.get)
    info = optimizers.info(name)
    st.subheader(f"{info.title} — `{info.torch}`")
    st.markdown(_(info.summary))
    ui.show_update_rule(name)
    c1, c2 = st.columns([1.6, 1], gap="large")
    with c1:
        st.markdown(_("**Hyperparameters** (torch's names and defaults)"))
        st.markdown(view.hyper_markdown(name))
    with c2:
        st.markdown(_("**Kept in memory between steps**"))
        st.markdown(view.state_markdown(name))
    st.subheader(_("What each optimizer keeps between steps"))
    rows = view.memory_rows(FIRST_ORDER)
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={_("in one line"): st.column_config.TextColumn(width="large")})


# ----------------------------------------------------------------------------------------------
# 3. State glyphs and the per-step trace table
# ----------------------------------------------------------------------------------------------
MOVING = {
    "moving": N_("still moving"), "stalled": N_("stalled (its steps have all but stopped)"),
    "diverged": N_("diverged"),
}


def surface_name(name):
    """A catalogue surface's title without its default parameters ("Quadratic bowl (κ = 10)" names
    the default, not the κ chosen beside it)."""
    return re.split(r"\s*[(（]", ui.get_surface((name, ())).title)[0]


def state_surface():
    """The section's surface from its declared widgets; None (error shown, text kept) for a bad formula."""
    name = state.selectbox(view.ST_SURFACE, format_func=lambda n: _("Your own surface") if n == view.CUSTOM
                           else surface_name(n))
    if name == view.CUSTOM:
        text = state.text_input(view.ST_FORMULA, help=_("Use x and y, numbers, `+ - * / **` (or `^`), parentheses "
                                                         "and functions such as sin, cos, exp, log, sqrt, abs, tanh."))
        spec = ("formula", text, None)
        try:
            return ui.get_surface(spec), spec, True
        except (FormulaError, OptlabError) as e:
            st.error(_("This formula cannot be used: {reason}").format(reason=e),
                     icon="✏️")
            return None, None, True
    if name == "quadratic":
        kappa = state.select_slider(view.ST_KAPPA)
        spec = view.quadratic_spec(kappa)
    else:
        spec = (name, ())
    return ui.get_surface(spec), spec, False


@st.fragment
def state_section():
    section_header(_("What each optimizer holds at one step"))
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        surface, spec, is_formula = state_surface()
        names = state.pills(view.ST_OPTS, format_func=TITLE.get)
        T = state.slider(view.ST_T)
        t_req = int(st.session_state.get(view.ST_STEP.key, view.ST_STEP.default))
        if t_req > T:  # the step shown cannot be after the last step: clamped, and said
            st.session_state[view.ST_STEP.key] = T
        t = state.slider(view.ST_STEP)
        if t_req > T:
            st.caption(_("Step t = {t} is after the last step: t = {T} is shown.").format(t=t_req, T=T))
        if t > T:
            t = T
        zoom = state.toggle(view.ST_ZOOM)
    if surface is None:
        return
    if not names:
        c_fig.info(_("Choose at least one optimizer."))
        return
    lrs = {}
    cols = st.columns(len(names))
    for col, name in zip(cols, names):
        with col:
            st.markdown(f"<span style='color:{figures.optimizer_color(name)};font-size:1.2em'>●</span> "
                        f"**{TITLE[name]}**", unsafe_allow_html=True)
            lrs[name] = state.number_input(view.ST_LR[name])
            if name == "sgd":
                mom = state.slider(view.ST_MOM)
    for n in FIRST_ORDER:
        lrs.setdefault(n, float(st.session_state.get(view.ST_LR[n].key, view.ST_LR[n].default)))
    mom = float(st.session_state.get(view.ST_MOM.key, view.ST_MOM.default))
    runs, acc, T_run, cut = view.state_runs(spec, names, lrs, mom, T, is_formula)
    trs = []
    for name in names:
        tr = runs[name]
        tr.label = TITLE[name]
        trs.append(tr)
    t = min(t, T_run)
    hide = lessons.hidden()
    with c_fig:
        say_cuts(cut)
        if hide:
            ui.show_figure(figures.contour(surface, [], height=state.chart_height(540, 420), colorbar=False),
                           key="ad_st_glyphs")
            st.caption(_("🔒 The steps, the accumulators and the trace table are shown once you commit your "
                         "prediction."))
        else:
            ui.divergence_warnings(trs)
            ui.show_figure(fig.state_glyphs(surface, trs, t, zoom=zoom, height=state.chart_height(540, 420)),
                           key="ad_st_glyphs")
    with c_ctl:
        lessons.ask(view.Q_ADAM_FIRST)
        lessons.ask(view.Q_ACCUMULATORS)
    if hide:
        return
    vecs = [fig.glyph_vectors(tr, t) for tr in trs]
    g_scale, mag = fig.glyph_scales(vecs, fig.glyph_window(surface, vecs) if zoom else figures.core.window_of(surface))
    lengths = listing(_("{name} ‖Δθ{t}‖ = {v}").format(name=tr.label, t=t, v=num(fig.step_lengths(tr)[t - 1], ".4g"))
                        for tr, v in zip(trs, vecs) if v)
    st.caption(
        _("At θ before step t = {t}: dotted −g, dashed −(momentum buffer or first moment), thick the step Δθ "
          "actually taken. Gradient-unit arrows are drawn ×{g:.3g}; steps {scale}.").format(
            t=t, g=g_scale, scale=(_("×{m:g} (they are short)").format(m=mag) if mag != 1 else _("to scale")))
        + (sentence_gap() + _("Step lengths: {lengths}.").format(lengths=lengths) if lengths else ""))

    # AdaGrad's sum vs RMSProp's average, with the user's learning rates when they are selected
    for n in ("adagrad", "rmsprop"):
        acc[n].label = TITLE[n] if n in runs else _("{name} (lr = {lr:g})").format(
            name=TITLE[n], lr=view.PAGE_DEFAULTS[n]["lr"])
    st.subheader(_("The per-coordinate accumulator: a growing sum against a decaying average"))
    a_col, b_col = st.columns([2.2, 1], gap="medium")
    with a_col:
        ui.show_figure(fig.accumulators(acc["adagrad"], acc["rmsprop"], t), key="ad_st_acc")
    S = acc["adagrad"].states["sum"]
    V = acc["rmsprop"].states["square_avg"]
    v_ada, v_rms = view.accumulator_verdicts(spec, acc["adagrad"], acc["rmsprop"])
    tail = max(1, T_run // 10)
    with b_col:
        alpha = float(acc["rmsprop"].hyper["alpha"])
        st.markdown(
            _("At step {t} AdaGrad's √S = ({s1}, {s2}) and RMSProp's √v = ({v1}, {v2}). S adds every g², so √S "
              "only grows and AdaGrad's steps γ/√S only shrink; v forgets with α = {a:g} (a memory of about {m:.0f} "
              "steps), so RMSProp's steps follow the current gradient size.").format(
                t=t, s1=num(float(S[t - 1][0]) ** 0.5), s2=num(float(S[t - 1][1]) ** 0.5),
                v1=num(float(V[t - 1][0]) ** 0.5), v2=num(float(V[t - 1][1]) ** 0.5), a=alpha, m=1 / (1 - alpha)))
        st.markdown(_("Over the last {n} steps AdaGrad is **{a}**, RMSProp is **{r}**.").format(
            n=tail, a=_(MOVING[v_ada]), r=_(MOVING[v_rms])))
        ha, hr = acc["adagrad"].hyper, acc["rmsprop"].hyper
        st.caption(_("torch: AdaGrad starts at S₀ = {s0:g} with ε = {eps:g} outside the root; RMSProp starts at "
                     "v₀ = 0 with no bias correction, so its first step is γ/√(1 − α) = {f:.3g}·γ per "
                     "coordinate.").format(s0=float(ha["initial_accumulator_value"]), eps=float(ha["eps"]),
                                           f=1 / (1 - float(hr["alpha"])) ** 0.5))

    st.subheader(_("Step {t}, number by number").format(t=t))
    st.markdown(_("Every number is read from the engine's record of the run; the formula beside it is torch's, "
                  "with this run's hyperparameters filled in."))
    tabs = st.tabs([tr.label for tr in trs])
    for tab, tr in zip(tabs, trs):
        with tab:
            if fig.glyph_vectors(tr, t) is None:
                st.warning(_("{name} had diverged before step {t} (at step {k}).").format(
                    name=tr.label, t=t, k=int(tr.diverged_at)))
                continue
            rows = [{_("quantity"): r["quantity"], _("formula"): r["formula"], "x": r["x"], "y": r["y"]}
                    for r in fig.trace_table(tr, t)]
            st.dataframe(rows, hide_index=True, width="stretch",
                         column_config={"x": st.column_config.NumberColumn(_("x (coordinate 1)"), format="%.6g"),
                                        "y": st.column_config.NumberColumn(_("y (coordinate 2)"), format="%.6g")})
            with st.expander(_("{name}: the full update rule").format(name=tr.label)):
                ui.show_update_rule(tr.optimizer)


# ----------------------------------------------------------------------------------------------
# 4. The Adam family's differences
# ----------------------------------------------------------------------------------------------
def _lr(p):
    return float(state.select_slider(p, format_func=lambda v: f"{v:g}"))


def _surface_select(p):
    return (state.selectbox(p, format_func=surface_name), ())


def family_bias():
    hide = lessons.hidden()
    k1, k2, k3, k4, k5 = st.columns(5, gap="medium")
    with k1:
        kappa = state.select_slider(view.BC_KAPPA)
    with k2:
        lr = _lr(view.BC_LR)
    with k3:
        b1 = state.select_slider(view.BC_B1)
    with k4:
        b2 = state.select_slider(view.BC_B2)
    with k5:
        steps = state.slider(view.BC_STEPS)
    v = {"bk": kappa, "bl": lr, "b1": b1, "b2": b2, "bn": steps}
    a, raw, T, cut = view.bias_runs(v)
    a.label = "Adam"
    raw.label = _("Adam without bias correction")
    surface = ui.get_surface(view.quadratic_spec(kappa))
    say_cuts(cut)
    f1, f2 = st.columns([1, 1.4])
    with f1:
        ui.show_figure(fig.paths(surface, [] if hide else [a, raw], height=state.chart_height(440, 400)),
                       key="ad_bc_paths")
    with f2:
        if lessons.reveal(_("The step lengths")):
            ui.show_figure(fig.bias_correction_figure(a, raw, b1, b2, height=state.chart_height(440, 400)),
                           key="ad_bc_steps_fig")
    lessons.ask(view.Q_BIAS)  # under the charts: in presenter mode the charts stay in the first screen
    if hide:
        return
    ui.divergence_warnings([a, raw])
    l_a, l_r = (float(x) for x in (fig.step_lengths(a)[0], fig.step_lengths(raw)[0]))
    fac1 = float(variants.uncorrected_step_factor(b1, b2, 1))
    verdict = model.ratio_verdict(l_r, l_a)
    comp = {"larger": _("{r:.3g}× as far: larger"), "smaller": _("{r:.3g}× as far: smaller"),
            "same": _("as far"), "undefined": _("a ratio that is not defined here (a zero or a diverged step)")}[verdict]
    st.caption(
        _("Step 1: Adam moves ‖Δθ₁‖ = {la} (= γ·√2 = {g2:.4g}: m̂₁/√v̂₁ = sign g₁), the uncorrected variant {lr_} — "
          "{comp} (theory (1 − β₁)/√(1 − β₂) = {fac:.3g}). Final loss after {n} steps: Adam {fa}, uncorrected {fr}.")
        .format(la=num(l_a, ".4g"), g2=lr * 2 ** 0.5, lr_=num(l_r, ".4g"),
                comp=comp.format(r=l_r / l_a if verdict in ("larger", "smaller") else 0), fac=fac1, n=T,
                fa=num(a.final_loss) if int(a.diverged_at) < 0 else _("diverged"),
                fr=num(raw.final_loss) if int(raw.diverged_at) < 0 else _("diverged")))
    st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(variants.ADAM_NO_BIAS_CORRECTION.notes)))
    with st.expander(_("The uncorrected variant's update rule (a teaching variant, not in torch.optim)")):
        st.latex(variants.ADAM_NO_BIAS_CORRECTION.latex)


def family_decay():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select(view.WD_SURFACE)
    with k2:
        lam = state.slider(view.WD_LAM)
    with k3:
        lr = _lr(view.WD_LR)
    with k4:
        steps = state.slider(view.WD_STEPS)
    surface = ui.get_surface(spec)
    h = {"lr": lr, "weight_decay": lam}
    l2, w, T, cut = view.pair_runs(spec, ("adam", h), ("adamw", h), steps)
    l2.label = _("Adam, L2 λ = {lam:g}").format(lam=lam)
    w.label = _("AdamW, λ = {lam:g}").format(lam=lam)
    p = view.l2_point(spec, lam, tuple(float(v) for v in surface.minima[0]))
    say_cuts(cut)
    ui.divergence_warnings([l2, w])
    f1, f2 = st.columns([1, 1.2])
    with f1:
        ui.show_figure(fig.decay_figure(surface, l2, w, p, height=460), key="ad_wd_paths")
    with f2:
        if lam > 0:
            ui.show_figure(fig.decay_pull_figure(l2, w, lam, height=460), key="ad_wd_pull")
        else:
            st.info(_("With λ = 0 both are plain Adam: AdamW(weight_decay=0) is exactly Adam."))
    d = []
    for tr in (l2, w):
        fx = tr.final_x
        d.append(((float(fx[0]) - p[0]) ** 2 + (float(fx[1]) - p[1]) ** 2) ** 0.5 if int(tr.diverged_at) < 0
                 else float("nan"))
    verdict = model.nearer(d[0], d[1])
    claim = {"a": _("Adam with L2 ends nearer that point, where its update can stop."),
             "b": _("Here AdamW ends nearer that point (Adam with L2 has not settled yet)."),
             "both": _("Both end at that point (with one surface and one λ they can coincide)."),
             "tie": _("Both end equally far from it."),
             "undefined": _("A diverged run has no distance to compare.")}[verdict]
    st.caption(
        _("After {n} steps Adam with L2 is {d0} from the minimum of f + ½λ‖θ‖² at ({px:.3f}, {py:.3f}) — the only "
          "point where g + λθ = 0 — and AdamW {d1} from it. {claim} Right: the L2 term goes through Adam's division "
          "by √v̂, so a coordinate with large gradients is barely pulled; AdamW shrinks every θᵢ by the same "
          "factor 1 − γλ = {f:.4g}.").format(n=T, d0=num(d[0]), px=p[0], py=p[1], d1=num(d[1]), claim=claim,
                                              f=1 - lr * lam))
    st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(optimizers.info("adamw").notes)) + sentence_gap() +
                _("In torch, `Adam(weight_decay=λ)` is the coupled L2 form and `AdamW` (or "
                  "`Adam(decoupled_weight_decay=True)`) the decoupled one."))


def family_amsgrad():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select(view.AM_SURFACE)
    with k2:
        lr = _lr(view.AM_LR)
    with k3:
        b2 = state.select_slider(view.AM_B2)
    with k4:
        steps = state.slider(view.AM_STEPS)
    surface = ui.get_surface(spec)
    a, m, T, cut = view.pair_runs(spec, ("adam", {"lr": lr, "betas": (0.9, b2)}),
                                  ("adam", {"lr": lr, "betas": (0.9, b2), "amsgrad": True}), steps)
    a.label = "Adam"
    m.label = "AMSGrad"
    say_cuts(cut)
    ui.divergence_warnings([a, m])
    f1, f2 = st.columns([1, 1.4])
    with f1:
        ui.show_figure(fig.paths(surface, [a, m], height=440), key="ad_am_paths")
    with f2:
        ui.show_figure(fig.amsgrad_figure(a, m, height=440), key="ad_am_denoms")
    da, dm = a.states["denom"], m.states["denom"]
    big = [float(dm[-1][i]) >= float(da[-1][i]) for i in range(2)]
    claim = (_("AMSGrad's denominator is the larger in both coordinates: its v is the running maximum, so after "
               "the steep start its steps stay short.") if all(big) else
             _("AMSGrad's denominator is not the larger in every coordinate here: the two runs took different "
               "paths, so their gradients differ."))
    st.caption(
        _("At the last step Adam divides by √v̂ + ε = ({a1}, {a2}), AMSGrad by ({m1}, {m2}). {claim} Final loss: Adam "
          "{fa}, AMSGrad {fm}. AMSGrad is drawn as a variant of Adam, in {c}: in torch it is `Adam(amsgrad=True)`, "
          "not a class of its own.").format(
            a1=num(da[-1][0]), a2=num(da[-1][1]), m1=num(dm[-1][0]), m2=num(dm[-1][1]), claim=claim,
            fa=num(a.final_loss), fm=num(m.final_loss), c=colour("adam", 1)))
    st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(optimizers.info("adam").notes)))


def family_nadam():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        kappa = state.select_slider(view.NA_KAPPA)
    with k2:
        lr = _lr(view.NA_LR)
    with k3:
        psi = state.select_slider(view.NA_PSI)
    with k4:
        steps = state.slider(view.NA_STEPS)
    spec = view.quadratic_spec(kappa)
    surface = ui.get_surface(spec)
    a, n, T, cut = view.pair_runs(spec, ("adam", {"lr": lr}), ("nadam", {"lr": lr, "momentum_decay": psi}), steps)
    a.label = "Adam"
    n.label = "NAdam"
    say_cuts(cut)
    ui.divergence_warnings([a, n])
    f1, f2, f3 = st.columns([1, 1, 1])
    with f1:
        ui.show_figure(fig.paths(surface, [a, n], height=400), key="ad_na_paths")
    with f2:
        ui.show_figure(figures.loss_curves([a, n], gap_to=0.0, height=400), key="ad_na_loss")
    ka, kn = (view.steps_to_shrink(surface, tr) for tr in (a, n))
    mu = n.states["mu_t"]
    with f3:
        ui.show_figure(fig.nadam_schedule_figure(n, 0.9, height=400), key="ad_na_mu")
    verdict = model.race(kn, ka, diverged_a=int(n.diverged_at) >= 0, diverged_b=int(a.diverged_at) >= 0)
    st.caption(
        _("NAdam's step uses the momentum it will have at the next step (μₜ₊₁·mₜ) plus a share (1 − μₜ) of today's "
          "gradient: a look-ahead. Steps to shrink the loss {shrink}: Adam {ka}, NAdam {kn}. {race} torch warms the "
          "momentum up: μ₁ = {m1:.4f}, μ{T} = {mT:.4f} (ψ = {psi:g}), never quite β₁ = 0.9.").format(
            shrink=SHRINK_TEXT, ka=fmt_steps(ka, T), kn=fmt_steps(kn, T), race=race_text(verdict, "NAdam", "Adam"),
            m1=float(mu[0][0]), T=T, mT=float(mu[-1][0]), psi=psi))
    st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(optimizers.info("nadam").notes)))


def family_radam():
    k1, k2, k3, k4 = st.columns(4, gap="medium")
    with k1:
        spec = _surface_select(view.RA_SURFACE)
    with k2:
        lr = _lr(view.RA_LR)
    with k3:
        b2 = state.select_slider(view.RA_B2)
    with k4:
        steps = state.slider(view.RA_STEPS)
    surface = ui.get_surface(spec)
    h = {"lr": lr, "betas": (0.9, b2)}
    r, a, T, cut = view.pair_runs(spec, ("radam", h), ("adam", h), steps)
    r.label = "RAdam"
    a.label = "Adam"
    say_cuts(cut)
    ui.divergence_warnings([r, a])
    f1, f2 = st.columns([1, 1.7])
    with f1:
        ui.show_figure(fig.paths(surface, [r, a], height=440), key="ad_ra_paths")
    with f2:
        ui.show_figure(fig.radam_figure(r, a, height=440), key="ad_ra_fig")
    rho = r.states["rho_t"]
    warm = sum(1 for k in range(len(rho)) if float(rho[k][0]) <= 5)
    l_r, l_a = (float(fig.step_lengths(tr)[0]) for tr in (r, a))
    text = ngettext(
        "With β₂ = {b2:g}, ρ∞ = {rinf:.4g} and the variance estimate is trusted only once ρₜ > 5: here the first "
        "{n} step (shaded) is a plain momentum step −γ·m̂ₜ, **not divided by √v**, so its length scales with the "
        "gradient: RAdam's first step is {lr_}, Adam's {la}.",
        "With β₂ = {b2:g}, ρ∞ = {rinf:.4g} and the variance estimate is trusted only once ρₜ > 5: here the first "
        "{n} steps (shaded) are plain momentum steps −γ·m̂ₜ, **not divided by √v**, so their length scales with "
        "the gradient: RAdam's first step is {lr_}, Adam's {la}.", warm).format(
        b2=b2, rinf=2 / (1 - b2) - 1, n=warm, lr_=num(l_r), la=num(l_a))
    if warm < T:
        text += sentence_gap() + _("After the warm-up the rectifier rₜ (< 1) shortens Adam's step while v is still noisy.")
    else:
        text += sentence_gap() + _("Within these {n} steps ρₜ never passes 5: every step is a warm-up step.").format(n=T)
    st.caption(text)
    st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(optimizers.info("radam").notes)))


@st.fragment
def family_section():
    section_header(_("The Adam family: what each change does"))
    which = state.radio(view.FAM, horizontal=True, label_visibility="collapsed")
    {"Bias correction": family_bias, "AdamW vs L2": family_decay, "AMSGrad": family_amsgrad,
     "NAdam": family_nadam, "RAdam": family_radam}[which]()


# ----------------------------------------------------------------------------------------------
# 5. Learning-rate schedules
# ----------------------------------------------------------------------------------------------
def schedule_widgets(name, steps):
    """The widgets of schedule ``name``; its hashable spec.  A value past the run's end is clamped
    (and said); cosine schedules anneal over the whole run (T_max = steps)."""
    if name == "step":
        n = state.slider(view.SC_STEP_SIZE)
        if n > steps:
            st.caption(_("step_size {n} is longer than the run: no drop happens within {T} steps.").format(n=n, T=steps))
        g = state.slider(view.SC_GAMMA)
        return ("step", (("gamma", float(g)), ("step_size", int(n))))
    if name == "exponential":
        g = state.slider(view.SC_EGAMMA, format="%.3f")
        return ("exponential", (("gamma", float(g)),))
    if name == "cosine":
        e = state.number_input(view.SC_ETA_MIN)
        return ("cosine", (("T_max", int(steps)), ("eta_min", float(e))))
    w = state.slider(view.SC_WARMUP)
    if w >= steps:
        st.caption(_("{w} warm-up steps fill the whole run of {T} steps: the run only warms up.").format(w=w, T=steps))
    sf = state.slider(view.SC_START)
    return ("warmup_cosine", (("T_max", int(steps)), ("eta_min", 0.0), ("start_factor", float(sf)),
                              ("warmup", int(min(w, steps - 1)))))


@st.fragment
def schedules_section():
    section_header(_("Learning-rate schedules"))
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        name = state.radio(view.SC_NAME, horizontal=True, format_func=lambda n: _(schedules.get(n).title))
        opt = state.radio(view.SC_OPT, horizontal=True,
                          format_func=lambda n: _("SGD + momentum 0.9") if n == "sgd" else "Adam")
        lr = _lr(view.SC_LR)
        kappa = state.select_slider(view.SC_KAPPA)
        steps = state.slider(view.SC_STEPS)
        sched_spec = schedule_widgets(name, int(steps))
    sched = specs.schedule_from_spec(sched_spec)
    spec = view.quadratic_spec(kappa)
    surface = ui.get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    hyper = {"lr": lr, "momentum": 0.9} if opt == "sgd" else {"lr": lr}
    n_runs = 3 if opt == "sgd" else 2
    T, cut = model.plan_runs(model.CATALOGUE_RERUN, int(steps), n_runs)
    opt_title = "SGD" if opt == "sgd" else "Adam"
    const = ui.cached_run(spec, opt, specs.hyper_items(hyper), x0, T)
    const.label = _("{opt}, constant γ").format(opt=opt_title)
    sch = ui.cached_run(spec, opt, specs.hyper_items(hyper), x0, T, schedule=sched_spec)
    sch.label = _("{opt}, {schedule}").format(opt=opt_title, schedule=_(sched.title).lower())
    runs = [(const, "dot"), (sch, "solid")]
    if opt == "sgd":
        tb = view.variant_run(spec, "sgd_textbook_momentum", specs.hyper_items(hyper), x0, T,
                              schedule=sched_spec, record="path")
        tb.label = _("textbook momentum, {schedule}").format(schedule=_(sched.title).lower())
        runs.append((tb, "dash"))
    trs = [t for t, _d in runs]
    all_specs = tuple(sched_spec if n == name else view.default_schedule_spec(n, int(steps)) for n in schedules.names())
    with c_fig:
        say_cuts(cut)
        st.latex(sched.latex)
        st.caption(_("torch: `{torch}`").format(torch=sched.torch))
        curves = {_(k): v for k, v in view.schedule_curves(all_specs, lr, int(steps)).items()}
        ui.show_figure(fig.schedule_curves(curves, highlight=_(sched.title), height=260), key="ad_sc_curve")
        ui.divergence_warnings(trs)
        f1, f2 = st.columns(2)
        with f1:
            # two charts in one column, a sixth of the page at 1024 px each: one legend (the loss
            # curves'), its names wrapped to the chart's width
            ui.show_figure(figures.contour(surface, [fig.as_run(t, dash=d) for t, d in runs], height=400,
                                           colorbar=False, showlegend=False), key="ad_sc_paths")
        with f2:
            ui.show_figure(figures.wrap_legend(figures.loss_curves([fig.as_run(t, dash=d) for t, d in runs],
                                                                   gap_to=0.0, height=400), 20), key="ad_sc_loss")
    finals = listing(_("{name}: {v}").format(name=t.label, v=num(t.final_loss) if int(t.diverged_at) < 0
                                                else _("diverged")) for t in trs)
    fa = float(sch.final_loss) if int(sch.diverged_at) < 0 else float("nan")
    fb = float(const.final_loss) if int(const.diverged_at) < 0 else float("nan")
    verdict = model.lower(fa, fb)
    claim = {"a": _("The schedule ends lower than the constant rate."),
             "b": _("The constant rate ends lower than the schedule here."),
             "tie": _("Both end at the same loss (or both at the round-off floor)."),
             "a_nan": _("The scheduled run diverged."), "b_nan": _("The constant-rate run diverged."),
             "both_nan": _("Both runs diverged.")}[verdict]
    st.caption(_("Final loss after {n} steps — {finals}. {claim} The schedule ends at γ = {end:.3g}.").format(
        n=T, finals=finals, claim=claim, end=float(sched(lr, T - 1))))
    if opt == "sgd":
        st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(variants.SGD_TEXTBOOK_MOMENTUM.notes)) + sentence_gap() +
                    _("While γ is constant the dotted and dashed paths would coincide; here the textbook form "
                      "(dashed, a teaching variant) and torch's (solid) part ways at the first change of γ."))


# ----------------------------------------------------------------------------------------------
# 6. The LR range test
# ----------------------------------------------------------------------------------------------
@st.fragment
def finder_section():
    section_header(_("The learning-rate range test (LR finder)"))
    c_ctl, c_fig = state.chart_first_columns((1, 2.3), present=(1, 1.45), gap="medium")
    with c_ctl:
        lessons.step_card()
        problem_kind = state.radio(view.LF_PROBLEM)
        if problem_kind == "Quadratic bowl":
            state.select_slider(view.LF_KAPPA)
        else:
            state.select_slider(view.LF_BATCH)
        opt = state.selectbox(view.LF_OPT, format_func=TITLE.get)
        if opt == "sgd":
            state.slider(view.LF_MOM)
        lo = _lr(view.LF_LO)
        hi = _lr(view.LF_HI)
        steps = state.slider(view.LF_STEPS)
        state.slider(view.LF_SMOOTH)
        lessons.ask(view.Q_FINDER)
    v = view.PAGE.current(st.session_state)
    problem, batch, items, rt = view.range_test_run(v)
    mom = float(v["fm"]) if opt == "sgd" else 0.0
    surface = view.problem_surface(problem)
    thr, thr_label = None, ""
    if opt == "sgd":
        thr = view.curvature_limit(problem, mom)
        thr_label = "2(1+β)/λ_max" if mom > 0 else "2/λ_max"
    hide = lessons.hidden()
    with c_fig:
        st.markdown(f"**{_(surface.title)}**")
        if hide:
            st.caption(_("🔒 The range test's curve, where it stopped and the suggestions are shown once you commit "
                         "your prediction."))
            return
        ui.show_figure(fig.lr_finder_figure(rt, threshold=thr, threshold_label=thr_label, height=420),
                       key="ad_lf_fig")
        m1, m2, m3, m4 = st.columns(2) * 2  # 2 × 2: four in a row clip the numbers at 1024 px
        m1.metric(_("steepest descent"), num(rt.suggestion("steepest")))
        m2.metric(_("lowest loss / 10"), num(rt.suggestion("min/10")))
        m3.metric(_("stopped at lr"), num(rt.stop_lr) if rt.stop_lr else _("never"))
        m4.metric(thr_label or "2/λ_max", num(thr) if thr else "—",
                  help=_("the learning rate above which gradient descent diverges on a quadratic with this Hessian"))
    run = _("One run of {n} steps, γ growing ×{f:.3f} per step from {lo:g}.").format(
        n=len(rt.lrs), f=(hi / lo) ** (1 / (steps - 1)), lo=lo)
    if rt.stop_lr:
        why = (_("the loss rose above {f:g}× its lowest value").format(f=rt.diverge_factor)
               if rt.reason.startswith("the loss rose above") else _(rt.reason))
        if thr:
            end = _("The loss was lowest at γ = {best:.3g}; the test stopped at γ = {s:.3g} ({why}), {r:.2g}× the "
                    "threshold {label} = {thr:.3g}.").format(best=rt.best_lr, s=rt.stop_lr, why=why,
                                                             r=rt.stop_lr / thr, label=thr_label, thr=thr)
        else:
            end = _("The loss was lowest at γ = {best:.3g}; the test stopped at γ = {s:.3g} ({why}).").format(
                best=rt.best_lr, s=rt.stop_lr, why=why)
    else:
        end = _("The loss was lowest at γ = {best:.3g}; it never passed {f:g}× its lowest value up to γ = "
                "{hi:g}.").format(best=rt.best_lr, f=rt.diverge_factor, hi=hi)
    no_limit = (_("{name} has no 2/λ_max limit: its steps are divided by a gradient size, so the loss rises when "
                  "γ itself is too large for the problem.").format(name=TITLE[opt]) if thr is None else "")
    text = sentences([run, end, no_limit,
                      _("Plotted: the exact (full-data) loss after each step; steepest = the most negative slope of "
                        "the curve against log(lr) before its minimum (fastai's rule).")])
    st.caption(text)
    if thr and max(rt.suggestion("steepest"), rt.suggestion("min/10")) > thr:
        st.warning(_("A suggestion lies above {label} = {thr:.3g}: gradient descent diverges there on this "
                     "problem. On a deterministic, elongated bowl the test is fooled: a learning rate near 1/λ_max "
                     "empties the steep direction in a step or two, and the regrowth above 2/λ_max takes a while to "
                     "show in the loss. The test is meant for noisy mini-batch losses.").format(label=thr_label, thr=thr),
                   icon="⚠️")

    st.subheader(_("Runs at the suggested learning rates"))
    base = dict(items)
    trs = []
    for label, value in ((_("steepest"), rt.suggestion("steepest")), (_("min/10"), rt.suggestion("min/10"))):
        tr = view.problem_run(problem, opt, specs.hyper_items({**base, "lr": float(value)}), 100, batch)
        tr.label = _("{label}: γ = {v:.3g}").format(label=label, v=value)
        trs.append(tr)
    ui.divergence_warnings(trs)
    ui.show_figure(figures.loss_curves(trs, gap_to=surface.min_value, height=320), key="ad_lf_runs")
    ends = listing((_("{name} → final f − f* = {v}").format(name=t.label, v=num(float(t.final_loss) - surface.min_value))
                     if int(t.diverged_at) < 0 else
                     _("{name} → diverged at step {k}").format(name=t.label, k=int(t.diverged_at)) for t in trs), ";")
    st.caption((_("100 steps of {name} (mini-batches of {b}) at each suggestion.").format(name=TITLE[opt], b=batch)
                if batch else _("100 steps of {name} at each suggestion.").format(name=TITLE[opt])) + sentence_gap() + _("At the end: {ends}.").format(ends=ends))


{"Momentum": momentum_section, "Update rules": rules_section, "State at a step": state_section,
 "Adam family": family_section, "Schedules": schedules_section, "LR finder": finder_section}[section]()
