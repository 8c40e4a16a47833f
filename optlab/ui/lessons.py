r"""Predict, commit, reveal, check — and lessons, teacher mode and worksheets built on it.

A chapter declares its questions and lessons as data, next to its page declaration
(:class:`optlab.ui.state.Page`), in its ``optlab/ui/<chapter>.py``::

    Q_MOMENTUM = lessons.Question(
        "mom_helps", "Momentum on a narrow valley",
        "κ = 50, lr = 0.02: does momentum 0.9 reach the bottom in fewer steps than plain GD?",
        state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.9, "n": 300},
        choices=("Yes, in fewer steps", "No, it overshoots and needs more steps"),
        outcome=lambda v: 0 if momentum_steps(v) < gd_steps(v) else 1,   # from the run, never stored
        explanation="…what to look for…")
    CHAPTER = lessons.Chapter(PAGE, "Adaptive methods", questions=(Q_MOMENTUM, …), lessons=(…))

and the page uses it::

    lessons.open(ad.CHAPTER)        # instead of state.open: links, lesson bar, teacher tools
    …
    lessons.ask(ad.Q_MOMENTUM)      # the question card, inline next to what it sets
    if lessons.reveal("The loss curves"):
        show the outcome (results table, loss chart, divergence boxes, "what to look for")

The card: "Set it up" writes the question's state (as opening its link would), the student picks
one of 2–4 choices (or types a number) and presses "Commit"; until then :func:`hidden` is True and
the page keeps its outcome hidden.  After Commit the card says whether the prediction was right.
The answer is ``outcome(values)``, computed from the run at the current values when the card is
drawn (a question never stores its answer); a page whose outcome is easier to read off the run it
just drew may instead call ``handle.check(answer)`` later in the run.  A per-session tally ("4 of 6
predictions right this session") is kept.  Moving a widget away from the setup ends the
prediction (the card says so).

Teacher mode (``?teacher=1``) shows each question's computed answer and "What to look for" up
front, never hides outcomes, and offers the chapter's worksheet and answer key (printable HTML,
each question with its absolute link).  A lesson (``?lesson=momentum&step=3``) is a short list of
steps, each a state and a question for the class; ◀ ▶ buttons and the ← → keys step through it.
"""
from __future__ import annotations

import html
import importlib
import math
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import streamlit as st

from . import safe, state

from ..i18n import domain

_, N_, ngettext = domain("optlab")

LETTERS = "ABCD"

_ASK = "_optlab_ask"          # the prediction in progress: page, key, setup, committed, counted, result
_TALLY = "_optlab_tally"      # {"right": int, "total": int} for this session
_LESSON = "_optlab_lesson"    # {"page": path, "key": lesson key, "step": 0-based index}
_LEFT = "_optlab_ask_left"    # key of a question whose setup the student changed (said once)
_CARD_IN_PAGE = "_optlab_card_in_page"

PREV_KEY, NEXT_KEY = "optlab_lesson_prev", "optlab_lesson_next"


# ----------------------------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """A prediction to make before the run is seen.

    ``state``: URL values of the page (``{"sec": "Momentum", "k": 50, …}``) that set the run up;
    every other value is the page default (as when the question's link is opened).
    ``choices``: 2–4 answers; ``outcome(values) -> index`` of the right one computed from the run
    at ``values`` (url key -> value), or None when the run shows none of them.  Without choices the
    answer is a number: ``outcome`` returns it and a prediction within ``tol`` (+ ``rel_tol``·|answer|)
    is right.  ``explanation``: "What to look for" (markdown), shown after Commit.
    """

    key: str
    title: str
    question: str
    state: Mapping[str, Any]
    choices: tuple[str, ...] = ()
    outcome: Callable[[Mapping[str, Any]], Any] | None = None
    explanation: str = ""
    tol: float = 0.0
    rel_tol: float = 0.0
    unit: str = ""

    def __post_init__(self):
        if self.choices and not 2 <= len(self.choices) <= 4:
            raise ValueError(f"question {self.key!r}: 2 to 4 choices")
        if not self.choices and self.tol <= 0 and self.rel_tol <= 0:
            raise ValueError(f"question {self.key!r}: a number question needs tol or rel_tol")

    @property
    def is_number(self) -> bool:
        return not self.choices

    def right(self, pick: Any, answer: Any) -> bool | None:
        """Whether ``pick`` matches ``answer`` (None when there is no answer to compare with)."""
        if answer is None or pick is None:
            return None
        if self.is_number:
            a, p = float(answer), float(pick)
            if not (math.isfinite(a) and math.isfinite(p)):
                return a == p
            return abs(p - a) <= self.tol + self.rel_tol * abs(a)
        return int(pick) == int(answer)

    def answer_text(self, answer: Any, tr: Callable[[str], str] | None = None) -> str:
        """The answer as shown: "B. <choice>" or the number with its unit (``tr`` translates)."""
        tr = tr or (lambda t: t)
        if answer is None:
            return _("none of the choices")
        if self.is_number:
            return f"{float(answer):.4g}" + (f" {tr(self.unit)}" if self.unit else "")
        i = int(answer)
        return f"{LETTERS[i]}. {tr(self.choices[i])}"


@dataclass(frozen=True)
class Step:
    """One step of a lesson: a title, what to say or ask the class, a state (URL values) and
    optionally a prediction (its state is used when ``state`` is empty)."""

    title: str
    say: str
    state: Mapping[str, Any] = field(default_factory=dict)
    ask: Question | None = None

    def values(self) -> Mapping[str, Any]:
        return self.state or (self.ask.state if self.ask else {})


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    steps: tuple[Step, ...]
    summary: str = ""
    minutes: int = 20


@dataclass(frozen=True)
class Chapter:
    """A page's declaration with its questions and lessons (one per chapter, in ui/<chapter>.py)."""

    page: state.Page
    title: str
    questions: tuple[Question, ...] = ()
    lessons: tuple[Lesson, ...] = ()

    def __post_init__(self):
        keys = [q.key for q in self.all_questions()]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.title}: two questions share a key")
        lkeys = [lesson.key for lesson in self.lessons]
        if len(set(lkeys)) != len(lkeys):
            raise ValueError(f"{self.title}: two lessons share a key")

    def all_questions(self) -> list[Question]:
        """The chapter's questions, then those only asked in its lessons (each once)."""
        out = list(self.questions)
        for lesson in self.lessons:
            for s in lesson.steps:
                if s.ask is not None and all(s.ask is not q for q in out):
                    out.append(s.ask)
        return out

    def question(self, key: str) -> Question | None:
        return next((q for q in self.all_questions() if q.key == key), None)

    def lesson(self, key: str) -> Lesson | None:
        return next((x for x in self.lessons if x.key == key), None)


def chapters() -> list[Chapter]:
    """Every chapter: the ``CHAPTER`` of each ``optlab.ui`` module that declares one."""
    from .. import ui as _ui

    out = []
    for info in sorted(pkgutil.iter_modules(_ui.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("state", "lessons", "safe", "widgets"):
            continue
        mod = importlib.import_module(f"{_ui.__name__}.{info.name}")
        ch = getattr(mod, "CHAPTER", None)
        if isinstance(ch, Chapter):
            out.append(ch)
    return out


# ----------------------------------------------------------------------------------------------
# Session bookkeeping
# ----------------------------------------------------------------------------------------------
def _ss():
    return st.session_state


def _setup_of(page: state.Page) -> dict[str, str]:
    return page.query(page.current())


def _activate(page: state.Page, q: Question, ss=None) -> None:
    ss = _ss() if ss is None else ss
    ss[_ASK] = {"page": page.path, "key": q.key, "setup": page.query(page.current(ss)), "committed": False,
                "counted": False, "result": None, "pick": None}
    ss.pop(_pick_key(q), None)
    ss.pop(_LEFT, None)


def _pick_key(q: Question) -> str:
    return f"optlab_pick_{q.key}"


def _active(page: state.Page | None = None) -> dict | None:
    """The prediction in progress on this page, if the page still shows its setup."""
    ss = _ss()
    ask = ss.get(_ASK)
    page = page or state.current_page()
    if not ask or page is None or ask["page"] != page.path:
        return None
    if _setup_of(page) != ask["setup"]:
        ss[_LEFT] = ask["key"]
        ss.pop(_ASK, None)
        state.set_url("ask", None)
        return None
    return ask


def hidden() -> bool:
    """True while a prediction on this page is set up and not yet committed (never for teachers):
    the page keeps its outcome (results, loss charts, divergence boxes, what to look for) hidden."""
    if state.teaching():
        return False
    ask = _active()
    return bool(ask and not ask["committed"])


def reveal(what: str | None = None) -> bool:
    """``not hidden()``; when hidden and ``what`` is given, says in its place that ``what`` is
    shown after Commit."""
    if not hidden():
        return True
    if what:
        st.caption(_("🔒 {what}: shown once you commit your prediction.").format(what=what))
    return False


def tally() -> tuple[int, int]:
    """(right, total) predictions committed in this session."""
    t = _ss().get(_TALLY) or {"right": 0, "total": 0}
    return int(t["right"]), int(t["total"])


def tally_text() -> str:
    right, total = tally()
    return ngettext("{right} of {total} prediction right this session",
                    "{right} of {total} predictions right this session", total).format(right=right, total=total)


def _count(ask: dict, result: bool | None) -> None:
    if ask.get("counted") or result is None:
        return
    t = _ss().setdefault(_TALLY, {"right": 0, "total": 0})
    t["total"] += 1
    t["right"] += int(bool(result))
    ask["counted"] = True
    ask["result"] = bool(result)


# ----------------------------------------------------------------------------------------------
# Callbacks (run before the script: they may set widget keys)
# ----------------------------------------------------------------------------------------------
def _set_up(page: state.Page, q: Question) -> None:
    state.set_values(page, q.state)
    _activate(page, q)


def _commit(q: Question) -> None:
    ask = _ss().get(_ASK)
    if ask and ask["key"] == q.key:
        ask["pick"] = _ss().get(_pick_key(q))
        ask["committed"] = ask["pick"] is not None


def _again(page: state.Page, q: Question) -> None:
    _set_up(page, q)


# ----------------------------------------------------------------------------------------------
# The question card
# ----------------------------------------------------------------------------------------------
class Asked:
    """Handle returned by :func:`ask`: ``check(answer)`` gives the run's answer when the question
    has no ``outcome`` function (call it after the run, anywhere on the page)."""

    def __init__(self, q: Question, slot, ask: dict | None, page: state.Page):
        self.q, self._slot, self._ask, self._page = q, slot, ask, page

    @property
    def committed(self) -> bool:
        return bool(self._ask and self._ask["committed"])

    def check(self, answer: Any) -> bool | None:
        """Show the verdict for ``answer`` (computed from the run just drawn); returns it."""
        if self._slot is None or not self.committed:
            return None
        with self._slot.container():
            return _verdict(self.q, self._ask, answer, self._page.tr)


def _verdict(q: Question, ask: dict, answer: Any, tr) -> bool | None:
    pick = ask["pick"]
    result = q.right(pick, answer)
    _count(ask, result)
    mine = q.answer_text(pick if not q.is_number else float(pick), tr)
    if result is None:
        st.info(_("You predicted **{mine}**. This run shows {shown}.").format(mine=mine, shown=q.answer_text(answer, tr)),
                icon="🔎")
    elif result:
        st.success(_("**Right.** You predicted {mine}, and the run shows it.").format(mine=mine), icon="✅")
    else:
        st.error(_("**Not this time.** You predicted {mine}; the run shows **{shown}**.").format(
            mine=mine, shown=q.answer_text(answer, tr)), icon="❌")
    if q.explanation:
        st.markdown(tr(q.explanation))
    st.caption(tally_text())
    return result


def _choice_widget(q: Question, tr, *, disabled: bool, horizontal: bool):
    if q.is_number:
        return st.number_input(_("Your prediction") + (f" ({tr(q.unit)})" if q.unit else ""), value=None,
                               key=_pick_key(q), disabled=disabled, format="%g")
    return st.radio(_("Your prediction"), list(range(len(q.choices))), index=None, key=_pick_key(q),
                    format_func=lambda i: f"{LETTERS[i]}. {tr(q.choices[i])}", disabled=disabled,
                    horizontal=horizontal)


def _answer_for_setup(page: state.Page, q: Question) -> Any:
    """The answer at the question's own setup (teacher mode, answer keys): its outcome function at
    the values its link gives."""
    if q.outcome is None:
        return None
    return q.outcome(page.read({k: state._as_text(page.by_url[k], v) for k, v in q.state.items()
                                if k in page.by_url}).values)


def ask(q: Question, *, page: state.Page | None = None, compact: bool = False) -> Asked:
    """The question card for ``q`` (title, question, "Set it up", choices, "Commit", verdict).

    Put it inline next to the widgets its state sets.  Returns an :class:`Asked` handle.
    """
    page = page or state.current_page()
    if page is None:
        raise RuntimeError("call lessons.open(CHAPTER) (or state.open) before lessons.ask")
    ss = _ss()
    if not compact and _lesson_state(page) is not None:
        lesson_q = _lesson_question(page)
        if state.presenting():  # the projected lesson shows its own step's question only
            return Asked(q, None, None, page)
        if lesson_q is not None and lesson_q.key == q.key:
            st.caption(_("🔬 {title}: asked in the lesson above.").format(title=page.tr(q.title)))
            return Asked(q, None, None, page)
    act = _active(page)
    mine = act if act and act["key"] == q.key else None
    teacher = state.teaching()
    tr = page.tr
    box = st.container(border=True, key=f"optlab_card_{q.key}")
    slot = None
    with box:
        if not compact:
            st.markdown(f"**🔬 {tr(q.title)}**")
        st.markdown(_("*Predict first:* {question}").format(question=tr(q.question)))
        if ss.get(_LEFT) == q.key and mine is None:
            ss.pop(_LEFT, None)  # said once
            st.caption(_("You changed the setup, so this prediction was put aside. Press “Set it up” to "
                         "predict again."))
        if teacher:
            _teacher_answer(page, q)
            st.button(_("Set it up"), key=f"optlab_setup_{q.key}", on_click=_set_up, args=(page, q),
                      help=_("Sets this question's values (as its link does)."))
            return Asked(q, None, mine, page)
        if mine is None:
            if q.choices:
                st.markdown("\n".join(f"- **{LETTERS[i]}.** {tr(c)}" for i, c in enumerate(q.choices)))
            st.button(_("Set it up"), key=f"optlab_setup_{q.key}", on_click=_set_up, args=(page, q), type="primary",
                      help=_("Sets the page up for this question and hides the outcome until you commit."))
            return Asked(q, None, None, page)
        if not _lesson_state(page) or _lesson_question(page) is not q:
            state.set_url("ask", q.key)
        committed = mine["committed"]
        if not committed:
            _choice_widget(q, tr, disabled=False, horizontal=compact)
            pick = ss.get(_pick_key(q))
            st.button(_("Commit"), key=f"optlab_commit_{q.key}", on_click=_commit, args=(q,), type="primary",
                      disabled=pick is None, help=_("Lock your prediction in, then see the run."))
            st.caption(_("The outcome is hidden until you commit."))
            return Asked(q, None, mine, page)
        slot = st.empty()
        if q.outcome is not None:
            with slot.container():
                try:
                    answer = q.outcome(page.current())
                except Exception as err:  # noqa: BLE001 - a broken outcome must not take the page down
                    st.warning(_("The answer could not be computed: {err}").format(err=type(err).__name__))
                else:
                    _verdict(q, mine, answer, page.tr)
        st.button(_("Predict again"), key=f"optlab_again_{q.key}", on_click=_again, args=(page, q), type="tertiary")
    return Asked(q, slot, mine, page)


def _teacher_answer(page: state.Page, q: Question) -> None:
    tr = page.tr
    if q.choices:
        st.markdown("\n".join(f"- **{LETTERS[i]}.** {tr(c)}" for i, c in enumerate(q.choices)))
    try:
        answer = _answer_for_setup(page, q)
    except Exception as e:  # noqa: BLE001 - the teacher sees the problem, the page goes on
        st.warning(_("The answer could not be computed: {err}").format(err=type(e).__name__))
        answer = None
    if q.outcome is not None:
        st.success(_("**Answer (computed from the run at this setup):** {answer}").format(
            answer=q.answer_text(answer, tr)), icon="🧑‍🏫")
    if q.explanation:
        with st.expander(_("What to look for"), expanded=True):
            st.markdown(tr(q.explanation))
    st.caption(_("Link for students: {link}").format(
        link=safe.code(page.link(q.state, base=state.base_url(), ask=q.key), limit=None)))


# ----------------------------------------------------------------------------------------------
# Opening a chapter page: links, lessons, teacher tools
# ----------------------------------------------------------------------------------------------
def _lesson_state(page: state.Page) -> dict | None:
    les = _ss().get(_LESSON)
    return les if les and les["page"] == page.path else None


def _lesson_question(page: state.Page) -> Question | None:
    les = _lesson_state(page)
    if not les:
        return None
    return les["steps"][les["step"]].ask


def _underlay(chapter: Chapter, pending: dict):
    def read(link: state.Link) -> Mapping[str, Any]:
        ss = _ss()
        ss.pop(_LESSON, None)
        ss.pop(_LEFT, None)
        if ss.get(_ASK, {}).get("page") == chapter.page.path:
            ss.pop(_ASK, None)
        key = link.extra.get("lesson")
        base: Mapping[str, Any] = {}
        if key is not None:
            lesson = chapter.lesson(key.strip())
            if lesson is None:
                link.problems.append(_("{value} is not a lesson of this chapter ({known}): ignored").format(
                    value=safe.code(key), known=", ".join(safe.code(x.key) for x in chapter.lessons)
                    or _("it has none")))
            else:
                n = len(lesson.steps)
                raw = link.extra.get("step", "1")
                i = 1
                try:
                    v = float(raw)
                    if not math.isfinite(v) or v != int(v):
                        raise ValueError
                    i = int(v)
                    if i < 1 or i > n:
                        link.problems.append(_("step = {value} is outside 1…{n}: step {used} is shown").format(
                            value=safe.code(raw), n=n, used=min(max(i, 1), n)))
                        i = min(max(i, 1), n)
                except (ValueError, OverflowError):
                    link.problems.append(_("step = {value} is not a step number: step 1 is shown").format(
                        value=safe.code(raw)))
                    i = 1
                ss[_LESSON] = {"page": chapter.page.path, "key": lesson.key, "step": i - 1, "steps": lesson.steps,
                               "title": lesson.title}
                step = lesson.steps[i - 1]
                base = step.values()
                if step.ask is not None:
                    pending["ask"] = step.ask
        elif "step" in link.extra:
            link.problems.append(_("step = {value} without a lesson: ignored").format(
                value=safe.code(link.extra["step"])))
        qkey = link.extra.get("ask")
        if qkey is not None and "ask" not in pending:
            q = chapter.question(qkey.strip())
            if q is None:
                link.problems.append(_("{value} is not a question of this chapter: ignored").format(
                    value=safe.code(qkey)))
            else:
                pending["ask"] = q
                if not base:
                    base = q.state
        return {k: state._as_text(chapter.page.by_url[k], v) for k, v in base.items() if k in chapter.page.by_url}
    return read


def open(chapter: Chapter, *, step_card_in_page: bool = False) -> state.Link | None:
    """:func:`optlab.ui.state.open` for a chapter page, plus: the lesson and question a link
    names, the lesson bar (◀ ▶ and the arrow keys), the teacher's tools.  Call it right after
    ``ui.page_config`` and the page header.

    ``step_card_in_page``: the page shows the lesson step's question itself, with
    :func:`step_card`, next to its chart (the presenter layout: chart left, question right);
    otherwise the lesson bar shows it above the page."""
    page = chapter.page
    _ss()[_CARD_IN_PAGE] = bool(step_card_in_page)
    pending: dict = {}
    link = state.open(page, underlay=_underlay(chapter, pending))
    if "ask" in pending:
        _activate(page, pending["ask"])
    les = _lesson_state(page)
    # the URL names the lesson, the step and the question in progress
    state.set_url("lesson", les["key"] if les else None)
    state.set_url("step", str(les["step"] + 1) if les else None)
    act = _active(page)
    state.set_url("ask", act["key"] if act and not (les and _lesson_question(page) is not None
                                                      and _lesson_question(page).key == act["key"]) else None)
    if les:
        _lesson_bar(chapter, les)
    elif act and all(q.key != act["key"] for q in chapter.questions):
        # a question only a lesson asks, opened by its link (?ask=…): its card goes on top
        q = chapter.question(act["key"])
        if q is not None:
            ask(q, page=page)
    if state.teaching():
        _teacher_tools(chapter)
    return link


# ----------------------------------------------------------------------------------------------
# Lessons
# ----------------------------------------------------------------------------------------------
def _go(page: state.Page, delta: int | None) -> None:
    ss = _ss()
    les = ss.get(_LESSON)
    if not les:
        return
    if delta is None:  # leave the lesson
        ss.pop(_LESSON, None)
        if ss.get(_ASK, {}).get("page") == page.path:
            ss.pop(_ASK, None)
        return
    i = min(max(les["step"] + delta, 0), len(les["steps"]) - 1)
    if i == les["step"]:
        return
    les["step"] = i
    step = les["steps"][i]
    state.set_values(page, step.values())
    if step.ask is not None:
        _activate(page, step.ask)
    elif ss.get(_ASK, {}).get("page") == page.path:
        ss.pop(_ASK, None)


# Arrow keys → the ◀ ▶ buttons.  Bound once per browser tab (the guard survives reruns); ignored
# while a text field, select, slider, radio, tab list, chart or table has the focus, with any
# modifier key, or when a widget already handled the key (defaultPrevented).
_KEYS_SCRIPT = """
<script>
(function () {
  if (window.__optlabLessonKeys) { return; }
  window.__optlabLessonKeys = true;
  var busy = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], [role="slider"], ' +
             '[role="spinbutton"], [role="textbox"], [role="combobox"], [role="listbox"], [role="option"], ' +
             '[role="radio"], [role="radiogroup"], [role="tab"], [role="tablist"], [role="menu"], ' +
             '[role="menuitem"], [role="grid"], [role="gridcell"], .js-plotly-plot, [data-testid="stDataFrame"]';
  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.isComposing) { return; }
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') { return; }
    var t = e.target;
    if (t && t.closest && t.closest(busy)) { return; }
    var cls = e.key === 'ArrowRight' ? 'NEXT' : 'PREV';
    var b = document.querySelector('.st-key-' + cls + ' button');
    if (!b || b.disabled) { return; }
    e.preventDefault();
    b.click();
  });
})();
</script>
""".replace("NEXT", NEXT_KEY).replace("PREV", PREV_KEY)


def _lesson_bar(chapter: Chapter, les: dict) -> None:
    page = chapter.page
    steps, i = les["steps"], les["step"]
    step = steps[i]
    with st.container(border=True, key="optlab_lesson_bar"):
        c_prev, c_title, c_next, c_exit = st.columns([1, 8, 1, 1], vertical_alignment="center")
        c_prev.button("◀", key=PREV_KEY, on_click=_go, args=(page, -1), disabled=i == 0,
                      help=_("Previous step (← key)"), width="stretch")
        c_next.button("▶", key=NEXT_KEY, on_click=_go, args=(page, 1), disabled=i == len(steps) - 1,
                      help=_("Next step (→ key)"), width="stretch")
        c_exit.button("✕", key="optlab_lesson_exit", on_click=_go, args=(page, None), type="tertiary",
                      help=_("Leave the lesson"))
        c_title.markdown(_("**{lesson}** · step {i} of {n}: {title}").format(
            lesson=page.tr(les["title"]), i=i + 1, n=len(steps), title=page.tr(step.title)))
        if step.say:
            st.markdown(page.tr(step.say))
        if step.ask is not None and not _ss().get(_CARD_IN_PAGE):
            ask(step.ask, page=page, compact=True)
    # The ← → keys: a script tag that runs in the page (not in an iframe), bound once.
    st.html(_KEYS_SCRIPT, unsafe_allow_javascript=True)


def step_card(page: state.Page | None = None) -> Asked | None:
    """The current lesson step's question card, where the page puts it (see ``open``'s
    ``step_card_in_page``); nothing outside a lesson."""
    page = page or state.current_page()
    if page is None:
        return None
    q = _lesson_question(page)
    if q is None:
        return None
    return ask(q, page=page, compact=True)


def lesson_link(chapter: Chapter, lesson: Lesson, step: int = 1, *, base: str = "", present: bool = False) -> str:
    """The address of a lesson step (1-based)."""
    s = lesson.steps[step - 1]
    extra = {"lesson": lesson.key, "step": str(step)}
    if present:
        extra["present"] = "1"
    return chapter.page.link(s.values(), base=base, **extra)


# ----------------------------------------------------------------------------------------------
# Teacher mode: worksheet and answer key
# ----------------------------------------------------------------------------------------------
def _md(text: str) -> str:
    """Authored markdown (questions, explanations) as HTML; raw HTML in it is escaped."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


def _md_inline(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).renderInline(text)


_SHEET_CSS = """
body { font: 12pt/1.45 "Source Sans Pro", "Segoe UI", system-ui, sans-serif; color: #111; max-width: 18cm;
       margin: 1.2cm auto; }
h1 { font-size: 18pt; margin: 0 0 .2em 0; } h2 { font-size: 13pt; margin: .2em 0; }
.meta { color: #333; margin-bottom: 1em; }
.q { break-inside: avoid; border-top: 1px solid #999; padding: .5em 0 .8em 0; }
.choices { list-style: none; padding-left: .5em; } .choices li { margin: .15em 0; }
.link { font-size: 9.5pt; word-break: break-all; } a { color: #0645ad; }
.answer { background: #eef6ee; border-left: 4px solid #2e7d32; padding: .3em .6em; }
.write { margin-top: .5em; }
@media print { a { color: #111; } body { margin: 0 auto; } }
"""


def _sheet(title: str, body: str) -> str:
    from ..i18n import current

    lang = "zh-CN" if current() == "zh" else "en"
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_SHEET_CSS}</style></head><body>\n{body}\n</body></html>\n")


def worksheet_links(chapter: Chapter, base: str) -> list[tuple[Question, str]]:
    """(question, absolute link) for every question of the chapter, in order."""
    return [(q, chapter.page.link(q.state, base=base, ask=q.key)) for q in chapter.all_questions()]


def worksheet_html(chapter: Chapter, base: str) -> str:
    """The students' sheet: every question with its choices, its link and room to answer."""
    tr = chapter.page.tr
    e = html.escape
    t_mine, t_open, t_right, t_yes, t_no = (_("My prediction:"), _("Open:"), _("Right after Commit?"), _("yes"),
                                            _("no"))
    items = []
    for n, (q, url) in enumerate(worksheet_links(chapter, base), 1):
        if q.choices:
            opts = "".join(f"<li>☐ <b>{LETTERS[i]}.</b> {_md_inline(tr(c))}</li>" for i, c in enumerate(q.choices))
            answer = f'<ul class="choices">{opts}</ul>'
        else:
            answer = f'<p class="write">{e(t_mine)} ____________ {e(tr(q.unit) if q.unit else "")}</p>'
        items.append(
            f'<section class="q"><h2>{n}. {e(tr(q.title))}</h2>{_md(tr(q.question))}{answer}'
            f'<p class="link">{e(t_open)} <a href="{e(url)}">{e(url)}</a></p>'
            f'<p class="write">{e(t_right)} ☐ {e(t_yes)} ☐ {e(t_no)}</p></section>')
    title = _("{chapter}: predict, then check").format(chapter=tr(chapter.title))
    t_name = _("Name:")
    t_how = _("For each question: open its link, read the setup, tick your prediction here, then choose it in "
              "the app and press Commit. The app tells you whether you were right.")
    head = f'<h1>{e(title)}</h1><p class="meta">{e(t_name)} ______________________ &nbsp; {e(t_how)}</p>'
    return _sheet(title, head + "\n".join(items))


def answer_key_html(chapter: Chapter, base: str) -> str:
    """The teacher's key: each question's answer, computed from its run, and what to look for."""
    tr = chapter.page.tr
    e = html.escape
    t_answer = _("Answer:")
    items = []
    for n, (q, url) in enumerate(worksheet_links(chapter, base), 1):
        try:
            answer = q.answer_text(_answer_for_setup(chapter.page, q), tr) if q.outcome else _("shown by the app after Commit")
        except Exception as err:  # noqa: BLE001 - say it in the sheet, keep the others
            answer = _("could not be computed ({err})").format(err=type(err).__name__)
        explanation = _md(tr(q.explanation)) if q.explanation else ""
        items.append(
            f'<section class="q"><h2>{n}. {e(tr(q.title))}</h2>{_md(tr(q.question))}'
            f'<p class="answer"><b>{e(t_answer)}</b> {_md_inline(answer)}</p>{explanation}'
            f'<p class="link"><a href="{e(url)}">{e(url)}</a></p></section>')
    title = _("{chapter}: answer key").format(chapter=tr(chapter.title))
    note = _("Each answer is computed from the run its link sets up, with the code the app runs.")
    head = f'<h1>{e(title)}</h1><p class="meta">{e(note)}</p>'
    return _sheet(title, head + "\n".join(items))


def _teacher_tools(chapter: Chapter) -> None:
    base = state.base_url() or "http://localhost:8501"
    slug = chapter.page.path or "home"
    with st.expander(_("🧑‍🏫 Teacher: worksheet, answer key and lessons of this chapter"), expanded=False):
        c1, c2 = st.columns(2)
        c1.download_button(_("Worksheet (HTML, printable)"), data=lambda: worksheet_html(chapter, base),
                           file_name=f"optlab_{slug}_worksheet.html", mime="text/html", on_click="ignore",
                           key="optlab_ws", icon="📄")
        c2.download_button(_("Answer key (HTML)"), data=lambda: answer_key_html(chapter, base),
                           file_name=f"optlab_{slug}_answers.html", mime="text/html", on_click="ignore",
                           key="optlab_ws_key", icon="🔑")
        for lesson in chapter.lessons:
            st.markdown(_("**Lesson: {title}** ({n} steps, about {m} minutes). {summary}").format(
                title=chapter.page.tr(lesson.title), n=len(lesson.steps), m=lesson.minutes,
                summary=chapter.page.tr(lesson.summary)))
            st.code(lesson_link(chapter, lesson, base=base, present=True), language=None, wrap_lines=True)
        st.caption(_("Teacher mode shows every answer up front. Links for students leave it out."))
