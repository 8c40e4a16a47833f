"""Chapter: Loss functions -- the catalogue, the outlier lab, loss ↔ optimizer coupling, why cross-entropy.

Each section is an ``st.fragment``: moving one of its widgets reruns that section only.
"""
import streamlit as st

from optlab import format as fmt
from optlab import losses, optimizers, specs, ui
from optlab.chapters import loss_functions as model
from optlab.ui import loss_functions as view

ui.page_config("Loss functions")
ui.page_header(
    "Loss functions",
    "Which loss should a model minimise, and how does that choice change what the optimizer does?",
    "A loss turns *how wrong one prediction is* into a number; training minimises its mean over the data. "
    "The loss decides **which** model is best (the minimum) and **what the way there looks like** to the optimizer "
    "(the surface's shape and its gradients). This page shows both.",
)

FIRST_ORDER = list(optimizers.FIRST_ORDER)
OPT_TITLE = {n: optimizers.info(n).title for n in FIRST_ORDER}
DIAB, BC = "diabetes", "breast_cancer"


def loss_title(name):
    return losses.get(name).title


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------------------------
def taxonomy():
    st.header("Two families of losses")
    st.markdown(
        "The seed article sorts losses into **continuous** ones (均方误差 MSE, 均方根误差 RMSE …) and **discrete** ones "
        "(交叉熵 cross-entropy, \"一hot编码损失\", *one-hot encoding loss*). In today's words: **regression losses** "
        "compare a real-valued prediction ŷ with a real target y through the residual r = ŷ − y; **classification "
        "losses** compare a score (logit) s with a class label through the margin m = t·s. The article's "
        "\"one-hot encoding loss\" is not a separate loss: it is **cross-entropy written with one-hot targets**."
    )
    oh = model.one_hot_demo()
    st.latex(losses.get("cross_entropy").latex)
    st.caption(
        f"Check on three samples and three classes (labels {oh.labels.tolist()}): cross-entropy computed from the "
        f"class labels = **{oh.with_labels:.6f}**, computed from the one-hot rows {oh.targets.astype(int).tolist()} "
        f"= **{oh.with_one_hot:.6f}**. The same loss: a one-hot row only picks −log p of the true class "
        f"({', '.join(f'{v:.3f}' for v in oh.neg_log_p_true)})."
    )
    st.dataframe(view.loss_table(), hide_index=True, height=35 * (len(losses.names()) + 1) + 3,
                 column_order=["loss", "article's class", "curve over", "convex", "PyTorch"])


@st.fragment
def catalogue():
    st.header("1 · The catalogue")
    st.markdown("Each curve is the loss of **one** sample; the training loss is its mean over the data. "
                "The derivative is the force with which that sample pulls on the model.")
    ui.init_state("lf_delta", 1.0)
    ui.init_state("lf_q", 0.5)
    ui.init_state("lf_gamma", 2.0)
    s1, s2, s3 = st.columns(3)
    with s1:
        delta = st.slider("Huber δ", 0.1, 3.0, step=0.1, key="lf_delta", help=losses.get("huber").param_info["delta"])
    with s2:
        q = st.slider("quantile q", 0.05, 0.95, step=0.05, key="lf_q", help=losses.get("quantile").param_info["q"])
    with s3:
        gamma = st.slider("focal γ", 0.0, 5.0, step=0.5, key="lf_gamma", help=losses.get("focal").param_info["gamma"])
    facts = model.parameter_facts(delta, q, gamma)

    tab_r, tab_c = st.tabs(["Regression: over the residual r = ŷ − y", "Classification: over the margin m = t·s"])
    with tab_r:
        ui.show_figure(view.fig_catalogue("regression", delta, q, gamma), key="lf_cat_reg")
        st.caption(
            f"Huber with δ = {delta:g}: quadratic for |r| ≤ {delta:g}, linear beyond; however far away an outlier is, "
            f"it pulls with a force of at most {facts['huber_pull']:g} (MSE pulls with {facts['mse_pull_at_10']:g} at "
            f"r = 10). Quantile with q = {q:g}: under-predicting by 1 costs {facts['quantile_ratio']:.3g}× as much as "
            "over-predicting by 1. RMSE per sample is |r| (dotted, on top of MAE): it differs from MAE only once "
            "averaged."
        )
    with tab_c:
        ui.show_figure(view.fig_catalogue("classification", delta, q, gamma), key="lf_cat_cls")
        st.caption(
            f"Focal with γ = {gamma:g}: an example the model already gets right with p = {facts['p']:g} keeps "
            f"{facts['focal_factor']:.3g}× of its BCE loss. Hinge is exactly 0 beyond the margin m = 1. Two-class "
            "cross-entropy on m = s_true − s_other is BCE (dotted, on top)."
        )

    st.subheader("Formulas, derivatives and when to use each")
    cards = st.columns(2)
    every = model.catalogue("regression", delta, q, gamma) + model.catalogue("classification", delta, q, gamma)
    for i, L in enumerate(every):
        kind = "regression" if L.kind == "regression" else "classification"
        with cards[i % 2].expander(f"{L.label} — {kind}", expanded=i < 2):
            st.latex(L.latex)
            st.latex(L.grad_latex)
            st.markdown(L.when_to_use)
            for p, meaning in L.param_info.items():
                st.caption(f"{p}: {meaning}")
            st.caption(f"PyTorch: `{L.torch_equivalent}`" + (f" · {L.reference}" if L.reference else ""))

    ui.experiment(
        "Huber between MSE and MAE",
        "Set δ to its smallest value, 0.1. Which other loss will Huber's curve and derivative look like? And at δ = 3?",
        {"lf_delta": 0.1},
        "At δ = 0.1 the quadratic part is tiny: Huber is δ·|r| − δ²/2, a scaled MAE, and its derivative a step of "
        "height ±δ. Slide δ up to 3 and the quadratic part covers the whole plotted range: Huber becomes ½·r², half "
        "of MSE, whose derivative is the straight line r.",
        key="lf_exp_delta",
    )


@st.fragment
def outlier_lab():
    st.header("2 · Outlier lab: how much does the choice of loss matter?")
    st.markdown(
        "The seed article's FAQ asks *损失函数的选择对模型性能有多大影响?* (how much does the choice of loss affect the "
        "model?) and answers \"a lot\". Here is how much, measured: a line ŷ = w·x + b fitted to 40 noisy points "
        "under MSE, MAE and Huber at once, while you add outliers and move them."
    )
    ui.init_state("lf_out_count", 4)
    ui.init_state("lf_out_size", 4.0)
    ui.init_state("lf_out_side", "up")
    ui.init_state("lf_lab_delta", 1.0)
    ui.init_state("lf_lab_opt", "sgd")
    ui.init_state("lf_lab_steps", 150)
    cc = st.columns(4)
    with cc[0]:
        count = st.slider("number of outliers", 0, 10, key="lf_out_count")
    with cc[1]:
        size = st.slider("outlier size (× std of y)", 0.0, 8.0, step=0.5, key="lf_out_size")
    with cc[2]:
        side = st.radio("pushed", ["up", "down", "both"], key="lf_out_side", horizontal=True,
                        help="up / down: every outlier on that side; both: random sides")
    with cc[3]:
        delta = st.select_slider("Huber δ (lab)", options=[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0],
                                 key="lf_lab_delta")
    co = st.columns(3)
    with co[0]:
        opt = st.selectbox("optimizer", FIRST_ORDER, key="lf_lab_opt", format_func=OPT_TITLE.get)
    with co[1]:
        hyper = ui.optimizer_controls(opt, "lf_lab", defaults={"lr": 0.1})
    with co[2]:
        steps = st.slider("steps", 10, 500, step=10, key="lf_lab_steps")

    lab_specs = view.lab_specs(count, size, side, delta)
    clean = view.clean_fit()
    fits = {n: view.minimum(s) for n, s in lab_specs.items()}
    names = {"mse": "MSE", "mae": "MAE", "huber": f"Huber (δ = {delta:g})"}
    moved = {n: model.shift(fits[n], clean) for n in lab_specs}
    order = sorted(moved, key=moved.get)

    left, right = st.columns([1, 1])
    with left:
        ui.show_figure(view.fig_outliers(count, size, side, delta), key="lf_lab_fit")
    with right:
        st.markdown("**How far each fitted line moved from the clean fit** (distance in the (w, b) plane):")
        mc = st.columns(3)
        for col, n in zip(mc, model.LAB_LOSSES):
            col.metric(names[n], f"{moved[n]:.3f}", help=f"fitted w = {fits[n][0]:.3f}, b = {fits[n][1]:.3f}; "
                                                         f"clean fit w = {clean[0]:.3f}, b = {clean[1]:.3f}")
        if count == 0 or size == 0:
            st.caption("No outliers: the three losses fit almost the same line. Add some with the sliders.")
        else:
            ratio = (f" — {moved[order[-1]] / moved[order[0]]:.1f}× as far as {names[order[0]]}"
                     if moved[order[0]] > 1e-9 else "")
            st.caption(
                f"With {plural(count, 'outlier')} of size {size:g}·std(y) (pushed {side}): {names[order[-1]]} moved "
                f"most ({moved[order[-1]]:.3f}), {names[order[0]]} least ({moved[order[0]]:.3f}){ratio}. That is the "
                "answer to the FAQ: on clean data the choice hardly matters; with outliers it decides which line you "
                "get. A squared loss lets a far point pull in proportion to its distance, MAE and Huber cap the pull."
            )
        err = ui.hyper_error(opt, hyper)
        if err:
            st.error(f"These hyperparameters are not allowed: {err}")
            return
        run = specs.run_tuple(opt, hyper, view.corner_start(lab_specs["mse"][3]), steps)
        ui.divergence_warnings([view.run_of(s, run) for s in lab_specs.values()],
                               labels=[f"{OPT_TITLE[opt]} on {names[n]}" for n in lab_specs])

    st.markdown(f"**The three loss surfaces over (w, b)**, one {OPT_TITLE[opt]} path on each "
                f"(lr = {hyper['lr']:g}, {steps} steps, same start):")
    pc = st.columns(3)
    for col, (n, s) in zip(pc, lab_specs.items()):
        with col:
            tr = view.run_of(s, run)
            st.markdown(f"**{names[n]}**")
            ui.show_figure(view.fig_surface(s, ((None, None, run),), height=360), key=f"lf_lab_s_{n}")
            st.caption(f"minimum at w = {fits[n][0]:.3f}, b = {fits[n][1]:.3f}; after {steps} steps the path is "
                       + ("lost (diverged)." if tr.diverged else f"{view.distance(s, tr.final_x):.3g} away from it."))

    ex = st.columns(2)
    with ex[0]:
        ui.experiment(
            "Outliers drag MSE",
            "Six points pushed 6·std(y) up. Which of the three lines will move most, and which will hardly move?",
            {"lf_out_count": 6, "lf_out_size": 6.0, "lf_out_side": "up", "lf_lab_delta": 1.0},
            "MSE's line is lifted towards the outliers and its minimum moves far on the surface; MAE and Huber stay "
            "with the bulk of the points. Compare the three numbers: their ratio is what \"the choice of loss "
            "matters\" means here.",
            key="lf_exp_outliers",
        )
    with ex[1]:
        ui.experiment(
            "Huber with a huge δ",
            "Keep the outliers and set Huber's δ to 50. Which line will Huber's coincide with?",
            {"lf_out_count": 6, "lf_out_size": 6.0, "lf_out_side": "up", "lf_lab_delta": 50.0},
            "With δ larger than every residual, Huber is ½·r² everywhere: half of MSE, the same minimum, so its "
            "line lies on MSE's and its surface is MSE's, halved. δ is the size of residual you are willing to call "
            "normal.",
            key="lf_exp_bigdelta",
        )


@st.fragment
def coupling():
    st.header("3 · Loss ↔ optimizer: same data, same optimizer, another loss")
    st.markdown("The loss also decides what the optimizer sees: the surface's curvature, its kinks, whether the "
                "gradient shrinks near the minimum. Keep the data and the optimizer; switch the training loss.")
    ui.init_state("lf_cp_feature", "bmi")
    ui.init_state("lf_cp_loss", "mse")
    ui.init_state("lf_cp_delta", 1.0)
    ui.init_state("lf_cp_q", 0.5)
    ui.init_state("lf_cp_opt", "sgd")
    ui.init_state("lf_cp_steps", 200)
    k = st.columns(4)
    with k[0]:
        feat = st.selectbox("diabetes feature x", view.feature_names(DIAB), key="lf_cp_feature",
                            help=view.dataset_description(DIAB))
    with k[1]:
        loss = st.selectbox("training loss", list(losses.REGRESSION), key="lf_cp_loss", format_func=loss_title)
        params = ()
        if loss == "huber":
            params = (("delta", float(st.slider("δ", 0.1, 3.0, step=0.1, key="lf_cp_delta"))),)
        elif loss == "quantile":
            params = (("q", float(st.slider("q", 0.05, 0.95, step=0.05, key="lf_cp_q"))),)
    with k[2]:
        opt = st.selectbox("optimizer", FIRST_ORDER, key="lf_cp_opt", format_func=OPT_TITLE.get)
        hyper = ui.optimizer_controls(opt, "lf_cp", defaults={"lr": 0.1})
    with k[3]:
        steps = st.slider("steps", 20, 600, step=20, key="lf_cp_steps")
    err = ui.hyper_error(opt, hyper)
    if err:
        st.error(f"These hyperparameters are not allowed: {err}")
        return

    data_spec = ("feature", DIAB, feat, True)
    spec = (data_spec, loss, params, None)
    run = specs.run_tuple(opt, hyper, view.corner_start(view.surface(spec).window), steps)
    tr = view.run_of(spec, run)
    others = tuple((n, (data_spec, n, params if n == loss else (), None)) for n in losses.REGRESSION)
    L = losses.get(loss, **dict(params))
    f1, f2 = st.columns(2)
    with f1:
        st.markdown(f"**{L.label} of ŷ = w·x + b, x = {feat}** (target standardized)")
        ui.show_figure(view.fig_surface(spec, ((None, None, run),), height=430, colorbar=True), key="lf_cp_surface")
    with f2:
        st.markdown(f"**{OPT_TITLE[opt]} (lr = {hyper['lr']:g}) on every regression loss**, same data and start")
        ui.show_figure(view.fig_relative_gap(others, run, None), key="lf_cp_gaps")
    # every loss's run is drawn on the right: any of them that diverged is named (its gap is "—")
    ui.divergence_warnings([view.run_of(s_n, run) for n, s_n in others],
                           labels=[f"{OPT_TITLE[opt]} on {loss_title(n)}" for n, s_n in others])
    left = {n: view.relative_final_gap(s, view.run_of(s, run)) for n, s in others}
    ranked = sorted(left, key=left.get)
    st.latex(L.latex)
    st.caption(
        f"{OPT_TITLE[opt]} on {L.label}: after {steps} steps f − f* = {fmt.number(view.gap(spec, tr.final_loss))}, "
        f"{fmt.number(view.distance(spec, tr.final_x))} from the minimum. Share of the initial gap left after {steps} "
        "steps with the same optimizer, learning rate and start: "
        + ", ".join(f"{loss_title(n)} {fmt.number(left[n], 2)}" for n in ranked)
        + ". Smooth, curved losses (MSE, log-cosh, Huber near its minimum) let the gradient shrink as the path "
          "arrives; piecewise-linear ones (MAE, quantile) keep a constant pull, so with a fixed learning rate the "
          "path overshoots and zig-zags around the kink and its curve stalls."
    )
    with st.expander(f"{OPT_TITLE[opt]}'s update rule (torch.optim) and where torch differs from the textbook"):
        ui.show_update_rule(opt)

    ui.experiment(
        "MAE and a fixed learning rate",
        "Plain SGD (full batch), lr 0.1, on MAE. Will the path settle on the minimum, as it does on MSE?",
        {"lf_cp_loss": "mae", "lf_cp_opt": "sgd", "lf_cp_lr": 0.1, "lf_cp_steps": 200},
        "No: MAE's gradient is a mean of signs, so its size does not shrink near the minimum; with a constant lr every "
        "step has about the same length and the path rattles around the kink (its relative gap stalls). MSE's "
        "gradient is proportional to the distance, so its steps shrink by themselves. Switch the optimizer to Adam: "
        "it rescales the step, but only a decaying learning rate settles MAE exactly.",
        key="lf_exp_mae",
    )


@st.fragment
def why_cross_entropy():
    st.header("4 · Why cross-entropy for classification")
    st.markdown(
        "Logistic regression on a real data set (breast-cancer diagnosis from one cell-nucleus measurement): "
        "p = σ(w·x + b). Train it with binary cross-entropy, or with MSE on the probability p, which looks just as "
        "reasonable. The two surfaces differ where it matters: at a confidently **wrong** model."
    )
    ui.init_state("lf_ce_feature", "mean radius")
    ui.init_state("lf_ce_lr", 0.5)
    ui.init_state("lf_ce_steps", 300)
    ui.init_state("lf_ce_start", "confidently wrong")
    h = st.columns(4)
    with h[0]:
        feat = st.selectbox("feature x", view.feature_names(BC), key="lf_ce_feature", help=view.dataset_description(BC))
    with h[1]:
        lr = st.select_slider("lr (plain gradient descent)", options=[0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0],
                              key="lf_ce_lr")
    with h[2]:
        steps = st.slider("steps", 20, 1000, step=20, key="lf_ce_steps")
    with h[3]:
        start_kind = st.radio("start", ["confidently wrong", "at the origin"], key="lf_ce_start")

    data_spec = ("feature", BC, feat, False)
    pair = {n: (data_spec, n, (), None) for n in ("bce", "mse")}
    labels = {"bce": "binary cross-entropy", "mse": "MSE on p = σ(s)"}
    start = view.surface(pair["bce"]).starts[0] if start_kind == "confidently wrong" else (0.0, 0.0)
    run = specs.run_tuple("sgd", {"lr": lr}, start, steps)
    runs = {n: view.run_of(s, run) for n, s in pair.items()}
    pcols = st.columns(2)
    for col, (n, s) in zip(pcols, pair.items()):
        with col:
            st.markdown(f"**{labels[n]}**")
            ui.show_figure(view.fig_surface(s, ((f"gradient descent, lr = {lr:g}", None, run),), height=400,
                                           colorbar=True), key=f"lf_ce_s_{n}")
    ui.divergence_warnings(list(runs.values()), labels=[f"gradient descent (lr = {lr:g}) on {labels[n]}" for n in runs])
    g0 = {n: view.grad_norm(s, start) for n, s in pair.items()}
    acc = {n: view.accuracy(s, runs[n].final_x) for n, s in pair.items()}
    pmin, pmax = view.probability_range(pair["bce"], start)
    mc = st.columns(4)
    mc[0].metric("‖∇L‖ at the start, BCE", f"{g0['bce']:.3g}")
    mc[1].metric("‖∇L‖ at the start, MSE on p", f"{g0['mse']:.3g}")
    mc[2].metric(f"accuracy after {steps} steps, BCE", f"{acc['bce']:.1%}")
    mc[3].metric(f"accuracy after {steps} steps, MSE on p", f"{acc['mse']:.1%}")
    st.caption(
        f"At the start (w = {start[0]:.3g}, b = {start[1]:.3g}) the model's probabilities range from {pmin:.3g} to "
        f"{pmax:.3g}. There MSE on p has a gradient {g0['bce'] / max(g0['mse'], 1e-300):.3g}× smaller than BCE's: "
        "σ′(s) = p(1 − p) multiplies it and is ≈ 0 where the model is sure, so gradient descent crawls over a "
        "plateau. MSE on p is not convex either (flat shelves, see its contours), while BCE is convex in (w, b)."
    )
    wrong_s = -4.0
    gs = model.sample_gradients(wrong_s)
    ui.show_figure(view.fig_per_sample(wrong_s, tuple(labels.items())), key="lf_ce_sample")
    st.latex(losses.get("bce").grad_latex)
    st.caption(
        f"One example with y = 1 and score s = {wrong_s:g} (the model says P(y = 1) = σ({wrong_s:g}): confidently "
        f"wrong): d loss/ds = {gs['bce']:.3f} for BCE, {gs['mse']:.4f} for MSE on p, {gs['bce'] / gs['mse']:.0f}× "
        "weaker. BCE's gradient is σ(s) − y, which tends to −1 the more wrong the model is; MSE's is "
        "2(p − y)·p(1 − p), which tends to 0."
    )
    ui.experiment(
        "Start confidently wrong",
        "Both losses start from the same confidently wrong model (slope of the wrong sign), lr 0.5, 300 steps. "
        "Which one gets the classifier right?",
        {"lf_ce_feature": "mean radius", "lf_ce_start": "confidently wrong", "lf_ce_lr": 0.5, "lf_ce_steps": 300},
        "BCE walks straight to its minimum, and its accuracy is the best this one-feature model gets. MSE on p "
        "starts on a plateau with a tiny gradient and is still far away after the same number of steps: its "
        "accuracy is that of always answering the majority class. Raise lr to 2 and MSE gets there too, because the "
        "larger step makes up for the tiny gradient; BCE did not need it. Its curvature is at most 1/4 per unit of "
        "x², so it tolerates large steps.",
        key="lf_exp_ce",
    )


taxonomy()
catalogue()
outlier_lab()
coupling()
why_cross_entropy()
