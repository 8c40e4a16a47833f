r"""Teaching variants that torch.optim does not have.

**Not registered**: :func:`optlab.optimizers.make` and ``names()`` know nothing of these; build
them with :func:`variant` (``variant("adam_no_bias_correction", lr=0.1)``).  They exist to show what a
torch convention buys, by switching it off:

* ``adam_no_bias_correction``: Adam whose moments are used raw, ``θ ← θ − γ·m/(√v + ε)``;
* ``sgd_textbook_momentum``: the velocity form ``v ← μv + γg,  θ ← θ − v`` (Sutskever et al.)
  instead of torch's ``b ← μb + g,  θ ← θ − γb``; the two paths agree while γ is constant and
  part ways as soon as a schedule changes γ.

Both are chains of the transforms of :mod:`.adam` / :mod:`.base` (imported, not copied), so they run
in :func:`optlab.run` like any optimizer and record the same per-step state.  The heavy-ball theory
of the momentum phase diagram is in :mod:`optlab.theory`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .adam import ADAM, check_adam, moments_init, update_moments
from .base import Info, Optimizer, Step, Transform, add_l2, chain, check_range, documented, resolve
from .sgd import INFO as SGD_INFO
from ..errors import UnknownNameError
from ..i18n import domain

# Meanings, notes and summaries are msgids of the shared catalog: show them with _().
_, N_, ngettext = domain("optlab")

TEACHING = "teaching variant, not in torch.optim"


# ----------------------------------------------------------------------------------------------
# Adam without bias correction
# ----------------------------------------------------------------------------------------------
ADAM_NO_BIAS_CORRECTION = Info(
    name="adam_no_bias_correction",
    title=N_("Adam without bias correction"),
    torch=f"({TEACHING}: torch.optim.Adam always bias-corrects)",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma \text{ (lr)},\ \beta_1, \beta_2 \text{ (betas)},\ \epsilon,\ \lambda \text{ (weight decay)}\\
&\textbf{init: } m_0 \leftarrow 0,\ v_0 \leftarrow 0\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1});\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\\
&\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\
&\quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\
&\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \dfrac{m_t}{\sqrt{v_t} + \epsilon}
\qquad \text{(no } 1-\beta_1^t,\ 1-\beta_2^t\text{)}
\end{aligned}""",
    hyper=tuple(h for h in ADAM.hyper if h.name in ("lr", "betas", "eps", "weight_decay")),
    reference=N_("Kingma & Ba (2015), section 3: why the moments need bias correction"),
    summary=(N_("Adam with the raw moments m, v: both start at 0, v is the more biased of the two, so "
             "the first steps are (1 − β₁ᵗ)/√(1 − β₂ᵗ) times Adam's (≈ 3.2× at t = 1 with torch's betas).")),
    state={"exp_avg": N_(r"m_t: first moment (biased towards 0 at the start)"),
           "exp_avg_sq": N_(r"v_t: second moment (biased towards 0 at the start)")},
    notes=(N_(r"Not a torch optimizer: torch's Adam always divides by $1-\beta_1^t$ and $1-\beta_2^t$. "
           r"Without it, $m_1 = (1-\beta_1) g_1$ and $v_1 = (1-\beta_2) g_1^2$, so the first step is "
           r"$\gamma (1-\beta_1)/\sqrt{1-\beta_2} \approx 3.16\,\gamma$ per coordinate, not $\gamma$.")),
)


def scale_by_adam_no_bias_correction(b1, b2, eps) -> Transform:
    """Adam's direction from the raw moments: ``m / (√v + ε)`` (the learning rate is applied after)."""

    def update(g, state, ctx):
        m, v = update_moments(g, state, b1, b2)
        denom = np.sqrt(v)
        denom += eps
        if ctx.want_aux:
            ctx.aux.update(m_hat=m.copy(), v_hat=v.copy(), denom=denom.copy(),
                           lr_t=np.broadcast_to(ctx.lr, g.shape[:1] + (1,)).copy())
        return Step(((-ctx.lr, m, denom),))  # same addcdiv_ as Adam, with step size γ instead of γ/bc₁

    return Transform(lambda params: moments_init(params), update)


@documented(ADAM_NO_BIAS_CORRECTION)
def adam_no_bias_correction(**hyper) -> Optimizer:
    h = resolve(ADAM_NO_BIAS_CORRECTION, hyper)
    check_adam(h)
    b1, b2 = h["betas"]
    t = chain(add_l2(h["weight_decay"]), scale_by_adam_no_bias_correction(b1, b2, h["eps"]))
    return Optimizer(ADAM_NO_BIAS_CORRECTION, h, t)


# ----------------------------------------------------------------------------------------------
# SGD with the textbook (velocity) form of momentum
# ----------------------------------------------------------------------------------------------
SGD_TEXTBOOK_MOMENTUM = Info(
    name="sgd_textbook_momentum",
    title=N_("SGD, textbook momentum"),
    torch=f"({TEACHING}: torch.optim.SGD keeps γ outside the buffer)",
    latex=r"""\begin{aligned}
&\textbf{input: } \gamma_t \text{ (lr, may follow a schedule)},\ \mu \text{ (momentum)}\\
&\textbf{init: } v_0 \leftarrow 0\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1})\\
&\quad v_t \leftarrow \mu\, v_{t-1} + \gamma_t\, g_t \qquad \text{(the step size enters the velocity)}\\
&\quad \theta_t \leftarrow \theta_{t-1} - v_t
\end{aligned}""",
    hyper=tuple(h for h in SGD_INFO.hyper if h.name in ("lr", "momentum")),
    reference=N_("Sutskever, Martens, Dahl & Hinton (2013), On the importance of initialization and momentum"),
    summary=(N_("Momentum that accumulates steps γₜgₜ rather than gradients: the same path as torch's SGD "
             "while γ is constant; after a learning-rate drop it keeps the old, larger steps in its memory.")),
    state={"velocity": N_(r"v_t: running sum of past steps \gamma_k g_k")},
    notes=(N_(r"torch: $b_t = \mu b_{t-1} + g_t$, $\theta_t = \theta_{t-1} - \gamma_t b_t$, so a drop of "
           r"$\gamma$ shrinks the whole remembered velocity at once. Textbook: $v_t = \mu v_{t-1} + "
           r"\gamma_t g_t$, so old steps decay only by $\mu$ per step.")),
)


def textbook_momentum(momentum) -> Transform:
    """``v ← μv + γg``; the step is ``−v`` (so it is written as θ's ``add_`` term directly)."""

    def init(params):
        return {"velocity": np.zeros_like(params)}

    def update(g, state, ctx):
        v = state["velocity"]
        v *= momentum
        v += ctx.lr * g
        return Step(((-1.0, v, None),))

    return Transform(init, update)


@documented(SGD_TEXTBOOK_MOMENTUM)
def sgd_textbook_momentum(**hyper) -> Optimizer:
    h = resolve(SGD_TEXTBOOK_MOMENTUM, hyper)
    check_range(N_("learning rate"), h["lr"])
    check_range(N_("momentum value"), h["momentum"], 0.0, 1.0)
    return Optimizer(SGD_TEXTBOOK_MOMENTUM, h, chain(textbook_momentum(h["momentum"])))


# ----------------------------------------------------------------------------------------------
_VARIANTS: dict[str, tuple[Callable[..., Optimizer], str]] = {
    "adam_no_bias_correction": (adam_no_bias_correction, "adam"),
    "sgd_textbook_momentum": (sgd_textbook_momentum, "sgd"),
}


def variant_names() -> list[str]:
    """Names of the teaching variants (none of them is in ``optimizers.names()``)."""
    return list(_VARIANTS)


def variant(name: str, **hyper) -> Optimizer:
    """Build teaching variant ``name`` with torch-style keyword hyperparameters."""
    if name not in _VARIANTS:
        raise UnknownNameError("teaching variant", name, _VARIANTS)
    return _VARIANTS[name][0](**hyper)


def base_of(name: str) -> str:
    """The torch optimizer a variant modifies (its colour in every figure): ``"adam"``, ``"sgd"``."""
    if name not in _VARIANTS:
        raise UnknownNameError("teaching variant", name, _VARIANTS)
    return _VARIANTS[name][1]


def uncorrected_step_factor(beta1, beta2, t) -> np.ndarray:
    r"""How many times longer the uncorrected step is: ``(1 − β₁ᵗ)/√(1 − β₂ᵗ)``.

    For a constant gradient both Adam steps are exact multiples of each other: Adam moves
    ``γ·m̂/√v̂ = γ·sign(g)`` and the uncorrected variant ``γ·m/√v``, whose ratio is this factor
    (ε neglected).  With torch's betas it is 3.16 at t = 1, peaks near 6.5 around t ≈ 10 and
    tends to 1 only after a few thousand steps.
    """
    t = np.asarray(t, dtype=float)
    return (1.0 - beta1 ** t) / np.sqrt(1.0 - beta2 ** t)


__all__ = ["variant", "variant_names", "base_of", "adam_no_bias_correction", "sgd_textbook_momentum",
           "ADAM_NO_BIAS_CORRECTION", "SGD_TEXTBOOK_MOMENTUM", "uncorrected_step_factor", "TEACHING"]
