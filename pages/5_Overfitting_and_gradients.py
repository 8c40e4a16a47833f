"""Chapter 5: overfitting, regularization, early stopping, the learning rate by cross-validation,
vanishing and exploding gradients, and gradient clipping: the seed's FAQ Q3–Q5 as experiments.

One section at a time; every widget is declared in optlab/ui/overfitting.py (URL state), every
claim of a caption is a verdict of optlab/chapters/overfitting.py, every computation is planned
within one rerun's work budget (optlab.budget).  This file only wires widgets and sentences.
"""
from __future__ import annotations

import math

import streamlit as st

from optlab import figures, mlp, optimizers, polynomial, ui, validation
from optlab.chapters import overfitting as model
from optlab.figures import overfitting as fig
from optlab.i18n import domain, listing, sentence_gap, sentences
from optlab.ui import lessons, state
from optlab.ui import overfitting as view

_, N_, ngettext = domain("overfitting")

ui.page_config(_("Overfitting and gradients"))
ui.page_header(
    _("Overfitting, regularization and gradient problems"),
    _("How do we choose a model, a penalty, a stopping point and a learning rate that work on data the model "
      "has never seen — and why does a deep network sometimes not learn at all?"),
)
lessons.open(view.CHAPTER, step_card_in_page=True)
section = state.section(view.SECTION)  # full width: six sections on one row at 1024 px
PRESENT = state.presenting()


def fmt(v) -> str:
    """A number for a caption: "≈ 0" for round-off MSEs, "—" for undefined values."""
    if v is None or not math.isfinite(float(v)):
        return "—"
    if model.is_zero_mse(float(v)):
        return "≈ 0"
    return f"{float(v):.3g}"


def intro(title: str, question: str) -> None:
    """The section's title and question in one paragraph (the Section control names the section)."""
    st.markdown(f"**{title}** {question}")


def chart(figure, key: str, title: str | None = None) -> None:
    """A figure with its title as page text above it (a Plotly title would collide with the legend)."""
    if title:
        st.markdown(f"**{title}**")
    ui.show_figure(figure, key=key)


def say_cut(cut) -> None:
    """Over budget: one plain sentence of what was cut, and why."""
    if cut is not None:
        st.info(cut.sentence() + sentence_gap() + _("(Every change is computed within about one second of the server, shared "
                                                    "by the whole class.)"), icon="⏱️")


def ask_row(section_name: str) -> None:
    """The section's predictions, side by side."""
    qs = view.QUESTIONS[section_name]
    c_head, c_link = st.columns([4, 1.4], vertical_alignment="bottom")
    c_head.subheader(_("Predict, then check"))
    with c_link:
        state.copy_link()  # the address of what is on the screen, for a teacher's slides or worksheet
    for col, q in zip(st.columns(len(qs)), qs):
        with col:
            lessons.ask(q)


def new_sample() -> None:
    st.session_state[view.SEED.key] = (int(st.session_state.get(view.SEED.key, 0)) + 1) % (view.SEED.hi + 1)


def data_controls(cols=None) -> tuple[int, float, str, int]:
    """Number of points, noise, true function, sample number and a button for a new sample."""
    c = cols or st.columns(2)
    with c[0]:
        n = state.slider(view.N, _(view.N.label), help=_("how many noisy samples the model is fitted to"))
        noise = state.slider(view.NOISE, _(view.NOISE.label), help=_("standard deviation of the noise added to every y"))
    with c[-1]:
        func = state.selectbox(view.FUNC, _(view.FUNC.label), format_func=lambda k: _(model.TRUTH_TITLES[k]))
        seed = state.number_input(view.SEED, _(view.SEED.label), help=_("which random draw of the points"))
        st.button(_("🎲 New sample"), key="ovb_new_sample", on_click=new_sample,
                  help=_("draw new noisy points (same n, σ and f)"))
    return int(n), float(noise), str(func), int(seed)


# ----------------------------------------------------------------------------------------------
# 1. Overfitting
# ----------------------------------------------------------------------------------------------
def fit_caption(fit: model.DegreeFit, v: model.FitVerdict) -> str:
    d, b = fit.degree, fit.best_degree
    nums = dict(d=d, b=b, val=fmt(fit.val_mse), bv=fmt(fit.best_val_mse), tr=fmt(fit.train_mse),
                btr=fmt(fit.best_train_mse), tv=fmt(fit.truth_val_mse), s2=fmt(fit.noise_var))
    if v.code == "best":
        text = _("Degree {d} has the lowest validation error of all degrees for this sample ({val}).")
    elif v.code == "tie":
        text = _("Degree {d} ({val}) and the best degree {b} ({bv}) are within the noise of the 200 validation "
                 "points: neither is clearly better.")
    elif v.code == "underfit":
        text = _("Degree {d} **underfits**: too stiff to follow f, it is clearly worse on new points than degree {b} "
                 "({val} against {bv}).")
        if v.train_side == "above":
            text += sentence_gap() + _("Even its training error ({tr}) is above the noise floor σ² = {s2}.")
    elif v.code == "overfit" and v.lower_train:
        text = _("Degree {d} **overfits**: its training error ({tr}) is lower than that of degree {b} ({btr}), but on "
                 "new points it is clearly worse ({val} against {bv}).")
    elif v.code == "overfit":
        text = _("Degree {d} is clearly worse on new points than degree {b} ({val} against {bv}).")
    else:  # swings
        text = _("There is no noise, yet degree {d} swings between the points: clearly worse on new points than "
                 "degree {b} ({val} against {bv}).")
    if v.floor == "exact":
        text += sentence_gap() + _("No noise, and a validation error of ≈ 0: the fit is f itself.")
    elif v.floor == "noise":
        text += sentence_gap() + _("Its validation error is within the noise of what the true f itself scores on these points "
                                   "({tv}): what is left is noise.")
    else:
        text += sentence_gap() + _("Its validation error is clearly above what the true f itself scores on these points ({tv}): "
                                   "part of it is the model's own error.")
    if v.ratio is not None:
        text += sentence_gap() + _("Validation error / training error = {r}.").format(r=fmt(v.ratio))
    elif v.train_side == "zero":
        text += sentence_gap() + _("The training error is round-off (≈ 0), so a ratio to it is not a number.")
    return text.format(**nums)


def learning_caption(lc: model.LearningCurve, n: int) -> str:
    v = model.learning_verdict(lc)
    nums = dict(deg=lc.degree, v0=fmt(lc.val[0]), n0=lc.sizes[0], vn=fmt(lc.val_at(n)), n=n, v1=fmt(lc.val[-1]),
                n1=lc.sizes[-1], s2=fmt(lc.noise_var))
    parts = [_("With degree {deg}, the median validation MSE is {v0} with {n0} points, {vn} with {n} and {v1} with "
               "{n1} (noise floor σ² = {s2}).")]
    parts.append({"falls": _("More data lowers it."), "flat": _("More data hardly changes it."),
                  "rises": _("It does not fall with more data here.")}[v.val_trend])
    parts.append({"floor": _("With the most points it is at the noise floor: no model can do better on average."),
                  "above": _("With the most points it is still above the noise floor: the model's own error "
                             "remains (the degree is too low to follow f).")}[v.end])
    parts.append({"rises_to_floor": _("The training error rises towards σ² as n grows: with more points the polynomial "
                                      "can no longer bend through all of them, so it stops fitting the noise."),
                  "above_floor": _("The training error ends above σ²: the model misses f even at the training "
                                   "points."),
                  "zero": _("Without noise the training error is ≈ 0 at every size."),
                  "other": ""}[v.train])
    return sentences(parts).format(**nums)


def section_overfitting() -> None:
    if not PRESENT:
        intro(_("Overfitting: a flexible model memorises the noise"),
              _("*Which polynomial degree predicts **new** points best — and why does the answer change when "
                      "you have more data?*"))
    hide = lessons.hidden()
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        degree = int(state.slider(view.DEGREE, _(view.DEGREE.label), help=_("the model has d + 1 coefficients")))
        n, noise, func, seed = data_controls([st.container()])
    fit = view.degree_fit(n, noise, degree, seed, func)
    v = model.fit_verdict(fit)
    with c_fig:
        fits = [] if hide else [(_("degree {d} fit").format(d=fit.degree), fit.y_fit, fig.FIT_COLOR, "solid")]
        chart(fig.fit_figure(fit.x_grid, fit.y_truth, fit.train, fits, val=None if hide else fit.val,
                             height=state.chart_height(430, 400)),
              key="ov_fig_fit", title=_("The degree-{d} least-squares fit").format(d=fit.degree))
        if hide:
            st.caption(_("🔒 The fit, the errors and the verdict are shown once you commit your prediction."))
        else:
            m1, m2, m3, m4 = st.columns(2) * 2  # 2 × 2: four in a row clip the numbers at 1024 px
            m1.metric(_("training MSE"), fmt(fit.train_mse))
            m2.metric(_("validation MSE"), fmt(fit.val_mse))
            m3.metric(_("best degree"), fit.best_degree, help=_("the lowest point of the validation curve"))
            m4.metric(_("noise floor σ²"), fmt(fit.noise_var),
                      help=_("the error even the true f makes on new noisy points, on average"))
            st.caption(fit_caption(fit, v))
    if not hide and fit.interpolates:
        st.info(_("Degree {d} has {k} coefficients but there are only {n} points: the polynomial can pass through "
                  "every training point (training error ≈ 0). With more coefficients than points, the one with the "
                  "smallest coefficients is drawn.").format(d=fit.degree, k=fit.degree + 1, n=n), icon="🧵")
    if PRESENT:
        return
    ask_row(view.FIT)
    if hide:
        return
    left, right = st.columns(2, gap="medium")
    with left:
        chart(fig.error_curve(model.DEGREES, fit.curve.train, fit.curve.val, selected=fit.degree, best=fit.best_degree,
                              noise_var=fit.noise_var, xlabel=_("degree d"),
                              selected_label=_("d = {d}").format(d=fit.degree), height=380),
              key="ov_fig_u", title=_("Training and validation error against degree"))
    lc = view.learning_curve(degree, noise, seed, func)
    with right:
        chart(fig.error_curve(lc.sizes, lc.train, lc.val, selected=n, noise_var=lc.noise_var,
                              xlabel=_("number of training points n"), log_x=True,
                              selected_label=_("n = {n}").format(n=n), height=380),
              key="ov_fig_lc", title=_("Degree {d}: error against n (median of {r} samples)").format(d=lc.degree,
                                                                                                   r=lc.reps))
    st.caption(learning_caption(lc, n))
    with st.expander(_("The maths")):
        st.latex(polynomial.FEATURES_LATEX)
        st.latex(model.MSE_LATEX)
        st.latex(model.NOISE_FLOOR_LATEX)
        st.latex(r"\text{f: } " + model.truth_latex(func))
        st.markdown(_("“Clearly worse” is a paired test on the same 200 validation points: the mean difference of "
                      "the squared errors must exceed twice its standard error (or one error be twice the other):"))
        st.latex(model.GAP_LATEX)
        st.markdown(_("The basis is Legendre polynomials (orthonormal on [−1, 1]) instead of the powers xᵏ: the same "
                      "polynomials, but a well-conditioned least-squares problem even at degree 15."))


# ----------------------------------------------------------------------------------------------
# 2. Regularization
# ----------------------------------------------------------------------------------------------
def penalty_caption(rs, which: str) -> str:
    p = rs.ridge if which == "ridge" else rs.lasso
    v = model.penalty_verdict(rs, which)
    nums = dict(lam=fmt(p.lam), nz=p.nonzero, d=rs.degree, z=v.zeros, k=f"{p.shrinkage:.0%}" if math.isfinite(
        p.shrinkage) else "—", val=fmt(p.val_mse), ls=fmt(rs.ls_val_mse), lmax=fmt(rs.lasso_lambda_max),
        best=fmt(p.best_lam), bv=fmt(p.best_val_mse))
    name = _("**Ridge (L2)**") if which == "ridge" else _("**Lasso (L1)**")
    parts = [_("{name} at λ = {lam}: {nz} of the {d} coefficients w₁…w_d are non-zero.").format(name=name, **nums)]
    if which == "ridge":
        parts.append(_("It shrinks them (their length is {k} of the nearly unpenalised fit's).") if v.shrink == "shrinks"
                     else _("At this λ it barely shrinks them ({k} of their length is left)."))
    elif v.all_zero:
        parts.append(_("Every one is zero (λ ≥ {lmax}): the fit is the constant mean."))
    elif v.zeros:
        parts.append(ngettext("{z} is exactly zero: the lasso drops that term.",
                              "{z} are exactly zero: the lasso drops those terms.", v.zeros))
    parts.append({"below": _("On new points it is clearly better than least squares ({val} against {ls})."),
                  "same": _("On new points it is within the noise of least squares ({val} against {ls})."),
                  "above": _("On new points it is clearly worse than least squares ({val} against {ls}): λ is too "
                             "large.")}[v.vs_ls])
    parts.append({"low": _("Best λ on the validation points: the smallest of the path ({best}, MSE {bv}): the penalty "
                           "does not help this sample."),
                  "high": _("Best λ on the validation points: the largest of the path ({best}, MSE {bv})."),
                  "inside": _("Best λ on the validation points: {best} (MSE {bv}).")}[v.best_at])
    return sentences(parts).format(**nums)


def path_caption(rs) -> str:
    r, l = rs.ridge, rs.lasso
    vr, vl = model.penalty_verdict(rs, "ridge"), model.penalty_verdict(rs, "lasso")
    nz = l.path_nonzero
    parts = [_("Along the lasso path the number of non-zero coefficients goes from {a} at λ = {la} to {b} at "
               "λ = {lb}.").format(a=int(nz[0]), la=fmt(l.lams[0]), b=int(nz[-1]), lb=fmt(l.lams[-1]))]
    parts.append(_("Along the ridge path no coefficient is ever exactly zero: only their size drops.")
                 if vr.path_all_nonzero else _("Along the ridge path some coefficients are exactly zero already "
                                                "without a penalty."))
    ends = {"overfits": _("overfits (training error lower, validation clearly higher than at the best λ)"),
            "underfits": _("underfits (both errors higher than at the best λ)"),
            "same": _("is within the noise of the best λ")}
    parts.append(_("Lasso: the smallest λ {a}; the largest λ {b}.").format(a=ends[vl.small_end], b=ends[vl.large_end]))
    return sentences(parts)


def section_regularization() -> None:
    if not PRESENT:
        intro(_("Regularization: penalise large coefficients"),
              _("*Can we keep a flexible model and still predict well, by making large coefficients expensive? "
                      "What is the difference between an L2 and an L1 penalty?*"))
    hide = lessons.hidden()
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        degree = int(state.slider(view.REG_DEGREE, _(view.REG_DEGREE.label)))
        lam2 = float(state.select_slider(view.LAM2, _(view.LAM2.label), format_func=fmt,
                                         help=_("penalty λ·Σ w_k² (k ≥ 1; the intercept w₀ is free)")))
        lam1 = float(state.select_slider(view.LAM1, _(view.LAM1.label), format_func=fmt,
                                         help=_("penalty λ·Σ |w_k| (k ≥ 1)")))
        n, noise, func, seed = data_controls([st.container()])
    rs = view.regularization_study(n, noise, degree, lam2, lam1, seed, func)
    r, l = rs.ridge, rs.lasso
    with c_fig:
        if hide:
            fits = [(_("least squares (λ = 0)"), rs.y_ls, fig.LS_COLOR, "dot")]
        else:
            fits = [(_("least squares (λ = 0)"), rs.y_ls, fig.LS_COLOR, "dot"),
                    (_("ridge, λ = {lam}").format(lam=fmt(r.lam)), r.y_fit, fig.RIDGE_COLOR, "solid"),
                    (_("lasso, λ = {lam}").format(lam=fmt(l.lam)), l.y_fit, fig.LASSO_COLOR, "solid")]
        chart(fig.fit_figure(rs.x_grid, rs.y_truth, rs.train, fits, height=state.chart_height(430, 400)),
              key="ov_fig_reg_fit", title=_("Degree-{d} fits").format(d=rs.degree))
        if hide:
            st.caption(_("🔒 The penalised fits, coefficients and errors are shown once you commit your prediction."))
        else:
            m1, m2, m3 = (st.columns(2) * 2)[:3]  # three in a row clip the numbers at 1024 px
            m1.metric(_("validation MSE, least squares"), fmt(rs.ls_val_mse))
            m2.metric(_("validation MSE, ridge"), fmt(r.val_mse))
            m3.metric(_("validation MSE, lasso"), fmt(l.val_mse))
    if hide:
        if not PRESENT:
            ask_row(view.REG)
        return
    st.caption(penalty_caption(rs, "ridge") + "  \n" + penalty_caption(rs, "lasso"))
    if PRESENT:
        return
    ask_row(view.REG)
    ls_name, r_name, l_name = (_("least squares"), _("ridge (λ = {lam})").format(lam=fmt(r.lam)),
                               _("lasso (λ = {lam})").format(lam=fmt(l.lam)))
    chart(fig.coef_bars({ls_name: rs.ls_coef, r_name: r.coef, l_name: l.coef},
                        colors={ls_name: fig.LS_COLOR, r_name: fig.RIDGE_COLOR, l_name: fig.LASSO_COLOR}, height=380),
          key="ov_fig_bars", title=_("The coefficients (a “0” marks an exact zero)"))
    st.subheader(_("Coefficient paths: every coefficient as λ grows"))
    p1, p2 = st.columns(2, gap="medium")
    with p1:
        chart(fig.coef_paths(r.lams, r.path, r.lam, height=360), key="ov_fig_path_l2",
              title=_("Ridge (L2): smooth shrinking"))
        chart(fig.error_curve(r.lams, r.path_train, r.path_val, selected=r.lam, best=r.best_lam, noise_var=rs.noise_var,
                              xlabel=_("λ (log scale)"), log_x=True, selected_label=_("λ = {lam}").format(lam=fmt(r.lam)),
                              height=330), key="ov_fig_err_l2", title=_("Ridge: error against λ"))
    with p2:
        chart(fig.coef_paths(l.lams, l.path, l.lam, height=360), key="ov_fig_path_l1",
              title=_("Lasso (L1): coefficients hit exactly zero"))
        chart(fig.error_curve(l.lams, l.path_train, l.path_val, selected=l.lam, best=l.best_lam, noise_var=rs.noise_var,
                              xlabel=_("λ (log scale)"), log_x=True, selected_label=_("λ = {lam}").format(lam=fmt(l.lam)),
                              height=330), key="ov_fig_err_l1", title=_("Lasso: error against λ"))
    st.caption(path_caption(rs))
    with st.expander(_("The maths (and a convention to watch)")):
        st.latex(polynomial.RIDGE_LATEX)
        st.latex(polynomial.LASSO_LATEX)
        st.markdown(_("The lasso has no closed form: it is solved by proximal gradient descent (FISTA), whose "
                      "soft-thresholding step S_τ sets small coefficients to **exactly** zero:"))
        st.latex(polynomial.ISTA_LATEX)
        st.markdown(_("**Convention:** as in scikit-learn, the lasso's data term is ‖y − Φw‖² / (2n) and ridge's "
                      "‖y − Φw‖² / n, so the same λ is not the same strength for both; deep-learning frameworks call "
                      "the L2 penalty *weight decay* (torch's `weight_decay` adds λ·w to the gradient, i.e. the "
                      "penalty ½λ‖w‖²)."))


# ----------------------------------------------------------------------------------------------
# 3. Early stopping
# ----------------------------------------------------------------------------------------------
def es_caption(es: model.EarlyStopStudy) -> str:
    s = es.settings
    nums = dict(best=es.best_epoch, p=es.patience, pe=es.patience * s.check_every, stop=es.stop_epoch,
                saved=es.epochs_saved, E=s.epochs, rv=fmt(es.restored_val), fv=fmt(es.final_val),
                rt=fmt(es.restored_train), ft=fmt(es.final_train), lv=fmt(es.lowest_val), le=es.lowest_epoch)
    if es.code == "never":
        return _("With patience {p} the validation loss never went {p} checks without a new best, so training used all "
                 "{E} epochs (validation MSE {fv}; the lowest of the run was {lv} at epoch {le}).").format(**nums)
    text = _("The validation loss was lowest so far at epoch {best}; after {p} checks ({pe} epochs) without a new "
             "best, training stopped at epoch {stop}, saving {saved} of {E} epochs, and the weights of epoch {best} "
             "were restored: validation MSE {rv} against {fv} after all epochs.")
    text += sentence_gap() + {"helped": _("Early stopping **helped**: the final weights are clearly worse on the validation "
                               "points (training MSE {ft} against {rt}: the longer run fits the training points "
                               "better and new points worse)."),
                   "no_gain": _("The difference is within the noise of the 200 validation points: here stopping "
                                "early saved time, not accuracy."),
                   "too_early": _("It stopped **too early**: the final weights are clearly better on the validation "
                                  "points — the loss went on falling after a bump.")}[es.code]
    if es.lowest_after_stop:
        text += sentence_gap() + _("The run's lowest validation loss ({lv}) came later, at epoch {le}.")
    return text.format(**nums)


def section_early_stopping() -> None:
    if not PRESENT:
        intro(_("Early stopping: stop when the validation loss stops improving"),
              _("*A network trained too long starts fitting the noise. When should training stop, and how much "
                      "better are the weights it returns?*"))
    hide = lessons.hidden()
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        patience = state.slider(view.PATIENCE, _(view.PATIENCE.label),
                                help=_("stop after this many validation checks in a row without a new best (one "
                                       "check every {k} epochs)").format(k=model.EarlyStopSettings().check_every))
        state.select_slider(view.ES_N, _(view.ES_N.label))
        state.slider(view.ES_NOISE, _(view.ES_NOISE.label))
        state.select_slider(view.ES_WIDTH, _(view.ES_WIDTH.label))
        state.select_slider(view.ES_EPOCHS, _(view.ES_EPOCHS.label))
    es, cut = view.early_stopping(view.PAGE.current())
    s = es.settings
    with c_fig:
        say_cut(cut)
        if hide:
            chart(fig.early_stopping_figure(es.epochs[:1], es.train_loss[:1], es.val_loss[:1], best_epoch=0,
                                            stop_epoch=0, stopped=False, noise_var=es.noise_var,
                                            height=state.chart_height(420, 400)),
                  key="ov_fig_es", title=_("Loss during training (patience {p})").format(p=patience))
            st.caption(_("🔒 The loss curves and where training stops are shown once you commit your prediction."))
        else:
            chart(fig.early_stopping_figure(es.epochs, es.train_loss, es.val_loss, best_epoch=es.best_epoch,
                                            stop_epoch=es.stop_epoch, stopped=es.stopped, noise_var=es.noise_var,
                                            height=state.chart_height(420, 400)),
                  key="ov_fig_es", title=_("Loss during training (patience {p})").format(p=es.patience))
            m1, m2, m3, m4 = st.columns(2) * 2  # 2 × 2: four in a row clip the numbers at 1024 px
            m1.metric(_("restored epoch"), es.best_epoch if es.stopped else "—")
            m2.metric(_("stopped at epoch"), es.stop_epoch if es.stopped else _("never"))
            m3.metric(_("validation MSE, returned"), fmt(es.restored_val))
            m4.metric(_("validation MSE, all epochs"), fmt(es.final_val))
            st.caption(es_caption(es))
    if PRESENT:
        return
    ask_row(view.ES)
    if hide:
        return
    fits = [(_("after all {E} epochs").format(E=s.epochs), es.y_final, fig.LS_COLOR, "dot"),
            (_("restored (epoch {e})").format(e=es.best_epoch) if es.stopped else _("returned weights"), es.y_restored,
             fig.FIT_COLOR, "solid")]
    chart(fig.fit_figure(es.x_grid, es.y_truth, es.train, fits, height=380), key="ov_fig_es_fit",
          title=_("The network's fit"))
    with st.expander(_("The rule and the model")):
        st.latex(validation.EARLY_STOPPING_LATEX)
        st.markdown(_("p is the patience, counted in validation checks (one every {k} epochs; Keras' "
                      "`EarlyStopping(patience=p, restore_best_weights=True)`). The model is an MLP with {depth} tanh "
                      "layers of {width} units trained by Adam (lr {lr}) on the mean squared error, full batch (one "
                      "step = one epoch). One run serves every patience: the rule is replayed on its checks.").format(
            k=s.check_every, depth=s.depth, width=s.width, lr=f"{s.lr:g}"))
        st.latex(mlp.LOSS_LATEX["regression"])


# ----------------------------------------------------------------------------------------------
# 4. Learning rate by cross-validation
# ----------------------------------------------------------------------------------------------
def cv_caption(search: model.LRSearch, sv: model.SearchVerdict) -> list[str]:
    r = search.result
    title = optimizers.info(search.optimizer).title
    out = []
    i = r.best_index
    out.append(_("{m} learning rates × {k} folds = {runs} runs of {steps} {opt} steps, trained together as one "
                 "batch. Chosen: **lr = {lr}**, validation MSE {mean} ± {std} (mean ± std over the folds).").format(
        m=len(r.lrs), k=search.k, runs=len(r.lrs) * search.k, steps=search.steps, opt=title, lr=fmt(r.best_lr),
        mean=fmt(r.mean[i]), std=fmt(r.std[i])))
    if sv.plateau_count > 1:
        out.append(_("The rates from {a} to {b} are within the noise of the folds of the chosen one: a flat floor, any "
                     "of them would do.").format(a=fmt(sv.plateau[0]), b=fmt(sv.plateau[1])))
    if search.optimizer == "sgd":
        lim = _("Theory for gradient descent on this quadratic loss: stable below 1/λ_max = {lim} (dashed line).").format(
            lim=fmt(search.gd_limit))
        lim += sentence_gap() + {"agrees": _("The runs diverged exactly above it."),
                      "slow": _("Some rates above it had not yet blown up within the steps."),
                      "differs": _("Some runs diverged below it.")}[sv.theory]
        out.append(lim)
    out.append({"too_slow": _("The smallest rate, {lr}, ends at {v}: clearly worse, too slow to get there in {s} steps."),
                "as_good": _("The smallest rate, {lr}, ends at {v}: within the noise of the chosen one."),
                "chosen": "", "diverged": ""}[sv.smallest].format(lr=fmt(r.lrs[0]), v=fmt(r.mean[0]), s=search.steps))
    return [t for t in out if t]


def section_learning_rate() -> None:
    if not PRESENT:
        intro(_("Choosing the learning rate: grid search with k-fold cross-validation"),
              _("*Which learning rate should gradient descent use? Try a grid of rates, score each one on data it "
                      "did not train on, and pick the best — but score it k times, on k different folds, to see how "
                      "much of the difference is luck.*"))
    hide = lessons.hidden()
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        opt = state.selectbox(view.CV_OPT, _(view.CV_OPT.label), format_func=lambda k: optimizers.info(k).title)
        state.slider(view.CV_K, _(view.CV_K.label))
        state.select_slider(view.CV_STEPS, _(view.CV_STEPS.label))
        lr_lo = state.select_slider(view.CV_LO, _(view.CV_LO.label), format_func=fmt,
                                    help=_("15 log-spaced rates from the smallest to the largest are tried"))
        lr_hi = state.select_slider(view.CV_HI, _(view.CV_HI.label), format_func=fmt)
        state.slider(view.CV_DEGREE, _(view.CV_DEGREE.label))
        state.slider(view.CV_N, _(view.CV_N.label))
    search = view.cv_search(view.PAGE.current())
    with c_fig:
        if search is None:
            st.error(_("The smallest learning rate ({lo}) must be below the largest ({hi}): move one of the two "
                       "sliders.").format(lo=fmt(lr_lo), hi=fmt(lr_hi)), icon="↔️")
            return
        res = search.result
        sv = model.search_verdict(search)
        k = search.k
        if hide:
            st.caption(_("🔒 The scores, the chosen rate and the divergences are shown once you commit your "
                         "prediction."))
        else:
            chart(fig.cv_scores_figure(res.lrs, res.scores, res.mean, res.std, res.diverged, res.best_index,
                                       gd_limit=search.gd_limit if opt == "sgd" else None, noise_var=search.noise_var,
                                       height=state.chart_height(420, 400)),
                  key="ov_fig_cv", title=_("Validation MSE per learning rate ({k}-fold CV)").format(k=k))
            title = optimizers.info(opt).title
            if sv.code == "all_diverged":
                ui.divergence_box([ui.Divergence(title, search.divergence_step(0),
                                                 _("at every learning rate of the grid, the smallest included"))],
                                  note=_("Lower the range."))
            else:
                if sv.diverged != "none":
                    div = search.smallest_diverged_lr
                    i_div = list(res.lrs).index(div)
                    if sv.diverged == "above":
                        why = _("for {n} of the {m} learning rates, from lr = {lr} up (this step is lr = {lr}'s)")
                    else:
                        why = _("for {n} of the {m} learning rates, the smallest being lr = {lr} (this step is "
                                "lr = {lr}'s)")
                    ui.divergence_box([ui.Divergence(title, search.divergence_step(i_div),
                                                     why.format(n=search.n_diverged, m=len(res.lrs), lr=fmt(div)))],
                                      note=_("Those runs were stopped and are marked ✕; the other rates are still "
                                             "drawn."))
                st.caption(sentences(cv_caption(search, sv)))
                if sv.edge == "largest":
                    st.info(_("The chosen rate is the largest one tried: the best may lie beyond the range — extend "
                              "it."), icon="↔️")
                elif sv.edge == "smallest":
                    st.info(_("The chosen rate is the smallest one tried: the best may lie below the range — extend "
                              "it."), icon="↔️")
    if PRESENT:
        return
    ask_row(view.CV)
    if hide:
        return
    chart(fig.cv_curves_figure(search.val_mean_curve, res.lrs, res.best_index, height=380),
          key="ov_fig_cv_curves", title=_("Validation MSE during training (mean over folds)"))
    with st.expander(_("The table")):
        rows = [{_("learning rate"): row["learning rate"], _("mean validation MSE"): row["mean validation MSE"],
                 _("std over folds"): row["std over folds"],
                 _("diverged folds"): (_("{n} of {k}").format(n=row["diverged folds"], k=k) if row["diverged folds"]
                                       else ""),
                 _("chosen"): "★" if row["chosen"] else ""} for row in search.rows()]
        st.dataframe(rows, hide_index=True, width="stretch", column_config={
            _("learning rate"): st.column_config.NumberColumn(format="%.3g"),
            _("mean validation MSE"): st.column_config.NumberColumn(format="%.4g"),
            _("std over folds"): st.column_config.NumberColumn(format="%.3g")})
    with st.expander(_("The maths, and the update rule")):
        st.latex(validation.KFOLD_LATEX)
        st.latex(model.GD_LIMIT_LATEX)
        st.markdown(_("The model is a degree-{d} polynomial (Legendre basis) fitted to {n} noisy points of sin(πx) "
                      "(σ = 0.3) by {opt}, full batch, starting from w = 0.").format(
            d=search.degree, n=search.n, opt=optimizers.info(opt).title))
        ui.show_update_rule(opt)


# ----------------------------------------------------------------------------------------------
# 5. Gradient lab
# ----------------------------------------------------------------------------------------------
FLOW = {"vanishes": N_("the gradient **vanishes** on its way back to the input"),
        "grows": N_("the gradient **grows** on its way back to the input"),
        "flows": N_("within a factor of 100: the gradient reaches every layer"),
        "huge": N_("every layer's gradient is huge: the signal **exploded** on its way through the network"),
        "undefined": N_("the ratio is not a number (a gradient is 0, infinite or NaN)")}
ACT_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU"}
INIT_NAMES = {"normal": N_("normal N(0, s²) (naive)"), "xavier": N_("Xavier (Glorot)"), "he": N_("He (Kaiming)")}
VIEW_NAMES = {"setup": N_("At the start"), "train": N_("▶ Train"), "compare": N_("⚖ Compare fixes")}


def lab_changed() -> None:
    """A lab setting moved: show the new network's starting gradients, train only when asked."""
    st.session_state[view.LAB_VIEW.key] = "setup"


def lab_preset(key: str) -> None:
    s = model.lab_preset(key).settings
    state.set_values(view.PAGE, {**view._lab_state(s, "setup")}, reset=False)


def lab_controls() -> model.LabSettings:
    kw = dict(on_change=lab_changed)
    a = b = st.container()  # one column: the labels stay whole at 1024 px
    with a:
        state.slider(view.LAB_DEPTH, _(view.LAB_DEPTH.label), **kw)
        state.select_slider(view.LAB_WIDTH, _(view.LAB_WIDTH.label), **kw)
        state.select_slider(view.LAB_STEPS, _(view.LAB_STEPS.label), **kw)
        state.selectbox(view.LAB_ACT, _(view.LAB_ACT.label), format_func=ACT_NAMES.get, **kw)
        init = state.selectbox(view.LAB_INIT, _(view.LAB_INIT.label), format_func=lambda k: _(INIT_NAMES[k]), **kw)
        state.select_slider(view.LAB_SCALE, _(view.LAB_SCALE.label), disabled=init != "normal",
                            format_func=lambda v: f"{v:g}", **kw)
    with b:
        state.toggle(view.LAB_BN, _(view.LAB_BN.label), **kw)
        state.toggle(view.LAB_RES, _(view.LAB_RES.label), **kw)
        clip = state.toggle(view.LAB_CLIP, _(view.LAB_CLIP.label), **kw)
        state.select_slider(view.LAB_CLIPNORM, _(view.LAB_CLIPNORM.label), disabled=not clip,
                            format_func=lambda v: f"{v:g}", **kw)
        state.selectbox(view.LAB_OPT, _(view.LAB_OPT.label), format_func=lambda k: optimizers.info(k).title, **kw)
        state.select_slider(view.LAB_LR, _(view.LAB_LR.label), format_func=lambda v: f"{v:g}", **kw)
    return view.lab_settings(view.PAGE.current())


def show_setup(settings: model.LabSettings) -> None:
    g = view.initial_gradients(settings)
    chart(fig.grad_profile({_("step 0 (untrained)"): g.norms}, height=state.chart_height(400, 380)),
          key="ov_fig_profile0", title=_("Gradient norm per layer of the untrained network"))
    code = model.flow_code(g.norms)
    st.caption(_("Before any training, on all 600 training points: the first layer's gradient norm is {g1} and the "
                 "output layer's {gout} — {flow}. Starting loss {loss} (log 2 ≈ 0.693 is a 50/50 guess).").format(
        g1=fmt(g.norms[0]), gout=fmt(g.norms[-1]), flow=_(FLOW[code]), loss=fmt(g.loss)))


def show_lab_result(r: model.LabResult, wanted: model.LabSettings) -> None:
    s = r.settings
    opt_title = optimizers.info(s.optimizer).title
    if r.diverged:
        ui.divergence_box([ui.Divergence(f"{opt_title} (lr = {s.lr:g})", r.diverged_at, r.message)],
                          note=_("The charts are drawn up to the last finite step."))
    chart(fig.grad_heatmap(r.grad_norms, diverged_at=r.diverged_at, height=state.chart_height(400, 360)),
          key="ov_fig_heat", title=_("Gradient norm of every layer at every step (log₁₀)"))
    learn = model.learn_code(r)
    m1, m2, m3, _m4 = st.columns(2) * 2  # 2 × 2: three in a row clip the numbers at 1024 px
    m1.metric(_("validation accuracy"), f"{r.final_val_accuracy:.0%}" if not r.diverged else "—",
              help=_("two balanced classes: 50 % is guessing"))
    m2.metric(_("training loss (end)"), fmt(r.final_train_loss), help=_("cross-entropy; log 2 ≈ 0.693 is guessing"))
    m3.metric(_("‖g₁‖ / ‖g_out‖ at step 0"), fmt(r.first_to_last),
              help=_("gradient norm of the first layer over that of the output layer: ≪ 1 vanishing, ≫ 1 exploding"))
    g0 = r.grad_first_step
    flow = model.flow_code(g0)
    st.caption(_("At the first step the first layer's gradient norm is {g1} and the output layer's {gout}: {flow}. "
                 "After {k} steps of {opt} (lr = {lr}): {verdict}").format(
        g1=fmt(g0[0]), gout=fmt(g0[-1]), flow=_(FLOW[flow]), k=r.steps_done, opt=opt_title, lr=f"{s.lr:g}",
        verdict={"learns": _("it **learns** the spirals (validation accuracy {a}, clearly above a 50/50 guess)."),
                 "guesses": _("it still **guesses** (validation accuracy {a} is within the noise of 50 %)."),
                 "diverged": _("it **diverged**.")}[learn].format(a=f"{r.final_val_accuracy:.0%}")))


def show_comparison(runs: list[model.LabResult]) -> None:
    colored = [(r.label, r, fig.FIX_COLORS[i % len(fig.FIX_COLORS)]) for i, r in enumerate(runs)]
    base = runs[0]
    chart(fig.training_curves(colored, height=state.chart_height(420, 380)), key="ov_fig_compare",
          title=_("Baseline: {d} — each fix alone").format(d=base.settings.describe()))
    cv = model.compare_verdict(runs)
    names = lambda keys: listing(model.fix_label(k).lstrip("+ ") for k in keys)  # noqa: E731
    parts = [{"learns": _("The baseline learns ({a})."), "guesses": _("The baseline guesses ({a})."),
              "diverged": _("The baseline diverged.")}[cv.baseline].format(a=f"{base.final_val_accuracy:.0%}")]
    if cv.best:
        parts.append(ngettext("Best: {names} ({a}).", "Best, within the noise of each other: {names} ({a}).",
                              len(cv.best)).format(names=names(cv.best), a=f"{cv.best_accuracy:.0%}"))
    else:
        parts.append(_("Every fix diverged."))
    parts.append(_("Clearly better than the baseline: {names}.").format(names=names(cv.helped)) if cv.helped
                 else _("No single fix is clearly better than the baseline: try combining them."))
    if cv.hurt:
        parts.append(_("Clearly worse (or diverged): {names}.").format(names=names(cv.hurt)))
    st.caption(sentences(parts + [_("“Clearly”: more than two standard errors of the 300 validation points.")]))
    rows = [{_("run"): r.label, _("validation accuracy"): r.final_val_accuracy if not r.diverged else None,
             _("training loss (end)"): r.final_train_loss,
             _("‖g₁‖/‖g_out‖ at step 0"): r.first_to_last if math.isfinite(r.first_to_last) else None,
             _("diverged at step"): str(r.diverged_at) if r.diverged else _("never")} for r in runs]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        _("validation accuracy"): st.column_config.NumberColumn(format="percent"),
        _("training loss (end)"): st.column_config.NumberColumn(format="%.3g"),
        _("‖g₁‖/‖g_out‖ at step 0"): st.column_config.NumberColumn(format="%.2g")})


def run_comparison(settings: model.LabSettings) -> list[model.LabResult] | None:
    """Train the comparison one network per rerun (each within one rerun's budget); the runs live
    in the cache, so a second click trains nothing.  Returns the runs once all are trained."""
    planned, cut = view.plan_comparison(settings)
    say_cut(cut)
    untrained = [s for _k, s in planned if not view.trained(s)]
    if untrained:
        with st.spinner(_("Training network {i} of {n}…").format(i=len(planned) - len(untrained) + 1, n=len(planned))):
            view.lab_run(untrained[0])
        view.mark_trained(untrained[0])
        if len(untrained) > 1:
            st.rerun()  # the next network in the next rerun: no rerun holds the server for more than ~1 s
    return [view.labelled(view.lab_run(s), k) for k, s in planned]


def section_gradient_lab() -> None:
    if not PRESENT:
        intro(_("Gradient lab: vanishing and exploding gradients"),
              _("*Why does a deep network sometimes not learn at all, and which of the usual cures — batch "
                      "normalization, residual connections, a better initialisation, Adam, gradient clipping — fixes "
                      "what?* The network classifies two interleaved spirals (600 training and 300 validation "
                      "points)."))
    hide = lessons.hidden()
    if not PRESENT:
        for c, p in zip(st.columns(len(model.LAB_PRESETS)), model.LAB_PRESETS):
            c.button(_(p.title), key=f"ovb_lab_preset_{p.key}", on_click=lab_preset, args=(p.key,), width="stretch")
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        settings = lab_controls()
    with c_fig:
        shown = state.segmented_control(view.LAB_VIEW, _("Show"), format_func=lambda k: _(VIEW_NAMES[k]))
        if hide:
            st.caption(_("🔒 The gradients and the training are shown once you commit your prediction."))
        elif shown == "setup":
            show_setup(settings)
            st.caption(_("Choose **▶ Train** to train this network ({n} steps take about half a second), or "
                         "**⚖ Compare fixes** to train the baseline and each fix alone.").format(n=settings.steps))
        elif shown == "compare":
            show_setup(settings)  # the baseline's starting gradients here; each fix alone below
            st.caption(_("The baseline and each fix alone are compared below."))
        elif shown == "train":
            planned, cut = view.plan_one(settings)
            say_cut(cut)
            r = view.lab_run(planned)
            view.mark_trained(planned)
            show_lab_result(r, settings)
    if PRESENT:
        return
    if not hide and shown == "compare":
        runs = run_comparison(settings)
        if runs:
            show_comparison(runs)
    ask_row(view.LAB)
    if not hide and shown == "train":
        left, right = st.columns(2, gap="medium")
        with left:
            chart(fig.grad_profile({_("step 0"): r.grad_first_step,
                                    _("step {k}").format(k=r.steps_done - 1): r.grad_last_step}, height=360),
                  key="ov_fig_profile", title=_("Gradient norm per layer"))
        with right:
            chart(fig.training_curves([(optimizers.info(r.settings.optimizer).title, r,
                                                    figures.style.optimizer_meta(r.settings.optimizer))],
                                      minibatch=True, height=360), key="ov_fig_lab_loss",
                  title=_("Loss during training"))
        st.subheader(_("Activations, layer by layer"))
        ui.show_figure(fig.activation_histograms(r.bin_edges, r.hist_init, r.hist_end, activation=r.settings.activation,
                                                 height=400), key="ov_fig_hist")
    with st.expander(_("The maths: why gradients vanish or explode, and what each fix changes")):
        st.latex(model.VANISHING_LATEX)
        st.latex(mlp.BACKPROP_LATEX)
        st.markdown(_("**Activation** (its derivative is the factor each layer multiplies the gradient by):"))
        st.latex(mlp.ACTIVATION_LATEX[settings.activation])
        st.markdown(_("**Initialisation:**"))
        for k in mlp.INITS:
            st.latex(mlp.INIT_LATEX[k])
        st.markdown(_("**Batch normalization** (torch's `BatchNorm1d`: ε = 10⁻⁵; the running averages use "
                      "`momentum=0.1` as the weight of the *new* batch, and the unbiased batch variance):"))
        st.latex(mlp.BATCH_NORM_LATEX)
        st.markdown(_("**Residual connections:**"))
        st.latex(model.RESIDUAL_LATEX)
        st.markdown(_("**Gradient clipping** (torch's `clip_grad_norm_`; the 10⁻⁶ is torch's):"))
        st.latex(mlp.CLIP_LATEX)
        ui.show_update_rule(settings.optimizer)


# ----------------------------------------------------------------------------------------------
# 6. Clipping on a cliff
# ----------------------------------------------------------------------------------------------
FATE = {"diverged": N_("diverged"), "reached": N_("reached the minimum (within {tol}) at step {k}"),
        "thrown": N_("was thrown out of the window at step {k} and did not come back"),
        "short": N_("is still on its way after {n} steps ({d} from the minimum)")}


def fate_text(run: model.CliffRun, demo: model.CliffDemo) -> str:
    k = run.reached_at if run.fate == "reached" else run.left_window_at
    return _(FATE[run.fate]).format(tol=f"{demo.reach_tol:g}", k=k, n=demo.steps, d=fmt(run.final_distance))


def section_cliff() -> None:
    if not PRESENT:
        intro(_("Gradient clipping on a cliff"),
              _("*A loss surface can have a cliff: a narrow wall where the gradient is hundreds of times larger "
                      "than anywhere else. What does one gradient step from its edge do — and how does clipping the "
                      "gradient's norm keep the optimizer on course?*"))
    hide = lessons.hidden()
    surface = ui.get_surface(("cliff", ()))
    c_ctl, c_fig = state.chart_first_columns((1, 2.1), present=(1, 1.5), gap="medium")
    with c_ctl:
        lessons.step_card()
        opt = state.selectbox(view.CL_OPT, _(view.CL_OPT.label), format_func=lambda k: optimizers.info(k).title)
        state.select_slider(view.CL_LR, _(view.CL_LR.label), format_func=lambda v: f"{v:g}")
        state.select_slider(view.CL_CLIP, _(view.CL_CLIP.label), format_func=lambda v: f"{v:g}")
        state.slider(view.CL_STEPS, _(view.CL_STEPS.label))
        state.selectbox(view.CL_START, _(view.CL_START.label),
                        format_func=lambda i: f"({surface.starts[i][0]:g}, {surface.starts[i][1]:g})"
                        + (" " + _("edge") if i == 0 else ""))
    demo = view.cliff(view.PAGE.current())
    plain, clipped = demo.plain, demo.clipped
    trs = [] if hide else [plain.trajectory, clipped.trajectory]
    with c_fig:
        if not hide:
            ui.divergence_warnings(trs)
        chart(figures.contour(surface, trs, height=state.chart_height(480, 420)),
              key="ov_fig_cliff", title=_("The paths (arrows: where a path leaves the window)"))
        if hide:
            st.caption(_("🔒 The paths and step lengths are shown once you commit your prediction."))
        else:
            cv = model.cliff_verdict(demo)
            name = optimizers.info(opt).title
            text = _("From ({x}, {y}) with lr = {lr}: without clipping {name} {pf}; clipped at ‖g‖ ≤ {c} it {cf}.").format(
                x=f"{demo.start[0]:g}", y=f"{demo.start[1]:g}", lr=f"{demo.lr:g}", name=name,
                pf=fate_text(plain, demo), c=f"{demo.clip_norm:g}", cf=fate_text(clipped, demo))
            text += sentence_gap() + {"inactive": _("No gradient along the clipped path was longer than {c}: clipping changed "
                                         "nothing."),
                           "shortened": _("Clipping shortened the longest step from {p} (step {k}, where ‖∇f‖ = {g}) to "
                                          "{q}."),
                           "similar": _("Clipping acted, yet the longest steps are alike ({p} and {q}): this "
                                        "optimizer's steps hardly depend on the gradient's length.")}[cv.clipping].format(
                c=f"{demo.clip_norm:g}", p=fmt(plain.longest_step), k=plain.longest_at, g=fmt(plain.grad_at_longest),
                q=fmt(clipped.longest_step))
            st.caption(text)
    if PRESENT:
        return
    ask_row(view.CLIFF)
    if hide:
        return
    left, right = st.columns(2, gap="medium")
    with left:
        chart(fig.step_lengths_figure([(plain.trajectory.label, plain.step_lengths, figures.style.optimizer_meta(opt),
                                        "solid"),
                                       (clipped.trajectory.label, clipped.step_lengths,
                                        figures.style.optimizer_meta(opt, 1), "dash")], height=320),
              key="ov_fig_steps", title=_("How far each step moved"))
    with right:
        chart(figures.loss_curves(trs, gap_to=surface.min_value, height=320), key="ov_fig_cliff_loss",
              title=_("Loss gap f − f*"))
    with st.expander(_("The surface and the clipping rule")):
        st.latex(surface.latex)
        st.latex(mlp.CLIP_LATEX)
        st.markdown(_("Clipping by norm keeps the gradient's **direction** and caps its **length**, so on a cliff the "
                      "step is at most lr·c instead of lr·‖∇f‖. torch: `torch.nn.utils.clip_grad_norm_(params, c)` "
                      "between `loss.backward()` and `optimizer.step()`."))
        ui.show_update_rule(opt)


# ----------------------------------------------------------------------------------------------
# Only the shown section computes
# ----------------------------------------------------------------------------------------------
RENDER = {view.FIT: section_overfitting, view.REG: section_regularization, view.ES: section_early_stopping,
          view.CV: section_learning_rate, view.LAB: section_gradient_lab, view.CLIFF: section_cliff}
RENDER.get(section, section_overfitting)()
