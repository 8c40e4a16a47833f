r"""Stochastic gradient descent with torch's momentum, dampening and Nesterov (``torch.optim.SGD``).

.. math::
    g_t \leftarrow g_t + \lambda\theta_{t-1};\quad
    b_t = g_t\ (t=1),\ \ b_t = \mu b_{t-1} + (1-\tau) g_t;\quad
    g_t \leftarrow g_t + \mu b_t\ \text{(Nesterov)}\ \text{else}\ b_t;\quad
    \theta_t = \theta_{t-1} - \gamma g_t
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import fused
from .base import (Hyper, Info, Optimizer, Transform, add_l2, chain, check_range, documented, is_zero,
                   maximize_sign, resolve)
from ..i18n import domain

# Meanings, notes and summaries are msgids of the shared catalog: show them with _().
_, N_, ngettext = domain("optlab")

INFO = Info(
    name="sgd",
    title=N_("SGD"),
    torch="torch.optim.SGD",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \theta_0,\ \lambda \text{ (weight decay)},\ \mu \text{ (momentum)},\ \tau \text{ (dampening)}\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1}) \;(\,-\nabla f \text{ if maximize})\\
&\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad \textbf{if } \mu \ne 0:\\
&\qquad b_t \leftarrow g_t \ \text{ if } t = 1 \ \text{ else } \ \mu\, b_{t-1} + (1-\tau)\, g_t\\
&\qquad g_t \leftarrow g_t + \mu\, b_t \ \text{ if nesterov else } \ b_t\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, g_t
\end{aligned}""",
    hyper=(
        Hyper("lr", 1e-3, r"\gamma", N_("learning rate: the size of each step along −g"), low=1e-4, high=1.0, log=True),
        Hyper("momentum", 0.0, r"\mu", N_("how much of the previous step's direction is kept (0 = plain GD)"), low=0.0, high=0.99),
        Hyper("dampening", 0.0, r"\tau", N_("scales down the new gradient's share in the momentum buffer"), low=0.0, high=0.99),
        Hyper("weight_decay", 0.0, r"\lambda", N_("L2 penalty: adds λθ to the gradient"), low=0.0, high=0.5),
        Hyper("nesterov", False, "", N_("look-ahead momentum: step along g + μb instead of b"), kind="bool"),
        Hyper("maximize", False, "", N_("climb instead of descend (g ← −g)"), kind="bool"),
    ),
    reference=N_("Robbins & Monro (1951); momentum: Polyak (1964); Nesterov (1983), in the form of Sutskever et al. (2013)"),
    summary=N_("Step against the gradient; momentum keeps a running direction that smooths zig-zags."),
    state={"momentum_buffer": N_(r"b_t: the momentum buffer (running direction)")},
    notes=(N_(r"torch keeps the learning rate outside the buffer ($b \leftarrow \mu b + g$, "
           r"$\theta \leftarrow \theta - \gamma b$) and starts $b_1 = g_1$. The textbook form "
           r"$v \leftarrow \mu v + \gamma g$ gives the same path while $\gamma$ is constant, "
           r"and a different one once a schedule changes $\gamma$.")),
)


def sgd_momentum(momentum, dampening, nesterov: bool) -> Transform:
    """torch's momentum buffer: ``b₁ = g₁``, then ``b ← μb + (1 − τ)g``; Nesterov uses ``g + μb``."""
    use = not is_zero(momentum)
    if not use:
        return None

    def init(params):
        return {"momentum_buffer": np.zeros_like(params)}

    def update(g, state, ctx):
        buf = state["momentum_buffer"]
        if ctx.step == 1:
            buf[...] = g  # torch starts the buffer at g: no dampening, no zeros on the first step
        else:
            buf *= momentum
            buf += (1.0 - dampening) * g
        if nesterov:
            d = g + momentum * buf
        elif np.ndim(momentum) and not np.all(momentum):
            d = np.where(momentum == 0, g, buf)  # runs with μ = 0 in a sweep take the plain gradient
        else:
            d = buf  # θ ← θ − γ·b (torch's add_(buf, alpha=−lr)), applied by the optimizer
        return d

    return Transform(init, update)


@documented(INFO)
def sgd(**hyper) -> Optimizer:
    h = resolve(INFO, hyper)
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("momentum value"), h["momentum"])
    check_range(N_("dampening value"), h["dampening"])
    check_range(N_("weight_decay value"), h["weight_decay"])
    if h["nesterov"] and (np.any(np.asarray(h["momentum"]) <= 0) or not is_zero(h["dampening"])):
        raise ValueError(_("Nesterov momentum requires a momentum > 0 and zero dampening; got momentum={momentum!r}, "
                           "dampening={dampening!r}").format(momentum=h["momentum"], dampening=h["dampening"]))
    t = chain(maximize_sign(h["maximize"]), add_l2(h["weight_decay"]),
              sgd_momentum(h["momentum"], h["dampening"], h["nesterov"]))
    return Optimizer(INFO, h, t, fused=partial(fused.sgd, h))
