r"""Per-coordinate step sizes from squared gradients: Adagrad, RMSprop, Adadelta (torch.optim).

All three divide the gradient by a root of accumulated squares, so steep coordinates take short
steps and flat ones long steps.  They differ in what they accumulate: Adagrad a growing sum,
RMSprop a decaying average, Adadelta a decaying average with a unit-correcting numerator.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import fused
from .base import (Hyper, Info, Optimizer, Step, Transform, add_l2, addcmul_, chain, check_range, documented,
                   ema_sq_, lerp_, maximize_sign, resolve)
from ..i18n import domain

# Meanings, notes and summaries are msgids of the shared catalog: show them with _().
_, N_, ngettext = domain("optlab")

_WD = Hyper("weight_decay", 0.0, r"\lambda", N_("L2 penalty: adds λθ to the gradient"), low=0.0, high=0.5)
_MAX = Hyper("maximize", False, "", N_("climb instead of descend (g ← −g)"), kind="bool")

# ----------------------------------------------------------------------------------------------
ADAGRAD = Info(
    name="adagrad",
    title=N_("AdaGrad"),
    torch="torch.optim.Adagrad",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \theta_0,\ \lambda \text{ (weight decay)},\ \eta \text{ (lr decay)},\ \tau \text{ (initial accumulator)},\ \epsilon\\
&\textbf{init: } S_0 \leftarrow \tau\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad \tilde\gamma \leftarrow \gamma \,/\, \big(1 + (t-1)\,\eta\big)\\
&\quad S_t \leftarrow S_{t-1} + g_t^2\\
&\quad \theta_t \leftarrow \theta_{t-1} - \tilde\gamma\, \dfrac{g_t}{\sqrt{S_t} + \epsilon}
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-2, r"\gamma", N_("learning rate: the step before division by √S"), low=1e-3, high=5.0, log=True),
        Hyper("lr_decay", 0.0, r"\eta", N_("shrinks γ as 1/(1 + (t−1)η)"), low=0.0, high=0.1),
        _WD,
        Hyper("initial_accumulator_value", 0.0, r"\tau", N_("starting value of the sum of squares S"), low=0.0, high=1.0),
        Hyper("eps", 1e-10, r"\epsilon", N_("added to √S (outside the root) to avoid division by zero"), low=1e-12, high=1e-2, log=True),
        _MAX,
    ),
    reference=N_("Duchi, Hazan & Singer (2011), Adaptive Subgradient Methods, JMLR 12"),
    summary=N_("Divides by the root of the running SUM of squared gradients: steps only ever shrink."),
    state={"sum": N_(r"S_t: sum of squared gradients (grows forever)")},
    notes=N_(r"torch adds $\epsilon = 10^{-10}$ outside the root and starts $S_0 = 0$; optax starts at 0.1 with $\epsilon$ inside."),
)


def scale_by_adagrad(lr_decay, initial_accumulator_value, eps) -> Transform:
    def init(params):
        return {"sum": np.full_like(params, 0.0) + initial_accumulator_value}

    def update(g, state, ctx):
        S = state["sum"]
        clr = ctx.lr / (1 + (ctx.step - 1) * lr_decay)
        addcmul_(S, g, g, 1.0)
        std = np.sqrt(S)
        std += eps
        if ctx.want_aux:
            ctx.aux.update(denom=std.copy(), lr_t=np.broadcast_to(clr, g.shape[:1] + (1,)).copy())
        return Step(((-clr, g, std),))  # torch: param.addcdiv_(grad, std, value=-clr)

    return Transform(init, update)


@documented(ADAGRAD)
def adagrad(**hyper) -> Optimizer:
    h = resolve(ADAGRAD, hyper)
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("lr_decay value"), h["lr_decay"])
    check_range(N_("weight_decay value"), h["weight_decay"])
    check_range(N_("initial_accumulator_value value"), h["initial_accumulator_value"])
    check_range(N_("epsilon value"), h["eps"])
    t = chain(maximize_sign(h["maximize"]), add_l2(h["weight_decay"]),
              scale_by_adagrad(h["lr_decay"], h["initial_accumulator_value"], h["eps"]))
    return Optimizer(ADAGRAD, h, t, fused=partial(fused.adagrad, h))


# ----------------------------------------------------------------------------------------------
RMSPROP = Info(
    name="rmsprop",
    title=N_("RMSProp"),
    torch="torch.optim.RMSprop",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \alpha \text{ (smoothing)},\ \epsilon,\ \lambda \text{ (weight decay)},\ \mu \text{ (momentum)},\ \text{centered}\\
&\textbf{init: } v_0 \leftarrow 0,\ \bar g_0 \leftarrow 0,\ b_0 \leftarrow 0\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad v_t \leftarrow \alpha\, v_{t-1} + (1-\alpha)\, g_t^2\\
&\quad \textbf{if centered: } \bar g_t \leftarrow \alpha\,\bar g_{t-1} + (1-\alpha)\, g_t;\ \ \tilde v_t \leftarrow v_t - \bar g_t^{\,2}
\ \textbf{ else } \tilde v_t \leftarrow v_t\\
&\quad \textbf{if } \mu > 0:\ b_t \leftarrow \mu\, b_{t-1} + \dfrac{g_t}{\sqrt{\tilde v_t} + \epsilon};\ \ \theta_t \leftarrow \theta_{t-1} - \gamma\, b_t\\
&\quad \textbf{else: } \theta_t \leftarrow \theta_{t-1} - \gamma\, \dfrac{g_t}{\sqrt{\tilde v_t} + \epsilon}
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-2, r"\gamma", N_("learning rate: the step before division by √v"), low=1e-4, high=1.0, log=True),
        Hyper("alpha", 0.99, r"\alpha", N_("smoothing of the squared-gradient average (memory ≈ 1/(1−α) steps)"), low=0.5, high=0.999),
        Hyper("eps", 1e-8, r"\epsilon", N_("added to √v (outside the root) to avoid division by zero"), low=1e-10, high=1e-2, log=True),
        _WD,
        Hyper("momentum", 0.0, r"\mu", N_("momentum applied to the normalized step"), low=0.0, high=0.99),
        Hyper("centered", False, "", N_("divide by the root of the gradient's variance instead of its raw second moment"), kind="bool"),
        _MAX,
    ),
    reference=N_("Hinton, Srivastava & Swersky (2012), Neural Networks for ML, lecture 6e; centered: Graves (2013)"),
    summary=N_("Divides by the root of a DECAYING average of squared gradients, so steps don't die out like AdaGrad's."),
    state={"square_avg": N_(r"v_t: running average of g²"), "grad_avg": N_(r"\bar g_t: running average of g (centered)"),
           "momentum_buffer": N_(r"b_t: momentum of the normalized step")},
    notes=(N_(r"torch: $\alpha = 0.99$, $\epsilon$ outside the root, $v_0 = 0$, no bias correction, and the momentum "
           r"buffer starts at zeros. TensorFlow/optax default to decay 0.9 and $\epsilon$ inside the root.")),
)


def scale_by_rms(alpha, eps, momentum, centered: bool) -> Transform:
    use_mom = not np.all(np.asarray(momentum) == 0)

    def init(params):
        s = {"square_avg": np.zeros_like(params)}
        if centered:
            s["grad_avg"] = np.zeros_like(params)
        if use_mom:
            s["momentum_buffer"] = np.zeros_like(params)  # unlike SGD, torch starts this one at zeros
        return s

    def update(g, state, ctx):
        v = ema_sq_(state["square_avg"], g, alpha)
        if centered:
            gbar = lerp_(state["grad_avg"], g, 1.0 - alpha)
            avg = v + (-1.0 * gbar) * gbar
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(v)
        avg += eps
        if ctx.want_aux:
            ctx.aux["denom"] = avg.copy()
        if use_mom:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / avg
            return b  # torch: param.add_(buf, alpha=-lr)
        return Step(((-ctx.lr, g, avg),))  # torch: param.addcdiv_(grad, avg, value=-lr)

    return Transform(init, update)


@documented(RMSPROP)
def rmsprop(**hyper) -> Optimizer:
    h = resolve(RMSPROP, hyper)
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("alpha value"), h["alpha"], 0.0, 1.0, high_open=False)
    check_range(N_("epsilon value"), h["eps"])
    check_range(N_("momentum value"), h["momentum"])
    check_range(N_("weight_decay value"), h["weight_decay"])
    t = chain(maximize_sign(h["maximize"]), add_l2(h["weight_decay"]),
              scale_by_rms(h["alpha"], h["eps"], h["momentum"], h["centered"]))
    return Optimizer(RMSPROP, h, t, fused=partial(fused.rmsprop, h))


# ----------------------------------------------------------------------------------------------
ADADELTA = Info(
    name="adadelta",
    title=N_("Adadelta"),
    torch="torch.optim.Adadelta",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \rho \text{ (decay)},\ \epsilon,\ \lambda \text{ (weight decay)}\\
&\textbf{init: } v_0 \leftarrow 0,\ u_0 \leftarrow 0\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad v_t \leftarrow \rho\, v_{t-1} + (1-\rho)\, g_t^2\\
&\quad \Delta x_t \leftarrow \dfrac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\; g_t\\
&\quad u_t \leftarrow \rho\, u_{t-1} + (1-\rho)\, \Delta x_t^2\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \Delta x_t
\end{aligned}""",
    hyper=(
        Hyper("lr", 1.0, r"\gamma", N_("multiplies the unit-corrected step (1.0 in the paper)"), low=1e-2, high=10.0, log=True),
        Hyper("rho", 0.9, r"\rho", N_("decay of both running averages"), low=0.5, high=0.999),
        Hyper("eps", 1e-6, r"\epsilon", N_("inside both roots; also sets the size of the very first steps"), low=1e-8, high=1e-1, log=True),
        _WD,
        _MAX,
    ),
    reference=N_("Zeiler (2012), ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701"),
    summary=N_("RMSProp whose numerator is the RMS of past steps, so the step has the units of θ."),
    state={"square_avg": N_(r"v_t: running average of g²"), "acc_delta": N_(r"u_t: running average of squared steps Δx²")},
    notes=N_(r"torch puts $\epsilon$ inside both roots and keeps an extra learning rate $\gamma$ (default 1.0)."),
)


def scale_by_adadelta(rho, eps) -> Transform:
    def init(params):
        return {"square_avg": np.zeros_like(params), "acc_delta": np.zeros_like(params)}

    def update(g, state, ctx):
        v = ema_sq_(state["square_avg"], g, rho)
        u = state["acc_delta"]
        std = np.sqrt(v + eps)
        delta = np.sqrt(u + eps)
        delta /= std
        delta *= g
        ema_sq_(u, delta, rho)
        if ctx.want_aux:
            ctx.aux["denom"] = std
        return delta

    return Transform(init, update)


@documented(ADADELTA)
def adadelta(**hyper) -> Optimizer:
    h = resolve(ADADELTA, hyper)
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("rho value"), h["rho"], 0.0, 1.0, high_open=False)
    check_range(N_("epsilon value"), h["eps"])
    check_range(N_("weight_decay value"), h["weight_decay"])
    t = chain(maximize_sign(h["maximize"]), add_l2(h["weight_decay"]),
              scale_by_adadelta(h["rho"], h["eps"]))
    return Optimizer(ADADELTA, h, t, fused=partial(fused.adadelta, h))
