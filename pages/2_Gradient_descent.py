"""Chapter: Gradient descent -- batch, mini-batch and stochastic; the learning rate; momentum in a
narrow valley; schedules; the seed article's code, what is wrong with it, and the corrected version.

One section at a time (the "Section" control, kept in the URL).  Every number comes from optlab,
every claim of a caption from a verdict of optlab.chapters.gradient_descent (optlab.ui.gradient_descent
picks the sentence); this file only lays out widgets, figures and text.
"""
import streamlit as st

from optlab import losses, specs, ui
from optlab.chapters import gradient_descent as model
from optlab.figures.gradient_descent import fmt_line, fmt_num
from optlab.i18n import domain
from optlab.ui import gradient_descent as view
from optlab.i18n import current, listing, sentence_gap
from optlab.ui import lessons, state
from optlab.ui.i18n import carried_query_params

_, N_, ngettext = domain("gradient_descent")

ui.page_config(_("Gradient descent"))
ui.page_header(
    _("Gradient descent"),
    _("How much of the data should each gradient step look at, and how large should the step be?"),
    _("One update rule, θ ← θ − lr·∇f, on a real loss surface whose exact minimum is known: a line fitted to "
      "the diabetes data."),
)
lessons.open(view.CHAPTER)
view.pair_css()
if state.presenting():
    section = state.section(view.SECTION)
else:
    c_sec, c_link = view.top_row()
    with c_sec:
        section = state.section(view.SECTION)
    with c_link:
        state.copy_link()
F = model.FORMULAS
PRESENT = state.presenting()


def mse_text(v: float) -> str:
    """An MSE of the article's points: "0 (to rounding)" below round-off (not a number to compare)."""
    return _("0 (to rounding)") if model.is_close(v, 0.0) else fmt_num(v, 2)


def budget_note(text: str | None) -> None:
    if text:
        st.info(text, icon="⏱️")


# ----------------------------------------------------------------------------------------------
# 1. Batch, mini-batch and stochastic gradient descent on one surface
# ----------------------------------------------------------------------------------------------
def variants_section():
    c = view.controls("v", (1.5, 1, 1, 1, 1))  # the feature's name is the longest value
    with c[0]:
        feat = state.selectbox(view.V_FEATURE, _("feature x"), format_func=view.feature_label,
                               help=view.dataset_description(view.DIAB))
    with c[1]:
        lr = state.select_slider(view.V_LR, _("learning rate"), help=_("The same for all three variants."))
    with c[2]:
        b = state.select_slider(view.V_BATCH, _("mini-batch b"))
    with c[3]:
        epochs = state.slider(view.V_EPOCHS, _("epochs"), help=_("Passes over the data: every variant computes "
                                                                  "about N sample gradients per epoch."))
    with c[4]:
        seed = state.number_input(view.V_SEED, _("seed"), help=_("Which samples the mini-batches draw."))
    setup = view.variants(feat, float(lr), int(b), int(epochs), int(seed))
    trs = view.variants_runs(setup)
    hide = lessons.hidden()
    if setup.cut is not None:
        budget_note(view.cut_sentence_epochs(setup.cut))
    if not hide:
        ui.divergence_warnings(trs)
    star = view.minimum(setup.spec)
    vd = None if hide else view.variants_verdict(setup, trs)
    if PRESENT and vd is not None:
        st.markdown(view.key_variants(setup, vd))
    f1, f2 = view.pair("v", (2, 3))
    with f1:
        if not PRESENT:
            st.markdown(_("**MSE of ŷ = w·x + b over (w, b)**, x = `{feature}`; ◇ least squares").format(feature=feat))
        shown = () if hide else setup.runs[::-1]  # SGD first: the smoother paths on top of its cloud
        ui.show_figure(view.fig_paths(setup.spec, shown, height=state.chart_height(430, 340),
                                      extra_points=((_("least squares (np.linalg.lstsq)"), star),)),
                       key="gd_var_surface")
    with f2:
        if not PRESENT:
            st.markdown(_("**Progress at equal cost** (all three are `torch.optim.SGD`)"))
        if lessons.reveal(_("The loss curves")):
            ui.show_figure(view.fig_variants_curves(setup.spec, setup.runs, state.chart_height(400, 340)),
                           key="gd_var_curves")
    if vd is not None:
        st.markdown(view.variants_caption(setup, trs, vd))
        # a static table: its six columns wrap to the column's width (a dataframe scrolled its last ones out at 1024 px)
        st.table(view.variants_table(setup, trs, vd), hide_index=True)
        st.caption(_("Target: the least-squares line {line} (f\\* = {f}; N = {n} patients). Batch GD takes one exact "
                     "step per epoch; SGD takes N noisy ones; “without noise” is where full-batch steps of the same "
                     "sizes would be (the mean path of the noisy runs).").format(
            line=fmt_line(*star, w_digits=4, b_digits=4), f=fmt_num(view.min_value(setup.spec), 5), n=setup.n))
    q = st.columns(2)
    with q[0]:
        lessons.ask(view.Q_EPOCH)
    with q[1]:
        lessons.ask(view.Q_JUMP)
    if not PRESENT:
        with st.expander(_("The formulas (the seed article's sections 3.1–3.3 announce them and then show nothing)")):
            st.latex(F["objective"])
            st.markdown(_("**Batch gradient descent** (the article's 3.1 梯度下降法 and 3.3 批量梯度下降法 are this "
                          "same method):"))
            st.latex(F["gd"])
            st.markdown(_("**Stochastic gradient descent** (3.2 随机梯度下降法), one random sample per step:"))
            st.latex(F["sgd"])
            st.markdown(_("**Mini-batch SGD**, b random samples per step; its gradient is right on average:"))
            st.latex(F["minibatch"])
            st.latex(F["unbiased"])
            st.latex(losses.get("mse").latex)
            st.latex(F["epochs"])
            st.markdown(_("**Newton's method** (3.4 牛顿法), for comparison:"))
            st.latex(F["newton"])
            st.markdown(_("All three first-order variants are `torch.optim.SGD`; only the data fed to each step "
                          "differs:"))
            ui.show_update_rule("sgd")


# ----------------------------------------------------------------------------------------------
# 2. The learning rate
# ----------------------------------------------------------------------------------------------
def lr_section():
    cv = view.curvature(view.LR_SPEC)
    c = view.controls("l", [3, 1.2, 1.2])
    with c[0]:
        preset = state.radio(view.L_PRESET, _("learning-rate preset"), horizontal=True,
                             format_func=lambda p: view.preset_label(cv, p),
                             help=_("Computed from the surface's curvature, so they mean the same on any data: "
                                    "1 %, best, 90 % and 120 % of the stability limit."))
    with c[1]:
        custom = state.number_input(view.L_CUSTOM, _("custom lr"), disabled=preset != "custom",
                                    help=_("Any number; the run uses it within {lo} … {hi}.").format(
                                        lo=fmt_num(specs.LR_MIN), hi=fmt_num(specs.LR_MAX)))
    with c[2]:
        steps = state.slider(view.L_STEPS)
    r = view.lr_run(preset, float(custom), int(steps))
    said = view.clamp_sentence(r)
    if said:
        st.warning(said, icon="✏️")
    budget_note(view.cut_sentence_steps(r.cut, {_("batch GD"): r.steps}) if r.cut else None)
    tr = view.run_of(view.LR_SPEC, r.run)
    hide = lessons.hidden()
    if not hide:
        if not ui.divergence_warnings([tr]):
            grow = view.lr_growth_warning(r, tr)
            if grow:
                st.warning(grow, icon="💥")
    label = _("batch GD, lr = {lr}").format(lr=fmt_num(r.lr))
    if PRESENT and not hide:
        st.markdown(view.key_lr(r, tr))
    f1, f2 = view.pair("l", (2, 3))
    with f1:
        ui.show_figure(view.fig_paths(view.LR_SPEC, ((label, "batch", r.run),), height=state.chart_height(420, 340),
                                      extra_points=((_("least squares"), view.minimum(view.LR_SPEC)),)),
                       key="gd_lr_surface")
    with f2:
        if lessons.reveal(_("The loss curve")):
            ui.show_figure(view.fig_lr_curve(view.LR_SPEC, ((label, "batch", r.run),), state.chart_height(380, 340)),
                           key="gd_lr_curve")
    st.latex(F["stability"])
    if not hide:
        st.markdown(view.lr_caption(r, tr))
    lessons.ask(view.Q_DIVERGE)


# ----------------------------------------------------------------------------------------------
# 3. Momentum in a narrow valley
# ----------------------------------------------------------------------------------------------
def momentum_section():
    c = view.controls("m", 3)
    with c[0]:
        lr = state.select_slider(view.M_LR)
    with c[1]:
        beta = state.slider(view.M_BETA)
    with c[2]:
        steps = state.slider(view.M_STEPS)
    m = view.momentum(float(lr), float(beta), int(steps))
    budget_note(view.cut_sentence_steps(m.cut, {_("GD"): m.steps, _("momentum"): m.steps}) if m.cut else None)
    gd, hb, vd = view.momentum_verdict(m)
    hide = lessons.hidden()
    if not hide:
        ui.divergence_warnings([gd, hb] if beta > 0 else [gd])
    runs = ((_("GD (SGD, momentum 0)"), "gd", m.gd),)
    if beta > 0:
        runs += ((_("momentum (SGD, momentum {b})").format(b=fmt_num(beta, 2)), "momentum", m.hb),)
    if PRESENT and not hide:
        st.markdown(view.key_momentum(m, vd))
    f1, f2 = view.pair("m", (2, 3))
    with f1:
        ui.show_figure(view.fig_paths(view.ARTICLE, () if hide else runs, height=state.chart_height(420, 340),
                                      extra_points=((_("least squares"), view.minimum(view.ARTICLE)),)),
                       key="gd_mo_surface")
    with f2:
        if lessons.reveal(_("The loss curves")):
            ui.show_figure(view.fig_momentum_curves(runs, state.chart_height(400, 340)), key="gd_mo_curves")
    if not hide:
        st.markdown(view.momentum_caption(m, vd))
    q = st.columns(2)
    with q[0]:
        lessons.ask(view.Q_MOMENTUM)
    with q[1]:
        lessons.ask(view.Q_RESCUE)
    st.markdown(_("Momentum keeps a running direction, `buf ← β·buf + ∇f`, and steps along it: in torch it is "
                  "`torch.optim.SGD(momentum=β)`, the same optimizer as every run of this page."))
    st.page_link("pages/4_Adaptive_methods.py", label=_("Momentum, Nesterov and the best β: the lesson of the "
                                                         "Adaptive methods chapter"), icon="➡️",
                 query_params={**carried_query_params(), "lesson": "momentum"})


# ----------------------------------------------------------------------------------------------
# 4. Learning-rate schedules
# ----------------------------------------------------------------------------------------------
def schedules_section():
    c = view.controls("s", 4)
    with c[0]:
        name = state.selectbox(view.SC_NAME, format_func=view.schedule_title)
    with c[1]:
        sbs = state.select_slider(view.SC_BATCH)
    with c[2]:
        slr = state.select_slider(view.SC_LR)
    with c[3]:
        sep = state.slider(view.SC_EPOCHS)
    s = view.schedule_runs(name, int(sbs), float(slr), int(sep))
    if s.cut is not None:
        budget_note(view.cut_sentence_epochs(s.cut))
    trs, vd = view.schedule_verdict(s)
    hide = lessons.hidden()
    if not hide:
        ui.divergence_warnings(trs)
    zoom = view.zoom_window(s.spec, trs)
    if PRESENT and not hide:
        st.markdown(view.key_schedules(s, vd))
    f1, f2 = view.pair("s", (2, 3))
    with f1:
        if not PRESENT:
            st.markdown(_("**Near the minimum** (the window holds the last half of each run)"))
        ui.show_figure(view.fig_paths(s.spec, () if hide else s.runs, height=state.chart_height(420, 340), window=zoom,
                                      extra_points=((_("least squares"), view.minimum(s.spec)),)),
                       key="gd_sched_surface")
    with f2:
        if not PRESENT:
            st.markdown(_("**Loss and learning rate against step**"))
        if lessons.reveal(_("The loss curves")):
            ui.show_figure(view.fig_schedule(s.spec, s.runs, state.chart_height(440, 360)), key="gd_sched_curves")
    if not hide:
        st.markdown(view.schedule_caption(s, vd))
    q = st.columns(2)
    with q[0]:
        lessons.ask(view.Q_COSINE)
    with q[1]:
        lessons.ask(view.Q_STEP_EARLY)
    if not PRESENT:
        st.markdown(_("A constant learning rate leaves SGD jittering in a cloud around the minimum (section “Batch vs "
                      "SGD”). Does decaying the rate shrink the cloud? Both runs here draw the same samples; only the "
                      "step size differs."))
        st.latex(model.schedule_object(s.sched_spec).latex)


# ----------------------------------------------------------------------------------------------
# 5. The article's code and what is wrong with it
# ----------------------------------------------------------------------------------------------
def article_section():
    gd_bad, gd_out, sgd_runs = view.article_replays((0, 1, 2))
    facts = {k: model.code_facts(smp.code) for k, smp in model.SAMPLES.items()}
    fr = model.factor_report(0.5)
    X, y = model.article_data()
    c1, c2 = view.pair("a", (1, 1))
    with c1:
        st.markdown(_("The seed article's section 4 (具体代码实例, code examples) gives two programs, here as written "
                      "(the stored text lost its indentation; it is restored)."))
        tabs = st.tabs([f"{smp.section} {_(smp.title)}" for smp in model.SAMPLES.values()])  # 4.1, 4.2
        for tab, smp in zip(tabs, model.SAMPLES.values()):
            with tab:
                st.code(smp.code, language="python", height=300, wrap_lines=True)
        if current() != "zh":  # the comments are Chinese: said in English only for English readers
            st.caption(_("The comments in English: {pairs}").format(
                pairs="; ".join(f"{zh} = {_(en)}" for zh, en in model.TRANSLATIONS.items())))
    with c2:
        st.markdown(_("**⑤ The article's SGD (4.2), three runs**: it sets no seed"))
        ui.show_figure(view.fig_article_theta((0, 1, 2), state.chart_height(340, 340)), key="gd_art_theta")
        thetas = [r.theta for r in sgd_runs.values()]
        printed = model.article_prints(thetas[0])
        if model.same_print(thetas):
            prints = _("All three print {printed} in the end").format(printed=f"`{printed}`")
        else:
            prints = _("They print different results: {printed}").format(
                printed=listing(f"`{model.article_prints(t)}`" for t in thetas))
        differ = (_("but their paths differ: every run starts elsewhere and draws other samples.")
                  if model.paths_differ(list(sgd_runs.values())) else _("and their paths are the same."))
        st.caption(_("{prints}, {differ}").format(prints=prints, differ=differ) + sentence_gap() + _("The four points lie exactly on y = x, so every sample's gradient "
                                              "vanishes at θ = 1; on noisy data the results would differ too."))
    st.markdown(_("**① Shapes: the 4.1 program crashes on its first iteration.** Replaying its NumPy lines on its own "
                  "data (TensorFlow is not needed: see ④):"))
    shape_rows = [{_("expression"): k, _("shape"): str(v)} for k, v in gd_bad.shapes.items() if k != "theta after"]
    sc = st.columns([2, 3])
    with sc[0]:
        st.dataframe(shape_rows, hide_index=True)
    with sc[1]:
        st.markdown(_("`theta = np.random.randn(1, 1)` has shape {theta} while `y` has shape {y}, so "
                      "`X.dot(theta) - y` broadcasts {pred} − {y} into a **{resid} matrix** of every x_iθ − y_j, and "
                      "the “gradient” has shape {grads}. Then `theta -= alpha * gradients` asks NumPy to write that "
                      "into the {theta} array in place, and NumPy refuses at iteration i = {i}:").format(
            theta=gd_bad.shapes["theta"], y=gd_bad.shapes["y"], pred=gd_bad.shapes["X.dot(theta)"],
            resid=gd_bad.shapes["X.dot(theta) - y"], grads=gd_bad.shapes["gradients"], i=gd_bad.failed_at))
        st.code(f"ValueError: {gd_bad.error}", language="text", wrap_lines=True)
        st.markdown(_("Written out of place (`theta = theta - alpha * gradients`) it runs, but θ becomes {shape}: "
                      "after {n} iterations θ = {theta}, four slopes, column j fitting the constant target y_j. The "
                      "fix: make θ a vector of shape (1,) (or y a column of shape (4, 1)).").format(
            shape=gd_out.shapes["theta after"], n=f"{model.ITERATIONS:,}",
            theta=[round(float(v), 4) for v in gd_out.theta.ravel()]))
    st.markdown(_("**② Factors: each gradient minimises a different multiple of the MSE.**"))
    st.latex(F["article_batch"])
    half = model.is_close(fr.batch_ratio, 0.5)
    st.caption(_("At θ = {t}: the article's batch gradient is {a}, the MSE gradient (optlab) is {g}: ratio {r}.").format(
        t=fmt_num(fr.theta), a=fmt_num(fr.batch_grad), g=fmt_num(fr.mse_grad), r=fmt_num(fr.batch_ratio))
        + sentence_gap() + (_("So 4.1 minimises ½·MSE, which has the same minimum: only the effective learning rate is halved.")
                 if half else _("So 4.1 minimises {r}·MSE: the same minimum, another effective learning rate.").format(
                     r=fmt_num(fr.batch_ratio))))
    st.latex(F["article_sgd"])
    st.latex(F["per_sample"])
    st.caption(_("At θ = {t}, samples i = 1…{m}: the article's SGD gradients {art}, the per-sample squared-error "
                 "gradients {ok}: {r}× larger (= m). Averaged over the samples the article's gradient is {mean} = "
                 "∇MSE / {m}: an unbiased estimate of the gradient of MSE/{m}, so every step is {m}× shorter than "
                 "SGD's.").format(t=fmt_num(fr.theta), m=fr.m, art=[round(float(v), 4) for v in fr.sample_grads],
                                  ok=[round(float(v), 4) for v in fr.correct_sample_grads],
                                  r=fmt_num(fr.sample_ratio), mean=fmt_num(fr.sgd_mean)))
    ir_toy = model.intercept_report(X[:, 0], y, "article")
    xd, yd, _mask, _label = view.dataset(("feature", view.DIAB, "bmi", False))
    ir_d = model.intercept_report(xd, yd, "diabetes")
    harmless = model.is_close(ir_toy.mse_origin, ir_toy.mse_wb)
    toy_text = (_("On the article's points that is harmless: the best line through the origin has θ = {w} and MSE "
                  "{m}, the same as with an intercept.") if harmless else
                _("Even on the article's points it costs: the best line through the origin has θ = {w} and MSE {m}, "
                  "against {m2} with an intercept.")).format(w=fmt_num(ir_toy.w_origin), m=mse_text(ir_toy.mse_origin),
                                                              m2=mse_text(ir_toy.mse_wb))
    st.markdown(_("**③ No intercept.** The model is ŷ = θ·x.") + sentence_gap() + toy_text + sentence_gap() +
                _("On real data it is not: for diabetes vs bmi the best line through the origin has MSE {m0}; the best "
                  "line with an intercept (b = {b}) has MSE {m1}.").format(
                    m0=f"{ir_d.mse_origin:,.0f}", b=fmt_num(ir_d.wb[1]), m1=f"{ir_d.mse_wb:,.0f}"))
    f41 = facts["gd"]
    st.markdown(_("**④ TensorFlow is imported and never used.** Both programs import {imports} and define {defined}; "
                  "`tf` appears only inside {only}, which is never called (unused: {unused}). The loss being minimised "
                  "is not that function but whatever the hand-written gradient implies (②). Deleting the two "
                  "TensorFlow lines changes nothing, except that the program no longer needs a "
                  "several-hundred-megabyte install.").format(
        imports=listing(f"`{m}`" for m in f41.imports), defined=listing(f"`{d}`" for d in f41.defined),
        only=listing(f"`{d}`" for d in f41.tensorflow_only_in), unused=listing(f"`{d}`" for d in f41.unused_functions)))
    runs_txt = listing((_("seed {s}: θ₀ = {t}, first samples {p}").format(s=s, t=fmt_num(r.theta0[0, 0], 4),
                                                                           p=r.picks[:5].tolist())
                         for s, r in sgd_runs.items()), ";")
    reached = model.is_close(float(sgd_runs[0].theta[0, 0]), 1.0, tol=1e-6)
    st.markdown(_("**⑤ No seed.** The programs call {calls} without setting a seed, so every run starts elsewhere and "
                  "draws other samples ({runs}). The chart above shows three such runs.").format(
        calls=listing(f"`{c}`" for c in facts["sgd"].unseeded_calls), runs=runs_txt) + sentence_gap() +
                ((_("And 4.2 does reach θ = {t} in spite of ②: the factor only slows it down.")) if reached else
                 _("4.2 ends at θ = {t}: the factor of ② slows it down.")).format(
                    t=fmt_num(float(sgd_runs[0].theta[0, 0]), 7)))


# ----------------------------------------------------------------------------------------------
# 6. The corrected version, run with optlab
# ----------------------------------------------------------------------------------------------
def fixed_section():
    a = view.controls("f", 4)
    with a[0]:
        alr = state.select_slider(view.F_LR)
    with a[1]:
        asteps = state.slider(view.F_STEPS)
    with a[2]:
        slr = state.select_slider(view.F_SGD_LR)
    with a[3]:
        ssteps = state.slider(view.F_SGD_STEPS)
    f = view.fixed(float(alr), int(asteps), float(slr), int(ssteps))
    if f.cut is not None:
        budget_note(view.cut_sentence_steps(f.cut, {_("GD"): f.steps_gd, _("SGD"): f.steps_sgd}))
    c = view.fixed_run(f)
    hide = lessons.hidden()
    if not hide:
        ui.divergence_warnings([c.gd, c.sgd])
    if PRESENT and not hide:
        st.markdown(view.key_fixed(c))
    fit_fig, loss_fig = view.fig_article(f.lr_gd, f.steps_gd, f.lr_sgd, f.steps_sgd, 0, state.chart_height(380, 330))
    k1, k2 = view.pair("f", (1, 1))
    with k1:
        if lessons.reveal(_("The fitted lines")):
            ui.show_figure(fit_fig, key="gd_art_fit")
    with k2:
        if lessons.reveal(_("The loss curves")):
            ui.show_figure(loss_fig, key="gd_art_loss")
    if not hide:
        ngd, nsgd = view.article_numpy_fixes(0)
        st.table(view.fixed_rows(c, ngd, nsgd), hide_index=True)  # wraps at 1024 px (a dataframe scrolled "run" away)
        st.markdown(view.fixed_caption(c, f))
    lessons.ask(view.Q_ARTICLE_LR)
    if not PRESENT:
        st.markdown(_("Intercept included (ŷ = w·x + b), the MSE's own gradient, `torch.optim.SGD`'s update, a seeded "
                      "generator. optlab builds the (w, b) surface from the data and runs full-batch gradient descent "
                      "and SGD with batch size 1 on it; `np.linalg.lstsq` gives the exact answer to compare with."))


{view.SEC_VAR: variants_section, view.SEC_LR: lr_section, view.SEC_MOM: momentum_section, view.SEC_SCHED: schedules_section,
 view.SEC_ART: article_section, view.SEC_FIX: fixed_section}[section]()
