r"""Optimizer machinery: small composable transforms in the style of optax, with torch.optim's numbers.

An optimizer is an ``init``/``update`` pair over plain NumPy arrays with a leading batch axis::

    state = opt.init(params)                              # params (B, D) -> dict of (B, D) arrays
    updates, state = opt.update(grads, state, params)     # params_next = params + updates

``update`` advances every state array *in place* (no per-step allocation of state, so one call can
advance a million runs); copy the state if you need to keep an old one.  Each optimizer is a
``chain`` of transforms, e.g. Adam = L2 decay -> Adam's moments -> learning rate.  Hyperparameters are
scalars or one value per run (shape ``(B,)``), so a sweep over 200 learning rates is one call.

Floating-point order follows torch's CPU kernels (``addcmul`` is ``self + (value·t1)·t2``,
``addcdiv`` is ``self + (value·t1)/t2``, ``lerp`` switches form at weight 0.5), which keeps optlab's
float64 trajectories within round-off of ``torch.optim``'s.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
from ..i18n import domain

_, N_, ngettext = domain("optlab")

Array = np.ndarray


# ----------------------------------------------------------------------------------------------
# Metadata the app renders
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its torch keyword, default, symbol and one-line meaning.

    ``low``/``high`` is a sensible range for a UI control; ``log`` says a log scale reads better.
    ``kind`` is ``"float"``, ``"bool"`` or ``"betas"`` (a pair).
    """

    name: str
    default: Any
    symbol: str
    meaning: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    log: bool = False


@dataclass(frozen=True)
class Info:
    """What the app shows about an optimizer: update rule as LaTeX, hyperparameters, reference."""

    name: str
    title: str
    torch: str
    latex: str
    hyper: tuple[Hyper, ...]
    reference: str
    summary: str
    state: dict[str, str] = field(default_factory=dict)  # state key -> "symbol: meaning"
    notes: str = ""
    order: int = 1

    @property
    def defaults(self) -> dict[str, Any]:
        return {h.name: h.default for h in self.hyper}

    def hyper_by_name(self, name: str) -> Hyper:
        for h in self.hyper:
            if h.name == name:
                return h
        raise KeyError(name)


# ----------------------------------------------------------------------------------------------
# Transforms
# ----------------------------------------------------------------------------------------------
class Context:
    """What one update step knows besides the gradient (read-only for the transforms).

    ``step`` counts from 1, ``lr`` is the learning rate of this step, ``params`` θ before it and
    ``problem`` the objective (second-order methods).  When ``want_aux`` is set, transforms add the
    derived quantities of the app's per-step trace (m̂, v̂, denominator …) to ``aux``.
    """

    __slots__ = ("step", "lr", "params", "problem", "want_aux", "aux")

    def __init__(self, step, lr, params, problem=None, want_aux=False):
        self.step, self.lr, self.params, self.problem, self.want_aux = step, lr, params, problem, want_aux
        self.aux: dict[str, Array] = {}


class Step(tuple):
    """θ's exact update, in torch's order of floating-point operations: the tuple of its terms.

    ``θ ← θ·decay`` first (decoupled weight decay; ``decay`` is None unless :meth:`with_decay` set
    it), then for each term ``(value, t1, t2)`` in order: ``θ ← θ + (value·t1)/t2`` (torch's
    ``addcdiv_``) or, with ``t2 = None``, ``θ ← θ + value·t1`` (``add_``).  A plain tuple subclass,
    as cheap to build as a list: one is made per optimizer step.
    """

    __slots__ = ()
    decay = None

    def with_decay(self, factor) -> "Step":
        """The same terms after ``θ ← θ·factor``."""
        out = _DecayedStep(self)
        out.decay = factor
        return out


class _DecayedStep(Step):
    """A :class:`Step` whose instance carries its ``decay`` factor (only AdamW-style decay pays for it)."""


class Transform(NamedTuple):
    """``init(params) -> dict`` of state arrays; ``update(g, state, ctx) -> g' | Step``.

    ``update`` advances its state arrays in place and returns what it computed: the transformed
    gradient (the next transform's input; after the last one θ ← θ − γ·g'), or, for a transform
    that knows torch's exact parameter update (Adam's ``addcdiv_``…), that update as a
    :class:`Step`.  Only a transform that amends a Step (decoupled decay) may follow one.
    """

    init: Callable[[Array], dict]
    update: Callable[[Array, dict, Context], "Array | Step"]


def chain(*transforms: Transform | None) -> Transform:
    """Compose transforms left to right; their states share one flat dict (torch's state names).

    Each transform's result is the next one's input, and the last result is the step.  ``None``
    entries (a switched-off option such as zero weight decay) are dropped, so an unused option
    costs nothing per step.
    """
    transforms = tuple(t for t in transforms if t is not None)

    def init(params):
        state: dict = {}
        for t in transforms:
            state.update(t.init(params))
        return state

    def update(g, state, ctx):
        for t in transforms:
            g = t.update(g, state, ctx)
        return g

    return Transform(init, update)


# ----------------------------------------------------------------------------------------------
# Small helpers with torch's rounding
# ----------------------------------------------------------------------------------------------
def hyper_value(v, name: str):
    """A hyperparameter as a float, or as a ``(B, 1)`` column for one value per run."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 2 and a.shape[1] == 1:  # already a per-run column
        return a
    if a.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D array with one value per run; got shape {a.shape}")
    return a.reshape(-1, 1)


def is_zero(v) -> bool:
    return bool(np.all(np.asarray(v) == 0))


def lerp_(m: Array, g: Array, w) -> Array:
    """In place ``m ← m + w·(g − m)``, in torch's two-branch form (exact at w = 1)."""
    if type(w) is float or np.ndim(w) == 0:
        if abs(w) < 0.5:
            m += w * (g - m)
        else:
            m[...] = g - (g - m) * (1.0 - w)
        return m
    low = np.abs(w) < 0.5
    m[...] = np.where(low, m + w * (g - m), g - (g - m) * (1.0 - w))
    return m


def addcmul_(v: Array, t1: Array, t2: Array, value) -> Array:
    """In place ``v ← v + (value·t1)·t2`` (torch's ``addcmul_`` order)."""
    tmp = value * t1
    tmp *= t2
    v += tmp
    return v


def ema_sq_(v: Array, g: Array, decay) -> Array:
    """In place ``v ← decay·v + (1 − decay)·g²``: torch's ``v.mul_(β).addcmul_(g, g, 1 − β)``."""
    v *= decay
    return addcmul_(v, g, g, 1.0 - decay)


def bias_correction(beta, t: int):
    """``1 − βᵗ`` (t starts at 1)."""
    return 1.0 - beta ** t


# ----------------------------------------------------------------------------------------------
# Shared transforms
# ----------------------------------------------------------------------------------------------
def no_state(_params) -> dict:
    return {}


def maximize_sign(maximize: bool) -> Transform | None:
    """``g ← −g`` when maximizing (torch's ``maximize=True``)."""
    if not maximize:
        return None
    return Transform(no_state, lambda g, state, ctx: -g)


def add_l2(weight_decay) -> Transform | None:
    """Coupled weight decay: ``g ← g + λ·θ`` before anything else sees g (torch's ``weight_decay``)."""
    if is_zero(weight_decay):
        return None
    return Transform(no_state, lambda g, state, ctx: g + weight_decay * ctx.params)


def decoupled_decay(weight_decay) -> Transform | None:
    """Decoupled weight decay (AdamW): ``θ ← θ·(1 − γλ)`` before the step's terms; g is left alone.

    It goes last in a chain: it takes the step the direction transform returned (a direction d
    becomes the term ``θ ← θ − γ·d``) and returns it with the decay factor.
    """
    if is_zero(weight_decay):
        return None

    def update(out, state, ctx):
        step = out if isinstance(out, Step) else Step(((-ctx.lr, out, None),))
        return step.with_decay(1 - ctx.lr * weight_decay)

    return Transform(no_state, update)


def apply_step(params: Array, lr, out: Array | Step) -> Array:
    """θ after one step: ``θ − γ·d`` for a direction d, or a :class:`Step`'s decay and then its
    ``add_``/``addcdiv_`` terms in torch's order."""
    if not isinstance(out, Step):
        return params + -lr * out
    p = params * out.decay if out.decay is not None else params
    for value, t1, t2 in out:
        tmp = value * t1
        if t2 is not None:
            tmp /= t2
        p = p + tmp  # a new array: the caller's params are never written
    return p


# ----------------------------------------------------------------------------------------------
# Validation with torch's wording
# ----------------------------------------------------------------------------------------------
def _arr(v):
    return np.asarray(v, dtype=float)


def check_range(name: str, value, low=0.0, high=None, low_open=False, high_open=True) -> None:
    """torch's complaint about a hyperparameter out of range (``name`` an ``N_`` msgid, shown translated)."""
    a = _arr(value)
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(_("Invalid {name}: {value!r} (must be a finite number)").format(name=_(name), value=value))
    bad = (a <= low) if low_open else (a < low)
    if high is not None:
        bad |= (a >= high) if high_open else (a > high)
    if np.any(bad):
        if high is None:
            bound = f"{'>' if low_open else '≥'} {low:g}"
            raise ValueError(_("Invalid {name}: {value!r} (must be {bound})").format(name=_(name), value=value,
                                                                                   bound=bound))
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(_("Invalid {name}: {value!r} (must be in {span})").format(name=_(name), value=value, span=span))


# ----------------------------------------------------------------------------------------------
# The optimizer object
# ----------------------------------------------------------------------------------------------
class Optimizer:
    """A named, documented optimizer: ``init``/``update`` over ``(B, D)`` arrays.

    ``hyper`` holds the resolved hyperparameters (torch keyword names), ``info`` the LaTeX update
    rule, per-hyperparameter meaning, defaults and reference.
    """

    def __init__(self, info: Info, hyper: dict[str, Any], transform: Transform,
                 fused: Callable[..., Callable | None] | None = None):
        self.info = info
        self.hyper = dict(hyper)
        self._t = transform
        self._fused = fused

    @property
    def has_kernel(self) -> bool:
        return self._fused is not None

    def kernel(self, B: int, D: int, ws=None):
        """The fused step (:mod:`.fused`) for B runs of D coordinates, or None if there is none.

        Same numbers as :meth:`step`, bit for bit, with no per-step allocation (its buffers come
        from the :class:`~.fused.Workspace` ``ws``); the runner uses it for summary runs."""
        return self._fused(B, D, ws) if self._fused is not None else None

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def lr(self):
        return self.hyper["lr"]

    @property
    def order(self) -> int:
        return self.info.order

    def init(self, params) -> dict:
        params = np.asarray(params, dtype=float)
        state = self._t.init(params)
        state["step"] = 0
        return state

    def step(self, grads, state: dict, params, *, lr=None, problem=None, want_aux: bool = False):
        """Advance ``state`` by one step (in place) and return ``(new_params, state)``.

        The new parameters are computed in torch's order of operations, so a trajectory follows
        ``torch.optim`` to round-off.  ``lr`` overrides the base learning rate for this step
        (schedules); ``problem`` is the objective (``value``/``grad``/``hessian``), needed by
        second-order methods only.
        """
        state["step"] += 1
        base_lr = self.hyper["lr"] if lr is None else (lr if type(lr) is float else hyper_value(lr, "lr"))
        params = params if type(params) is np.ndarray else np.asarray(params, dtype=float)
        grads = grads if type(grads) is np.ndarray else np.asarray(grads, dtype=float)
        ctx = Context(state["step"], base_lr, params, problem, want_aux)
        out = self._t.update(grads, state, ctx)
        if want_aux:
            state["_aux"] = ctx.aux
        return apply_step(params, base_lr, out), state

    def update(self, grads, state: dict, params, *, lr=None, problem=None, want_aux: bool = False):
        """optax-style: advance ``state`` (in place) and return ``(updates, state)`` with
        ``params + updates`` the new parameters."""
        params = np.asarray(params, dtype=float)
        new, state = self.step(grads, state, params, lr=lr, problem=problem, want_aux=want_aux)
        return new - params, state

    def step_aux(self, state: dict) -> dict[str, Array]:
        """Derived quantities of the last ``update(..., want_aux=True)`` (m̂, v̂, denominator …)."""
        return state.get("_aux", {})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.hyper.items())
        return f"{self.info.title}({args})"


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape[:1]})"
    if isinstance(v, tuple):
        return "(" + ", ".join(str(_short(x)) for x in v) + ")"
    return repr(v)


# ----------------------------------------------------------------------------------------------
# Documentation of the public constructors, from the same record the app renders
# ----------------------------------------------------------------------------------------------
_ANNOTATIONS = {"bool": bool, "betas": tuple[float, float]}


def _default_text(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_default_text(x) for x in v) + ")"
    if isinstance(v, float):
        return f"{v:g}"
    return repr(v)


def _annotation(h: Hyper):
    if h.kind in _ANNOTATIONS:
        return _ANNOTATIONS[h.kind]
    if h.default is None:
        return float | None
    return int if isinstance(h.default, int) else float


def docstring(info: Info) -> str:
    """The docstring of the constructor of ``info``: summary, algorithm box, every hyperparameter
    with its default and meaning, torch's state, notes and reference (torch's docstring layout)."""
    torch = (f"Same names, defaults and numbers as ``{info.torch}``." if info.torch.startswith("torch.optim.")
             else f"torch: {info.torch}.")
    out = [f"{info.title}: {info.summary}", "", torch, "", "Algorithm", "---------", ".. math::", ""]
    out += ["    " + line for line in info.latex.strip().splitlines()]
    out += ["", "Parameters", "----------"]
    for h in info.hyper:
        kind = {"bool": "bool", "betas": "(float, float)"}.get(h.kind, "float or None" if h.default is None
                                                                else type(h.default).__name__)
        out.append(f"{h.name} : {kind}, default {_default_text(h.default)}")
        out.append("    " + (f":math:`{h.symbol}`: " if h.symbol else "") + h.meaning)
    out += ["", "Any number may also be a 1-D array with one value per run (a sweep in one call). torch's",
            f"implementation flags ({', '.join(IMPLEMENTATION_FLAGS)}) are accepted and ignored.",
            "", "Returns", "-------", "Optimizer",
            "    ``state = opt.init(params)``; ``updates, state = opt.update(grads, state, params)`` over",
            "    ``(B, D)`` arrays; ``opt.info`` is the record this text is built from."]
    if info.state:
        out += ["", "State", "-----"]
        for key, text in info.state.items():
            out += [f"{key}", f"    {text}"]
    if info.notes:
        out += ["", "Notes", "-----", info.notes]
    out += ["", "References", "----------", info.reference]
    return "\n".join(out) + "\n"


def documented(info: Info):
    """Decorator for a public constructor ``f(**hyper) -> Optimizer``: ``f.info`` becomes ``info``
    and ``f.__doc__``/``f.__signature__`` are built from it, so ``help()``, IDEs and the app show
    the same text."""

    def deco(factory):
        factory.info = info
        factory.__doc__ = docstring(info)
        factory.__signature__ = inspect.Signature(
            [inspect.Parameter(h.name, inspect.Parameter.KEYWORD_ONLY, default=h.default, annotation=_annotation(h))
             for h in info.hyper], return_annotation=Optimizer)
        return factory

    return deco


# torch.optim keywords that only pick an implementation (same numbers on the CPU in float64):
# accepted, so code pasted from a torch script works, and ignored.
IMPLEMENTATION_FLAGS = ("foreach", "fused", "capturable", "differentiable")


def resolve(info: Info, given: dict[str, Any]) -> dict[str, Any]:
    """Merge ``given`` keyword hyperparameters with ``info``'s defaults, rejecting unknown names."""
    allowed = [h.name for h in info.hyper]
    for flag in IMPLEMENTATION_FLAGS:
        if flag in given and flag not in allowed:
            v = given[flag]
            if v is not None and not isinstance(v, (bool, np.bool_)):
                raise ValueError(f"{flag} must be True, False or None; got {v!r}")
    given = {k: v for k, v in given.items() if k not in IMPLEMENTATION_FLAGS or k in allowed}
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise ValueError(
            f"{info.name} has no hyperparameter {unknown[0]!r}; allowed: {', '.join(allowed)}")
    out = {}
    for h in info.hyper:
        v = given.get(h.name, h.default)
        if h.kind == "bool":
            if not isinstance(v, (bool, np.bool_, int)) or v not in (0, 1):
                raise ValueError(f"{h.name} must be True or False; got {v!r}")
            out[h.name] = bool(v)
        elif h.kind == "betas":
            if not isinstance(v, Sequence) or isinstance(v, str) or len(v) != 2:
                raise ValueError(f"{h.name} must be a pair (beta1, beta2); got {v!r}")
            out[h.name] = (hyper_value(v[0], f"{h.name}[0]"), hyper_value(v[1], f"{h.name}[1]"))
        elif v is None:
            out[h.name] = None
        else:
            if isinstance(v, (str, bytes)):
                raise ValueError(f"{h.name} must be a number; got {v!r}")
            out[h.name] = hyper_value(v, h.name)
    return out


def batch_size_of(hyper: dict[str, Any]) -> int | None:
    """Number of runs implied by per-run hyperparameters (None if all are scalars)."""
    sizes = set()
    for v in hyper.values():
        for x in (v if isinstance(v, tuple) else (v,)):
            if isinstance(x, np.ndarray):
                sizes.add(x.shape[0])
    if len(sizes) > 1:
        raise ValueError(f"per-run hyperparameters have different lengths: {sorted(sizes)}")
    return sizes.pop() if sizes else None
