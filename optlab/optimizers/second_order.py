r"""Second-order methods: Newton (pure, damped with Armijo backtracking, Levenberg–Marquardt) and BFGS.

Both need the objective itself, not only a gradient: pass ``problem=`` (anything with ``value``,
``grad`` and, for Newton, ``hessian`` over ``(B, D)``) to ``update``; :func:`optlab.run` does it.
"""
from __future__ import annotations

import numpy as np

from .base import Hyper, Info, Optimizer, Step, Transform, check_range, documented, resolve
from ..i18n import domain

# Meanings, notes and summaries are msgids of the shared catalog: show them with _().
_, N_, ngettext = domain("optlab")

NEWTON = Info(
    name="newton",
    title=N_("Newton"),
    torch="(no torch.optim class; torch.autograd.functional.hessian + torch.linalg.solve)",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr, 1 = pure Newton)},\ \mu \text{ (damping)},\ c_1,\ \beta \text{ (shrink)}\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1}),\quad H_t \leftarrow \nabla^2 f(\theta_{t-1})\\
&\quad \textbf{if min\_curvature } \delta:\ \mu_t \leftarrow \max\big(\mu,\ \delta - \lambda_{\min}(H_t)\big) \ \text{ else } \mu_t \leftarrow \mu\\
&\quad d_t \leftarrow -\,(H_t + \mu_t I)^{-1} g_t \qquad \text{(Newton direction)}\\
&\quad \textbf{if line search: } \textbf{if } g_t^\top d_t \ge 0:\ d_t \leftarrow -g_t;\ \ s \leftarrow \gamma\\
&\qquad \textbf{while } f(\theta_{t-1} + s\,d_t) > f(\theta_{t-1}) + c_1\, s\, g_t^\top d_t:\ \ s \leftarrow \beta s\\
&\quad \textbf{else: } s \leftarrow \gamma\\
&\quad \theta_t \leftarrow \theta_{t-1} + s\, d_t
\end{aligned}""",
    hyper=(
        Hyper("lr", 1.0, r"\gamma", N_("step length along the Newton direction (1 = jump to the model's minimum)"), low=0.01, high=1.5),
        Hyper("line_search", False, "", N_("Armijo backtracking: shrink the step until f decreases enough"), kind="bool"),
        Hyper("damping", 0.0, r"\mu", N_("Levenberg–Marquardt damping: solve (H + μI)d = −g; large μ ≈ gradient descent"), low=0.0, high=10.0),
        Hyper("min_curvature", None, r"\delta", N_("if set, raise μ so that H + μI has eigenvalues ≥ δ (fix for indefinite Hessians)"), low=0.0, high=10.0),
        Hyper("c1", 1e-4, r"c_1", N_("Armijo constant: the fraction of the predicted decrease that must be achieved"), low=1e-6, high=0.5, log=True),
        Hyper("shrink", 0.5, r"\beta", N_("backtracking factor for the step length"), low=0.1, high=0.9),
        Hyper("max_backtracks", 30, "", N_("most step-length halvings per iteration"), low=1, high=60),
    ),
    reference=N_("Nocedal & Wright, Numerical Optimization (2006), ch. 3; Levenberg (1944), Marquardt (1963); "
                 "at f's rounding floor: Hager & Zhang (2005), SIAM J. Optim. 16(1)"),
    summary=N_("Minimizes the local quadratic model: one step on a quadratic, but it also jumps to saddles and maxima."),
    state={"step_length": N_(r"s_t: accepted step length"), "n_backtracks": N_("number of step shrinks"),
           "damping_used": N_(r"\mu_t: damping actually used")},
    notes=N_(r"Pure Newton ($\gamma = 1$, no line search) is drawn to any stationary point, saddles included; "
             r"the line search keeps it going downhill and min_curvature makes the model convex. "
             r"At $f$'s rounding floor (predicted decrease $|g^\top d| \le 100\,\varepsilon\,|f|$) the line search lets "
             r"$f$ rise within that rounding, and the run stops once the predicted decrease no longer shrinks at a "
             r"positive definite Hessian: from there on $f$ cannot tell a better point from a worse one. A step that "
             r"leaves $\theta$ unchanged also ends the run."),
    order=2,
)

BFGS = Info(
    name="bfgs",
    title=N_("BFGS"),
    torch="(closest: torch.optim.LBFGS with history_size large)",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (initial step)},\ c_1,\ \beta;\quad B_0 \leftarrow I \ \text{(inverse-Hessian estimate)}\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1})\\
&\quad \textbf{if } t > 1:\ s \leftarrow \theta_{t-1} - \theta_{t-2},\ \ y \leftarrow g_t - g_{t-1},\ \ \rho \leftarrow 1/(y^\top s)\\
&\qquad \textbf{if } y^\top s > 10^{-10}\,\lVert y\rVert\lVert s\rVert:\ B_t \leftarrow (I - \rho\, s y^\top)\, B_{t-1}\, (I - \rho\, y s^\top) + \rho\, s s^\top\\
&\quad d_t \leftarrow -B_t\, g_t;\quad s \leftarrow \gamma;\ \
 \textbf{while } f(\theta_{t-1} + s\,d_t) > f(\theta_{t-1}) + c_1 s\, g_t^\top d_t:\ s \leftarrow \beta s\\
&\quad \theta_t \leftarrow \theta_{t-1} + s\, d_t
\end{aligned}""",
    hyper=(
        Hyper("lr", 1.0, r"\gamma", N_("first step length tried by the line search"), low=0.01, high=1.5),
        Hyper("c1", 1e-4, r"c_1", N_("Armijo constant of the backtracking line search"), low=1e-6, high=0.5, log=True),
        Hyper("shrink", 0.5, r"\beta", N_("backtracking factor for the step length"), low=0.1, high=0.9),
        Hyper("max_backtracks", 30, "", N_("most step-length halvings per iteration"), low=1, high=60),
    ),
    reference=N_("Broyden, Fletcher, Goldfarb, Shanno (1970); Nocedal & Wright (2006), ch. 6"),
    summary=N_("Learns the inverse Hessian from successive gradients: Newton-like steps from first derivatives only."),
    state={"inv_hessian": N_(r"B_t: estimate of the inverse Hessian"), "step_length": N_(r"s_t: accepted step length"),
           "n_backtracks": N_("number of step shrinks")},
    notes=N_("The estimate is updated only when yᵀs > 0, which keeps it positive definite, so every step is a descent direction."),
    order=2,
)


# ----------------------------------------------------------------------------------------------
def batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A x = b`` per run (A: (B, D, D), b: (B, D)); singular systems give NaN, not an error."""
    with np.errstate(all="ignore"):
        if A.shape[-1] == 2:
            a, c, d, e = A[:, 0, 0], A[:, 0, 1], A[:, 1, 0], A[:, 1, 1]
            det = a * e - c * d
            x0 = (e * b[:, 0] - c * b[:, 1]) / det
            x1 = (a * b[:, 1] - d * b[:, 0]) / det
            out = np.stack([x0, x1], axis=-1)
            out[det == 0] = np.nan
            return out
        try:
            return np.linalg.solve(A, b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            out = np.full_like(b, np.nan)
            for i in range(len(b)):
                try:
                    out[i] = np.linalg.solve(A[i], b[i])
                except np.linalg.LinAlgError:
                    pass
            return out


def backtrack(problem, x, f0, gd, d, s0, c1, shrink, max_backtracks, slack=0.0):
    """Armijo backtracking per run: largest ``s = s0·shrinkᵏ`` with ``f(x + s d) ≤ f0 + c1·s·gᵀd + slack``
    (``slack``, per run, lets f rise within its rounding where gᵀd is below it)."""
    B = x.shape[0]
    s = np.broadcast_to(np.asarray(s0, dtype=float).reshape(-1), (B,)).copy()
    k = np.zeros(B, dtype=int)
    pending = np.ones(B, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(int(max_backtracks) + 1):
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            f_new = problem.value(x[idx] + s[idx, None] * d[idx])
            bound = f0[idx] + c1 * s[idx] * gd[idx]
            if np.ndim(slack):
                bound = bound + slack[idx]
            ok = np.isfinite(f_new) & (f_new <= bound)
            pending[idx[ok]] = False
            more = idx[~ok]
            s[more] *= shrink
            k[more] += 1
        # no acceptable step: stay put rather than take a step that increases f
        s[pending] = 0.0
    return s, k


# f's rounding floor. Where the model's predicted decrease |gᵀd| is below ROUNDING·ε·|f| (a relative
# test, like L-BFGS-B's factr·ε test on the decrease of f, scipy's ftol), the Armijo test compares f
# with itself to its last bits (about 45 ulps of noise at Goldstein–Price's minimum) and accepts or
# refuses steps at random: a damped run used to wander there for the rest of its steps (855 on
# Goldstein–Price). There (1) the line search lets f rise within that rounding, the approximate
# Armijo condition of Hager & Zhang (SIAM J. Optim. 16(1), 2005), so Newton's step, which still
# shrinks ‖∇f‖ quadratically, is not refused by noise; (2) the run stops once that happens on two
# steps in a row, the second predicting at least STALL times the first (the iteration no longer
# converges), at a positive definite Hessian (a minimum to float precision, not a saddle it may yet
# leave). A step that leaves θ unchanged also ends the run: every later step would repeat it.
ROUNDING = 100.0
STALL = 0.9
STOP_FIXED = N_("the step left θ unchanged (a fixed point of the iteration in float64)")


def rounding_slack(gd, f0):
    """Per run, how far f may rise in the line search: ROUNDING·ε·|f| where |gᵀd| is below it, else 0."""
    tol = ROUNDING * np.finfo(float).eps * np.maximum(np.abs(f0), np.finfo(float).tiny)
    return np.where(np.abs(gd) <= tol, ROUNDING * np.finfo(float).eps * np.abs(f0), 0.0)


def _stop_rounding(gd, f0) -> str:
    return _("f is at its rounding floor: the predicted decrease |gᵀd| = {gd:.1e} is below {k:g}·ε·|f| = {floor:.1e} "
             "and no longer shrinks, at a positive definite Hessian").format(
        gd=abs(gd), k=ROUNDING, floor=ROUNDING * np.finfo(float).eps * abs(f0))


def _need(problem, what):
    if problem is None or not hasattr(problem, what):
        raise ValueError(f"this optimizer needs the objective's {what}: pass problem=<surface> to update()")


def newton_transform(h) -> Transform:
    def init(params):
        B = params.shape[0]
        return {"step_length": np.zeros((B, 1)), "n_backtracks": np.zeros((B, 1)),
                "damping_used": np.zeros((B, 1)), "_blind_gd": np.full(B, np.nan)}

    def update(g, state, ctx):
        p = ctx.problem
        _need(p, "hessian")
        x = ctx.params
        B, D = x.shape
        H = np.asarray(p.hessian(x), dtype=float).reshape(B, D, D)
        mu = np.broadcast_to(np.asarray(h["damping"], dtype=float).reshape(-1), (B,)).copy()
        if h["min_curvature"] is not None:
            with np.errstate(all="ignore"):
                lam_min = np.linalg.eigvalsh(np.nan_to_num(H))[:, 0]
            mu = np.maximum(mu, np.asarray(h["min_curvature"]).reshape(-1) - lam_min)
        A = H + mu[:, None, None] * np.eye(D)
        d = -batched_solve(A, g)
        if h["line_search"]:
            gd = np.einsum("bi,bi->b", g, d)
            uphill = ~(gd < 0)  # not a descent direction (indefinite model, or NaN): use −g
            if np.any(uphill):
                d[uphill] = -g[uphill]
                gd[uphill] = -np.einsum("bi,bi->b", g[uphill], g[uphill])
            f0 = np.asarray(p.value(x), dtype=float).reshape(B)
            slack = rounding_slack(gd, f0)
            blind = slack > 0
            s, k = backtrack(p, x, f0, gd, d, ctx.lr, h["c1"], h["shrink"], h["max_backtracks"],
                             slack if blind.any() else 0.0)
            prev = state["_blind_gd"]  # |gᵀd| of the previous step where it was blind, else NaN
            with np.errstate(invalid="ignore"):
                floor = blind & (np.abs(gd) >= STALL * prev)
            if floor.any():
                with np.errstate(all="ignore"):
                    floor[floor] = np.linalg.eigvalsh(np.nan_to_num(H[floor]))[:, 0] > 0
            prev[...] = np.where(blind, np.abs(gd), np.nan)
        else:
            s = np.broadcast_to(np.asarray(ctx.lr, dtype=float).reshape(-1), (B,)).copy()
            k = np.zeros(B)
            floor = np.zeros(B, dtype=bool)
        state["step_length"][:, 0] = s
        state["n_backtracks"][:, 0] = k
        state["damping_used"][:, 0] = mu
        with np.errstate(all="ignore"):
            still = np.all(x + s[:, None] * d == x, axis=1)
        stop = np.full(B, "", dtype=object)  # read by optlab.run: these runs end after this step
        stop[still] = _(STOP_FIXED)
        for i in np.flatnonzero(floor):
            stop[i] = _stop_rounding(gd[i], f0[i])
        state["_stop"] = stop
        if ctx.want_aux:
            ctx.aux.update(direction=d.copy(), hessian=H)
        return Step(((1.0, s[:, None] * d, None),))  # θ ← θ + s·d: the step length is already in it

    return Transform(init, update)


def bfgs_transform(h) -> Transform:
    def init(params):
        B, D = params.shape
        return {"inv_hessian": np.broadcast_to(np.eye(D), (B, D, D)).copy(),
                "_x_prev": np.full_like(params, np.nan), "_g_prev": np.full_like(params, np.nan),
                "step_length": np.zeros((B, 1)), "n_backtracks": np.zeros((B, 1))}

    def update(g, state, ctx):
        p = ctx.problem
        _need(p, "value")
        x = ctx.params
        B, D = x.shape
        Hinv = state["inv_hessian"]
        if ctx.step > 1:
            s_vec = x - state["_x_prev"]
            y = g - state["_g_prev"]
            with np.errstate(all="ignore"):
                ys = np.einsum("bi,bi->b", y, s_vec)
                scale = np.sqrt(np.einsum("bi,bi->b", y, y) * np.einsum("bi,bi->b", s_vec, s_vec))
                # curvature condition (relative, so it holds at any scale) keeps B positive definite
                ok = np.isfinite(ys) & (ys > 1e-10 * scale) & (scale > 0)
                if np.any(ok):
                    rho = 1.0 / ys[ok]
                    I = np.eye(D)
                    V = I - rho[:, None, None] * np.einsum("bi,bj->bij", s_vec[ok], y[ok])
                    Hinv[ok] = (V @ Hinv[ok] @ np.swapaxes(V, 1, 2)
                                + rho[:, None, None] * np.einsum("bi,bj->bij", s_vec[ok], s_vec[ok]))
        d = -np.einsum("bij,bj->bi", Hinv, g)
        gd = np.einsum("bi,bi->b", g, d)
        bad = ~(gd < 0) & np.any(g != 0, axis=1)  # g = 0 exactly: already at a stationary point
        if np.any(bad):  # lost positive definiteness (round-off): restart from the identity
            Hinv[bad] = np.eye(D)
            d[bad] = -g[bad]
            gd[bad] = -np.einsum("bi,bi->b", g[bad], g[bad])
        f0 = np.asarray(p.value(x), dtype=float).reshape(B)
        s, k = backtrack(p, x, f0, gd, d, ctx.lr, h["c1"], h["shrink"], h["max_backtracks"])
        state["_x_prev"][...] = x
        state["_g_prev"][...] = g
        state["step_length"][:, 0] = s
        state["n_backtracks"][:, 0] = k
        if ctx.want_aux:
            ctx.aux.update(direction=d.copy())
        return Step(((1.0, s[:, None] * d, None),))  # θ ← θ + s·d: the step length is already in it

    return Transform(init, update)


@documented(NEWTON)
def newton(**hyper) -> Optimizer:
    h = resolve(NEWTON, hyper)
    check_range(N_("learning rate"), h["lr"], 0.0, low_open=True)
    check_range(N_("damping value"), h["damping"])
    if h["min_curvature"] is not None:
        check_range(N_("min_curvature value"), h["min_curvature"])
    check_range(N_("c1 value"), h["c1"], 0.0, 1.0, low_open=True)
    check_range(N_("shrink value"), h["shrink"], 0.0, 1.0, low_open=True)
    check_range(N_("max_backtracks value"), h["max_backtracks"], 0.0, 200.0, high_open=False)
    return Optimizer(NEWTON, h, newton_transform(h))


@documented(BFGS)
def bfgs(**hyper) -> Optimizer:
    h = resolve(BFGS, hyper)
    check_range(N_("learning rate"), h["lr"], 0.0, low_open=True)
    check_range(N_("c1 value"), h["c1"], 0.0, 1.0, low_open=True)
    check_range(N_("shrink value"), h["shrink"], 0.0, 1.0, low_open=True)
    check_range(N_("max_backtracks value"), h["max_backtracks"], 0.0, 200.0, high_open=False)
    return Optimizer(BFGS, h, bfgs_transform(h))
