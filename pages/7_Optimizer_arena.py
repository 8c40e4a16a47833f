"""Optimizer arena: race any set of optimizers on any surface, share the race as a link."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from optlab import figures, optimizers, specs, ui
from optlab import format as fmt
from optlab.chapters import arena as model
from optlab.ui import arena as view

ui.page_config("Optimizer arena")

P = "arena"                      # widget key prefix
VIEWS = ["Contour", "3-D surface", "Animation"]


# ----------------------------------------------------------------------------------------------
# State: the race lives in st.session_state (racers, start) and in the URL (st.query_params)
# ----------------------------------------------------------------------------------------------
def apply_scenario(sc: model.Scenario, state, *, show: str | None = None) -> None:
    """Write a scenario into the widget keys (call before the widgets exist: callbacks, page top)."""
    state[f"{P}_surface"] = sc.surface
    if sc.surface == "custom":
        state[f"{P}_formula"] = sc.formula
    else:
        for k, v in ui.get_surface((sc.surface, ())).params.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                state[f"{P}_p_{sc.surface}_{k}"] = float(sc.surface_params.get(k, v))
    try:
        surface = ui.get_surface(sc.surface_spec())
        x0, y0 = sc.start_point(surface)
    except ValueError:
        surface, (x0, y0) = None, (0.0, 0.0)
    state[f"{P}_x0"], state[f"{P}_y0"] = float(x0), float(y0)
    state[f"{P}_start_for"] = surface.name if surface is not None else sc.surface
    state[f"{P}_steps"] = int(sc.steps)
    next_id = int(state.get(f"{P}_next_id", 0))
    racers = []
    for r in sc.racers:
        racers.append({"id": next_id, "name": r.name})
        ui.set_hyper_state(r.name, f"{P}_r{next_id}", r.hyper, state)
        next_id += 1
    state[f"{P}_racers"] = racers
    state[f"{P}_next_id"] = next_id
    state.pop(f"{P}_tuned_use", None)
    if show is not None:
        state[f"{P}_view"] = show


def use_preset(key: str) -> None:
    p = model.preset(key)
    apply_scenario(p.scenario(), st.session_state, show="Animation")
    st.session_state[f"{P}_preset"] = {"key": key, "q": model.encode(model.canonical(p.scenario()))}


def add_racer() -> None:
    name = st.session_state.get(f"{P}_add")
    racers = st.session_state[f"{P}_racers"]
    if not name or len(racers) >= model.MAX_OPTIMIZERS:
        return
    i = int(st.session_state[f"{P}_next_id"])
    st.session_state[f"{P}_next_id"] = i + 1
    racers.append({"id": i, "name": name})


def remove_racer(rid: int) -> None:
    st.session_state[f"{P}_racers"] = [r for r in st.session_state[f"{P}_racers"] if r["id"] != rid]


def use_tuned(lrs: dict) -> None:
    for rid, lr in lrs.items():
        st.session_state[f"{P}_r{rid}_lr"] = float(lr)


# First run of this session (or a link opened into it): the scenario comes from the URL.
link_warnings: list[str] = []
if f"{P}_racers" not in st.session_state:
    scenario, link_warnings = model.decode(st.query_params.to_dict())
    apply_scenario(scenario, st.session_state)

# A click on the contour (a point of the invisible click grid, or of a path) sets the start.
# Read before the number inputs exist, so their keys may still be written on this run.
click = ui.selected_point(st.session_state.get(f"{P}_chart"))
if click is not None and click != st.session_state.get(f"{P}_last_click"):
    st.session_state[f"{P}_x0"], st.session_state[f"{P}_y0"] = round(click[0], 3), round(click[1], 3)
    st.session_state[f"{P}_last_click"] = click


# ----------------------------------------------------------------------------------------------
# Header and presets
# ----------------------------------------------------------------------------------------------
ui.page_header(
    "Optimizer arena",
    "Which optimizer reaches the bottom first on this surface, from this start — and which ones never do?",
)

st.markdown("**Presets for class** — pick one, predict the outcome, then press ▶ Play.")
with st.container(horizontal=True):
    for p in model.PRESETS:
        st.button(p.title, key=f"{P}_preset_{p.key}", on_click=use_preset, args=(p.key,), icon="🎓")

for w in link_warnings:
    st.warning(f"Part of the link could not be used: {w}.", icon="🔗")


# ----------------------------------------------------------------------------------------------
# Sidebar: surface, start, steps, racers
# ----------------------------------------------------------------------------------------------
with st.sidebar:
    st.header("The race")
    surface = ui.surface_picker(P, show_formula=False)
    if surface is None:
        st.stop()

    (wx0, wx1), (wy0, wy1) = surface.window
    x_key, y_key = f"{P}_x0", f"{P}_y0"
    ui.init_state(x_key, float(surface.starts[0][0]) if surface.starts else 0.0)
    ui.init_state(y_key, float(surface.starts[0][1]) if surface.starts else 0.0)
    if st.session_state.get(f"{P}_start_for") != surface.name:
        # a new surface gets its own suggested start (the old one may be off its window)
        sx, sy = surface.starts[0] if surface.starts else (0.5 * (wx0 + wx1), 0.5 * (wy0 + wy1))
        st.session_state[x_key], st.session_state[y_key] = float(sx), float(sy)
        st.session_state[f"{P}_start_for"] = surface.name
    st.markdown("**Start point** — type it, or click on the contour")
    c1, c2 = st.columns(2)
    x0 = c1.number_input("x₀", key=x_key, step=0.1, format="%.3f")
    y0 = c2.number_input("y₀", key=y_key, step=0.1, format="%.3f")
    ui.init_state(f"{P}_steps", model.DEFAULT_STEPS)
    steps = st.slider("Steps", min_value=5, max_value=model.MAX_STEPS, step=5, key=f"{P}_steps")

    st.header("Optimizers")
    racers = st.session_state[f"{P}_racers"]
    settings = []
    drawn: list[str] = []          # the racers the chart draws so far: the card's dot matches its colour
    for r in racers:
        info = optimizers.info(r["name"])
        with st.container(border=True):
            dot = st.empty()
            hyper = ui.optimizer_controls(r["name"], f"{P}_r{r['id']}")
            err = ui.hyper_error(r["name"], hyper)
            color = figures.style.optimizer_color(r["name"], figures.style.assign_variants(drawn + [r["name"]])[-1])
            dot.markdown(f"<span style='color:{color};font-size:1.3em'>●</span> **{info.title}**",
                         unsafe_allow_html=True)
            if not err:
                drawn.append(r["name"])
            if err:
                st.error(err)
            st.button("Remove", key=f"{P}_rm{r['id']}", on_click=remove_racer, args=(r["id"],), type="tertiary",
                      icon=":material/close:", help=f"take this {info.title} out of the race")
            settings.append((r, hyper, err))
    if len(racers) < model.MAX_OPTIMIZERS:
        a1, a2 = st.columns([3, 2], vertical_alignment="bottom")
        a1.selectbox("Add an optimizer", optimizers.names(), key=f"{P}_add",
                     format_func=lambda n: optimizers.info(n).title)
        a2.button("Add", key=f"{P}_add_btn", on_click=add_racer, width="stretch")


# ----------------------------------------------------------------------------------------------
# The race
# ----------------------------------------------------------------------------------------------
spec = specs.surface_spec(surface)
start = (float(x0), float(y0))
same_name = {}
for r, _, _ in settings:
    same_name[r["name"]] = same_name.get(r["name"], 0) + 1



trajectories, racer_of = [], []
for r, hyper, err in settings:
    if err:
        continue
    tr = view.race_run(spec, r["name"], specs.hyper_items(hyper), start, int(steps))
    tr.label = f"{optimizers.info(r['name']).title} ({model.hyper_text(r['name'], hyper)})"
    trajectories.append(tr)
    racer_of.append((r, hyper))

# The URL always holds the current race: copying the address bar shares it.
current = model.canonical(model.Scenario(
    surface=surface.name if "formula" not in surface.params else "custom",
    surface_params=dict(spec[1]) if spec[0] != "formula" else {},
    formula=surface.params.get("formula"),
    start=start, steps=int(steps),
    racers=[model.Racer(r["name"], h) for r, h, e in settings if not e]))
query = model.encode(current)
address = ui.i18n.with_language(query)  # the race, and ?lang=… so a copied link keeps the language
if st.query_params.to_dict() != address:
    st.query_params.from_dict(address)

preset_state = st.session_state.get(f"{P}_preset")
if preset_state and preset_state["q"] == query:
    p = model.preset(preset_state["key"])
    st.info(f"**{p.title} — predict first:** {p.question}", icon="🤔")
    with st.expander("What to look for (after you have predicted)"):
        st.markdown(p.look_for)

if not trajectories:
    st.warning("Add at least one optimizer in the sidebar to start a race.")
    st.stop()

ui.divergence_warnings(trajectories)

# The race view spans the page (a projector at 800 px still gets a readable contour); the
# curves sit side by side under it.
with st.container():
    # One view at a time: Streamlit runs every tab's code, so the 3-D and animated figures are
    # only built when they are looked at.
    ui.init_state(f"{P}_view", "Contour")
    mode = st.segmented_control("View", VIEWS, key=f"{P}_view") or "Contour"
    if mode == "Contour":
        figure = figures.contour(surface, trajectories, height=600)
        figures.add_click_grid(figure, surface, n=40)
        ui.show_figure(figure, key=f"{P}_chart", on_select="rerun", selection_mode=("points",))
        st.caption("● start · ✕ end · ⊗ diverged · ➤ leaves the window · ★ minimum · ◆ saddle point. "
                   "**Click anywhere on the contour to start the race there.**")
    elif mode == "3-D surface":
        ui.show_figure(figures.surface3d(surface, trajectories, height=600), key=f"{P}_chart3d")
        st.caption("Drag to rotate, scroll to zoom. The paths are lifted onto the surface.")
    else:
        runs_key = tuple((r["name"], specs.hyper_items(h)) for r, h in racer_of)
        figure = view.animation_figure(spec, runs_key, start, int(steps), tuple(t.label for t in trajectories))
        ui.show_figure(figure, key=f"{P}_anim")
        st.caption(f"Press ▶ Play — it runs in your browser — or drag the step slider "
                   f"({len(figure.frames)} frames for {int(steps)} steps).")

with st.expander(f"The surface: {surface.title}"):
    ui.show_surface_formula(surface)
    if surface.description:
        st.markdown(surface.description)

gap = surface.min_value
name = "f − f*" if gap is not None else "loss f"
left, right = st.columns(2, gap="medium")
with left:  # no legends: the colours and dashes are the contour's
    ui.show_figure(figures.loss_curves(trajectories, gap_to=gap, height=320, title=f"{name} per step",
                                       showlegend=False), key=f"{P}_loss")
    if gap is not None:
        st.caption(f"f* = {gap:.4g} is the minimum value; the gap f − f* is floored at 10⁻¹⁶ on the log axis.")
with right:
    ui.show_figure(figures.grad_norm_curves(trajectories, height=320, title="gradient norm ‖∇f‖ per step",
                                            showlegend=False), key=f"{P}_gnorm")

st.subheader("Results")
rows = model.results_rows(surface, trajectories, tol=model.TOL)
reach_col = f"steps to f − f* ≤ {model.TOL:g}"


LOSS_LIMIT = 1e15  # a loss beyond this has run away even if the run was not stopped: "—"
formats = {"final loss": lambda v: fmt.number(v, 4, limit=LOSS_LIMIT), "distance to nearest minimum": 3,
           reach_col: fmt.integer, "diverged at step": fmt.integer, "final x": 4, "final y": 4}
shown = fmt.table(rows, formats)
if gap is None:
    for r in shown:
        r[reach_col] = "f* unknown"
st.dataframe(
    shown, hide_index=True, width="stretch",
    column_config={
        "hyperparameters": None,   # already in the optimizer's label
        "final loss": ui.number_column(help="f at the last step (—: the run diverged)"),
        "distance to nearest minimum": ui.number_column(help="to the nearest known minimum (—: diverged)"),
        reach_col: ui.number_column(help="first step whose loss is within the tolerance of the minimum value "
                                         "(—: not reached)"),
        "diverged at step": ui.number_column(help="—: the run did not diverge"),
        "final x": ui.number_column(),
        "final y": ui.number_column(),
    },
)


# ----------------------------------------------------------------------------------------------
# Auto-tune
# ----------------------------------------------------------------------------------------------
st.subheader("Auto-tune the learning rate")
tune = st.toggle("Find each optimizer's best learning rate on this surface and start", key=f"{P}_tune",
                 help="One batched sweep per optimizer: 60 learning rates, log-spaced around torch's default, "
                      "run together; the winner reaches f − f* ≤ 1e-4 first (or ends lowest).")
if tune:
    tuned_rows, default_runs, tuned_runs, tuned_lrs = [], [], [], {}
    for (r, hyper), tr in zip(racer_of, trajectories):
        name = r["name"]
        info = optimizers.info(name)
        res = ui.cached_tune_lr(spec, name, specs.hyper_items(hyper), start, int(steps), tol=model.TOL)
        d_h = {**hyper, "lr": info.defaults["lr"]}
        t_h = {**hyper, "lr": res["lr"]}
        d_tr = view.race_run(spec, name, specs.hyper_items(d_h), start, int(steps))
        t_tr = view.race_run(spec, name, specs.hyper_items(t_h), start, int(steps))
        d_tr.label = f"{info.title} (torch default lr = {info.defaults['lr']:g})"
        t_tr.label = f"{info.title} (tuned lr = {res['lr']:.3g})"
        default_runs.append(d_tr)
        tuned_runs.append(t_tr)
        tuned_lrs[r["id"]] = res["lr"]
        d_row, t_row = model.results_rows(surface, [d_tr, t_tr], tol=model.TOL)
        tuned_rows.append({
            "optimizer": tr.label.split(" (")[0],
            "torch default lr": info.defaults["lr"],
            "your lr": float(hyper["lr"]),
            "tuned lr": res["lr"],
            "final loss (default lr)": d_row["final loss"],
            "final loss (tuned lr)": t_row["final loss"],
            "steps to tolerance (default lr)": d_row[reach_col],
            "steps to tolerance (tuned lr)": t_row[reach_col],
            "default lr diverged at step": d_row["diverged at step"],
        })
    loss_cell = lambda v: fmt.number(v, 3, limit=LOSS_LIMIT)  # noqa: E731
    tuned_formats = {"torch default lr": 3, "your lr": 3, "tuned lr": 3, "final loss (default lr)": loss_cell,
                     "final loss (tuned lr)": loss_cell, "steps to tolerance (default lr)": fmt.integer,
                     "steps to tolerance (tuned lr)": fmt.integer, "default lr diverged at step": fmt.integer}
    st.dataframe(fmt.table(tuned_rows, tuned_formats), hide_index=True, width="stretch",
                 column_config={k: ui.number_column() for k in tuned_formats})
    left, right = st.columns(2)
    with left:
        ui.show_figure(figures.contour(surface, default_runs, height=440, title="torch's default learning rates",
                                       colorbar=False, showlegend=False), key=f"{P}_tune_default")
    with right:
        ui.show_figure(figures.contour(surface, tuned_runs, height=440, title="tuned learning rates",
                                       colorbar=False, showlegend=False), key=f"{P}_tune_tuned")
    st.caption("Same colours as the race above; the learning rates are in the table.")
    st.button("Race with the tuned learning rates", key=f"{P}_use_tuned", on_click=use_tuned, args=(tuned_lrs,))


# ----------------------------------------------------------------------------------------------
# Update rules, share, export
# ----------------------------------------------------------------------------------------------
st.subheader("Update rules")
names_in_race = list(dict.fromkeys(r["name"] for r, _ in racer_of))
tabs = st.tabs([optimizers.info(n).title for n in names_in_race])
for tab, name in zip(tabs, names_in_race):
    with tab:
        ui.show_update_rule(name)

st.subheader("Share and export")
base = (st.context.url or "").split("?")[0]
qs = urlencode(address, safe=":;,/*=")  # readable link (with ?lang): these are legal inside a query value
link = f"{base}?{qs}" if base else f"?{qs}"
st.markdown("**Link to this race** (copy it with the button at the right of the box; opening it restores "
            "surface, start, steps, optimizers and hyperparameters):")
st.code(link, language=None, wrap_lines=True)
st.caption("The address bar holds the same link. For a projector add `&embed=true` to hide the menus.")

e1, e2, e3 = st.columns(3)
e1.download_button("Trajectories (CSV)", data=lambda: model.trajectories_csv(trajectories),
                   file_name=f"optlab_{surface.name}.csv", mime="text/csv", key=f"{P}_dl_csv", on_click="ignore",
                   icon="📄")
e2.download_button("Figure (standalone HTML)",
                   data=lambda: figures.contour(surface, trajectories, height=700).to_html(include_plotlyjs=True),
                   file_name=f"optlab_{surface.name}.html", mime="text/html", key=f"{P}_dl_html",
                   on_click="ignore", icon="🖼️")
snippet = model.python_snippet(current)
e3.download_button("Python snippet (.py)", data=snippet, file_name=f"optlab_{surface.name}.py",
                   mime="text/x-python", key=f"{P}_dl_py", on_click="ignore", icon="🐍")
with st.expander("Python that reproduces this race (runs in a notebook with optlab installed)"):
    st.code(snippet, language="python")
