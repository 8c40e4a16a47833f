r"""Sharpness-aware minimization (SAM, Foret et al. 2021) as a wrapper around any first-order optimizer.

.. math::
    g = \nabla f(\theta),\quad \hat\epsilon = \rho\,\frac{g}{\lVert g\rVert_2 + 10^{-12}},\quad
    g_{\text{SAM}} = \nabla f(\theta + \hat\epsilon),\quad \theta \leftarrow \text{base}(\theta, g_{\text{SAM}})

SAM minimizes max_{‖ε‖≤ρ} f(θ + ε) to first order: it climbs ρ along the gradient, takes the
gradient there, and hands that to the base optimizer (SGD, Adam …) as if it were the gradient at θ.

**Where the second gradient comes from.**  SAM needs a gradient at a point other than θ, so it needs
the objective, not only a gradient.  torch's answer is a closure (``optimizer.step(closure)``; the
reference implementation davda54/sam splits it into ``first_step``/``second_step``).  This engine
already has that door: ``update(grads, state, params, problem=…)`` passes the objective to the
transforms, as Newton and BFGS use it, and :func:`optlab.run` passes the surface.  So SAM is a
transform like any other — ``make("sam", base="sgd", rho=0.05, lr=0.1, momentum=0.9)`` — that calls
``problem.value_and_grad`` once per step at θ + ε̂; ``run`` then does two gradient evaluations per
step (the runner's, and SAM's).  Without ``problem`` it raises, rather than silently being SGD.
With a noisy runner (``noise=``) the first gradient is the noisy one and the second is exact.

The perturbation uses the raw gradient g, before the base optimizer's weight decay or momentum
(as in davda54/sam, where ``first_step`` reads ``p.grad``).
"""
from __future__ import annotations

import numpy as np

from .adam import adam, adamw, nadam, radam
from .base import Hyper, Info, Optimizer, Transform, chain, check_range, no_state
from .rms import adadelta, adagrad, rmsprop
from .sgd import sgd

# The first-order optimizers SAM can wrap, by torch.optim name (imported from their own modules, not
# from the package face, which imports this module).
BASES = {f.__name__: f for f in (sgd, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam)}

SAM_EPS = 1e-12  # davda54/sam: scale = rho / (grad_norm + 1e-12)

LATEX = r"""\begin{aligned}
&\textbf{input: } \rho \text{ (neighbourhood radius)},\ \text{base optimizer}\\
&\textbf{for } t = 1, 2, \dots \textbf{ do}\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1})\\
&\quad \hat\epsilon_t \leftarrow \rho\, g_t / (\lVert g_t\rVert_2 + 10^{-12})\\
&\quad g_t \leftarrow \nabla f(\theta_{t-1} + \hat\epsilon_t)\\
&\quad \theta_t \leftarrow \text{base step}(\theta_{t-1}, g_t)
\end{aligned}"""

RHO = Hyper("rho", 0.05, r"\rho", "radius of the neighbourhood whose worst point SAM descends from (0 = the base optimizer)",
            low=0.0, high=1.0)


def sam_ascent(rho) -> Transform:
    """Replace g by the gradient at θ + ρ g/‖g‖ (per run), evaluated on ``ctx.problem``."""

    def update(g, state, ctx):
        p = ctx.problem
        if p is None or not hasattr(p, "value_and_grad"):
            raise ValueError("SAM needs the objective for its second gradient: pass problem=<surface> to "
                             "update()/step() (optlab.run does)")
        norm = np.sqrt(np.einsum("bi,bi->b", g, g))[:, None]
        scale = rho / (norm + SAM_EPS)  # rho: a number or a (B, 1) column
        _, g2 = p.value_and_grad(ctx.params + g * scale)
        g2 = np.asarray(g2, dtype=float).reshape(g.shape)
        if ctx.want_aux:
            ctx.aux["sam_grad_first"] = g.copy()
        return g2

    return Transform(no_state, update)


def sam(base: str = "sgd", **hyper) -> Optimizer:
    """SAM around the first-order optimizer ``base`` (a torch.optim name); ``rho`` plus the base's own
    keyword hyperparameters (torch's defaults for the missing ones).  ``rho`` may be one value per run."""
    if not isinstance(base, str) or base.lower() not in BASES:
        raise ValueError(f"SAM wraps a first-order optimizer ({', '.join(BASES)}); got base={base!r}")
    rho = hyper.pop("rho", RHO.default)
    if isinstance(rho, (bool, str, bytes)) or rho is None:
        raise ValueError(f"rho must be a number ≥ 0; got {rho!r}")
    rho_v = np.asarray(rho, dtype=float)
    check_range("rho", rho_v)
    if rho_v.ndim > 1:
        raise ValueError(f"rho must be a number or one value per run; got shape {rho_v.shape}")
    if hyper.get("maximize"):
        raise ValueError("SAM with maximize=True is not defined here (the ascent step would have to flip too)")
    inner = BASES[base.lower()](**hyper)
    rho_h = float(rho_v) if rho_v.ndim == 0 else rho_v.reshape(-1, 1)
    info = Info(
        name="sam",
        title=f"SAM ({inner.info.title})",
        torch=f"(no torch.optim class; davda54/sam's SAM(params, {inner.info.torch}, rho=…))",
        latex=LATEX,
        hyper=(RHO,) + inner.info.hyper,
        reference="Foret, Kleiner, Mobahi & Neyshabur (2021), Sharpness-Aware Minimization for Efficiently "
                  "Improving Generalization, ICLR",
        summary="Descends from the worst point within radius ρ: prefers wide, flat minima over sharp ones.",
        state=dict(inner.info.state),
        notes=(r"Two gradients per step: at $\theta$ and at $\theta + \hat\epsilon$. The base optimizer's "
               r"update rule is applied to the second one."),
    )
    h = {"rho": rho_h, **inner.hyper}
    opt = Optimizer(info, h, chain(sam_ascent(rho_h), inner._t))
    opt.base = inner.name
    return opt
