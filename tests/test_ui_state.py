"""Page state in the URL (optlab.ui.state) and the safe quoting of link text (optlab.ui.safe).

Unit tests of the declarations and of reading a link (no Streamlit run), property tests that no
link can raise or change a value silently, and AppTest checks on the adaptive page: a state round
trips through its URL, hostile links follow the rules, view flags stay for the session.
"""
from __future__ import annotations

import math
import time

import pytest

import optlab.i18n
from hypothesis import given, settings
from hypothesis import strategies as hs

from optlab.ui import adaptive as ad
from optlab.ui import safe, state
from state_checks import (url_state, PHISHING, assert_inert, check_link, fuzz_links, link_warnings, no_exception, open_page,
                          rendered_html, roundtrip, widget)

PAGE_FILE = "pages/4_Adaptive_methods.py"

KAPPA = state.Choice("k", "t_k", [1, 2, 5, 10, 25, 50, 100], 25, label="κ", section="A")
BETA = state.Float("b", "t_b", 0.0, 0.99, 0.9, step=0.01, label="β", section="A")
STEPS = state.Int("n", "t_n", 20, 500, 200, step=10, label="steps")
PHASE = state.Choice("ph", "t_ph", ["heavy ball", "Nesterov"], "heavy ball", codes=["hb", "nesterov"], section="A")
ON = state.Flag("z", "t_z", False)
OPTS = state.Multi("o", "t_o", ["sgd", "adam", "rmsprop"], ["sgd"], max_items=2)
FORMULA = state.Text("f", "t_f", "x**2", max_chars=20)
LR = state.Float("lr", "t_lr", 0.0, 10.0, 0.1)  # a number input: no step grid
SEC = state.Section(["A", "B"], "t_sec")
TOY = state.Page("Toy", [SEC, KAPPA, BETA, STEPS, PHASE, ON, OPTS, FORMULA, LR])


# ----------------------------------------------------------------------------------------------
# safe
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [PHISHING, "<img src=x onerror=alert(1)>", "www.evil.example/login",
                                  "https://evil.example", "`a``b`", "``", "` x `", "$x$", ":red[x]", "a\u202eb\x00",
                                  "\\", "a\nb", "*" * 50])
def test_code_span_renders_nothing_but_text(text):
    md = "Not used: " + safe.code(text)
    assert_inert(md)
    out = rendered_html(md)
    assert out.count("<code>") == 1 and "<em>" not in out and "<strong>" not in out


def test_code_cuts_and_shows_invisible_characters():
    assert safe.code("x" * 100).endswith("…`") and len(safe.code("x" * 100)) < 50
    assert "\\u202e" in safe.code("a\u202eb")
    assert safe.code("a`b") == "``a`b``"
    assert safe.code("") == "` `"


def test_plain_escapes_every_markdown_construct():
    out = rendered_html("Said: " + safe.plain(PHISHING, limit=None))
    assert "<a " not in out and "<img" not in out and "<strong>" not in out
    assert "Session expired" in out


def test_phishing_link_gives_no_link_or_image_element():
    link = TOY.read({"s": PHISHING, PHISHING: PHISHING})
    text = link.warning()
    assert text is not None and text.count("setting") == 1
    assert_inert(text)


# ----------------------------------------------------------------------------------------------
# declarations
# ----------------------------------------------------------------------------------------------
def test_declarations_refuse_mistakes():
    with pytest.raises(ValueError):
        state.Float("b", "k", 0, 1, 2)
    with pytest.raises(ValueError):
        state.Choice("c", "k", ["a", "b"], "z")
    with pytest.raises(ValueError):
        state.Choice("c", "k", ["a", "A"], "a")  # codes must differ in case too
    with pytest.raises(ValueError):
        state.Page("P", [KAPPA, state.Int("k", "other", 0, 1, 0)])  # URL key twice
    with pytest.raises(ValueError):
        state.Page("P", [state.Int("lang", "x", 0, 1, 0)])  # a global key
    with pytest.raises(ValueError):
        state.Page("P", [SEC, state.Int("q", "x", 0, 1, 0, section="C")])  # unknown section


def test_query_holds_only_non_default_values_in_scope():
    vals = TOY.defaults()
    assert TOY.query(vals) == {}
    vals.update(k=50, b=0.5, n=300, o=["adam", "sgd"], z=True)
    assert TOY.query(vals) == {"k": "50", "b": "0.5", "n": "300", "z": "1", "o": "adam,sgd"}
    vals["sec"] = "B"  # κ and β belong to section A
    assert TOY.query(vals) == {"sec": "B", "n": "300", "z": "1", "o": "adam,sgd"}


def test_link_reads_back_what_query_wrote():
    vals = {**TOY.defaults(), "k": 100, "b": 0.37, "n": 480, "ph": "Nesterov", "z": True, "o": ["rmsprop"],
            "f": "sin(x)*y", "lr": 0.0123}
    link = TOY.read(TOY.query(vals))
    assert link.problems == []
    assert link.values == vals


@pytest.mark.parametrize("query, used, named", [
    ({"b": "7"}, {"b": 0.99}, "above the largest value"),
    ({"b": "-1"}, {"b": 0.0}, "below the smallest value"),
    ({"b": "0.123"}, {"b": 0.12}, "not on the slider's steps"),
    ({"n": "33"}, {"n": 30}, "not on the slider's steps"),
    ({"k": "30"}, {"k": 25}, "not one of the choices: the nearest"),
    ({"k": "1e6"}, {"k": 100}, "above the largest choice"),
    ({"k": "abc"}, {"k": 25}, "is not one of"),
    ({"b": "nan"}, {"b": 0.9}, "not a finite number"),
    ({"b": "1e309"}, {"b": 0.9}, "not a finite number"),
    ({"z": "2"}, {"z": False}, "not 1 or 0"),
    ({"o": "adam,zzz"}, {"o": ["adam"]}, "unknown items"),
    ({"o": "sgd,adam,rmsprop"}, {"o": ["sgd", "adam"]}, "more than 2 items"),
    ({"f": "x" * 30}, {"f": "x" * 20}, "longer than 20 characters"),
    ({"lr": "-3"}, {"lr": 0.0}, "below the smallest value"),
    ({"b": ["0.5", "0.6"]}, {"b": 0.6}, "given 2 times"),
    ({"sec": "B", "k": "50"}, {"k": 25}, "another section"),
    ({"present": "maybe"}, {}, "not 1 or 0"),
])
def test_bad_values_are_clamped_and_said(query, used, named):
    link = TOY.read(query)
    for k, v in used.items():
        assert link.values[k] == v, (k, link.values[k])
    text = link.warning()
    assert text and named in text, text
    for k in used:
        assert f"`{k}`" in text
    assert_inert(text)


def test_case_and_exact_numbers_are_used_without_a_word():
    link = TOY.read({"ph": "NESTEROV", "k": "50.0", "b": "0.50", "z": "true"})
    assert link.problems == []
    assert link.values["ph"] == "Nesterov" and link.values["k"] == 50 and link.values["b"] == 0.5


def test_one_short_warning_for_twenty_thousand_unknown_names():
    query = {f"name{i:05d}": "v" * 3 for i in range(20_000)}  # ~ 200 kB of query string
    t0 = time.perf_counter()
    link = TOY.read(query)
    text = link.warning()
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5, elapsed
    assert len(text) < 300 and "19,997 more" in text, text
    assert text.count("`name") == 3


def test_many_problems_are_capped_in_one_warning():
    link = TOY.read({"b": "x", "n": "x", "k": "x", "z": "x", "o": "zz", "f": "y" * 40, "lr": "x"})
    text = link.warning()
    assert len(link.problems) == 7
    assert "and 2 more problems" in text and text.count("`") < 60


@settings(max_examples=300, deadline=None)
@given(hs.dictionaries(hs.sampled_from(["k", "b", "n", "ph", "z", "o", "f", "lr", "sec", "step", "lesson", "present",
                                        "x", PHISHING]),
                       hs.one_of(hs.text(max_size=40), hs.lists(hs.text(max_size=10), min_size=1, max_size=3),
                                 hs.floats(allow_nan=True).map(repr), hs.integers().map(str)), max_size=8))
def test_no_link_raises_or_changes_a_value_silently(query):
    link = TOY.read(query)
    text = link.warning() or ""
    assert_inert(text) if text else None
    for p in TOY.params:
        v = link.values[p.url]
        assert p.coerce(v) == v or p.kind == "multi" and list(p.coerce(v)) == list(v), (p.url, v)  # always valid
    for key, raw in query.items():
        p = TOY.by_url.get(key)
        if p is None:
            continue
        texts = [raw] if isinstance(raw, str) else raw
        got = p.parse(texts[-1])
        if got.status == "ok" and len(texts) == 1 and key in link.given:
            assert link.values[key] == got.value
        elif len(link.problems) <= state.MAX_SHOWN:
            assert f"`{key}`" in text or f"``{key}``" in text, (key, texts, text)


def test_adaptive_page_declaration_matches_its_widgets():
    # the select sliders' options are the declared ones, the defaults are what the page showed before
    assert ad.MO_LR.default == 0.03 and 0.03 in ad.LR_CHOICES
    assert ad.MO_KAPPA.options == tuple(ad.KAPPAS)
    assert ad.PAGE.section_param is ad.SECTION and ad.SECTION.options == tuple(ad.SECTIONS)


# ----------------------------------------------------------------------------------------------
# On the page (AppTest)
# ----------------------------------------------------------------------------------------------
def test_momentum_state_round_trips_through_the_url():
    query, fresh = roundtrip(PAGE_FILE, {"ad_mo_kappa": 50, "ad_mo_lr": 0.02, "ad_mo_beta": 0.5, "ad_mo_steps": 300,
                                         "ad_mo_phase": "Nesterov"})
    assert query == {"k": "50", "lr": "0.02", "b": "0.5", "n": "300", "ph": "nesterov"}


def test_section_round_trips_and_leaves_other_sections_values_out():
    query, fresh = roundtrip(PAGE_FILE, {"ad_section": "Schedules"})
    assert query == {"sec": "schedules"}
    assert fresh.get("plotly_chart"), "the schedules section draws"
    at = open_page(PAGE_FILE, {"b": "0.5"})
    at.button_group(key="ad_section").set_value("LR finder").run()
    assert url_state(at) == {"sec": "finder"}  # β belongs to the momentum section
    at.button_group(key="ad_section").set_value("Momentum").run()
    assert url_state(at) == {"b": "0.5"}  # back with its section: the value was kept, not reset
    assert widget(at, "ad_mo_beta").value == 0.5


def test_default_state_has_a_bare_url():
    at = open_page(PAGE_FILE)
    no_exception(at)
    assert url_state(at) == {}


def test_link_values_reach_the_widgets_before_they_exist():
    at = open_page(PAGE_FILE, {"k": "100", "lr": "0.01", "b": "0.8", "n": "120"})
    no_exception(at)
    assert link_warnings(at) == []
    assert widget(at, "ad_mo_kappa").value == 100 and widget(at, "ad_mo_lr").value == 0.01
    assert widget(at, "ad_mo_beta").value == 0.8 and widget(at, "ad_mo_steps").value == 120
    assert "λ = 1 and 100" in "\n".join(m.value for m in at.markdown)


def test_out_of_range_link_is_clamped_and_said_once_on_the_page():
    at = check_link(PAGE_FILE, ad.PAGE, {"b": "7", "n": "9999", "k": "3", "zz": PHISHING})
    (text,) = link_warnings(at)
    assert "0.99 is used" in text and "500 is used" in text and "the nearest, 2, is used" in text
    assert widget(at, "ad_mo_beta").value == 0.99 and widget(at, "ad_mo_steps").value == 500
    assert url_state(at) == {"k": "2", "b": "0.99", "n": "500"}  # the URL now says what is shown
    at.slider(key="ad_mo_steps").set_value(200).run()
    assert link_warnings(at) == [], "the warning belongs to the link, not to later runs"


def test_phishing_link_on_the_page():
    at = check_link(PAGE_FILE, ad.PAGE, {"s": PHISHING, "b": PHISHING})
    (text,) = link_warnings(at)
    assert "`**Session expired** [log in again](https…`" in text  # shown as code, cut
    assert_inert(text)


def test_hostile_links_on_the_adaptive_page():
    assert fuzz_links(PAGE_FILE, ad.PAGE, n=10, seed=3, section="Momentum") == 12


def test_huge_link_gives_one_short_warning_fast():
    # 999 names of 100 characters: ~100 kB, just under Streamlit's 1,000-field limit (above it
    # Streamlit drops the query and the browser reopens the page with too_long=N, next test)
    query = {f"name{i:03d}_" + "x" * 92: "1" for i in range(999)}
    t0 = time.perf_counter()
    at = open_page(PAGE_FILE, query)
    elapsed = time.perf_counter() - t0
    no_exception(at)
    (text,) = link_warnings(at)
    assert len(text) < 400 and len(at.warning) == 1 and "996 more" in text
    assert url_state(at) == {}, "unknown names leave the URL"
    assert elapsed < 30, elapsed  # the page's own first run included


def test_link_streamlit_dropped_is_named():
    at = open_page(PAGE_FILE, {"too_long": "20000"})
    (text,) = link_warnings(at)
    assert "20,000 settings" in text and "none of them was used" in text
    assert url_state(at) == {}
    at = open_page(PAGE_FILE, {"too_long": PHISHING})
    assert_inert(link_warnings(at)[0])


def test_presenter_and_teacher_flags_stay_for_the_session():
    at = open_page(PAGE_FILE, {"present": "1"})
    no_exception(at)
    assert at.session_state["_optlab_flags"]["present"] is True
    css = [h.proto.body for h in at.get("html") if "stSidebar" in h.proto.body]
    assert css, "presenter mode hides the sidebar"
    at.query_params.pop("present")  # a page change clears Streamlit's query string
    at.run()
    assert at.query_params.get("present") == "1", "the flag comes back into the URL"
    at.query_params["present"] = "0"
    at.run()
    assert "present" not in at.query_params and not at.session_state["_optlab_flags"]["present"]


def test_lang_is_left_alone():
    at = open_page(PAGE_FILE, {"lang": "zh", "b": "0.5"})
    no_exception(at)
    assert link_warnings(at) == []
    assert at.query_params.get("lang") == "zh"
    # AppTest formats a radio's value in this thread: in the page's language (as tests/i18n_check does)
    with optlab.i18n.using("zh"):
        at.slider(key="ad_mo_beta").set_value(0.6).run()
    assert at.query_params.get("lang") == "zh" and at.query_params.get("b") == "0.6"


def test_stale_url_one_write_behind_is_not_a_new_link():
    at = open_page(PAGE_FILE)
    at.slider(key="ad_mo_beta").set_value(0.5).run()
    old = url_state(at)
    at.slider(key="ad_mo_steps").set_value(300).run()
    # the browser sends the next rerun before it applied the last URL write
    at.query_params.clear()
    at.query_params.update(old)
    at.slider(key="ad_mo_beta").set_value(0.6).run()
    no_exception(at)
    assert widget(at, "ad_mo_steps").value == 300 and widget(at, "ad_mo_beta").value == 0.6


def test_copy_link_shows_the_full_address():
    at = open_page(PAGE_FILE, {"b": "0.5"}, context={"url": "http://class.example:8501/Adaptive_methods"})
    codes = [c.value for c in at.code]
    assert "http://class.example:8501/Adaptive_methods?b=0.5&lang=en" in codes, codes  # the language travels


# ----------------------------------------------------------------------------------------------
# Custom: a value built from several widgets, read against their declarations
# ----------------------------------------------------------------------------------------------
PART = state.Float("x", "t_part", -10.0, 10.0, 0.0)


def _read_pair(text: str, values) -> state.Parsed:
    notes, out = [], []
    for i, part in enumerate(text.split(",")[:2]):
        got = PART.parse(part)
        if got.status != "ok":
            notes.append(f"part {i + 1} {got.note}")
        out.append(got.value)
    scale = values.get("n", 200)  # depends on another value of the link
    value = (tuple(out) + (0.0, 0.0))[:2] + (scale,)
    return state.Parsed(value, "changed" if notes else "ok", notes=tuple(notes))


PAIR = state.Custom("xy", "t_xy", (0.0, 0.0, 200), read=_read_pair,
                    write=lambda v: f"{state._fmt_num(v[0])},{state._fmt_num(v[1])}", label="start")
PAIRS = state.Page("Pairs", [STEPS, PAIR])


def test_custom_value_reads_its_parts_after_the_values_it_depends_on():
    link = PAIRS.read({"xy": "1.5,99", "n": "300"})  # xy comes first in the query, n is still read first
    assert link.values["xy"] == (1.5, 10.0, 300)
    assert link.problem_keys == {"xy"}
    assert len(link.problems) == 1 and "part 2 is above the largest value, 10: 10 is used" in link.problems[0]
    assert "`xy` (start)" in link.problems[0]
    assert PAIRS.query(link.values) == {"n": "300", "xy": "1.5,10"}
    ok = PAIRS.read({"xy": "1.5,2"})
    assert ok.problems == [] and ok.given == {"xy": (1.5, 2.0, 200)}
    # a value its writer cannot write is no value: the default
    assert PAIR.coerce("not a pair") == PAIR.default and PAIR.coerce((1.0, 2.0, 3)) == (1.0, 2.0, 3)
    # too long: one problem, the default, never the reader
    long = PAIRS.read({"xy": "1," * 5000})
    assert long.values["xy"] == PAIR.default and len(long.problems) == 1 and "too long" in long.problems[0]


def test_leaving_a_page_drops_its_parameters_from_the_session(app_test):
    """Arrival reads a page's parameters from its link, so the parameters of pages left behind hold
    nothing; kept, they slowed every number input and select box of the class's server (Streamlit
    copies the whole session state for each).  Coming back reads the link again."""
    from optlab.ui import arena, loss_functions

    at = app_test("pages/1_Loss_functions.py")
    lf_keys = {p.key for p in loss_functions.PAGE.params}
    held = lambda keys: {k for k in keys if k in at.session_state}  # noqa: E731
    assert held(lf_keys), "the page's own parameters are in the session"
    at.switch_page("pages/7_Optimizer_arena.py").run()
    assert not at.exception
    left = lf_keys - {p.key for p in arena.PAGE.params}
    assert left and not held(left)
    at.switch_page("pages/1_Loss_functions.py").run()
    assert not at.exception and held(lf_keys)


def test_presenter_mode_charts_grow_with_the_page_text():
    """?present=1 scales the page's text 1.3×; every chart of the page draws its text larger too
    (figures.core.presenter_fonts), and without the flag it keeps the figure's own size."""
    import json

    from optlab.figures import core, style

    def sizes(at):
        return [json.loads(c.proto.spec)["layout"]["font"]["size"] for c in at.get("plotly_chart")]

    plain = open_page("pages/5_Overfitting_and_gradients.py", {})
    shown = open_page("pages/5_Overfitting_and_gradients.py", {"present": "1"})
    no_exception(plain)
    no_exception(shown)
    assert sizes(plain) and set(sizes(plain)) == {style.FONT["size"]}
    assert sizes(shown) and set(sizes(shown)) == {round(style.FONT["size"] * core.PRESENTER_SCALE)}
