"""Chapter: Gradient-descent variants -- batch, mini-batch and stochastic; learning rates and schedules;
the seed article's code, what is wrong with it and the corrected version.

Each section is an ``st.fragment``: moving one of its widgets reruns that section only.
"""
import streamlit as st

from optlab import losses, schedules, specs, ui
from optlab.chapters import gradient_descent as model
from optlab.figures import gradient_descent as fig
from optlab.ui import gradient_descent as view

ui.page_config("Gradient-descent variants")
ui.page_header(
    "Gradient-descent variants",
    "How much of the data should each gradient step look at, and how large should the step be?",
    "Batch gradient descent, stochastic gradient descent (SGD) and mini-batch SGD use the same update rule; they "
    "differ in how many samples estimate the gradient. Here they race on the same real loss surface: a line "
    "ŷ = w·x + b fitted by MSE to the diabetes data set, whose exact minimum, the least-squares solution, is known.",
)

DIAB = "diabetes"
V = fig.VARIANTS  # the SGD variant (colour) of each setting, the same in every figure of the page
F = model.FORMULAS

with st.expander("The formulas (the seed article's sections 3.1–3.3 announce them and then show nothing)",
                 expanded=False):
    st.latex(F["objective"])
    st.markdown("**Batch gradient descent** (the article's 3.1 梯度下降法 and 3.3 批量梯度下降法 are this same method):")
    st.latex(F["gd"])
    st.markdown("**Stochastic gradient descent** (3.2 随机梯度下降法), one random sample per step:")
    st.latex(F["sgd"])
    st.markdown("**Mini-batch SGD**, b random samples per step; its gradient is right on average:")
    st.latex(F["minibatch"])
    st.latex(F["unbiased"])
    st.markdown("**Newton's method** (3.4 牛顿法), for comparison:")
    st.latex(F["newton"])
    st.markdown("All three first-order variants are `torch.optim.SGD`; only the data fed to each step differs:")
    ui.show_update_rule("sgd")


def mse_spec(feature: str) -> tuple:
    return (("feature", DIAB, feature, False), "mse", (), None)


# ----------------------------------------------------------------------------------------------
@st.fragment
def variants():
    st.header("1 · Batch, mini-batch and stochastic on one surface")
    ui.init_state("gd_feature", "bmi")
    ui.init_state("gd_lr", 0.1)
    ui.init_state("gd_batch", 16)
    ui.init_state("gd_epochs", 5)
    ui.init_state("gd_seed", 0)
    c = st.columns(5)
    with c[0]:
        feat = st.selectbox("feature x (standardized)", view.feature_names(DIAB), key="gd_feature",
                            help=view.dataset_description(DIAB))
    with c[1]:
        lr = st.select_slider("lr (same for all three)", options=[0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5],
                              key="gd_lr")
    with c[2]:
        b = st.select_slider("mini-batch size b", options=[2, 4, 8, 16, 32, 64, 128, 256], key="gd_batch")
    with c[3]:
        epochs = st.slider("epochs (passes over the data)", 1, 10, key="gd_epochs")
    with c[4]:
        seed = st.number_input("seed (which samples are drawn)", 0, 10_000, step=1, key="gd_seed")

    spec = mse_spec(feat)
    n = view.surface(spec).n_samples
    star = view.minimum(spec)
    start = view.corner_start(view.surface(spec).window)
    variants_ = (
        ("batch GD (b = N)", V["batch"], specs.run_tuple("sgd", {"lr": lr}, start, epochs)),
        (f"mini-batch (b = {b})", V["minibatch"],
         specs.run_tuple("sgd", {"lr": lr}, start, model.epochs_to_steps(epochs, b, n), batch_size=b, seed=seed)),
        ("SGD (b = 1)", V["sgd"], specs.run_tuple("sgd", {"lr": lr}, start, model.epochs_to_steps(epochs, 1, n),
                                                batch_size=1, seed=seed)),
    )
    trs = {label: view.run_of(spec, r) for label, _, r in variants_}
    f1, f2 = st.columns([2, 3])
    with f1:
        st.markdown(f"**MSE of ŷ = w·x + b over (w, b), x = {feat}**")
        ui.show_figure(view.fig_surface(spec, variants_, height=470,
                                       extra_points=(("closed form (np.linalg.lstsq)", star),)), key="gd_var_surface")
    with f2:
        st.markdown("**Progress at equal cost**")
        ui.show_figure(view.fig_variants_curves(spec, variants_), key="gd_var_curves")
    ui.divergence_warnings(list(trs.values()))
    rows = []
    for (label, _, r), tr in zip(variants_, trs.values()):
        rows.append(f"{label}: {tr.steps} step{'s' if tr.steps != 1 else ''}, final f − f* = "
                    f"{view.gap(spec, tr.final_loss):.4g}, last 10 % of steps average {view.tail_gap(spec, tr):.4g}")
    st.caption(
        f"Target: the least-squares line w* = {star[0]:.4g}, b* = {star[1]:.4g} (f* = {view.min_value(spec):.5g}; "
        f"N = {n} patients). In {epochs} epoch{'s' if epochs != 1 else ''}, with lr = {lr:g} — "
        + "; ".join(rows) + ". Batch GD takes one exact step per epoch; SGD takes N noisy ones. Each variant spends "
        "the same number of sample gradients per epoch, so the right-hand panel compares them at equal cost. The "
        "smaller the batch, the larger the jitter that remains near the minimum (the mini-batch gradient's variance "
        "falls like 1/b)."
    )
    st.latex(losses.get("mse").latex)
    st.latex(F["epochs"])
    ex = st.columns(2)
    with ex[0]:
        ui.experiment(
            "One pass over the data",
            "One epoch each, lr 0.1. Which variant ends closest to the least-squares point: batch GD, mini-batch "
            "(b = 16) or SGD?",
            {"gd_epochs": 1, "gd_lr": 0.1, "gd_batch": 16},
            "Batch GD has taken a single step and is still far away. Mini-batch and SGD have taken 28 and 442 steps "
            "for the same 442 sample gradients and are already near the minimum. Per unit of computation, noisy "
            "steps win early; this is why deep learning trains with mini-batches.",
            key="gd_exp_epoch",
        )
    with ex[1]:
        ui.experiment(
            "Noise near the minimum",
            "Raise the learning rate to 0.3 with 5 epochs. Which paths will keep jumping around the minimum?",
            {"gd_lr": 0.3, "gd_epochs": 5, "gd_batch": 16},
            "Batch GD converges smoothly (its error shrinks by |1 − 0.3·2| = 0.4 per step). SGD does not settle: a "
            "constant lr times a noisy gradient keeps it in a cloud whose size grows with lr and shrinks with b. "
            "Its loss curve flattens at a noise floor instead of falling further. Section 2 shows the cure.",
            key="gd_exp_noise",
        )


PRESETS = ["too small", "good", "oscillating", "diverging", "custom"]


@st.fragment
def learning_rates():
    st.header("2 · Learning rates: too small, good, oscillating, diverging")
    ui.init_state("gd_preset", "good")
    ui.init_state("gd_lr_custom", 0.3)
    ui.init_state("gd_lr_steps", 80)
    spec = mse_spec("bmi")
    cv = view.curvature(spec)
    st.markdown("Batch gradient descent on the MSE of diabetes vs bmi. The presets are computed from the surface's "
                "curvature, so they mean the same on any data.")
    c = st.columns([3, 1, 1])
    with c[0]:
        preset = st.radio("learning-rate preset (batch gradient descent)", PRESETS, key="gd_preset", horizontal=True,
                          format_func=lambda p: p if p == "custom" else f"{p} (lr = {cv.presets[p]:g})")
    with c[1]:
        custom = st.number_input("custom lr", 0.0, 10.0, step=0.05, key="gd_lr_custom", format="%g",
                                 disabled=preset != "custom")
    with c[2]:
        steps = st.slider("steps", 20, 200, step=10, key="gd_lr_steps")
    lr = float(custom) if preset == "custom" else cv.presets[preset]
    start = view.corner_start(view.surface(spec).window)
    run = specs.run_tuple("sgd", {"lr": lr}, start, steps)
    tr = view.run_of(spec, run)
    st.latex(F["stability"])
    rho = view.contraction(spec, lr)
    if not ui.divergence_warnings([tr]) and rho > 1:
        st.warning(f"**lr = {lr:g} is above the stability limit 2/λ_max = {cv.critical:.4g}**: the error grows "
                   f"×{rho:.3g} per step. After {steps} steps the run has not left the region yet; with more steps "
                   "it will.", icon="💥")
    f1, f2 = st.columns([2, 3])
    with f1:
        ui.show_figure(view.fig_surface(spec, ((f"batch GD, lr = {lr:g}", V["batch"], run),), height=430,
                                       extra_points=(("closed form", view.minimum(spec)),)),
                       key="gd_lr_surface")
    with f2:
        ui.show_figure(view.fig_lr_curve(spec, ((f"lr = {lr:g}", V["batch"], run),)), key="gd_lr_curve")
    verdict = ("the first step lands on the minimum: with equal curvatures lr = 1/λ is exactly Newton's step"
               if rho < 1e-9 else
               "the error grows every step: the run diverges" if rho > 1 else
               "the error flips sign every step (overshoot) while it shrinks" if lr * cv.lam_max > 1 else
               "the error shrinks without overshooting")
    st.caption(
        f"Here the Hessian of the MSE, 2·mean(x̃ x̃ᵀ) with x̃ = (x, 1), has eigenvalues λ_min = {cv.lam_min:.4g} and "
        f"λ_max = {cv.lam_max:.4g} (equal because x is standardized), so gradient descent is stable for lr < 2/λ_max = "
        f"{cv.critical:.4g}. With lr = {lr:g} = {lr / cv.critical:.3g}× that limit the error is multiplied by "
        f"max|1 − lr·λ| = {0 if rho < 1e-9 else rho:.3g} per step: {verdict}."
        + (f" The run was stopped at step {tr.diverged_at}." if tr.diverged else
           f" After {steps} steps f − f* = {view.gap(spec, tr.final_loss):.3g}.")
    )
    ui.experiment(
        "Past the limit",
        f"Choose \"diverging\": lr = {cv.presets['diverging']:g}, 20 % above the stability limit. Will the loss "
        "still fall for a while before it blows up, or rise from the first step?",
        {"gd_preset": "diverging", "gd_lr_steps": 80},
        "It rises from the first step: every step multiplies the error by the same factor |1 − lr·λ| > 1, so there "
        "is no good phase first. The path zig-zags across the minimum with growing amplitude until the run leaves "
        "the region and is stopped (the warning names the step). Compare \"oscillating\": the same zig-zag, shrinking.",
        key="gd_exp_diverge",
    )

    st.subheader("Learning-rate schedules and SGD's noise near the minimum")
    st.markdown("A constant learning rate leaves SGD jittering in a cloud around the minimum (section 1). "
                "Decaying the learning rate shrinks the cloud: the same draws of samples, only the step size changes.")
    ui.init_state("gd_sched", "cosine")
    ui.init_state("gd_sched_bs", 1)
    ui.init_state("gd_sched_lr", 0.1)
    ui.init_state("gd_sched_epochs", 3)
    s = st.columns(4)
    with s[0]:
        sname = st.selectbox("schedule", [n for n in schedules.names() if n != "constant"], key="gd_sched",
                             format_func=lambda n: schedules.get(n).title)
    with s[1]:
        sbs = st.select_slider("batch size", options=[1, 2, 4, 8, 16, 32, 64], key="gd_sched_bs")
    with s[2]:
        slr = st.select_slider("base lr γ₀", options=[0.01, 0.03, 0.1, 0.2, 0.3], key="gd_sched_lr")
    with s[3]:
        sep = st.slider("epochs", 1, 6, key="gd_sched_epochs")
    n = view.surface(spec).n_samples
    ssteps = model.epochs_to_steps(sep, sbs, n)
    sspec = model.schedule_spec(sname, ssteps)
    sched = model.schedule_object(sspec)
    pair = (("SGD, constant lr", V["constant"], specs.run_tuple("sgd", {"lr": slr}, start, ssteps, batch_size=sbs, seed=0)),
            (f"SGD, {sched.title.lower()}", V["scheduled"],
             specs.run_tuple("sgd", {"lr": slr}, start, ssteps, batch_size=sbs, seed=0, schedule=sspec)))
    ptrs = [view.run_of(spec, r) for _, _, r in pair]
    ui.divergence_warnings(ptrs)
    st.latex(sched.latex)
    zoom = view.zoom_window(spec, ptrs)
    z1, z2 = st.columns([2, 3])
    with z1:
        st.markdown("**Near the minimum** (the window holds the last half of each run)")
        ui.show_figure(view.fig_surface(spec, pair, height=430, window=zoom,
                                       extra_points=(("closed form", view.minimum(spec)),)),
                       key="gd_sched_surface")
    with z2:
        st.markdown("**Loss and learning rate against step**")
        ui.show_figure(view.fig_schedule(spec, pair), key="gd_sched_curves")
    tc, ts = view.tail_gap(spec, ptrs[0]), view.tail_gap(spec, ptrs[1])
    st.caption(
        f"SGD with batch size {sbs}, {ssteps} steps ({sep} epoch{'s' if sep != 1 else ''}), base lr {slr:g}. Over the "
        f"last 10 % of the steps f − f* averages {tc:.4g} with a constant lr and {ts:.4g} with {sched.title.lower()}"
        + (f" ({tc / ts:.3g}× smaller)." if 0 < ts < tc else ".")
        + f" torch: `{sched.torch}`, stepped once per optimizer step. The noise that remains near the minimum is "
          "proportional to the learning rate, so shrinking the rate at the end shrinks the cloud."
    )
    ui.experiment(
        "Cosine annealing for SGD",
        "SGD with batch size 1, base lr 0.1, 3 epochs, cosine schedule. Will the scheduled run end closer to the "
        "minimum than the constant one, although it starts exactly the same?",
        {"gd_sched": "cosine", "gd_sched_bs": 1, "gd_sched_lr": 0.1, "gd_sched_epochs": 3},
        "Yes: both make the same progress at first (their paths coincide while the rates are similar), then the "
        "cosine rate falls to 0 and the scheduled path contracts onto the minimum, while the constant one keeps "
        "jittering. Compare the numbers in the caption.",
        key="gd_exp_cosine",
    )


@st.fragment
def article_code():
    st.header("3 · The article's code")
    st.markdown(
        "The seed article's section 4 (具体代码实例, code examples) gives two programs. Here they are as written "
        "(indentation restored: the stored seed text lost it), what is wrong with them, and the corrected version, "
        "run live."
    )
    tabs = st.tabs([f"{s.section} {s.title}" for s in model.SAMPLES.values()])
    for tab, smp in zip(tabs, model.SAMPLES.values()):
        with tab:
            st.code(smp.code, language="python")
    st.caption("Comments in English: " + "; ".join(f"{zh} = {en}" for zh, en in model.TRANSLATIONS.items()))

    gd_bad, gd_out, sgd_runs = view.article_replays((0, 1, 2))
    facts = {k: model.code_facts(s.code) for k, s in model.SAMPLES.items()}
    fr = model.factor_report(0.5)
    X, y = model.article_data()

    st.subheader("What is wrong with it")
    st.markdown("**① Shapes: the 4.1 program crashes on its first iteration.** "
                "Replaying its NumPy lines on its own data (TensorFlow is not needed: see ④):")
    shape_rows = [{"expression": k, "shape": str(v)} for k, v in gd_bad.shapes.items() if k != "theta after"]
    sc = st.columns([2, 3])
    with sc[0]:
        st.dataframe(shape_rows, hide_index=True)
    with sc[1]:
        st.markdown(
            f"`theta = np.random.randn(1, 1)` has shape {gd_bad.shapes['theta']} while `y` has shape "
            f"{gd_bad.shapes['y']}, so `X.dot(theta) - y` broadcasts {gd_bad.shapes['X.dot(theta)']} − "
            f"{gd_bad.shapes['y']} into a **{gd_bad.shapes['X.dot(theta) - y']} matrix** of every x_iθ − y_j, and the "
            f"\"gradient\" has shape {gd_bad.shapes['gradients']}. Then `theta -= alpha * gradients` asks NumPy to "
            f"write that into the {gd_bad.shapes['theta']} array in place, and NumPy refuses at the first iteration "
            f"(i = {gd_bad.failed_at}):"
        )
        st.code(f"ValueError: {gd_bad.error}", language="text", wrap_lines=True)
        st.markdown(
            f"Written out of place (`theta = theta - alpha * gradients`) it runs, but θ becomes "
            f"{gd_out.shapes['theta after']}: after {model.ITERATIONS} iterations θ = "
            f"{[round(float(v), 4) for v in gd_out.theta.ravel()]}, four slopes, column j fitting the constant "
            "target y_j. The fix: make θ a vector of shape (1,) (or y a column of shape (4, 1))."
        )
    st.markdown("**② Factors: each gradient minimises a different multiple of the MSE.**")
    fc = st.container()
    with fc:
        st.latex(F["article_batch"])
        st.caption(
            f"At θ = {fr.theta:g}: the article's batch gradient is {fr.batch_grad:g}, the MSE gradient (optlab) is "
            f"{fr.mse_grad:g}: ratio {fr.batch_ratio:g}. So 4.1 minimises ½·MSE, which has the same minimum; only "
            "the effective learning rate is halved."
        )
    with fc:
        st.latex(F["article_sgd"])
        st.latex(F["per_sample"])
        st.caption(
            f"At θ = {fr.theta:g}, samples i = 1…{fr.m}: the article's SGD gradients "
            f"{[round(float(v), 4) for v in fr.sample_grads]}, the per-sample squared-error gradients "
            f"{[round(float(v), 4) for v in fr.correct_sample_grads]}: {fr.sample_ratio:g}× larger (= m). Averaged "
            f"over the samples the article's gradient is {fr.sgd_mean:g} = ∇MSE / {fr.m}: an unbiased estimate of "
            f"the gradient of MSE/{fr.m}, i.e. every step is {fr.m}× shorter than SGD's."
        )
    ir_toy = model.intercept_report(X[:, 0], y, "the article's data")
    xd, yd, _, _ = view.dataset(("feature", DIAB, "bmi", False))
    ir_d = model.intercept_report(xd, yd, "diabetes (bmi)")
    st.markdown(
        f"**③ No intercept.** The model is ŷ = θ·x. On the article's points that is harmless (the best line through "
        f"the origin has θ = {ir_toy.w_origin:.4g} and MSE {ir_toy.mse_origin:.2g}, the same as with an intercept). "
        f"On real data it is not: for diabetes vs bmi the best line through the origin has MSE "
        f"{ir_d.mse_origin:,.0f}; the best line with an intercept (b = {ir_d.wb[1]:.4g}) has MSE {ir_d.mse_wb:,.0f}."
    )
    f41 = facts["gd"]
    st.markdown(
        f"**④ TensorFlow is imported and never used.** Both programs import {', '.join(f41.imports)} and define "
        f"{', '.join(f'`{d}`' for d in f41.defined)}; `tf` appears only inside "
        f"{', '.join(f'`{d}`' for d in f41.tensorflow_only_in)}, which is never called "
        f"(unused: {', '.join(f'`{d}`' for d in f41.unused_functions)}). The loss being minimised is not that "
        "function but whatever the hand-written gradient implies (②). Deleting the two TensorFlow lines changes "
        "nothing, except that the program no longer needs a several-hundred-megabyte install."
    )
    seeds_txt = ", ".join(f"seed {s}: θ₀ = {r.theta0[0, 0]:.4f}, first samples {r.picks[:5].tolist()}"
                          for s, r in sgd_runs.items())
    st.markdown(
        f"**⑤ No seed.** The programs call {', '.join(f'`{c}`' for c in facts['sgd'].unseeded_calls)} without "
        f"setting a seed, so every run starts elsewhere and draws other samples. Three runs of the 4.2 loop "
        f"({seeds_txt}):"
    )
    st.markdown("**The article's SGD (4.2), three runs**")
    ui.show_figure(view.fig_article_theta((0, 1, 2)), key="gd_art_theta")
    st.caption(
        "All three print [[1.]] in the end because the four points lie exactly on y = x (every sample's gradient "
        "vanishes at θ = 1), but their paths differ; on noisy data their results would too. And 4.2 does reach "
        f"θ = {float(sgd_runs[0].theta[0, 0]):.6f} in spite of ②: the factor only slows it down."
    )

    st.subheader("The corrected version, run with optlab")
    st.markdown(
        "Intercept included (ŷ = w·x + b), the MSE's own gradient, `torch.optim.SGD`'s update, a seeded generator. "
        "optlab builds the (w, b) surface from the data and runs full-batch gradient descent and SGD with batch "
        "size 1 on it; `np.linalg.lstsq` gives the exact answer to compare with."
    )
    ui.init_state("gd_art_lr", 0.1)
    ui.init_state("gd_art_steps", 1000)
    ui.init_state("gd_art_sgd_lr", 0.02)
    ui.init_state("gd_art_sgd_steps", 2000)
    a = st.columns(4)
    with a[0]:
        alr = st.select_slider("GD lr", options=[0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.11, 0.13, 0.2], key="gd_art_lr")
    with a[1]:
        asteps = st.slider("GD steps", 50, 3000, step=50, key="gd_art_steps")
    with a[2]:
        slr = st.select_slider("SGD lr", options=[0.001, 0.003, 0.01, 0.02, 0.05, 0.1], key="gd_art_sgd_lr")
    with a[3]:
        ssteps = st.slider("SGD steps", 100, 5000, step=100, key="gd_art_sgd_steps")
    c = view.article_corrected(alr, asteps, slr, ssteps, 0)
    ngd, nsgd = view.article_numpy_fixes(0)
    ui.divergence_warnings([c.gd, c.sgd])
    st.dataframe(model.article_rows(c, ngd, nsgd), hide_index=True,
                 column_config={"w": st.column_config.NumberColumn(format="%.10f"),
                                "b": st.column_config.NumberColumn(format="%.3e"),
                                "‖θ − θ*‖": st.column_config.NumberColumn(format="%.3e"),
                                "MSE": st.column_config.NumberColumn(format="%.3e")})
    fit_fig, loss_fig = view.fig_article(alr, asteps, slr, ssteps, 0)
    k1, k2 = st.columns(2)
    with k1:
        ui.show_figure(fit_fig, key="gd_art_fit")
    with k2:
        ui.show_figure(loss_fig, key="gd_art_loss")
    toy = (("article",), "mse", (), None)
    cv = view.curvature(toy)
    st.caption(
        f"Closed form: w* = {c.closed_form[0]:.6g}, b* = {c.closed_form[1]:.3g}. optlab's gradient descent ends "
        + ("diverged" if c.gd.diverged else f"{c.gd_error:.3g} from it")
        + ", SGD " + ("diverged" if c.sgd.diverged else f"{c.sgd_error:.3g} from it")
        + f". With the intercept the problem is ill-conditioned: the Hessian's eigenvalues are {cv.lam_min:.3g} and "
          f"{cv.lam_max:.3g} (ratio {cv.lam_max / cv.lam_min:.0f}), so GD needs lr < 2/λ_max = {cv.critical:.3g} "
          f"and then crawls along the flat direction: at this lr the error is multiplied by up to "
          f"max|1 − lr·λ| = {view.contraction(toy, alr):.4g} per step."
    )
    ui.experiment(
        "The article's learning rate, with an intercept",
        "Set GD's lr to the article's 0.01 with its 1000 iterations. Will it match the closed form to 4 digits?",
        {"gd_art_lr": 0.01, "gd_art_steps": 1000},
        "No: the error is still of order 10⁻², because the flat direction of the (w, b) surface shrinks by only "
        "1 − 0.01·λ_min per step. The article's model had no intercept, a one-dimensional problem where lr 0.01 "
        "is plenty. Try lr 0.13, just above 2/λ_max: the run diverges, and the warning says when.",
        key="gd_exp_article",
    )


variants()
learning_rates()
article_code()
