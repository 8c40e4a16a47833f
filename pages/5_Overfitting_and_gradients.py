"""Chapter 5: overfitting, regularization, early stopping, the learning rate by cross-validation,
vanishing and exploding gradients, and gradient clipping: the seed's FAQ Q3–Q5 as experiments."""
from __future__ import annotations

import dataclasses

import streamlit as st

from optlab import figures, mlp, optimizers, polynomial, ui, validation
from optlab.chapters import overfitting as model
from optlab.figures import overfitting as fig
from optlab.ui import overfitting as view

ui.page_config("Overfitting and gradients")

P = "ov"                  # widget keys: "ov_…" (kept while their section is hidden); buttons: "ovb_…"
view.keep_widget_state(f"{P}_")

SECTIONS = ["📈 Overfitting", "🧲 Regularization", "⏱️ Early stopping", "🎚️ Learning rate by CV",
            "🧪 Gradient lab", "🧗 Clipping on a cliff"]
FUNC_KEYS = list(polynomial.TRUTHS)


def remember_section() -> None:
    # a click on the selected segment would deselect it: keep the section that was open
    if st.session_state.get(f"{P}_section") is None:
        st.session_state[f"{P}_section"] = st.session_state.get("ovs_last_section", SECTIONS[0])
    st.session_state["ovs_last_section"] = st.session_state[f"{P}_section"]


def new_sample() -> None:
    st.session_state["ovs_seed"] = int(st.session_state.get("ovs_seed", 0)) + 1


def data_controls(n_key: str, n_default: int, noise_default: float) -> tuple[int, float, str, int]:
    """Number of points, noise, true function and a button for a new sample (shared seed)."""
    ui.init_state(n_key, n_default)
    ui.init_state(f"{P}_noise", noise_default)
    ui.init_state(f"{P}_func", "sin")
    c1, c2, c3, c4 = st.columns([3, 3, 3, 2], vertical_alignment="bottom")
    n = c1.slider("training points n", 8, 200, step=1, key=n_key,
                  help="how many noisy samples the model is fitted to")
    noise = c2.slider("noise σ", 0.0, 1.0, step=0.05, key=f"{P}_noise",
                      help="standard deviation of the noise added to every y")
    func = c3.selectbox("true function f", FUNC_KEYS, key=f"{P}_func", format_func=lambda k: model.TRUTH_TITLES[k])
    c4.button("🎲 New sample", key=f"ovb_new_sample_{n_key}", on_click=new_sample,
              help="draw new noisy points (same n, σ and f)")
    return int(n), float(noise), str(func), int(st.session_state.get("ovs_seed", 0))


def fmt(v: float) -> str:
    return f"{v:.3g}"


def chart(figure, key: str, title: str | None = None) -> None:
    """A figure with its title as page text above it (a Plotly title would collide with the legend)."""
    if title:
        st.markdown(f"**{title}**")
    ui.show_figure(figure, key=key)


# ----------------------------------------------------------------------------------------------
# Header
# ----------------------------------------------------------------------------------------------
ui.page_header(
    "Overfitting, regularization and gradient problems",
    "How do we choose a model, a penalty, a stopping point and a learning rate that work on data the "
    "model has never seen — and why does a deep network sometimes not learn at all?",
)
st.markdown(
    "Three questions students always ask, each turned into experiments you run: **how to choose the learning "
    "rate** (a grid search with cross-validation), **how to avoid overfitting** (more data, a simpler model, "
    "regularization, early stopping), and **how to handle vanishing and exploding gradients** (batch "
    "normalization, residual connections, a better initialisation, Adam, gradient clipping). Pick a section; "
    "every section has guided experiments — predict first, then press the button."
)
ui.init_state(f"{P}_section", SECTIONS[0])
section = st.segmented_control("Section", SECTIONS, key=f"{P}_section", on_change=remember_section) or SECTIONS[0]
st.session_state["ovs_last_section"] = section
st.divider()


# ----------------------------------------------------------------------------------------------
# 1. Overfitting
# ----------------------------------------------------------------------------------------------
def section_overfitting() -> None:
    st.header("Overfitting: a flexible model memorises the noise")
    st.markdown("*Which polynomial degree predicts **new** points best — and why does the answer change "
                "when you have more data?*")
    n, noise, func, seed = data_controls(f"{P}_n", 20, 0.25)
    ui.init_state(f"{P}_degree", 3)
    degree = st.slider("polynomial degree d (model complexity)", 0, polynomial.MAX_DEGREE, step=1,
                       key=f"{P}_degree", help="the model has d + 1 coefficients")
    fit = view.degree_fit(n, noise, int(degree), seed, func)

    left, right = st.columns(2)
    with left:
        chart(fig.fit_figure(fit.x_grid, fit.y_truth, fit.train,
                               [(f"degree {fit.degree} fit", fit.y_fit, fig.FIT_COLOR, "solid")],
                               val=fit.val, height=420),
              key=f"{P}_fig_fit", title=f"The degree-{fit.degree} least-squares fit")
    with right:
        chart(fig.error_curve(model.DEGREES, fit.curve.train, fit.curve.val, selected=fit.degree,
                                best=fit.best_degree, noise_var=fit.noise_var, xlabel="degree d",
                                selected_label=f"d = {fit.degree}",
                                height=420),
              key=f"{P}_fig_u", title="Training and validation error against degree")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("training MSE", fmt(fit.train_mse))
    m2.metric("validation MSE", fmt(fit.val_mse))
    m3.metric("best degree (validation)", fit.best_degree, help="the lowest point of the red curve")
    m4.metric("noise floor σ²", fmt(fit.noise_var), help="the error even the true f makes on new noisy points")
    if fit.degree > fit.best_degree and fit.val_mse > fit.best_val_mse:
        verdict = (f"Degree {fit.degree} **overfits**: its training error ({fmt(fit.train_mse)}) is lower than "
                   f"that of degree {fit.best_degree}, but its validation error is {fmt(fit.val_mse)}, against "
                   f"{fmt(fit.best_val_mse)} at degree {fit.best_degree}.")
    elif fit.degree < fit.best_degree:
        verdict = (f"Degree {fit.degree} **underfits**: too stiff to follow f, its training and validation errors "
                   f"are both high ({fmt(fit.train_mse)} and {fmt(fit.val_mse)}); degree {fit.best_degree} does "
                   f"better on new points ({fmt(fit.best_val_mse)}).")
    else:
        verdict = (f"Degree {fit.degree} is the best degree on the validation points for this sample "
                   f"(validation MSE {fmt(fit.val_mse)}, noise floor {fmt(fit.noise_var)}).")
    st.caption(f"{n} training points, σ = {noise:g}. {verdict} "
               f"Validation error / training error = {fit.val_over_train:.3g}.")
    if fit.interpolates:
        st.warning(f"Degree {fit.degree} has {fit.degree + 1} coefficients but there are only {n} points: the "
                   f"polynomial can pass through every training point (training error ≈ 0). With more coefficients "
                   f"than points, the one with the smallest coefficients is drawn.", icon="🧵")

    st.subheader("More data tames a flexible model")
    lc = view.learning_curve(int(degree), noise, seed, func)
    chart(fig.error_curve(lc.sizes, lc.train, lc.val, selected=n, noise_var=lc.noise_var,
                            xlabel="number of training points n", log_x=True, selected_label=f"n = {n}",
                            height=380),
          key=f"{P}_fig_lc", title=f"Degree {lc.degree}: error against the number of training points "
                                  f"(median of {lc.reps} samples)")
    st.caption(f"With degree {lc.degree}, the median validation MSE is {fmt(lc.val[0])} with {lc.sizes[0]} points, "
               f"{fmt(lc.val_at(n))} with {n} and {fmt(lc.val[-1])} with {lc.sizes[-1]} (noise floor "
               f"{fmt(lc.noise_var)}). The training error rises towards σ² as n grows: with more points the "
               f"polynomial can no longer bend through all of them, so it stops fitting the noise.")

    with st.expander("The maths"):
        st.latex(polynomial.FEATURES_LATEX)
        st.latex(model.MSE_LATEX)
        st.latex(model.NOISE_FLOOR_LATEX)
        st.latex(r"\text{true function: } " + model.truth_latex(func))
        st.markdown("The basis is Legendre polynomials (orthonormal on [−1, 1]) instead of the powers xᵏ: the same "
                    "polynomials, but a well-conditioned least-squares problem even at degree 15.")

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    with e1:
        ui.experiment(
            "Crank up the degree",
            "With 20 points, what happens to the **training** error and to the **validation** error when the degree "
            "goes from 3 to 15?",
            {f"{P}_degree": 15, f"{P}_n": 20, f"{P}_noise": 0.25, f"{P}_func": "sin"},
            "The training error keeps falling (a degree-15 polynomial has 16 coefficients for 20 points: it almost "
            "interpolates), while the validation error shoots up: the wiggles between the points fit the noise, not "
            "f. The U curve's bottom sits at a small degree.", key="ov_x_degree")
    with e2:
        ui.experiment(
            "More data tames the flexible model",
            "Keep degree 15 and use 200 points instead of 20. Will its validation error end above, near or below "
            "the noise floor σ²?",
            {f"{P}_degree": 15, f"{P}_n": 200, f"{P}_noise": 0.25, f"{P}_func": "sin"},
            "Near it (a little above): with 200 points, 16 coefficients can no longer chase every point, and the "
            "fit follows f. The same model that overfitted 20 points is fine with 200 — look at the learning "
            "curve, which falls to σ² as n grows.", key="ov_x_data")
    with e3:
        ui.experiment(
            "Overfitting needs noise",
            "Set the noise to 0 with 20 points and degree 15. Does the high-degree fit still go wild between the "
            "points?",
            {f"{P}_degree": 15, f"{P}_n": 20, f"{P}_noise": 0.0, f"{P}_func": "sin"},
            "Much less: the validation error stays small because there is no noise to memorise (what is left comes "
            "from gaps between points). Try Runge's bump then: even without noise, a high degree oscillates "
            "near the ends of the interval (Runge's phenomenon).", key="ov_x_noise")


# ----------------------------------------------------------------------------------------------
# 2. Regularization
# ----------------------------------------------------------------------------------------------
def section_regularization() -> None:
    st.header("Regularization: penalise large coefficients")
    st.markdown("*Can we keep a flexible degree-12 model and still predict well, by making large coefficients "
                "expensive? What is the difference between an L2 and an L1 penalty?*")
    n, noise, func, seed = data_controls(f"{P}_n", 20, 0.25)
    ui.init_state(f"{P}_reg_degree", 12)
    ui.init_state(f"{P}_lam2", 0.001)
    ui.init_state(f"{P}_lam1", 0.01)
    c1, c2, c3 = st.columns(3)
    degree = c1.slider("polynomial degree d", 1, polynomial.MAX_DEGREE, step=1, key=f"{P}_reg_degree")
    lam2 = c2.select_slider("λ for L2 (ridge)", model.LAMBDA_OPTIONS, key=f"{P}_lam2", format_func=fmt,
                            help="penalty λ·Σ w_k² (k ≥ 1; the intercept w₀ is free)")
    lam1 = c3.select_slider("λ for L1 (lasso)", model.LAMBDA_OPTIONS, key=f"{P}_lam1", format_func=fmt,
                            help="penalty λ·Σ |w_k| (k ≥ 1)")
    rs = view.regularization_study(n, noise, int(degree), float(lam2), float(lam1), seed, func)
    r, l = rs.ridge, rs.lasso

    left, right = st.columns(2)
    with left:
        fits = [("least squares (λ = 0)", rs.y_ls, fig.LS_COLOR, "dot"),
                (f"ridge, λ = {fmt(r.lam)}", r.y_fit, fig.RIDGE_COLOR, "solid"),
                (f"lasso, λ = {fmt(l.lam)}", l.y_fit, fig.LASSO_COLOR, "solid")]
        chart(fig.fit_figure(rs.x_grid, rs.y_truth, rs.train, fits, height=420),
              key=f"{P}_fig_reg_fit", title=f"Degree-{rs.degree} fits")
    with right:
        chart(fig.coef_bars({"least squares": rs.ls_coef, f"ridge (λ = {fmt(r.lam)})": r.coef,
                               f"lasso (λ = {fmt(l.lam)})": l.coef},
                              colors={"least squares": fig.LS_COLOR, f"ridge (λ = {fmt(r.lam)})": fig.RIDGE_COLOR,
                                      f"lasso (λ = {fmt(l.lam)})": fig.LASSO_COLOR},
                              height=420),
              key=f"{P}_fig_bars", title="The coefficients (a “0” marks an exact zero)")
    m1, m2, m3 = st.columns(3)
    m1.metric("validation MSE, least squares", fmt(rs.ls_val_mse))
    m2.metric("validation MSE, ridge", fmt(r.val_mse), delta=fmt(r.val_mse - rs.ls_val_mse), delta_color="inverse")
    m3.metric("validation MSE, lasso", fmt(l.val_mse), delta=fmt(l.val_mse - rs.ls_val_mse), delta_color="inverse")
    st.caption(
        f"**Ridge (L2)** at λ = {fmt(r.lam)}: {r.nonzero} of {rs.degree} coefficients w₁…w{rs.degree} are non-zero — "
        f"L2 shrinks them (their total size is {r.shrinkage:.0%} of least squares') but sets none exactly to zero. "
        f"**Lasso (L1)** at λ = {fmt(l.lam)}: {l.nonzero} of {rs.degree} are non-zero, "
        f"{rs.degree - l.nonzero} exactly zero; from λ ≥ {fmt(rs.lasso_lambda_max)} every one is zero and the fit is "
        f"the constant mean. Best λ on the validation points: ridge {fmt(r.best_lam)} "
        f"(MSE {fmt(r.best_val_mse)}), lasso {fmt(l.best_lam)} (MSE {fmt(l.best_val_mse)}).")

    st.subheader("Coefficient paths: every coefficient as λ grows")
    p1, p2 = st.columns(2)
    with p1:
        chart(fig.coef_paths(r.lams, r.path, r.lam, height=380),
              key=f"{P}_fig_path_l2", title="Ridge (L2): smooth shrinking")
        chart(fig.error_curve(r.lams, r.path_train, r.path_val, selected=r.lam, best=r.best_lam,
                                noise_var=rs.noise_var, xlabel="λ (log scale)", log_x=True,
                                selected_label=f"λ = {fmt(r.lam)}", height=340),
              key=f"{P}_fig_err_l2", title="Ridge: error against λ")
    with p2:
        chart(fig.coef_paths(l.lams, l.path, l.lam, height=380),
              key=f"{P}_fig_path_l1", title="Lasso (L1): coefficients hit exactly zero")
        chart(fig.error_curve(l.lams, l.path_train, l.path_val, selected=l.lam, best=l.best_lam,
                                noise_var=rs.noise_var, xlabel="λ (log scale)", log_x=True,
                                selected_label=f"λ = {fmt(l.lam)}", height=340),
              key=f"{P}_fig_err_l1", title="Lasso: error against λ")
    nz = l.path_nonzero
    st.caption(f"Along the lasso path the number of non-zero coefficients falls from {int(nz[0])} at "
               f"λ = {fmt(l.lams[0])} to {int(nz[-1])} at λ = {fmt(l.lams[-1])}; along the ridge path every "
               f"coefficient stays non-zero and only their size drops. Read the error curves right to left: a "
               f"large λ underfits (both errors high), a tiny λ is least squares again (it overfits).")

    with st.expander("The maths (and a convention to watch)"):
        st.latex(polynomial.RIDGE_LATEX)
        st.latex(polynomial.LASSO_LATEX)
        st.markdown("The lasso has no closed form: it is solved by proximal gradient descent (FISTA), whose "
                    "soft-thresholding step S_τ sets small coefficients to **exactly** zero:")
        st.latex(polynomial.ISTA_LATEX)
        st.markdown("**Convention:** as in scikit-learn, the lasso's data term is ‖y − Φw‖² / (2n) and ridge's "
                    "‖y − Φw‖² / n, so the same λ is not the same strength for both; "
                    "deep-learning frameworks call the L2 penalty *weight decay* (torch's `weight_decay` adds "
                    "λ·w to the gradient, i.e. the penalty ½λ‖w‖²).")

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    with e1:
        ui.experiment(
            "L1 makes zeros",
            "Set the lasso's λ to 0.1. How many of the 12 coefficients will be exactly zero?",
            {f"{P}_reg_degree": 12, f"{P}_lam1": 0.1, f"{P}_n": 20, f"{P}_noise": 0.25, f"{P}_func": "sin"},
            "Most of them: soft-thresholding sets every coefficient whose least-squares size is below about λ to "
            "zero. The few left are the ones f really needs (for sin(πx): odd degrees 1, 3, 5). The lasso "
            "*selects* features.", key="ov_x_l1")
    with e2:
        ui.experiment(
            "L2 shrinks, never zeros",
            "Set ridge's λ to 1 (strong). Will any coefficient be exactly zero?",
            {f"{P}_reg_degree": 12, f"{P}_lam2": 1.0, f"{P}_n": 20, f"{P}_noise": 0.25, f"{P}_func": "sin"},
            "No: every ridge coefficient is the least-squares one divided by about (1 + λ) in this nearly orthonormal "
            "basis — smaller, never zero. The curve flattens towards the mean instead of losing terms.",
            key="ov_x_l2")
    with e3:
        ui.experiment(
            "Regularization versus more data",
            "With 200 points, does the penalty still lower the validation error of the degree-12 model?",
            {f"{P}_reg_degree": 12, f"{P}_lam2": 0.001, f"{P}_lam1": 0.01, f"{P}_n": 200, f"{P}_noise": 0.25},
            "Hardly: with enough data least squares no longer overfits, so there is little for the penalty to "
            "fix; the error-against-λ curves are flat at the left and only rise when λ is so large that the model "
            "underfits. Regularization matters most when data are scarce.", key="ov_x_reg_data")


# ----------------------------------------------------------------------------------------------
# 3. Early stopping
# ----------------------------------------------------------------------------------------------
def section_early_stopping() -> None:
    st.header("Early stopping: stop when the validation loss stops improving")
    st.markdown("*A network trained too long starts fitting the noise. When should training stop, and how much "
                "better are the weights it returns?*")
    defaults = model.EarlyStopSettings()
    ui.init_state(f"{P}_patience", 5)
    ui.init_state(f"{P}_es_n", defaults.n)
    ui.init_state(f"{P}_es_noise", defaults.noise)
    ui.init_state(f"{P}_es_width", defaults.width)
    ui.init_state(f"{P}_es_epochs", defaults.epochs)
    c1, c2, c3, c4, c5 = st.columns(5)
    patience = c1.slider("patience (checks)", 1, 30, step=1, key=f"{P}_patience",
                         help=f"stop after this many validation checks in a row without a new best "
                              f"(one check every {defaults.check_every} epochs)")
    n = c2.select_slider("training points", model.ES_SIZES, key=f"{P}_es_n")
    noise = c3.slider("noise σ", 0.0, 0.6, step=0.05, key=f"{P}_es_noise")
    width = c4.select_slider("hidden units per layer", model.ES_WIDTHS, key=f"{P}_es_width")
    epochs = c5.select_slider("epochs", model.ES_EPOCHS, key=f"{P}_es_epochs")
    settings = dataclasses.replace(defaults, n=int(n), noise=float(noise), width=int(width), epochs=int(epochs),
                                   seed=int(st.session_state.get("ovs_seed", 0)))
    es = view.early_stopping_study(settings, int(patience))

    left, right = st.columns([3, 2])
    with left:
        chart(fig.early_stopping_figure(es.epochs, es.train_loss, es.val_loss, best_epoch=es.best_epoch,
                                          stop_epoch=es.stop_epoch, stopped=es.stopped,
                                          noise_var=es.noise_var,
                                          height=440),
              key=f"{P}_fig_es", title=f"Loss during training (patience {es.patience})")
    with right:
        fits = [(f"after all {settings.epochs} epochs", es.y_final, fig.LS_COLOR, "dot"),
                (f"restored (epoch {es.best_epoch})" if es.stopped else "returned weights", es.y_restored,
                 fig.FIT_COLOR, "solid")]
        chart(fig.fit_figure(es.x_grid, es.y_truth, es.train, fits, height=440),
              key=f"{P}_fig_es_fit", title="The network's fit")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("best epoch (restored)", es.best_epoch)
    m2.metric("stopped at epoch", es.stop_epoch if es.stopped else "never")
    m3.metric("validation MSE, restored weights", fmt(es.restored_val),
              delta=fmt(es.restored_val - es.final_val), delta_color="inverse",
              help="compared with the weights after every epoch")
    m4.metric("validation MSE, all epochs", fmt(es.final_val))
    if es.stopped:
        st.caption(
            f"The validation loss was lowest so far at epoch {es.best_epoch}; after {es.patience} checks "
            f"({es.patience * settings.check_every} epochs) without a new best, training stopped at epoch "
            f"{es.stop_epoch}, saving {es.epochs_saved} of {settings.epochs} epochs, and the weights of epoch "
            f"{es.best_epoch} were restored: validation MSE {fmt(es.restored_val)} instead of {fmt(es.final_val)} "
            f"after all epochs (training MSE {fmt(es.restored_train)} instead of {fmt(es.final_train)}: the longer "
            f"run fits the training points better and new points worse). The lowest validation loss of the whole "
            f"run was {fmt(es.lowest_val)} at epoch {es.lowest_epoch}.")
    else:
        st.caption(f"With patience {es.patience} the validation loss never went {es.patience} checks without a new "
                   f"best, so training used all {settings.epochs} epochs (validation MSE {fmt(es.final_val)}; the "
                   f"lowest of the run was {fmt(es.lowest_val)} at epoch {es.lowest_epoch}).")

    with st.expander("The rule and the model"):
        st.latex(validation.EARLY_STOPPING_LATEX)
        st.markdown(f"p is the patience, counted in validation checks (one every {settings.check_every} epochs; "
                    f"Keras' `EarlyStopping(patience=p, restore_best_weights=True)`). The model is an MLP with "
                    f"{settings.depth} tanh layers of {settings.width} units trained by Adam (lr {settings.lr:g}) on "
                    f"the mean squared error, full batch (one step = one epoch):")
        st.latex(mlp.LOSS_LATEX["regression"])

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    with e1:
        ui.experiment(
            "Impatient or patient?",
            "With patience 1, will training stop before or after the best epoch that patience 20 finds?",
            {f"{P}_patience": 1},
            "Usually before: the validation loss is noisy, so one check without improvement happens early, on "
            "a small bump, and the restored weights are not the best of the run. Compare with patience 20: it "
            "waits out the bumps but trains longer. Patience trades compute for reliability.", key="ov_x_pat")
    with e2:
        ui.experiment(
            "More data, less to stop",
            "Train on 60 points instead of 30. Will the gap between the final and the restored validation error "
            "grow or shrink?",
            {f"{P}_es_n": 60, f"{P}_es_width": 64, f"{P}_patience": 5},
            "It shrinks: with twice the points the network needs longer to memorise the noise, the validation "
            "curve rises later and less, and early stopping has less to save — the same lesson as the learning "
            "curve of the first section.", key="ov_x_es_data")
    with e3:
        ui.experiment(
            "A smaller network",
            "Use 8 hidden units instead of 64. Will it overfit later, earlier or not at all?",
            {f"{P}_es_width": 8, f"{P}_patience": 5, f"{P}_es_n": 30},
            "Later and less: fewer parameters, less capacity to fit noise, so the validation loss stays near its "
            "best for longer. A simpler model is another of the FAQ's cures.", key="ov_x_es_small")


# ----------------------------------------------------------------------------------------------
# 4. Learning rate by cross-validation
# ----------------------------------------------------------------------------------------------
def section_learning_rate() -> None:
    st.header("Choosing the learning rate: grid search with k-fold cross-validation")
    st.markdown("*Which learning rate should gradient descent use? Try a grid of rates, score each one on data "
                "it did not train on, and pick the best — but score it k times, on k different folds, to see how "
                "much of the difference is luck.*")
    ui.init_state(f"{P}_cv_opt", "sgd")
    ui.init_state(f"{P}_cv_k", 5)
    ui.init_state(f"{P}_cv_steps", 100)
    ui.init_state(f"{P}_cv_lo", 0.001)
    ui.init_state(f"{P}_cv_hi", 3.16)
    ui.init_state(f"{P}_cv_degree", 8)
    ui.init_state(f"{P}_cv_n", 60)
    c1, c2, c3 = st.columns(3)
    opt = c1.selectbox("optimizer", ["sgd", "adam"], key=f"{P}_cv_opt", format_func=lambda k: optimizers.info(k).title)
    k = c2.slider("folds k", 2, 10, step=1, key=f"{P}_cv_k")
    steps = c3.select_slider("steps per run", [10, 20, 50, 100, 200, 500], key=f"{P}_cv_steps")
    c4, c5, c6, c7 = st.columns(4)
    lr_lo = c4.select_slider("smallest learning rate", model.LR_OPTIONS, key=f"{P}_cv_lo", format_func=fmt,
                             help="15 log-spaced rates from the smallest to the largest are tried")
    lr_hi = c5.select_slider("largest learning rate", model.LR_OPTIONS, key=f"{P}_cv_hi", format_func=fmt)
    degree = c6.slider("model: polynomial degree", 1, 12, step=1, key=f"{P}_cv_degree")
    n = c7.slider("data: points", 20, 200, step=10, key=f"{P}_cv_n")
    if lr_lo >= lr_hi:
        st.error(f"The smallest learning rate ({fmt(lr_lo)}) must be below the largest ({fmt(lr_hi)}): move one "
                 f"of the two sliders.", icon="↔️")
        return
    search = view.lr_search(int(n), 0.3, int(degree), int(k), int(steps), opt, float(lr_lo), float(lr_hi),
                            int(st.session_state.get("ovs_seed", 0)), "sin")
    res = search.result
    title = optimizers.info(opt).title

    left, right = st.columns(2)
    with left:
        chart(fig.cv_scores_figure(res.lrs, res.scores, res.mean, res.std, res.diverged, res.best_index,
                                     gd_limit=search.gd_limit if opt == "sgd" else None,
                                     noise_var=search.noise_var,
                                     height=440),
              key=f"{P}_fig_cv", title=f"Validation MSE per learning rate ({k}-fold CV)")
    with right:
        chart(fig.cv_curves_figure(search.val_mean_curve, res.lrs, res.best_index,
                                     height=440),
              key=f"{P}_fig_cv_curves", title="Validation MSE during training (mean over folds)")
    div = search.smallest_diverged_lr
    if div is not None and res.best_index >= 0:
        i_div = list(res.lrs).index(div)
        ui.divergence_box([ui.Divergence(title, search.divergence_step(i_div),
                                         f"for {search.n_diverged} of the {len(res.lrs)} learning rates, from "
                                         f"lr = {fmt(div)} up (this step is lr = {fmt(div)}'s)")],
                          note="Those runs were stopped and are marked ✕; the other rates are still drawn.")
    if res.best_index < 0:
        st.warning(f"**Every learning rate diverged** with {title}: lower the range.", icon="💥")
    else:
        i = res.best_index
        parts = [f"{len(res.lrs)} learning rates × {k} folds = {len(res.lrs) * k} runs of {steps} {title} steps, "
                 f"trained together as one batch. Chosen: **lr = {fmt(res.best_lr)}**, validation MSE "
                 f"{fmt(res.mean[i])} ± {fmt(res.std[i])} (mean ± std over the folds)."]
        if div is not None:
            parts.append(f"{search.n_diverged} rate(s) from {fmt(div)} up diverged in at least one fold (✕).")
        if opt == "sgd":
            parts.append(f"Theory for gradient descent on this quadratic loss: stable below "
                         f"1/λ_max = {fmt(search.gd_limit)} (dashed line).")
        parts.append(f"The smallest rate, {fmt(res.lrs[0])}, ends at {fmt(res.mean[0])}: too slow to get there in "
                     f"{steps} steps.")
        st.caption(" ".join(parts))
        if i == len(res.lrs) - 1:
            st.info("The chosen rate is the largest one tried: the best may lie beyond the range — extend it.",
                    icon="↔️")
        elif i == 0:
            st.info("The chosen rate is the smallest one tried: the best may lie below the range — extend it.",
                    icon="↔️")
    with st.expander("The table"):
        st.dataframe(search.rows(), hide_index=True, width="stretch", column_config={
            "learning rate": st.column_config.NumberColumn(format="%.3g"),
            "mean validation MSE": st.column_config.NumberColumn(format="%.4g"),
            "std over folds": st.column_config.NumberColumn(format="%.3g")})
    with st.expander("The maths, and the update rule"):
        st.latex(validation.KFOLD_LATEX)
        st.latex(model.GD_LIMIT_LATEX)
        st.markdown(f"The model is a degree-{degree} polynomial (Legendre basis) fitted to {n} noisy points of "
                    f"sin(πx) (σ = 0.3) by {title}, full batch, starting from w = 0.")
        ui.show_update_rule(opt)

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    with e1:
        ui.experiment(
            "Short budget, big steps",
            "With only 20 steps instead of 500, will the chosen learning rate be larger or smaller?",
            {f"{P}_cv_steps": 20, f"{P}_cv_opt": "sgd"},
            "Larger (or equal): with few steps a small rate cannot get anywhere, so the winner is the largest rate "
            "that does not diverge. With 500 steps many rates reach the same bottom and the curve gets a flat "
            "floor; the choice then depends on which rate overfits least.", key="ov_x_cv_steps")
    with e2:
        ui.experiment(
            "How many folds?",
            "Go from k = 2 to k = 10 folds. Will the error bars (spread over folds) grow or shrink?",
            {f"{P}_cv_k": 10},
            "Each fold now validates on a tenth of the data instead of half, so each fold's score is noisier and "
            "the spread grows, while the mean (over 10 scores, each trained on 90 % of the data) is a steadier "
            "estimate. Ten runs per rate cost five times as much as two.", key="ov_x_cv_k")
    with e3:
        ui.experiment(
            "Adam on the same grid",
            "Switch to Adam. Will the largest learning rates still diverge?",
            {f"{P}_cv_opt": "adam", f"{P}_cv_lo": 0.001, f"{P}_cv_hi": 3.16},
            "Not like SGD: Adam's step per coordinate is about lr whatever the gradient's size, so a large rate "
            "makes it jitter around the minimum rather than blow up, and the stability limit of gradient descent "
            "does not apply. Its best rate is in a different place — every optimizer needs its own search.",
            key="ov_x_cv_adam")


# ----------------------------------------------------------------------------------------------
# 5. Gradient lab
# ----------------------------------------------------------------------------------------------
LAB_KEYS = dict(depth=f"{P}_lab_depth", width=f"{P}_lab_width", activation=f"{P}_lab_act", init=f"{P}_lab_init",
                init_scale=f"{P}_lab_scale", batch_norm=f"{P}_lab_bn", residual=f"{P}_lab_res",
                optimizer=f"{P}_lab_opt", lr=f"{P}_lab_lr", steps=f"{P}_lab_steps")


def set_lab(state, settings: model.LabSettings, then: str | None = "train") -> None:
    """Write ``settings`` into the lab's widget keys; ``then`` = "train" / "compare" runs it on the rerun."""
    for field, key in LAB_KEYS.items():
        state[key] = getattr(settings, field)
    state[f"{P}_lab_clip"] = settings.clip_norm is not None
    if settings.clip_norm is not None:
        state[f"{P}_lab_clipnorm"] = float(settings.clip_norm)
    if then:
        state["ovs_lab_then"] = then


def lab_preset(key: str) -> None:
    p = model.lab_preset(key)
    set_lab(st.session_state, p.settings, then=None)
    st.session_state["ovs_lab_preset"] = key


def lab_settings() -> model.LabSettings:
    """The lab's widgets, drawn here; returns the settings they describe."""
    d = model.LabSettings()
    for field, key in LAB_KEYS.items():
        ui.init_state(key, getattr(d, field))
    ui.init_state(f"{P}_lab_clip", False)
    ui.init_state(f"{P}_lab_clipnorm", 1.0)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        depth = st.slider("hidden layers", 2, 30, step=1, key=LAB_KEYS["depth"])
        width = st.select_slider("units per layer", model.LAB_WIDTHS, key=LAB_KEYS["width"])
        steps = st.select_slider("training steps (mini-batches of 64)", model.LAB_STEPS, key=LAB_KEYS["steps"])
    with c2:
        act = st.selectbox("activation φ", mlp.ACTIVATIONS, key=LAB_KEYS["activation"])
        init = st.selectbox("initialisation", mlp.INITS, key=LAB_KEYS["init"],
                            format_func=lambda k: {"normal": "normal N(0, s²) (naive)", "xavier": "Xavier (Glorot)",
                                                   "he": "He (Kaiming)"}[k])
        scale = st.select_slider("s: std of the naive init", model.LAB_SCALE_OPTIONS, key=LAB_KEYS["init_scale"],
                                 disabled=init != "normal", format_func=lambda v: f"{v:g}")
    with c3:
        bn = st.toggle("batch normalization", key=LAB_KEYS["batch_norm"])
        res = st.toggle("residual connections", key=LAB_KEYS["residual"])
        clip = st.toggle("gradient clipping", key=f"{P}_lab_clip")
        clip_norm = st.select_slider("clip the gradient norm at", model.LAB_CLIP_OPTIONS, key=f"{P}_lab_clipnorm",
                                     disabled=not clip, format_func=lambda v: f"{v:g}")
    with c4:
        opt = st.selectbox("optimizer", ["sgd", "adam"], key=LAB_KEYS["optimizer"],
                           format_func=lambda k: optimizers.info(k).title)
        lr = st.select_slider("learning rate", model.LAB_LR_OPTIONS, key=LAB_KEYS["lr"], format_func=lambda v: f"{v:g}")
    return model.LabSettings(depth=int(depth), width=int(width), activation=act, init=init, init_scale=float(scale),
                          batch_norm=bool(bn), residual=bool(res), optimizer=opt, lr=float(lr),
                          clip_norm=float(clip_norm) if clip else None, steps=int(steps))


def show_lab_result(r: model.LabResult, wanted: model.LabSettings, current: bool) -> None:
    s = r.settings
    if not current:
        st.info(f"Shown: your last run ({s.describe()}). The settings above have changed since — press "
                f"**Train** to run them.", icon="ℹ️")
    elif s.steps < wanted.steps:
        st.info(f"This network is big: to keep training to a few seconds it ran {s.steps} of the {wanted.steps} "
                f"steps you asked for.", icon="⏱️")
    opt_title = optimizers.info(s.optimizer).title
    if r.diverged:
        ui.divergence_box([ui.Divergence(f"{opt_title} (lr = {s.lr:g})", r.diverged_at, r.message)],
                          note="The charts are drawn up to the last finite step.")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("validation accuracy", f"{r.final_val_accuracy:.0%}", help="two balanced classes: 50 % is guessing")
    m2.metric("training loss (end)", fmt(r.final_train_loss), help="cross-entropy; log 2 ≈ 0.693 is guessing")
    m3.metric("‖g₁‖ / ‖g_out‖ at step 0", f"{r.first_to_last:.2g}",
              help="gradient norm of the first layer over that of the output layer: ≪ 1 vanishing, ≫ 1 exploding")
    m4.metric("training time", f"{r.seconds:.1f} s")

    chart(fig.grad_heatmap(r.grad_norms, diverged_at=r.diverged_at,
                             height=440),
          key=f"{P}_fig_heat", title="Gradient norm of every layer at every step (log₁₀)")
    g0, g_last = r.grad_first_step, r.grad_last_step
    st.caption(
        f"At the first step the first layer's gradient norm is {fmt(g0[0])} and the output layer's {fmt(g0[-1])}: "
        f"a ratio of {r.first_to_last:.2g}"
        + (" — the gradient **vanishes** on its way back to the input." if r.first_to_last < 1e-2 else
           " — the gradient **grows** on its way back to the input." if r.first_to_last > 1e2 else
           ", within a factor of 100: the gradient reaches every layer.")
        + f" After {r.steps_done} steps: {fmt(g_last[0])} and {fmt(g_last[-1])}.")
    left, right = st.columns(2)
    with left:
        chart(fig.grad_profile({"step 0": g0, f"step {r.steps_done - 1}": g_last},
                                 height=380), key=f"{P}_fig_profile", title="Gradient norm per layer")
    with right:
        chart(fig.training_curves([(opt_title, r, figures.style.optimizer_meta(s.optimizer))], minibatch=True,
                                    height=380), key=f"{P}_fig_lab_loss")
    st.caption(f"Training loss {fmt(r.train_loss[0])} at the first check and {fmt(r.final_train_loss)} at the end "
               f"(log 2 ≈ 0.693 is a 50/50 guess between the two spirals); validation accuracy "
               f"{r.final_val_accuracy:.0%} after {r.steps_done} steps of {opt_title} (lr = {s.lr:g}).")
    st.subheader("Activations, layer by layer")
    ui.show_figure(fig.activation_histograms(r.bin_edges, r.hist_init, r.hist_end, activation=s.activation,
                                               height=420), key=f"{P}_fig_hist")
    if len(r.act_std):
        ui.show_figure(fig.activation_stats(r.act_std[0], r.act_std[-1], r.act_flat[0], r.act_flat[-1],
                                              flat_label=r.flat_label, height=360), key=f"{P}_fig_act_stats")
        st.caption(f"At the start {r.flat_at_start:.0%} of the activations are {r.flat_label} (averaged over "
                   f"the {s.depth} layers; there φ' is below 10 % of its maximum, so almost no gradient passes); "
                   f"the spread of the last hidden layer is {fmt(r.act_std[0][-1])} against "
                   f"{fmt(r.act_std[0][0])} for the first.")


def show_comparison(runs: list[model.LabResult], wanted: model.LabSettings) -> None:
    base = runs[0]
    if base.settings.steps < wanted.steps:
        st.info(f"All these runs together would take too long: each one trained {base.settings.steps} of the "
                f"{wanted.steps} steps.", icon="⏱️")
    colored = [(r.label, r, fig.FIX_COLORS[i % len(fig.FIX_COLORS)]) for i, r in enumerate(runs)]
    chart(fig.training_curves(colored, height=440), key=f"{P}_fig_compare",
          title=f"Baseline: {base.settings.describe()} — each fix alone")
    rows = [{"run": r.label, "validation accuracy": r.final_val_accuracy, "training loss (end)": r.final_train_loss,
             "‖g₁‖/‖g_out‖ at step 0": r.first_to_last,
             "diverged at step": str(r.diverged_at) if r.diverged else "never", "seconds": r.seconds} for r in runs]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "validation accuracy": st.column_config.NumberColumn(format="percent"),
        "training loss (end)": st.column_config.NumberColumn(format="%.3g"),
        "‖g₁‖/‖g_out‖ at step 0": st.column_config.NumberColumn(format="%.2g"),
        "seconds": st.column_config.NumberColumn(format="%.2f")})
    best = max(runs[1:], key=lambda r: r.final_val_accuracy) if len(runs) > 1 else base
    helped = [r.label.lstrip("+ ") for r in runs[1:] if r.final_val_accuracy >= base.final_val_accuracy + 0.1]
    st.caption(f"Baseline: {base.final_val_accuracy:.0%} validation accuracy"
               + (f", diverged at step {base.diverged_at}" if base.diverged else "")
               + f". Best single fix: {best.label.lstrip('+ ')} ({best.final_val_accuracy:.0%}). "
               + (f"Fixes that gained 10 points or more: {', '.join(helped)}." if helped else
                  "No single fix gained 10 points: try combining them.")
               + f" {sum(r.seconds for r in runs):.1f} s of training in all.")


def section_gradient_lab() -> None:
    st.header("Gradient lab: vanishing and exploding gradients")
    st.markdown("*Why does a deep network sometimes not learn at all, and which of the usual cures — batch "
                "normalization, residual connections, a better initialisation, Adam, gradient clipping — fixes "
                "what?* The network classifies two interleaved spirals (600 training and 300 validation points).")
    cols = st.columns(len(model.LAB_PRESETS))
    for c, p in zip(cols, model.LAB_PRESETS):
        c.button(p.title, key=f"ovb_lab_preset_{p.key}", on_click=lab_preset, args=(p.key,), width="stretch")
    settings = lab_settings()
    preset_key = st.session_state.get("ovs_lab_preset")
    if preset_key and model.lab_preset(preset_key).settings == settings:
        p = model.lab_preset(preset_key)
        st.info(f"**{p.title} — predict first:** {p.question}", icon="🤔")
        with st.expander("What to look for (after you have predicted and trained)"):
            st.markdown(p.look_for)
    b1, b2, _ = st.columns([1, 2, 3])
    train = b1.button("▶ Train", key="ovb_train", type="primary", width="stretch")
    compare = b2.button("⚖ Compare the fixes, one at a time", key="ovb_compare", width="stretch",
                        help="trains the baseline (these settings) and each fix applied alone: batch norm, residual "
                             "connections, ReLU with He init, Adam, clipping")
    then = st.session_state.pop("ovs_lab_then", None)
    try:
        if train or then == "train":
            view.train_lab(settings)
        if compare or then == "compare":
            view.compare_fixes(settings)
    except ValueError as e:   # OptlabError: a setting the engine refuses, said in words
        st.error(f"These settings cannot be trained: {e}")

    result = view.stored_lab(settings)
    shown = result or view.last_lab()
    if shown is None:
        st.info("Choose a preset or settings, predict what the heat map will show, then press **▶ Train** "
                f"({settings.steps} steps take about a second).", icon="▶️")
    else:
        show_lab_result(shown, settings, current=result is not None)

    comparison = view.stored_comparison(settings)
    if comparison:
        st.subheader("Each fix applied alone")
        show_comparison(comparison, settings)

    with st.expander("The maths: why gradients vanish or explode, and what each fix changes"):
        st.latex(model.VANISHING_LATEX)
        st.latex(mlp.BACKPROP_LATEX)
        st.markdown("**Activation** (its derivative is the factor each layer multiplies the gradient by):")
        st.latex(mlp.ACTIVATION_LATEX[settings.activation])
        st.markdown("**Initialisation:**")
        for k in mlp.INITS:
            st.latex(mlp.INIT_LATEX[k])
        st.markdown("**Batch normalization** (torch's `BatchNorm1d`: ε = 10⁻⁵; the running averages use "
                    "`momentum=0.1` as the weight of the *new* batch — the opposite of the textbook's decay 0.9 — "
                    "and the unbiased batch variance):")
        st.latex(mlp.BATCH_NORM_LATEX)
        st.markdown("**Residual connections:**")
        st.latex(model.RESIDUAL_LATEX)
        st.markdown("**Gradient clipping** (torch's `clip_grad_norm_` / `clip_grad_value_`; the 10⁻⁶ is torch's):")
        st.latex(mlp.CLIP_LATEX)
        st.markdown(f"**The optimizer, {optimizers.info(settings.optimizer).title}:**")
        ui.show_update_rule(settings.optimizer)

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    vanishing = model.lab_preset("vanishing").settings
    with e1:
        ui.experiment(
            "Where does the gradient vanish?",
            "20 sigmoid layers, weights N(0, 1). In the heat map, will the first layers (bottom rows) be brighter "
            "or darker than the output layer (top row)?",
            lambda s: set_lab(s, vanishing),
            "Darker, by about four powers of ten: each layer multiplies the backward signal by σ'(u)·W, and most "
            "sigmoid units are saturated (σ' ≈ 0). The loss stays at log 2 and the accuracy at 50 %.",
            key="ov_x_lab_vanish", button="Set it up and train")
    with e2:
        ui.experiment(
            "Batch norm to the rescue",
            "Same network, batch normalization on. Will the first layers now learn?",
            lambda s: set_lab(s, dataclasses.replace(vanishing, batch_norm=True)),
            "Yes: normalizing every layer's pre-activations to mean 0 and variance 1 keeps the sigmoids out of "
            "saturation, the heat map becomes nearly uniform and the accuracy climbs towards 100 %.",
            key="ov_x_lab_bn", button="Set it up and train")
    with e3:
        ui.experiment(
            "Every fix, one at a time",
            "Which single fix rescues the vanishing network: batch norm, residual connections, ReLU + He init, "
            "Adam or clipping? Rank them before you press.",
            lambda s: set_lab(s, vanishing, then="compare"),
            "Batch norm wins here. Residual connections let the gradient reach layer 1 (see ‖g₁‖/‖g_out‖) but "
            "the sum of 20 positive sigmoid outputs makes the logits huge — real ResNets pair them with batch "
            "norm. ReLU + He and Adam learn a little in 300 steps. Clipping changes nothing: it shortens long "
            "gradients and cannot lengthen short ones. Then try the exploding preset and compare again: there "
            "clipping, Adam and batch norm all help.",
            key="ov_x_lab_compare", button="Set it up and compare")


# ----------------------------------------------------------------------------------------------
# 6. Clipping on a cliff
# ----------------------------------------------------------------------------------------------
def section_cliff() -> None:
    st.header("Gradient clipping on a cliff")
    st.markdown("*A loss surface can have a cliff: a narrow wall where the gradient is hundreds of times larger "
                "than anywhere else. What does one gradient step from its edge do — and how does clipping the "
                "gradient's norm keep the optimizer on course?*")
    surface = ui.get_surface(("cliff", ()))
    ui.init_state(f"{P}_cl_opt", "sgd")
    ui.init_state(f"{P}_cl_lr", 0.1)
    ui.init_state(f"{P}_cl_clip", 1.0)
    ui.init_state(f"{P}_cl_steps", 100)
    ui.init_state(f"{P}_cl_start", 0)
    c1, c2, c3, c4, c5 = st.columns(5)
    opt = c1.selectbox("optimizer", ["sgd", "adam"], key=f"{P}_cl_opt", format_func=lambda k: optimizers.info(k).title)
    lr = c2.select_slider("learning rate", model.CLIFF_LR_OPTIONS, key=f"{P}_cl_lr", format_func=lambda v: f"{v:g}")
    clip = c3.select_slider("clip ‖g‖ at", model.CLIFF_CLIP_OPTIONS, key=f"{P}_cl_clip",
                            format_func=lambda v: f"{v:g}")
    steps = c4.slider("steps", 20, 300, step=10, key=f"{P}_cl_steps")
    start = c5.selectbox("start", list(range(len(surface.starts))), key=f"{P}_cl_start",
                         format_func=lambda i: f"({surface.starts[i][0]:g}, {surface.starts[i][1]:g})"
                                               + (" edge" if i == 0 else ""))
    demo = view.cliff_demo(float(lr), float(clip), int(steps), int(start), opt)
    plain, clipped = demo.plain, demo.clipped
    trs = [plain.trajectory, clipped.trajectory]
    ui.divergence_warnings(trs)
    if plain.thrown:
        st.warning(
            f"**{plain.trajectory.label} was thrown off course**: at step {plain.longest_at} the gradient norm was "
            f"{fmt(plain.grad_at_longest)}, so one step moved the point {fmt(plain.longest_step)} units (the window is "
            f"6 wide) and it left the window at step {plain.left_window_at}; after {steps} steps it is still "
            f"{fmt(plain.final_distance)} from the minimum.", icon="🧗")
    if clipped.reached_at >= 0:
        st.success(f"**{clipped.trajectory.label}** never stepped more than {fmt(clipped.longest_step)} and reached "
                   f"the minimum (within {demo.reach_tol:g}) at step {clipped.reached_at}.", icon="✅")
    left, right = st.columns([3, 2])
    with left:
        chart(figures.contour(surface, trs, height=560),
              key=f"{P}_fig_cliff", title="The paths (arrows: where a path leaves the window)")
    with right:
        chart(fig.step_lengths_figure(
   [(plain.trajectory.label, plain.step_lengths, figures.style.optimizer_meta(opt), "solid"),
    (clipped.trajectory.label, clipped.step_lengths, figures.style.optimizer_meta(opt, 1), "dash")],
   height=250), key=f"{P}_fig_steps", title="How far each step moved")
        chart(figures.loss_curves(trs, gap_to=surface.min_value, height=300),
              key=f"{P}_fig_cliff_loss", title="Loss gap f − f*")
    st.caption(
        f"From ({demo.start[0]:g}, {demo.start[1]:g}) with lr = {lr:g}: without clipping the longest step is "
        f"{fmt(plain.longest_step)} (step {plain.longest_at}, where ‖∇f‖ = {fmt(plain.grad_at_longest)}); with the "
        f"norm clipped at {clip:g} no step of {optimizers.info(opt).title} is longer than {fmt(clipped.longest_step)}. "
        f"Final distance to the minimum: {fmt(plain.final_distance)} without clipping, {fmt(clipped.final_distance)} "
        f"with.")
    with st.expander("The surface and the clipping rule"):
        st.latex(surface.latex)
        st.markdown(surface.description)
        st.latex(mlp.CLIP_LATEX)
        st.markdown("Clipping by norm keeps the gradient's **direction** and caps its **length**, so on a cliff the "
                    "step is at most lr·c instead of lr·‖∇f‖. torch: `torch.nn.utils.clip_grad_norm_(params, c)` "
                    "between `loss.backward()` and `optimizer.step()`.")
        ui.show_update_rule(opt)

    st.subheader("Guided experiments")
    e1, e2, e3 = st.columns(3)
    with e1:
        ui.experiment(
            "One step from the edge",
            "SGD, lr = 0.1, starting on the cliff's edge where ‖∇f‖ ≈ 253. How far will the first unclipped step go?",
            {f"{P}_cl_opt": "sgd", f"{P}_cl_lr": 0.1, f"{P}_cl_clip": 1.0, f"{P}_cl_start": 0, f"{P}_cl_steps": 100},
            "lr·‖∇f‖ ≈ 25 units — four times the window's width. The bowl's slope is at most 1, so the walk back "
            "takes far more than 100 steps. The clipped run's first step is 0.1 long, it steps over the wall and "
            "reaches the minimum.", key="ov_x_cl_edge")
    with e2:
        ui.experiment(
            "Can a small learning rate replace clipping?",
            "No clipping needed if lr = 0.005? Predict where the unclipped run ends after 100 steps.",
            {f"{P}_cl_opt": "sgd", f"{P}_cl_lr": 0.005, f"{P}_cl_clip": 1.0, f"{P}_cl_start": 0, f"{P}_cl_steps": 100},
            "The cliff's step shrinks to about 1.3, so the point stays in view — but every other step is tiny too: "
            "after 100 steps neither run is near the minimum. Clipping limits only the rare huge steps and leaves "
            "the learning rate large everywhere else.", key="ov_x_cl_small")
    with e3:
        ui.experiment(
            "Adam on the cliff",
            "Adam divides by a running RMS of the gradient. Does it need clipping here?",
            {f"{P}_cl_opt": "adam", f"{P}_cl_lr": 0.1, f"{P}_cl_clip": 1.0, f"{P}_cl_start": 0, f"{P}_cl_steps": 100},
            "Hardly: Adam's first step is about lr in each coordinate whatever the gradient's size (m̂/√v̂ ≈ ±1), so "
            "the cliff cannot throw it. Clipped and unclipped runs nearly coincide — one reason Adam is listed "
            "among the cures for exploding gradients.", key="ov_x_cl_adam")


# ----------------------------------------------------------------------------------------------
# Only the shown section computes
# ----------------------------------------------------------------------------------------------
RENDER = dict(zip(SECTIONS, (section_overfitting, section_regularization, section_early_stopping,
                             section_learning_rate, section_gradient_lab, section_cliff)))
RENDER.get(section, section_overfitting)()
