"""Chapter: Loss functions -- the catalogue, the outlier lab, loss ↔ optimizer coupling, why cross-entropy.

One section at a time (the "Section" control at the top, kept in the URL with every widget of the
page: optlab/ui/loss_functions.py declares them).  Every sentence that claims something is chosen
by a verdict computed from the numbers on screen (optlab/chapters/loss_functions.py); this file
only wires widgets, figures and sentences.
"""
import streamlit as st

from optlab import losses, ui
from optlab.chapters import loss_functions as model
from optlab.i18n import domain
from optlab.ui import lessons, state
from optlab.ui import loss_functions as view

_, N_, ngettext = domain("loss_functions")

ui.page_config(_("Loss functions"))
ui.page_header(
    _("Loss functions"),
    _("Which loss should a model minimise, and how does that choice change what the optimizer does?"),
    _("A loss turns *how wrong one prediction is* into a number; training minimises its mean. It decides **which** "
      "model is best and **what the way there looks like** to the optimizer. Each question card sets an "
      "experiment up and hides its outcome until you commit a prediction."),
)
lessons.open(view.CHAPTER, step_card_in_page=True)
view.keep_values()  # a section switch keeps the other sections' values
PRESENTING = state.presenting()
if PRESENTING:
    section = state.section(view.SECTION)
else:
    c_sec, c_link = st.columns([3.4, 1.3], vertical_alignment="bottom")
    with c_sec:
        section = state.section(view.SECTION)
    with c_link:
        state.copy_link()


def frame(spec=None):
    """``(controls, chart)``: presenter mode puts the chart left and the controls right; otherwise
    the controls sit beside the chart (columns ``spec``) or, without ``spec``, above it."""
    if PRESENTING:
        return state.chart_first_columns((1, 1.5), gap="small")
    if spec is None:
        return st.container(), st.container()
    return st.columns(spec, gap="medium")


def row(n):
    """``n`` side-by-side slots for widgets (one below the other in presenter mode's narrow column)."""
    if PRESENTING:
        box = st.container()
        return [box] * n
    return st.columns(n)


def lr_format(v):
    return f"{v:g}"


def loss_option(name):
    return view.loss_name(name) if name != "huber" else _(losses.get(name).title)


# ----------------------------------------------------------------------------------------------
# 1. The catalogue (and the article's two families)
# ----------------------------------------------------------------------------------------------
def catalogue_section():
    hide = lessons.hidden()
    ctl, chart = frame()
    with ctl:
        lessons.step_card()
        c1, c2, c3 = row(3)
        with c1:
            kind = state.radio(view.CAT_KIND, _("curves of"), format_func=lambda v: _(view.KIND_LABELS[v]))
        ss = st.session_state
        if kind == "regression":
            with c2:
                delta = state.slider(view.CAT_DELTA, help=_(losses.get("huber").param_info["delta"]))
            with c3:
                q = state.slider(view.CAT_Q, help=_(losses.get("quantile").param_info["q"]))
            gamma = float(ss.get(view.CAT_GAMMA.key, view.CAT_GAMMA.default))
        else:
            with c2:
                gamma = state.slider(view.CAT_GAMMA, help=_(losses.get("focal").param_info["gamma"]))
            delta = float(ss.get(view.CAT_DELTA.key, view.CAT_DELTA.default))
            q = float(ss.get(view.CAT_Q.key, view.CAT_Q.default))
    facts = view.catalogue_facts(delta, q, gamma)
    with chart:
        ui.show_figure(view.fig_catalogue(kind, delta, q, gamma, ("huber",) if hide else ()), key="lf_cat")
        if hide:
            st.caption(_("🔒 Huber's curve and the caption are shown once you commit your prediction."))
        else:
            st.caption(view.sentences(view.catalogue_sentences(kind, facts, delta, q, gamma)))
    if PRESENTING:
        return
    st.markdown(_("Each curve is the loss of **one** sample; the training loss is its mean over the data. The "
                  "derivative is the force with which that sample pulls on the model."))
    lessons.ask(view.Q_HUBER_SMALL)

    every = model.catalogue("regression", delta, q, gamma) + model.catalogue("classification", delta, q, gamma)
    with st.expander(_("Formulas, derivatives and when to use each ({n} losses)").format(n=len(every))):
        cards = st.columns(2)
        for i, L in enumerate(every):
            with cards[i % 2]:
                kind_text = _("regression") if L.kind == "regression" else _("classification")
                st.markdown(f"**{L.label}** — {kind_text}")
                st.latex(L.latex)
                st.latex(L.grad_latex)
                st.markdown(_(L.when_to_use))
                for p, meaning in L.param_info.items():
                    st.caption(f"`{p}`: {_(meaning)}")
                st.caption(_("PyTorch: {torch}").format(torch=f"`{L.torch_equivalent}`")
                           + (f" · 📖 {L.reference}" if L.reference else ""))

    st.subheader(_("Two families of losses"))
    st.markdown(_("The seed article sorts losses into **continuous** ones (均方误差 MSE, 均方根误差 RMSE …) and "
                  "**discrete** ones (交叉熵 cross-entropy, \"一hot编码损失\", *one-hot encoding loss*). In today's "
                  "words: **regression losses** compare a real-valued prediction ŷ with a real target y through the "
                  "residual r = ŷ − y; **classification losses** compare a score (logit) s with a class label "
                  "through the margin m = t·s. The article's \"one-hot encoding loss\" is not a separate loss: it is "
                  "**cross-entropy written with one-hot targets**."))
    oh = model.one_hot_demo()
    st.latex(losses.get("cross_entropy").latex)
    st.caption(view.one_hot_sentence(oh))
    st.markdown(view.loss_table())


# ----------------------------------------------------------------------------------------------
# 2. Outlier lab
# ----------------------------------------------------------------------------------------------
def outliers_section():
    ctl, chart = frame((1, 1.9))
    with ctl:
        lessons.step_card()
        count = state.slider(view.LAB_COUNT)
        size = state.slider(view.LAB_SIZE)
        side = state.radio(view.LAB_SIDE, horizontal=True, format_func=lambda v: _(view.SIDE_LABELS[v]),
                           help=_("up / down: every outlier on that side; both ways: random sides"))
        delta = state.select_slider(view.LAB_DELTA)
    res = view.lab_result(count, size, side, delta)
    hide = lessons.hidden()
    names = view.lab_names(delta)
    with chart:
        ui.show_figure(view.fig_outliers(count, size, side, delta, hide, state.chart_height(380, 330)),
                       key="lf_lab_fit")
        if hide:
            st.caption(_("🔒 The fitted lines, how far they moved and the loss surfaces are shown once you commit "
                         "your prediction."))
        elif PRESENTING:
            st.markdown(_("**Moved by the outliers:** {moves}").format(moves=" · ".join(
                f"{names[n]} {view.num(res.verdict.moves[n])}" for n in model.LAB_LOSSES)))
    if PRESENTING:
        return
    st.markdown(_("The seed article's FAQ asks *损失函数的选择对模型性能有多大影响？* (how much does the choice of loss "
                  "affect the model?) and answers \"a lot\". Here is how much, measured: a line ŷ = w·x + b fitted to "
                  "40 noisy points under MSE, MAE and Huber at once, while you add outliers and move them."))
    if not hide:
        head = "| | " + " | ".join(names[n] for n in model.LAB_LOSSES) + " |"
        st.markdown("\n".join([
            head, "|---|" + "---|" * len(model.LAB_LOSSES),
            "| " + _("how far the line moved (distance in w, b)") + " | "
            + " | ".join(f"**{view.num(res.verdict.moves[n])}**" for n in model.LAB_LOSSES) + " |",
            "| " + _("line with the outliers") + " | "
            + " | ".join(f"w = {view.num(res.fits[n][0])}, b = {view.num(res.fits[n][1])}" for n in model.LAB_LOSSES)
            + " |",
            "| " + _("line without them") + " | "
            + " | ".join(f"w = {view.num(res.clean_fits[n][0])}, b = {view.num(res.clean_fits[n][1])}"
                         for n in model.LAB_LOSSES) + " |"]))
        st.caption(view.lab_sentence(res, count, size, side, delta))
    q1, q2 = st.columns(2)
    with q1:
        lessons.ask(view.Q_OUTLIERS)
    with q2:
        lessons.ask(view.Q_BIG_DELTA)

    st.subheader(_("The three loss surfaces over (w, b)"))
    st.markdown(_("One optimizer from the same start on each surface: the same data, three landscapes."))
    o1, o2, o3 = st.columns(3)
    with o1:
        opt = state.selectbox(view.LAB_OPT, format_func=view.opt_title)
    with o2:
        lr = state.select_slider(view.LAB_LR, format_func=lr_format,
                                 help=_("From {lo:g} to {hi:g}, as on every page.").format(lo=view.LR_CHOICES[0],
                                                                                          hi=view.LR_CHOICES[-1]))
    with o3:
        steps = state.slider(view.LAB_STEPS)
    st.caption(_("{optimizer}'s other hyperparameters keep torch's defaults.").format(
        optimizer=view.opt_title(opt)))
    if not lessons.reveal(_("The loss surfaces and the paths")):
        return
    _run, trs = view.lab_runs(res, opt, lr, steps)
    cut = view.planned_steps(steps, view.LAB_RUNS)[1]
    if cut:
        st.info(cut, icon="⏱️")
    ui.divergence_warnings(list(trs.values()))
    ui.show_figure(view.fig_lab_surfaces(count, size, side, delta, opt, lr, steps), key="lf_lab_surfaces")
    cols = st.columns(3)
    for col, n in zip(cols, model.LAB_LOSSES):
        col.caption(_("**{loss}**: {text}").format(loss=names[n], text=view.path_sentence(res.specs[n], res.fits[n],
                                                                                         trs[n], steps)))


# ----------------------------------------------------------------------------------------------
# 3. Loss ↔ optimizer
# ----------------------------------------------------------------------------------------------
def coupling_section():
    ctl, chart = frame()
    with ctl:
        lessons.step_card()
        c1, c2, c3 = row(3)
        with c1:
            feat = state.selectbox(view.CP_FEATURE, help=view.dataset_description(view.DIAB),
                                   format_func=view.feature_label)
            loss = state.selectbox(view.CP_LOSS, format_func=loss_option)
            ss = st.session_state
            delta = float(ss.get(view.CP_DELTA.key, view.CP_DELTA.default))
            q = float(ss.get(view.CP_Q.key, view.CP_Q.default))
            if loss == "huber":
                delta = state.slider(view.CP_DELTA)
            elif loss == "quantile":
                q = state.slider(view.CP_Q)
        with c2:
            opt = state.selectbox(view.CP_OPT, format_func=view.opt_title)
            lr = state.select_slider(view.CP_LR, format_func=lr_format)
        with c3:
            steps = state.slider(view.CP_STEPS)
            st.caption(_("{optimizer}'s other hyperparameters keep torch's defaults.").format(
                optimizer=view.opt_title(opt)))
    res = view.coupling_result(feat, loss, delta, q, opt, lr, steps)
    hide = lessons.hidden()
    name = view.loss_name(loss, dict(res.spec[2]))
    start = res.run[2]
    with chart:
        if PRESENTING:  # the gap curves carry the verdict: first
            f2, f1 = st.container(), st.container()
        else:
            f1, f2 = st.columns(2)
        with f1:
            if not PRESENTING:
                st.markdown(_("**{loss}** of ŷ = w·x + b, x = {feature} (target standardized)").format(
                    loss=name, feature=view.feature_label(feat)))
            ui.show_figure(view.fig_panel(res.spec, () if hide else (res.run,), start=start if hide else None,
                                          height=state.chart_height(470, 300)), key="lf_cp_surface")
        with f2:
            if not PRESENTING:
                st.markdown(_("**{optimizer} (lr = {lr}) on every regression loss**, same data and start").format(
                    optimizer=view.opt_title(opt), lr=lr_format(lr)))
            if lessons.reveal(_("The gap curves")):
                ui.show_figure(view.fig_relative_gap(res.others, res.run, opt, state.chart_height(340, 300),
                                                     legend_cols=2 if PRESENTING else 1),
                               key="lf_cp_gaps")
                if PRESENTING:
                    st.caption(view.sentences(view.coupling_sentences(res, opt, lr, steps)[1:]))
    if PRESENTING:
        return
    st.markdown(_("The loss also decides what the optimizer sees: the surface's curvature, its kinks, whether the "
                  "gradient shrinks near the minimum. Keep the data and the optimizer; switch the training loss."))
    if hide:
        lessons.ask(view.Q_MAE)
        return
    sentences = view.coupling_sentences(res, opt, lr, steps)
    cut = view.planned_steps(steps, view.COUPLING_RUNS)[1]
    if cut:
        st.info(cut, icon="⏱️")
    ui.divergence_warnings(view.coupling_runs(res, opt))
    st.latex(losses.get(loss, **dict(res.spec[2])).latex)
    st.caption(view.sentences(sentences))
    lessons.ask(view.Q_MAE)
    with st.expander(_("{optimizer}'s update rule (torch.optim) and where torch differs from the textbook").format(
            optimizer=view.opt_title(opt))):
        ui.show_update_rule(opt)


# ----------------------------------------------------------------------------------------------
# 4. Why cross-entropy
# ----------------------------------------------------------------------------------------------
def ce_section():
    ctl, chart = frame()
    with ctl:
        lessons.step_card()
        c1, c2, c3, c4 = row(4)
        with c1:
            feat = state.selectbox(view.CE_FEATURE, help=view.dataset_description(view.BC),
                                   format_func=view.feature_label)
        with c2:
            start_kind = state.radio(view.CE_START, format_func=lambda v: _(view.START_LABELS[v]))
        with c3:
            lr = state.select_slider(view.CE_LR, format_func=lr_format,
                                     help=_("Plain gradient descent (torch.optim.SGD, full batch)."))
        with c4:
            steps = state.slider(view.CE_STEPS)
    res = view.ce_result(feat, lr, steps, start_kind)
    hide = lessons.hidden()
    with chart:
        pcols = st.columns(2)
        for col, (n, s) in zip(pcols, res.pair.items()):
            with col:
                st.markdown(f"**{_(view.CE_LABELS[n])}**")
                ui.show_figure(view.fig_panel(s, () if hide else (res.run,), start=res.start if hide else None,
                                              height=state.chart_height(380, 270)),
                               key=f"lf_ce_s_{n}")
        if hide:
            st.caption(_("🔒 The paths, the gradients and the accuracies are shown once you commit your prediction."))
        elif PRESENTING:  # the key numbers in one line, so they stay in the first 1024×768 screen
            fb, fm = res.fates["bce"], res.fates["mse"]
            st.markdown(_("**Accuracy after {n} steps:** BCE {bce} · {mse_name} {mse} (at each loss's own minimum: "
                          "{bce_min} · {mse_min})").format(
                n=view.steps_run(steps, view.CE_RUNS), bce=view.pct(fb[1]), mse_name=_("MSE on p"), mse=view.pct(fm[1]),
                bce_min=view.pct(fb[2]), mse_min=view.pct(fm[2])))
        else:
            fb, fm = res.fates["bce"], res.fates["mse"]
            st.markdown("\n".join([
                "| | BCE | " + _("MSE on p") + " |", "|---|---|---|",
                "| " + _("‖∇L‖ at the start") + f" | {view.num(res.g0['bce'])} | {view.num(res.g0['mse'])} |",
                "| " + _("accuracy after {n} steps").format(n=view.steps_run(steps, view.CE_RUNS)) + f" | **{view.pct(fb[1])}** | **{view.pct(fm[1])}** |",
                "| " + _("accuracy at its own minimum") + f" | {view.pct(fb[2])} | {view.pct(fm[2])} |"]))
    if PRESENTING:
        if not hide:
            with chart:
                st.caption(view.ce_outcome_sentence(res, steps))
        return
    st.markdown(_("Logistic regression on a real data set (breast-cancer diagnosis from one cell-nucleus measurement): "
                  "p = σ(w·x + b). Train it with binary cross-entropy, or with MSE on the probability p, which looks "
                  "just as reasonable. The two surfaces differ where it matters: at a confidently **wrong** model."))
    st.caption(view.ce_start_sentence(res))
    if not hide:
        cut = view.planned_steps(steps, view.CE_RUNS)[1]
        if cut:
            st.info(cut, icon="⏱️")
        ui.divergence_warnings(view.ce_runs(res))
        st.caption(view.sentences([view.ce_gradient_sentence(res), view.ce_outcome_sentence(res, steps),
                                   view.ce_convexity_sentence(res)]))
    q1, q2 = st.columns(2)
    with q1:
        lessons.ask(view.Q_CE_WRONG)
    with q2:
        lessons.ask(view.Q_CE_ORIGIN)
    if not lessons.reveal(_("One example's loss and gradient")):
        return
    wrong_s = -4.0
    gs = model.sample_gradients(wrong_s)
    ui.show_figure(view.fig_per_sample(wrong_s), key="lf_ce_sample")
    st.latex(losses.get("bce").grad_latex)
    st.caption(_("σ(s) is the predicted probability P(y = 1). One example with y = 1 and score s = {s} (the model says P(y = 1) = σ({s}): confidently wrong): "
                 "∂ℓ/∂s = {bce} for BCE, {mse} for MSE on p, {k} weaker. BCE's gradient is σ(s) − y, which tends "
                 "to −1 the more wrong the model is; MSE's is 2(p − y)·p(1 − p), which tends to 0.").format(
        s=view.num(wrong_s), bce=view.num(gs["bce"]), mse=view.num(gs["mse"]), k=view.times(gs["bce"] / gs["mse"])))


{view.CATALOGUE: catalogue_section, view.OUTLIERS: outliers_section, view.COUPLING: coupling_section,
 view.WHY_CE: ce_section}[section]()
