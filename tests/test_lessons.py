"""Predict, commit, reveal, check (optlab.ui.lessons): on the adaptive page's momentum question and
lesson, for every chapter's worksheet, and in teacher mode.

The verdict is computed from the run: the tests change the run (β, the number of steps) and see the
same prediction judged the other way.
"""
from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

from optlab.ui import adaptive as ad
from optlab.ui import lessons, state
from state_checks import url_state, assert_inert, link_warnings, no_exception, open_page, widget

PAGE_FILE = "pages/4_Adaptive_methods.py"
Q = ad.Q_MOMENTUM


def chart_keys(at) -> list[str]:
    return [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")]


def contour_traces(at) -> int:
    import json

    for c in at.get("plotly_chart"):
        if c.proto.id.endswith("-ad_mo_contour"):
            spec = json.loads(c.proto.spec)
            return sum(1 for t in spec["data"] if t.get("type") == "scatter" and t.get("mode", "").startswith("lines"))
    raise AssertionError("no contour")


def page_text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                     + [s.value for s in at.success] + [e.value for e in at.error] + [i.value for i in at.info])


def set_up(at, q=Q):
    at.button(key=f"optlab_setup_{q.key}").click().run()
    no_exception(at)
    return at


def commit(at, pick, q=Q):
    widget(at, f"optlab_pick_{q.key}").set_value(pick).run()
    at.button(key=f"optlab_commit_{q.key}").click().run()
    no_exception(at)
    return at


def expected_answer(values) -> int:
    """Q_MOMENTUM judged here from the runs, independently of the question's outcome function."""
    surface, gd, hb, _ = ad.momentum_runs(values["k"], values["lr"], values["b"], values["n"])
    return 0 if ad.steps_to_shrink(surface, hb) < ad.steps_to_shrink(surface, gd) else 1


# ----------------------------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------------------------
def test_every_chapter_question_is_well_formed():
    chs = lessons.chapters()
    assert chs, "no chapter declares a CHAPTER"
    for ch in chs:
        for q in ch.all_questions():
            link = ch.page.read({k: state._as_text(ch.page.by_url[k], v) for k, v in q.state.items()})
            assert set(q.state) <= set(ch.page.by_url), f"{q.key}: keys the page does not declare"
            assert link.problems == [], f"{q.key}: its state is not valid on its page: {link.problems}"
            assert q.outcome is not None, f"{q.key}: no outcome function (answer keys need one)"
            answer = q.outcome(link.values)
            if q.choices:
                assert answer in range(len(q.choices)), (q.key, answer)
            assert not hasattr(q, "answer"), "a question never stores its answer"
        for lesson in ch.lessons:
            assert 3 <= len(lesson.steps) <= 10, lesson.key
            for s in lesson.steps:
                assert not ch.page.read({k: state._as_text(ch.page.by_url[k], v) for k, v in s.values().items()}).problems


def test_outcome_flips_when_the_run_changes():
    base = ad.PAGE.read({k: str(v) for k, v in Q.state.items()}).values
    assert Q.outcome(base) == 0 == expected_answer(base)  # β = 0.9: fewer steps than GD
    for change in ({"b": 0.99}, {"n": 100}):  # a slower spiral; too few steps for either
        v = {**base, **change}
        assert Q.outcome(v) == 1 == expected_answer(v), change


# ----------------------------------------------------------------------------------------------
# The card on the page
# ----------------------------------------------------------------------------------------------
def test_before_commit_no_outcome_is_visible():
    at = open_page(PAGE_FILE)
    assert "ad_mo_loss" in chart_keys(at) and contour_traces(at) >= 3
    set_up(at)
    assert widget(at, "ad_mo_kappa").value == 50 and widget(at, "ad_mo_lr").value == 0.02
    assert widget(at, "ad_mo_beta").value == 0.9 and widget(at, "ad_mo_steps").value == 300
    text = page_text(at)
    assert "ad_mo_loss" not in chart_keys(at) and "ad_mo_phase_fig" not in chart_keys(at)
    assert contour_traces(at) == 0, "no path on the contour"
    assert "Steps to shrink" not in text and "ρ =" not in text and "diverged" not in text
    assert Q.explanation[:40] not in text, "what to look for stays hidden"
    assert at.button(key=f"optlab_commit_{Q.key}").disabled, "Commit needs a pick"
    assert url_state(at).get("ask") == Q.key
    assert "right this session" not in text


@pytest.mark.parametrize("pick", [0, 1])
def test_after_commit_the_verdict_matches_the_run(pick):
    at = set_up(open_page(PAGE_FILE))
    commit(at, pick)
    values = ad.PAGE.current(at.session_state)
    right = pick == expected_answer(values)
    assert (len(at.success) == 1) == right and (len(at.error) == 1) == (not right)
    assert "ad_mo_loss" in chart_keys(at) and contour_traces(at) >= 3
    text = page_text(at)
    assert Q.explanation[:40] in text
    # the verdict agrees with the step counts the page prints
    m = re.search(r"GD (\d+) steps .*?momentum (\d+) steps", text)
    assert m, text
    gd_steps, hb_steps = int(m.group(1)), int(m.group(2))
    assert (hb_steps < gd_steps) == (expected_answer(values) == 0)
    assert f"{int(right)} of 1 prediction right this session" in text


@pytest.mark.parametrize("change", [{"b": 0.99}, {"n": 100}])
def test_changing_the_run_flips_the_verdict(monkeypatch, change):
    at = commit(set_up(open_page(PAGE_FILE)), 0)
    assert len(at.success) == 1, "A is right at β = 0.9, 300 steps"
    monkeypatch.setattr(ad, "Q_MOMENTUM", dataclasses.replace(Q, state={**Q.state, **change}))
    at = commit(set_up(open_page(PAGE_FILE)), 0)
    assert len(at.error) == 1 and len(at.success) == 0, f"same pick, run changed by {change}: now wrong"
    assert "**B." in at.error[0].value


def test_tally_counts_each_commit_once():
    at = commit(set_up(open_page(PAGE_FILE)), 0)
    at.slider(key="ad_mo_steps").set_value(300).run()  # a rerun does not count again
    assert "1 of 1 prediction right" in page_text(at)
    at.button(key=f"optlab_again_{Q.key}").click().run()
    commit(at, 1)
    assert "1 of 2 predictions right this session" in page_text(at)
    assert lessons.Question.right(Q, 1, 1) and not Q.right(0, 1)


def test_moving_a_widget_puts_the_prediction_aside():
    at = set_up(open_page(PAGE_FILE))
    at.slider(key="ad_mo_beta").set_value(0.5).run()
    no_exception(at)
    assert "ad_mo_loss" in chart_keys(at), "the student explores freely: the outcome shows"
    assert "put aside" in page_text(at)
    assert "ask" not in url_state(at)


def test_question_link_opens_the_prediction():
    url = ad.PAGE.link(Q.state, ask=Q.key)
    at = open_page(PAGE_FILE, dict(parse_qsl(urlsplit(url).query)))
    no_exception(at)
    assert link_warnings(at) == []
    assert at.button(key=f"optlab_commit_{Q.key}") is not None and contour_traces(at) == 0


def test_number_question():
    q = lessons.Question("n1", "t", "how many?", {}, tol=2, rel_tol=0.1)
    assert q.right(95, 100) and q.right(112, 100) and not q.right(80, 100)
    assert q.answer_text(12.0) == "12"
    with pytest.raises(ValueError):
        lessons.Question("n2", "t", "?", {})  # a number question needs a tolerance
    with pytest.raises(ValueError):
        lessons.Question("c5", "t", "?", {}, choices=tuple("abcde"))


# ----------------------------------------------------------------------------------------------
# Teacher mode and worksheets
# ----------------------------------------------------------------------------------------------
def test_teacher_mode_shows_answers_and_never_hides():
    at = open_page(PAGE_FILE, {"teacher": "1"})
    no_exception(at)
    text = page_text(at)
    assert "Answer (computed from the run at this setup):** A." in text
    assert Q.explanation[:40] in text
    set_up(at)
    assert "ad_mo_loss" in chart_keys(at) and contour_traces(at) >= 3
    dl = [b for b in at.get("download_button")]
    assert len(dl) == 2, "worksheet and answer key"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


@pytest.mark.parametrize("chapter", lessons.chapters(), ids=lambda c: c.page.path)
def test_worksheet_links_open_their_state_with_no_warning(chapter):
    base = "http://class.example:8501"
    sheet = lessons.worksheet_html(chapter, base)
    key = lessons.answer_key_html(chapter, base)
    p = _Links()
    p.feed(sheet)
    questions = chapter.all_questions()
    assert len(p.hrefs) == len(questions) >= 1
    for q in questions:
        assert q.question[:30].replace("**", "") in re.sub(r"</?strong>", "", sheet.replace("&quot;", '"'))
    for q in questions:  # the key has each computed answer
        assert "Answer:" in key and lessons.LETTERS[0] + "." in key
    page_file = next(f for f in __import__("conftest").page_files() if chapter.page.path in f)
    for q, href in zip(questions, p.hrefs):
        parts = urlsplit(href)
        assert f"{parts.scheme}://{parts.netloc}" == base and parts.path == "/" + chapter.page.path
        query = dict(parse_qsl(parts.query))
        at = open_page(page_file, query)
        no_exception(at)
        assert link_warnings(at) == [], (href, link_warnings(at))
        assert at.button(key=f"optlab_commit_{q.key}") is not None, f"{href}: the prediction is not set up"
        values = chapter.page.current(at.session_state)
        for k, v in q.state.items():
            assert chapter.page.by_url[k].code(values[k]) == state._as_text(chapter.page.by_url[k], v), (q.key, k)


def test_answer_key_answers_are_computed_from_the_runs():
    key = lessons.answer_key_html(ad.CHAPTER, "http://x")
    for q in ad.CHAPTER.all_questions():
        v = ad.PAGE.read({k: str(x) for k, x in q.state.items()}).values
        assert q.answer_text(q.outcome(v)).split(". ", 1)[1][:20] in key.replace("&quot;", '"')
    assert "<script" not in key and "<script" not in lessons.worksheet_html(ad.CHAPTER, "http://x")


# ----------------------------------------------------------------------------------------------
# Lessons
# ----------------------------------------------------------------------------------------------
def test_lesson_link_opens_its_step_and_the_buttons_step_through():
    at = open_page(PAGE_FILE, {"lesson": "momentum", "step": "3"})
    no_exception(at)
    assert link_warnings(at) == []
    assert "step 3 of 10" in page_text(at)
    assert widget(at, "ad_mo_beta").value == 0.99 and widget(at, "ad_mo_lr").value == 0.02
    assert contour_traces(at) == 0, "the step's prediction hides the outcome"
    q = ad.Q_MORE_MEMORY
    commit(at, 1, q)
    assert len(at.success) == 1, "β = 0.99 is slower than 0.9 here"
    at.button(key=lessons.NEXT_KEY).click().run()
    no_exception(at)
    assert "step 4 of 10" in page_text(at)
    assert url_state(at)["step"] == "4" and url_state(at)["lesson"] == "momentum"
    assert widget(at, "ad_mo_lr").value == 0.05 and widget(at, "ad_mo_beta").value == 0.0
    at.button(key=lessons.PREV_KEY).click().run()
    assert "step 3 of 10" in page_text(at) and widget(at, "ad_mo_beta").value == 0.99
    at.button(key="optlab_lesson_exit").click().run()
    assert "lesson" not in url_state(at) and "step 3 of 10" not in page_text(at)
    # the lesson's query string reopens the same step
    url = lessons.lesson_link(ad.CHAPTER, ad.LESSON_MOMENTUM, 5)
    at = open_page(PAGE_FILE, dict(parse_qsl(urlsplit(url).query)))
    assert "step 5 of 10" in page_text(at) and link_warnings(at) == []


def test_lesson_link_problems_are_named():
    at = open_page(PAGE_FILE, {"lesson": "momentum", "step": "99"})
    (text,) = link_warnings(at)
    assert "step 10 is shown" in text and "step 10 of 10" in page_text(at)
    at = open_page(PAGE_FILE, {"lesson": "**nope** [x](https://evil.example)", "ask": "zzz", "step": "x"})
    (text,) = link_warnings(at)
    assert "not a lesson" in text and "not a question" in text
    assert_inert(text)


def test_presenter_lesson_shows_only_the_step_question():
    at = open_page(PAGE_FILE, {"lesson": "momentum", "step": "2", "present": "1"})
    no_exception(at)
    cards = [b.key for b in at.button if str(b.key).startswith("optlab_setup_")]
    assert cards == [], "no inline cards beside the projected lesson"
    assert at.button(key=f"optlab_commit_{ad.Q_MOMENTUM.key}") is not None
    keys_js = [h for h in at.get("html") if "__optlabLessonKeys" in h.proto.body]
    assert keys_js, "the arrow keys are bound"


def test_every_lesson_is_in_the_teachers_guide():
    """docs/teaching.md lists each chapter's lessons with a link that opens them and their length."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "teaching.md").read_text(encoding="utf-8")
    chapters = lessons.chapters()
    assert len(chapters) >= 7  # every chapter page, the arena included
    for ch in chapters:
        assert ch.lessons, f"{ch.title} has no lesson"
        url = "/" + ch.page.path
        for lesson in ch.lessons:
            link = f"`{url}?lesson={lesson.key}&step=1`"
            row = next((ln for ln in guide.splitlines() if link in ln), None)
            assert row is not None, f"docs/teaching.md lacks {link}"
            assert f"| {len(lesson.steps)} |" in row, f"{link}: the guide's step count is not {len(lesson.steps)}"
