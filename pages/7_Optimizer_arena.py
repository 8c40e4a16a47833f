"""Optimizer arena: race any set of optimizers on any surface, predict the outcome, share the race as a link."""
from __future__ import annotations

import streamlit as st

from optlab import figures, optimizers, ui
from optlab import format as fmt
from optlab.chapters import arena as model
from optlab.figures import arena as fig
from optlab.i18n import domain
from optlab.ui import arena as view
from optlab.ui import lessons, safe, state

_, N_, ngettext = domain("arena")
P = view.P

ui.page_config(_("Optimizer arena"))
ui.page_header(
    _("Optimizer arena"),
    _("Which optimizer reaches the bottom first on this surface, from this start — and which ones never do?"),
    _("Choose a prediction for class and press **Set it up**, or set up your own race under the chart: a surface, "
      "a start, up to eight optimizers."))
lessons.open(view.CHAPTER, step_card_in_page=True)

with st.container(horizontal=True, vertical_alignment="bottom", horizontal_alignment="distribute"):
    section = state.section(view.SECTION)
    state.copy_link()

ss = st.session_state
# A click on the contour sets the start: read before the start widgets exist.
click = ui.selected_point(ss.get(f"{P}_chart"))
if click is not None and click != ss.get(f"{P}_last_click"):
    ss[f"{P}_last_click"] = click
    ss[view.START.key] = (round(click[0], 3), round(click[1], 3))
view.sync()
in_lesson = "lesson" in st.query_params
present = state.presenting()
CHART_H = state.chart_height(560, 430)


def race_labels(race) -> list[str]:
    return [label for r, label in zip(race.racers, race.labels()) if r.error() is None]


def names_of(race) -> list[tuple[str, str]]:
    return [(label, r.name) for r, label in zip(race.racers, race.labels()) if r.error() is None]


def no_surface_note() -> None:
    st.info(_("The race starts once the formula can be used: fix it in the box (your text is kept)."), icon="✏️")


# ----------------------------------------------------------------------------------------------
# Race
# ----------------------------------------------------------------------------------------------
def race_section() -> None:
    view.layout_css()
    with st.container(key=f"{P}_top"):
        chart, side = st.columns([1.9, 1], gap="medium")
    setup = st.container(key=f"{P}_setup")
    cards_box = st.container(key=f"{P}_cards")
    with side:
        numbers = st.container()  # the key numbers go first, beside the chart
        if in_lesson:
            lessons.step_card()
        else:
            pick = state.radio(view.PICK, format_func=lambda k: _(view.question(k).title))
            lessons.ask(view.question(pick), compact=True)
    with setup:
        st.subheader(_("The race"))
        c_surface, c_start = st.columns(2, gap="medium")
        with c_surface:
            surface, _spec = view.surface_controls()
        with c_start:
            view.start_controls(surface)
            state.slider(view.STEPS, _("steps"))
    with cards_box:
        view.racer_cards(ss[view.RACE.key])
    surface, race = view.race_of(view.PAGE.current())
    hide = lessons.hidden()
    with chart:
        mode = state.segmented_control(view.VIEW, label_visibility="collapsed")
        if surface is None:
            no_surface_note()
            return
        trs = view.race_runs(race)
        labels = race_labels(race)
        draw_race(surface, race, trs, mode, hide)
    with numbers:
        cut = view.cut_sentence(trs, labels, race.steps)
        if cut:
            st.caption("✂️ " + cut)
        if trs and not hide:
            st.markdown(view.race_sentence(model.race_verdict(surface, trs, race.steps), labels, race.steps))
        elif not trs:
            st.warning(_("No optimizer can run: add one, or fix the settings its card names."))
    if not trs:
        return
    if lessons.reveal(_("The race's outcome (paths, curves, results)")):
        ui.divergence_warnings(trs)
        outcome(surface, race, trs, labels)
    exports(surface, race, trs, labels, hide)


def draw_race(surface, race, trs, mode: str, hide: bool) -> None:
    if hide:  # the setup only: surface, start and who races
        if mode == "3-D surface":
            ui.show_figure(fig.race_3d(surface, [], height=CHART_H), key=f"{P}_chart3d")
        else:
            f = fig.fit_race_chart(fig.setup_contour(surface, race.start, names_of(race), height=CHART_H))
            figures.add_click_grid(f, surface, n=40, name=_("click to start here"))
            ui.show_figure(f, key=f"{P}_chart", on_select="rerun", selection_mode=("points",))
        st.caption(_("🔒 The paths are hidden until you commit your prediction."))
        return
    if mode == "3-D surface":
        ui.show_figure(view.surface3d_figure(race, CHART_H), key=f"{P}_chart3d")
        st.caption(_("Drag to rotate, scroll to zoom. The paths are lifted onto the surface."))
    elif mode == "Animation":
        figure = view.animation_figure(race, CHART_H)
        ui.show_figure(figure, key=f"{P}_anim")
        st.caption(_("Press ▶ Play (it runs in your browser) or drag the step slider: {frames} frames for {steps} "
                     "steps.").format(frames=len(figure.frames), steps=f"{race.steps:,}"))
    else:
        f = fig.fit_race_chart(figures.contour(surface, trs, height=CHART_H))
        figures.add_click_grid(f, surface, n=40, name=_("click to start here"))
        ui.show_figure(f, key=f"{P}_chart", on_select="rerun", selection_mode=("points",))
        st.caption(_("● start · ✕ end · ⊗ diverged · ➤ leaves the window · ★ minimum · ◆ saddle point. "
                     "**Click anywhere on the contour to start the race there.**"))


def outcome(surface, race, trs, labels) -> None:
    gap = surface.min_value
    left, right = st.columns(2, gap="medium")
    with left:  # no legends: the colours are the contour's and the cards'
        ui.show_figure(fig.decades(figures.loss_curves(
            trs, gap_to=gap, height=320, showlegend=False,
            title=_("f − f* per step") if gap is not None else _("loss f per step"))), key=f"{P}_loss")
        if gap is not None:
            st.caption(_("f* = {f} is the minimum value; the gap f − f* is floored at 10⁻¹⁶ on the log axis.").format(
                f=fmt.number(gap, 4)))
    with right:
        ui.show_figure(fig.decades(figures.grad_norm_curves(trs, height=320, showlegend=False,
                                                            title=_("gradient norm ‖∇f‖ per step"))),
                       key=f"{P}_gnorm")
    st.subheader(_("Results"))
    show_table(results_table(surface, trs, labels, race.steps), "results")


LOSS_LIMIT = 1e15  # a loss past this has run away even if the run was not stopped: "—"


def _loss(v) -> str:
    return fmt.number(v, 4, limit=LOSS_LIMIT)


def _step(v) -> str:
    return fmt.integer(v)


def results_table(surface, trs, labels, steps) -> list[dict]:
    """The results as text cells written by optlab.format ("—" where a value is undefined)."""
    rows = model.results_rows(surface, trs, labels, steps)
    gap_known = surface.min_value is not None
    out = []
    for r in rows:
        ran = fmt.integer(r["steps run"])
        if r["cut at step"] is not None:
            ran = _("{n} (budget)").format(n=ran)
        elif r["stopped at step"] is not None:
            ran = _("{n} (stopped)").format(n=ran)
        elif r["diverged at step"] is not None:
            ran = _("{n} (diverged)").format(n=ran)
        out.append({
            _("optimizer"): r["optimizer"],
            _("steps run"): ran,
            _("final loss"): _loss(r["final loss"]),
            _("distance to a minimum"): fmt.number(r["distance to nearest minimum"], 3),
            _("first step with f − f* ≤ 10⁻⁴"): (_step(r["steps to tolerance"]) if gap_known else _("f* unknown")),
            _("final (x, y)"): fmt.point((r["final x"], r["final y"]), 4),
        })
    return out


def show_table(rows: list[dict], key: str) -> None:
    """A table of text cells (optlab.format) that wraps instead of scrolling, so no column is cut at
    1024 px; its number columns right-aligned (the page's CSS, as ``ui.number_column`` does for a
    data frame)."""
    if rows:
        with st.container(key=f"{P}_tbl_{key}"):
            st.table(rows, hide_index=True)


def exports(surface, race, trs, labels, hide: bool) -> None:
    with st.expander(_("Export this race: CSV, figure, Python"), expanded=False):
        if hide:
            st.caption(_("🔒 The exports hold the race's outcome: they are here once you commit your prediction."))
            return
        e1, e2, e3 = st.columns(3)
        name = race.surface[0] if race.surface[0] != "formula" else "formula"
        e1.download_button(_("Trajectories (CSV)"), data=lambda: model.trajectories_csv(trs, labels),
                           file_name=f"optlab_{name}.csv", mime="text/csv", key=f"{P}_dl_csv", on_click="ignore",
                           icon="📄")
        e2.download_button(_("Figure (standalone HTML)"),
                           data=lambda: figures.contour(surface, trs, height=700).to_html(include_plotlyjs=True),
                           file_name=f"optlab_{name}.html", mime="text/html", key=f"{P}_dl_html", on_click="ignore",
                           icon="🖼️")
        cut = [model.cut_at(t, race.steps) for t in trs]
        shortest = min((c for c in cut if c is not None), default=None)
        snippet = model.python_snippet(race, cut_at_step=shortest)
        e3.download_button(_("Python snippet (.py)"), data=snippet, file_name=f"optlab_{name}.py",
                           mime="text/x-python", key=f"{P}_dl_py", on_click="ignore", icon="🐍")
        st.caption(_("Python that reproduces this race (runs in a notebook with optlab installed); the CSV has one "
                     "row per step of every racer, with English column names."))
        st.code(snippet, language="python")


# ----------------------------------------------------------------------------------------------
# Auto-tune
# ----------------------------------------------------------------------------------------------
def tune_section() -> None:
    view.layout_css()
    surface, race = view.race_of(view.PAGE.current())
    on = state.toggle(view.TUNE, help=_(
        "One batched sweep per optimizer: up to {n} learning rates, log-spaced around torch's default, run together "
        "from this start for the race's steps; the winner reaches f − f* ≤ 10⁻⁴ first (or ends lowest).").format(
        n=model.TUNE_GRID))
    if surface is None:
        no_surface_note()
        return
    if not on:
        trs = view.race_runs(race)
        # the chart's name above it, not in it: a figure title and the legend row under it met at 1024 px
        title = _("your learning rates")
        st.markdown(f"**{title}**")
        ui.show_figure(fig.fit_race_chart(figures.contour(surface, trs, height=state.chart_height(480, 430))),
                       key=f"{P}_tune_race")
        st.caption(_("Turn the sweep on to compare torch's default learning rates with the best ones for this race."))
        return
    results = view.tune_race(race)
    ok = [r for r in race.racers if r.error() is None]
    labels = race_labels(race)
    res_ok = [res for r, res in zip(race.racers, results) if r.error() is None]
    default_trs = view.race_runs(race, fraction=view.TUNE_SHARE["default"], lr_of=lambda i, r: model.tuned(r, None))
    tuned_trs = view.race_runs(race, fraction=view.TUNE_SHARE["tuned"], lr_of=lambda i, r: (
        model.tuned(r, results[i]["lr"]) if results[i] else r))
    rows, lines = [], []
    for r, label, res, d_tr, t_tr in zip(ok, labels, res_ok, default_trs, tuned_trs):
        d_row, t_row = model.results_rows(surface, [d_tr, t_tr], [label, label], race.steps)
        info = optimizers.info(r.name)
        rows.append({
            _("optimizer"): label,
            _("torch default lr"): fmt.UNDEFINED if res is None else fmt.number(info.defaults["lr"]),
            _("your lr"): fmt.UNDEFINED if res is None else fmt.number(r.kwargs.get("lr", info.defaults["lr"])),
            _("tuned lr"): fmt.UNDEFINED if res is None else _("{lr} (of {n})").format(lr=fmt.number(res["lr"]),
                                                                                       n=res["grid"]),
            _("first step with f − f* ≤ 10⁻⁴ (default → tuned)"): (
                f"{_step(d_row['steps to tolerance'])} → {_step(t_row['steps to tolerance'])}"
                if surface.min_value is not None else _("f* unknown")),
            _("final loss (default → tuned)"): f"{_loss(d_row['final loss'])} → {_loss(t_row['final loss'])}",
        })
        if res is None:
            lines.append(_("**{name}** has no learning rate to tune: its step scale 1 is the full Newton step.").format(
                name=safe.plain(label, 80)))
        else:
            code = model.tune_verdict(surface, d_tr, t_tr, race.steps)
            lines.append(view.tune_sentence(code, label, d_row["steps to tolerance"] or -1,
                                            t_row["steps to tolerance"] or -1))
    verdicts = "\n".join(f"- {line}" for line in lines)
    if present:  # the key numbers in the projected first screen, above the two charts
        st.markdown(verdicts)
    h = state.chart_height(440, 300)
    left, right = st.columns(2)
    with left:
        ui.show_figure(fig.fit_race_chart(figures.contour(surface, default_trs, height=h, colorbar=False,
                                                          showlegend=False, title=_("torch's default learning rates"))),
                       key=f"{P}_tune_default")
    with right:
        ui.show_figure(fig.fit_race_chart(figures.contour(surface, tuned_trs, height=h, colorbar=False,
                                                          showlegend=False, title=_("tuned learning rates"))),
                       key=f"{P}_tune_tuned")
    st.caption(_("Same colours as the race; the learning rates are in the table."))
    ui.divergence_warnings(default_trs + tuned_trs)
    show_table(rows, "tune")
    if not present:
        st.markdown(verdicts)
    for sentence in (view.tune_cut_sentence(res_ok, labels), view.cut_sentence(tuned_trs, labels, race.steps)):
        if sentence:
            st.caption("✂️ " + sentence)
    tuned_lrs = {i: res["lr"] for i, res in enumerate(results) if res}
    st.button(_("Race with the tuned learning rates"), key=f"{P}_use_tuned", on_click=view.use_tuned,
              args=(tuned_lrs,), disabled=not tuned_lrs, type="primary")


# ----------------------------------------------------------------------------------------------
# Update rules
# ----------------------------------------------------------------------------------------------
def rules_section() -> None:
    view.layout_css()
    surface, race = view.race_of(view.PAGE.current())
    if surface is None:
        no_surface_note()
    else:
        trs = view.race_runs(race)
        ui.show_figure(fig.fit_race_chart(figures.contour(surface, trs, height=state.chart_height(380, 360))),
                       key=f"{P}_rules_chart")
    names = list(dict.fromkeys(r.name for r in ss[view.RACE.key]))
    with st.container(key=f"{P}_rules"):
        tabs = st.tabs([view.optimizer_title(n) for n in names])
        for tab, name in zip(tabs, names):
            with tab:
                ui.show_update_rule(name)


if section == "Race":
    race_section()
elif section == "Auto-tune":
    tune_section()
else:
    rules_section()
