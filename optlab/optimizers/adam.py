r"""The Adam family (torch.optim): Adam, AdamW, AMSGrad (``Adam(amsgrad=True)``), NAdam, RAdam.

Adam is a chain of small transforms: coupled L2 → Adam's moments with bias correction, which
return torch's exact step → decoupled decay (AdamW), which scales θ before that step.  The
moment updates are torch's::

    m ← m.lerp(g, 1 − β₁);   v ← β₂·v + (1 − β₂)·g²
    θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import fused
from .base import (Hyper, Info, Optimizer, Step, Transform, add_l2, bias_correction, chain, check_range,
                   decoupled_decay, documented, ema_sq_, lerp_, maximize_sign, resolve)
from ..i18n import domain

# Meanings, notes and summaries are msgids of the shared catalog: show them with _().
_, N_, ngettext = domain("optlab")

_BETAS = Hyper("betas", (0.9, 0.999), r"(\beta_1, \beta_2)",
               N_("decay of the first moment m (β₁) and of the second moment v (β₂)"), kind="betas")
_EPS = Hyper("eps", 1e-8, r"\epsilon", N_("added to the bias-corrected √v̂ (outside the root)"), low=1e-10, high=1e-1, log=True)
_MAX = Hyper("maximize", False, "", N_("climb instead of descend (g ← −g)"), kind="bool")
_DWD = Hyper("decoupled_weight_decay", False, "", N_("apply weight decay as θ ← θ(1 − γλ) (AdamW) instead of L2 on g"), kind="bool")

_MOMENTS = (r"&\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
            "\n" r"&\quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\")

_ADAM_STATE = {"exp_avg": N_(r"m_t: first moment (running mean of g)"),
               "exp_avg_sq": N_(r"v_t: second moment (running mean of g²)"),
               "max_exp_avg_sq": N_(r"\hat v^{\max}_t: running max of v (AMSGrad)")}

ADAM = Info(
    name="adam",
    title=N_("Adam"),
    torch="torch.optim.Adam",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \beta_1, \beta_2 \text{ (betas)},\ \epsilon,\ \lambda \text{ (weight decay)},\ \text{amsgrad}\\
&\textbf{init: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ v_0^{\max} \leftarrow 0\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
""" + _MOMENTS + r"""
&\quad \hat m_t \leftarrow m_t / (1-\beta_1^t),\qquad \hat v_t \leftarrow v_t / (1-\beta_2^t)\\
&\quad \textbf{if amsgrad: } v_t^{\max} \leftarrow \max(v_{t-1}^{\max}, v_t);\ \ \hat v_t \leftarrow v_t^{\max} / (1-\beta_2^t)\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \dfrac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-3, r"\gamma", N_("learning rate: roughly the largest distance one step can move"), low=1e-4, high=1.0, log=True),
        _BETAS,
        _EPS,
        Hyper("weight_decay", 0.0, r"\lambda", N_("L2 penalty added to the gradient (use AdamW for decoupled decay)"), low=0.0, high=0.5),
        Hyper("amsgrad", False, "", N_("use the running maximum of v (AMSGrad) so steps cannot grow back"), kind="bool"),
        _MAX,
        _DWD,
    ),
    reference=N_("Kingma & Ba (2015), Adam: A Method for Stochastic Optimization, ICLR; AMSGrad: Reddi, Kale & Kumar (2018)"),
    summary=N_("Momentum (first moment) divided by the root of the second moment, both bias-corrected."),
    state=_ADAM_STATE,
    notes=(N_(r"torch adds $\epsilon$ after bias-correcting the root ($\sqrt{\hat v_t} + \epsilon$), as the paper does; "
           r"TensorFlow's $\hat\epsilon$ variant adds it to $\sqrt{v_t}$. AMSGrad in torch takes the max of the "
           r"raw $v_t$, then bias-corrects with the current $t$ (optax takes the max of $\hat v_t$).")),
)

ADAMW = Info(
    name="adamw",
    title=N_("AdamW"),
    torch="torch.optim.AdamW",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \beta_1, \beta_2,\ \epsilon,\ \lambda \text{ (weight decay)},\ \text{amsgrad}\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1})\\
&\quad \theta_{t-1} \leftarrow \theta_{t-1}\,(1 - \gamma\lambda) \qquad \text{(decoupled: g is not touched)}\\
""" + _MOMENTS + r"""
&\quad \hat m_t \leftarrow m_t / (1-\beta_1^t),\qquad \hat v_t \leftarrow v_t / (1-\beta_2^t)\ \ (\text{or } v^{\max}_t \text{ with amsgrad})\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \dfrac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-3, r"\gamma", N_("learning rate"), low=1e-4, high=1.0, log=True),
        _BETAS,
        _EPS,
        Hyper("weight_decay", 1e-2, r"\lambda", N_("decoupled decay: shrinks θ by the factor (1 − γλ) every step"), low=0.0, high=0.5),
        Hyper("amsgrad", False, "", N_("use the running maximum of v (AMSGrad)"), kind="bool"),
        _MAX,
    ),
    reference=N_("Loshchilov & Hutter (2019), Decoupled Weight Decay Regularization, ICLR"),
    summary=N_("Adam whose weight decay shrinks θ directly instead of being mixed into the adaptive gradient."),
    state=_ADAM_STATE,
    notes=N_(r"torch's default $\lambda = 10^{-2}$ (optax: $10^{-4}$). With $\lambda = 0$ AdamW is exactly Adam."),
)

NADAM = Info(
    name="nadam",
    title=N_("NAdam"),
    torch="torch.optim.NAdam",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \beta_1, \beta_2,\ \epsilon,\ \lambda,\ \psi \text{ (momentum decay)}\\
&\textbf{init: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ \Pi_0 \leftarrow 1\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad \mu_t \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{\,t\psi}\big),\quad \mu_{t+1} \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{\,(t+1)\psi}\big),\quad \Pi_t \leftarrow \Pi_{t-1}\,\mu_t\\
""" + _MOMENTS + r"""
&\quad \hat v_t \leftarrow v_t / (1-\beta_2^t)\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\,\dfrac{1-\mu_t}{1-\Pi_t}\,\dfrac{g_t}{\sqrt{\hat v_t}+\epsilon}
 - \gamma\,\dfrac{\mu_{t+1}}{1-\Pi_t\,\mu_{t+1}}\,\dfrac{m_t}{\sqrt{\hat v_t}+\epsilon}
\end{aligned}""",
    hyper=(
        Hyper("lr", 2e-3, r"\gamma", N_("learning rate (torch's default is 2e-3, not 1e-3)"), low=1e-4, high=1.0, log=True),
        _BETAS,
        _EPS,
        Hyper("weight_decay", 0.0, r"\lambda", N_("L2 penalty added to the gradient (or decoupled)"), low=0.0, high=0.5),
        Hyper("momentum_decay", 4e-3, r"\psi", N_("how fast the momentum schedule μₜ warms up towards β₁"), low=0.0, high=0.1),
        _DWD,
        _MAX,
    ),
    reference=N_("Dozat (2016), Incorporating Nesterov Momentum into Adam, ICLR workshop"),
    summary=N_("Adam with Nesterov's look-ahead: the step mixes the current gradient and the next momentum."),
    state={"exp_avg": _ADAM_STATE["exp_avg"], "exp_avg_sq": _ADAM_STATE["exp_avg_sq"],
           "mu_product": N_(r"\Pi_t: product of the momentum schedule μ₁⋯μₜ")},
    notes=N_(r"torch's NAdam uses the momentum schedule $\mu_t$ with momentum_decay; optax's nadam has no schedule and gives other numbers."),
    )

RADAM = Info(
    name="radam",
    title=N_("RAdam"),
    torch="torch.optim.RAdam",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \beta_1, \beta_2,\ \epsilon,\ \lambda\\
&\rho_\infty \leftarrow 2/(1-\beta_2) - 1\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
""" + _MOMENTS + r"""
&\quad \hat m_t \leftarrow m_t / (1-\beta_1^t),\qquad \rho_t \leftarrow \rho_\infty - 2t\,\beta_2^t / (1-\beta_2^t)\\
&\quad \textbf{if } \rho_t > 5:\ \ r_t \leftarrow \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},\ \
 l_t \leftarrow \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon},\ \ \theta_t \leftarrow \theta_{t-1} - \gamma\,\hat m_t\, r_t\, l_t\\
&\quad \textbf{else: } \theta_t \leftarrow \theta_{t-1} - \gamma\,\hat m_t \qquad\text{(warm-up: plain momentum)}
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-3, r"\gamma", N_("learning rate"), low=1e-4, high=1.0, log=True),
        _BETAS,
        _EPS,
        Hyper("weight_decay", 0.0, r"\lambda", N_("L2 penalty added to the gradient (or decoupled)"), low=0.0, high=0.5),
        _DWD,
        _MAX,
    ),
    reference=N_("Liu et al. (2020), On the Variance of the Adaptive Learning Rate and Beyond, ICLR"),
    summary=N_("Adam that skips the adaptive denominator until its variance estimate is trustworthy (ρₜ > 5)."),
    state={"exp_avg": _ADAM_STATE["exp_avg"], "exp_avg_sq": _ADAM_STATE["exp_avg_sq"]},
    notes=N_(r"With $\beta_2 = 0.999$ the first 5 steps are plain bias-corrected momentum steps. Here $\epsilon$ is added to the raw $\sqrt{v_t}$."),
)


# ----------------------------------------------------------------------------------------------
def moments_init(params, amsgrad=False):
    s = {"exp_avg": np.zeros_like(params), "exp_avg_sq": np.zeros_like(params)}
    if amsgrad:
        s["max_exp_avg_sq"] = np.zeros_like(params)
    return s


def update_moments(g, state, b1, b2):
    m = lerp_(state["exp_avg"], g, 1.0 - b1)
    v = ema_sq_(state["exp_avg_sq"], g, b2)
    return m, v


def scale_by_adam(b1, b2, eps, amsgrad: bool) -> Transform:
    """Adam's direction ``m / (√v/√bc₂ + ε)``; sets the step size ``γ/bc₁`` on the context."""

    def init(params):
        return moments_init(params, amsgrad)

    def update(g, state, ctx):
        t = ctx.step
        m, v = update_moments(g, state, b1, b2)
        bc1, bc2 = bias_correction(b1, t), bias_correction(b2, t)
        if amsgrad:
            vmax = state["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)  # max of the RAW v, then bias-correct with today's t
            v = vmax
        denom = np.sqrt(v)
        denom /= bc2 ** 0.5
        denom += eps
        step_size = ctx.lr / bc1
        if ctx.want_aux:
            ctx.aux.update(m_hat=m / bc1, v_hat=v / bc2, denom=denom.copy(),
                           lr_t=np.broadcast_to(step_size, g.shape[:1] + (1,)).copy())
        return Step(((-step_size, m, denom),))  # torch: param.addcdiv_(exp_avg, denom, value=-step_size)

    return Transform(init, update)


def scale_by_nadam(b1, b2, eps, momentum_decay) -> Transform:
    """NAdam's two-term step with torch's μₜ schedule; the final ``-γ·d`` is applied after."""

    def init(params):
        s = moments_init(params)
        s["mu_product"] = np.ones(params.shape[:1] + (1,))
        return s

    def update(g, state, ctx):
        t = ctx.step
        bc2 = bias_correction(b2, t)
        mu = b1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        prod = state["mu_product"]
        prod *= mu
        m, v = update_moments(g, state, b1, b2)
        denom = np.sqrt(v / bc2)
        denom += eps
        lr = ctx.lr
        prod_next = prod * mu_next
        # torch: two addcdiv_ on θ, the gradient term first
        step = Step((((-lr * (1.0 - mu)) / (1.0 - prod), g, denom), ((-lr * mu_next) / (1.0 - prod_next), m, denom)))
        if ctx.want_aux:
            c_m = mu_next / (1.0 - prod_next)
            # the momentum term's weight on m: NAdam's look-ahead (no plain m̂ exists here)
            ctx.aux.update(v_hat=v / bc2, denom=denom.copy(), mu_t=np.broadcast_to(mu, prod.shape).copy(),
                           m_lookahead=c_m * m)
        return step

    return Transform(init, update)


def _pow_half(x):
    """``x ** 0.5`` as torch's RAdam computes its rectification on a Python float: C's ``pow``.

    NumPy turns ``array ** 0.5`` into a correctly rounded square root, which differs from ``pow``
    by one ulp for some x (one value per distinct x, so a sweep over β₂ costs a few calls)."""
    if np.ndim(x) == 0:
        return float(x) ** 0.5
    u, inv = np.unique(x, return_inverse=True)
    return np.array([v ** 0.5 for v in u.tolist()])[inv.reshape(-1)].reshape(np.shape(x))


def scale_by_radam(b1, b2, eps) -> Transform:
    """RAdam: rectified adaptive step when ρₜ > 5, plain bias-corrected momentum before."""

    def init(params):
        return moments_init(params)

    def update(g, state, ctx):
        t = ctx.step
        m, v = update_moments(g, state, b1, b2)
        bc1, bc2 = bias_correction(b1, t), bias_correction(b2, t)
        m_hat = m / bc1
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * (b2 ** t) / bc2
        rect_on = np.asarray(rho_t > 5.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = _pow_half(np.where(rect_on, (rho_t - 4) * (rho_t - 2) * rho_inf
                                   / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 1.0))
        # torch's adaptive lr is `float / tensor`, which torch evaluates as reciprocal(tensor) * float
        if np.all(rect_on):
            d = m_hat * ctx.lr * ((1.0 / (np.sqrt(v) + eps)) * (bc2 ** 0.5)) * r
        elif not np.any(rect_on):
            d = m_hat * ctx.lr
        else:
            d = np.where(rect_on, m_hat * ctx.lr * ((1.0 / (np.sqrt(v) + eps)) * (bc2 ** 0.5)) * r, m_hat * ctx.lr)
        if ctx.want_aux:
            ctx.aux.update(m_hat=m_hat, rho_t=np.broadcast_to(rho_t, g.shape[:1] + (1,)).astype(float),
                           rect=np.broadcast_to(r, g.shape[:1] + (1,)).copy())
        # torch: param.add_(m̂·γ·l·r, alpha=-1), γ inside the product in torch's order
        return Step(((-1.0, d, None),))

    return Transform(init, update)


def check_adam(h):
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("epsilon value"), h["eps"])
    check_range(N_("beta parameter at index 0"), h["betas"][0], 0.0, 1.0)
    check_range(N_("beta parameter at index 1"), h["betas"][1], 0.0, 1.0)
    check_range(N_("weight_decay value"), h["weight_decay"])


def _chain(h, decoupled: bool, direction: Transform) -> Transform:
    """g → −g (maximize) → g + λθ (coupled L2) → the direction → θ·(1 − γλ) (decoupled decay).

    Decoupled decay comes after the direction because it amends the direction's step (θ is
    decayed before the step's terms are added, as in torch); coupled L2 changes the gradient."""
    wd = h["weight_decay"]
    return chain(maximize_sign(h["maximize"]), None if decoupled else add_l2(wd), direction,
                 decoupled_decay(wd) if decoupled else None)


@documented(ADAM)
def adam(**hyper) -> Optimizer:
    h = resolve(ADAM, hyper)
    check_adam(h)
    b1, b2 = h["betas"]
    t = _chain(h, h["decoupled_weight_decay"], scale_by_adam(b1, b2, h["eps"], h["amsgrad"]))
    return Optimizer(ADAM, h, t, fused=partial(fused.adam, h, decoupled=h["decoupled_weight_decay"]))


@documented(ADAMW)
def adamw(**hyper) -> Optimizer:
    h = resolve(ADAMW, hyper)
    check_adam(h)
    b1, b2 = h["betas"]
    t = _chain(h, True, scale_by_adam(b1, b2, h["eps"], h["amsgrad"]))
    return Optimizer(ADAMW, h, t, fused=partial(fused.adam, h, decoupled=True))


@documented(NADAM)
def nadam(**hyper) -> Optimizer:
    h = resolve(NADAM, hyper)
    check_adam(h)
    check_range(N_("momentum_decay value"), h["momentum_decay"])
    b1, b2 = h["betas"]
    t = _chain(h, h["decoupled_weight_decay"], scale_by_nadam(b1, b2, h["eps"], h["momentum_decay"]))
    return Optimizer(NADAM, h, t, fused=partial(fused.nadam, h))


@documented(RADAM)
def radam(**hyper) -> Optimizer:
    h = resolve(RADAM, hyper)
    check_adam(h)
    b1, b2 = h["betas"]
    t = _chain(h, h["decoupled_weight_decay"], scale_by_radam(b1, b2, h["eps"]))
    return Optimizer(RADAM, h, t, fused=partial(fused.radam, h))
