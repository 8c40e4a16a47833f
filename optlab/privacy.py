r"""Privacy: differentially private SGD (Abadi et al. 2016) and its privacy accountant.

One DP-SGD step on a batch chosen by **Poisson sampling** (every example joins independently with
probability q):

.. math::
    \bar g_i = g_i \Big/ \max\Big(1, \frac{\lVert g_i\rVert}{C}\Big),\qquad
    \tilde g = \frac{1}{qN}\Big(\sum_{i\in\text{batch}} \bar g_i + \mathcal N(0, \sigma^2 C^2 I)\Big),\qquad
    \theta \leftarrow \theta - \eta\,\tilde g

The clipped sum has sensitivity C to adding or removing one example, so the step is the
Poisson-subsampled Gaussian mechanism with noise multiplier σ; T steps compose to (ε, δ)-DP.  The
sum is divided by the *expected* batch size qN (the actual size would leak who is in the batch),
as TF-Privacy and Opacus do with Poisson sampling.

**The accountant is Google's** ``dp-accounting`` (PyPI, an optional dependency: ``pip install
optlab[privacy]``), never a home-made one.  :func:`epsilon` composes
``SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(σ)), T)`` in its

* **RDP accountant** (default): Rényi DP of the subsampled Gaussian (Mironov et al. 2019), converted
  to (ε, δ) with the library's tight conversion.  It is the accountant behind the numbers in Abadi
  et al. (their "moments accountant") and TF-Privacy's ``compute_dp_sgd_privacy``, an upper bound
  on ε, and quick: 25–200 ms per (σ, q) whatever T (smaller σ is slower), because the RDP of T steps
  is T times that of one step — and :func:`rdp_curve` keeps that one step, so ε for any T and δ
  after it costs ~0.2 ms;
* **PLD accountant** (``accountant="pld"``): privacy-loss distributions (Koskela et al. 2020;
  Doroshenko et al. 2022), tighter (≈ 8–10 % smaller ε in the examples below) but slower
  (70 ms … several seconds, growing with q and small σ): an option, not the page's default.

``dp_accounting`` pulls in SciPy; it is imported on the first call of :func:`epsilon`, never by
``import optlab`` (measured in ``bench/bench_challenges.py``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from .errors import OptlabError
from .problems import DataProblem

Array = np.ndarray

ACCOUNTANTS = ("rdp", "pld")
MAX_RUNS = 512
MAX_STEPS = 20_000

LATEX = {
    "clip": r"\bar g_i = g_i \Big/ \max\Big(1, \frac{\lVert g_i\rVert_2}{C}\Big)",
    "step": (r"\tilde g = \frac{1}{qN}\Big(\sum_{i\in\mathcal B}\bar g_i + \mathcal N(0, \sigma^2C^2 I)\Big),\quad"
             r"\mathcal B = \{i : u_i < q\},\ u_i\sim U(0,1)"),
    "dp": (r"\Pr[M(D)\in S] \le e^{\varepsilon}\Pr[M(D')\in S] + \delta\quad"
           r"\text{for datasets } D, D' \text{ differing in one example}"),
}
REFERENCES = {
    "dp_sgd": "Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar & Zhang (2016), Deep Learning with Differential "
              "Privacy, CCS",
    "rdp": "Mironov (2017), Rényi Differential Privacy; Mironov, Talwar & Zhang (2019), Rényi Differential Privacy "
           "of the Sampled Gaussian Mechanism; conversion: Balle et al. (2020), Hypothesis Testing Interpretations "
           "and Rényi DP",
    "pld": "Koskela, Jälkö & Honkela (2020); Doroshenko, Ghazi, Kamath, Kumar & Manurangsi (2022), Connect the "
           "Dots: Tighter Discrete Approximations of Privacy Loss Distributions",
    "library": "Google's dp-accounting (github.com/google/differential-privacy, python/dp_accounting)",
}


# ----------------------------------------------------------------------------------------------
# Clipping
# ----------------------------------------------------------------------------------------------
def clip_factors(norms, clip_norm: float) -> Array:
    """min(1, C/‖gᵢ‖) for per-sample gradient norms (any shape): Abadi et al.'s g/max(1, ‖g‖/C)."""
    C = _positive("clip_norm", clip_norm)
    n = np.asarray(norms, dtype=float)
    with np.errstate(divide="ignore"):
        return 1.0 / np.maximum(1.0, n / C)


def clip_per_sample(grads, clip_norm: float) -> tuple[Array, Array]:
    """Clip every per-sample gradient ``(..., n, P)`` to norm ≤ C: returns ``(clipped, norms before)``."""
    g = np.asarray(grads, dtype=float)
    norms = np.sqrt(np.einsum("...p,...p->...", g, g))
    return g * clip_factors(norms, clip_norm)[..., None], norms


def _positive(name, v) -> float:
    v = float(v)
    if not np.isfinite(v) or v <= 0:
        raise OptlabError(f"{name} must be a positive number; got {v!r}")
    return v


def _rate(q) -> float:
    q = float(q)
    if not np.isfinite(q) or not 0 < q <= 1:
        raise OptlabError(f"sample_rate q must be in (0, 1]; got {q!r}")
    return q


# ----------------------------------------------------------------------------------------------
# DP-SGD
# ----------------------------------------------------------------------------------------------
def dp_sgd_grad(problem: DataProblem, theta, mask, clip_norm: float, noise_multiplier, rng,
                sample_rate: float) -> tuple[Array, Array]:
    r"""The noisy clipped gradient of one DP-SGD step, batched over runs.

    ``theta`` (R, P); ``mask`` (R, N) bool, the Poisson batch of every run; ``noise_multiplier`` σ
    one value or one per run (R,).  For a linear model gᵢ = rᵢx̃ᵢ, so ‖gᵢ‖ = |rᵢ|·‖x̃ᵢ‖ and the
    clipped sum is one product ((mask·clip·r) @ X̃): no (R, N, P) array.  The L2 penalty (if any)
    is added after the noise (it touches no example).  Returns ``(g̃ (R, P), norms (R, N))``.
    """
    theta = np.asarray(theta, dtype=float)
    R = theta.shape[0]
    N = problem.n_samples
    r = problem.residuals(theta @ problem.Xt.T, problem.y)          # (R, N)
    norms = np.abs(r) * problem.row_norms
    c = clip_factors(norms, clip_norm)
    summed = (mask * c * r) @ problem.Xt
    sigma = np.broadcast_to(np.asarray(noise_multiplier, dtype=float), (R,))
    noise = rng.standard_normal((R, problem.dim)) * (sigma * clip_norm)[:, None]
    g = (summed + noise) / (sample_rate * N)
    return g + problem.penalty_grad(theta), norms


@dataclass
class DPSGDRun:
    """:func:`dp_sgd`: per run (R,) ``accuracy`` and ``loss`` of the final model on the whole data,
    ``losses`` (T+1, R) during training, ``theta`` (R, P), ``noise_multiplier`` (R,), ``batch_sizes``
    (T, R) the Poisson batch sizes drawn, ``clipped_fraction`` (T, R) of the batch's examples clipped."""

    accuracy: Array
    loss: Array
    losses: Array
    theta: Array
    noise_multiplier: Array
    batch_sizes: Array
    clipped_fraction: Array
    sample_rate: float
    steps: int
    clip_norm: float
    lr: float


def dp_sgd(problem: DataProblem, noise_multiplier=1.0, *, clip_norm: float = 1.0, sample_rate: float = 0.05,
           steps: int = 200, lr: float = 1.0, seed: int | None = 0, theta0=None,
           track_loss: bool = True) -> DPSGDRun:
    r"""Train ``problem``'s model with DP-SGD (Poisson sampling at rate q, per-sample clipping at C,
    Gaussian noise σC), one run per value of ``noise_multiplier`` (a sweep is one call).
    ``track_loss=False`` skips the full-data loss after every step (``losses`` then holds only the
    first and last rows; the rest NaN): a third of the work, for sweeps that need the end only.

    σ = 0 is the non-private baseline with the same clipping and sampling (ε = ∞).
    Deterministic given ``seed``; each run draws its own batches and noise from one generator.
    """
    sig = np.asarray(noise_multiplier, dtype=float).reshape(-1)
    if sig.size == 0 or np.any(~np.isfinite(sig)) or np.any(sig < 0):
        raise OptlabError(f"noise_multiplier must be numbers ≥ 0; got {noise_multiplier!r}")
    R = sig.size
    if R > MAX_RUNS:
        raise OptlabError(f"at most {MAX_RUNS} runs at once; got {R}")
    C = _positive("clip_norm", clip_norm)
    q = _rate(sample_rate)
    lr = _positive("lr", lr)
    T = int(steps)
    if not 0 <= T <= MAX_STEPS:
        raise OptlabError(f"steps must be from 0 to {MAX_STEPS}; got {steps!r}")
    rng = np.random.default_rng(seed)
    N = problem.n_samples
    theta = np.zeros((R, problem.dim)) if theta0 is None else np.array(np.broadcast_to(np.asarray(theta0, float), (R, problem.dim)))
    losses = np.full((T + 1, R), np.nan)
    losses[0] = problem.loss(theta)
    bsz = np.empty((T, R), dtype=np.int64)
    clipped = np.empty((T, R))
    for t in range(T):
        mask = rng.random((R, N)) < q
        g, norms = dp_sgd_grad(problem, theta, mask, C, sig, rng, q)
        theta -= lr * g
        if track_loss or t == T - 1:
            losses[t + 1] = problem.loss(theta)
        k = mask.sum(axis=1)
        bsz[t] = k
        clipped[t] = np.where(k > 0, (mask & (norms > C)).sum(axis=1) / np.maximum(k, 1), 0.0)
    return DPSGDRun(accuracy=problem.accuracy(theta), loss=problem.loss(theta), losses=losses, theta=theta,
                    noise_multiplier=sig, batch_sizes=bsz, clipped_fraction=clipped, sample_rate=q, steps=T,
                    clip_norm=C, lr=lr)


# ----------------------------------------------------------------------------------------------
# The accountant (dp-accounting)
# ----------------------------------------------------------------------------------------------
class _QuietOrders(logging.Filter):
    """Drops dp-accounting's per-order warning "_compute_log_a_frac failed to converge … Excluding this
    order": for σ ≲ 0.7 it fires for several fractional orders on every call (the order is skipped and
    ε comes from the others, as the message says), which would flood a classroom server's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to converge" not in record.getMessage()


def _dp_accounting():
    try:
        import dp_accounting
        from dp_accounting.pld import pld_privacy_accountant
        from dp_accounting.rdp import rdp_privacy_accountant
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise OptlabError("ε needs Google's dp-accounting: pip install 'optlab[privacy]' "
                          "(or pip install dp-accounting)") from e
    absl = logging.getLogger("absl")
    if not any(isinstance(f, _QuietOrders) for f in absl.filters):  # once per process
        absl.addFilter(_QuietOrders())
    return dp_accounting, rdp_privacy_accountant, pld_privacy_accountant


def dp_event(noise_multiplier: float, sample_rate: float, steps: int):
    """The dp-accounting event of DP-SGD: T self-compositions of the Poisson-subsampled Gaussian."""
    dpa, _, _ = _dp_accounting()
    return dpa.SelfComposedDpEvent(
        dpa.PoissonSampledDpEvent(sample_rate, dpa.GaussianDpEvent(noise_multiplier)), int(steps))


@dataclass(frozen=True)
class RdpCurve:
    """The RDP of ONE DP-SGD step (Poisson-subsampled Gaussian with σ and q) at the accountant's
    orders, from dp-accounting: ε after any number of steps at any δ is then the library's
    ``compute_epsilon(orders, T·rdp, δ)``, ~0.2 ms, instead of a new composition (25–200 ms).
    Hashable: a page can cache one per (σ, q) and move T and δ freely."""

    noise_multiplier: float
    sample_rate: float
    orders: tuple
    rdp: tuple

    def epsilon(self, steps, delta: float = 1e-5):
        """ε after ``steps`` (a number or an array) at ``delta``."""
        _, rdp_mod, _ = _dp_accounting()
        T = np.asarray(steps, dtype=np.int64)
        one = np.asarray(self.rdp)
        out = np.array([rdp_mod.compute_epsilon(self.orders, one * k, float(delta))[0] if k > 0 else 0.0
                        for k in T.reshape(-1)]).reshape(T.shape)
        return float(out) if out.ndim == 0 else out


def rdp_curve(noise_multiplier: float, sample_rate: float) -> RdpCurve | None:
    """One step's RDP from dp-accounting's ``RdpAccountant`` (its default orders).  It reads the
    accountant's ``_orders``/``_rdp`` after composing one event (RDP composes additively, so T
    steps are T times one); None if a future version no longer has them, and :func:`epsilon` then
    composes each T in the accountant (same numbers, tested)."""
    _, rdp_mod, _ = _dp_accounting()
    acc = rdp_mod.RdpAccountant()
    acc.compose(dp_event(float(noise_multiplier), _rate(sample_rate), 1))
    orders, one = getattr(acc, "_orders", None), getattr(acc, "_rdp", None)
    if orders is None or one is None or len(orders) != len(one):
        return None
    return RdpCurve(float(noise_multiplier), float(sample_rate), tuple(float(o) for o in orders),
                    tuple(float(v) for v in np.asarray(one)))


def epsilon(noise_multiplier, sample_rate: float, steps, delta: float = 1e-5, accountant: str = "rdp"):
    r"""ε of DP-SGD with noise multiplier σ, Poisson sampling rate q and T steps at the given δ,
    from Google's dp-accounting (``accountant`` = ``"rdp"``, default, or ``"pld"``).

    ``steps`` may be an array (ε along training): with the RDP accountant the single-step RDP is
    computed once and multiplied by each T (RDP composes additively), then converted with the
    library's ``compute_epsilon``; tested equal to composing each T separately.  σ = 0 gives ∞.
    Returns a float, or an array shaped like ``steps``.
    """
    if accountant not in ACCOUNTANTS:
        raise OptlabError(f"accountant must be one of {', '.join(ACCOUNTANTS)}; got {accountant!r}")
    sigma = float(noise_multiplier)
    if not np.isfinite(sigma) or sigma < 0:
        raise OptlabError(f"noise_multiplier must be a number ≥ 0; got {noise_multiplier!r}")
    q = _rate(sample_rate)
    d = float(delta)
    if not 0 < d < 1:
        raise OptlabError(f"delta must be in (0, 1); got {delta!r}")
    T = np.asarray(steps)
    if T.size == 0 or np.any(T.astype(float) != np.round(T.astype(float))) or np.any(T < 0) or np.any(T > 10**7):
        raise OptlabError(f"steps must be whole numbers from 0 to 10⁷; got {steps!r}")
    T = T.astype(np.int64)
    if sigma == 0:
        out = np.where(T > 0, np.inf, 0.0)
        return float(out) if out.ndim == 0 else out
    _, rdp_mod, pld_mod = _dp_accounting()
    flat = T.reshape(-1)
    res = np.zeros(flat.shape)
    if accountant == "rdp":
        curve = rdp_curve(sigma, q)
        for i, k in enumerate(flat):
            if k == 0:
                continue
            if curve is not None:  # RDP of k steps = k × RDP of one step (the accountant's own rule)
                res[i] = curve.epsilon(int(k), d)
            else:
                a = rdp_mod.RdpAccountant()
                a.compose(dp_event(sigma, q, int(k)))
                res[i] = a.get_epsilon(d)
    else:
        for i, k in enumerate(flat):
            if k == 0:
                continue
            a = pld_mod.PLDAccountant()
            a.compose(dp_event(sigma, q, int(k)))
            res[i] = a.get_epsilon(d)
    res = res.reshape(T.shape)
    return float(res) if res.ndim == 0 else res


def gaussian_delta(eps: float, sigma_eff: float) -> float:
    r"""Exact δ(ε) of the (unsubsampled) Gaussian mechanism with sensitivity 1 and noise σ_eff
    (Balle & Wang 2018, Theorem 8):  δ = Φ(1/(2σ) − εσ) − e^ε Φ(−1/(2σ) − εσ).  T full-batch
    steps (q = 1) with noise σ are one Gaussian mechanism with σ_eff = σ/√T: an independent closed
    form the accountants are tested against."""
    def Phi(x):
        return 0.5 * math.erfc(-x / math.sqrt(2.0))
    s = float(sigma_eff)
    return Phi(1.0 / (2 * s) - eps * s) - math.exp(eps) * Phi(-1.0 / (2 * s) - eps * s)


def gaussian_epsilon(delta: float, sigma_eff: float) -> float:
    """ε of the Gaussian mechanism at δ, exact (bisection on :func:`gaussian_delta`)."""
    lo, hi = 0.0, 1.0
    while gaussian_delta(hi, sigma_eff) > delta:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if gaussian_delta(mid, sigma_eff) > delta:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass
class PrivacySweep:
    """:func:`accuracy_vs_epsilon`, per noise multiplier (S,): ``epsilon`` (∞ for σ = 0), mean
    ``accuracy`` over seeds and its spread ``accuracy_std``; ``delta`` and the settings."""

    noise_multiplier: Array
    epsilon: Array
    accuracy: Array
    accuracy_std: Array
    delta: float
    sample_rate: float
    steps: int
    clip_norm: float
    accountant: str


def accuracy_vs_epsilon(problem: DataProblem, noise_multipliers=(0.0, 0.5, 0.7, 1.0, 1.5, 2.0, 4.0, 8.0), *,
                        delta: float | None = None, sample_rate: float = 0.05, steps: int = 200,
                        clip_norm: float = 1.0, lr: float = 1.0, seeds: int = 3, seed: int | None = 0,
                        accountant: str = "rdp", epsilons=None) -> PrivacySweep:
    r"""Accuracy against ε at fixed δ: one batched :func:`dp_sgd` call over noise multipliers × seeds,
    and one accountant call per noise multiplier.  δ defaults to 1/N^{1.1} (a common choice: below 1/N,
    so that "leak one example entirely" is not allowed).  More noise → smaller ε → lower accuracy.
    ``epsilons`` (one per noise multiplier) skips the accountant: a page that caches
    :func:`rdp_curve` per (σ, q) passes ε from there when only C, lr or the seed changed.
    """
    sig = np.asarray(noise_multipliers, dtype=float).reshape(-1)
    S = int(seeds)
    if not 1 <= S <= 64:
        raise OptlabError(f"seeds must be from 1 to 64; got {seeds!r}")
    N = problem.n_samples
    d = float(delta) if delta is not None else float(N ** -1.1)
    run = dp_sgd(problem, np.repeat(sig, S), clip_norm=clip_norm, sample_rate=sample_rate, steps=steps, lr=lr,
                 seed=seed, track_loss=False)
    acc = run.accuracy.reshape(sig.size, S)
    if epsilons is None:
        eps = np.array([epsilon(s, sample_rate, steps, d, accountant) for s in sig])
    else:
        eps = np.asarray(epsilons, dtype=float).reshape(-1)
        if eps.shape != sig.shape:
            raise OptlabError(f"epsilons must have one value per noise multiplier ({sig.size}); got {eps.size}")
    return PrivacySweep(noise_multiplier=sig, epsilon=eps, accuracy=acc.mean(axis=1), accuracy_std=acc.std(axis=1),
                        delta=d, sample_rate=float(sample_rate), steps=int(steps), clip_norm=float(clip_norm),
                        accountant=accountant)
