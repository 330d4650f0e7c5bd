"""The launch and jobs dashboards: the generation form (docs/design.md, the dashboards) and
the job monitor.

`LaunchForm` validates the whole config on every change through voicelab.jobspec, so it refuses
exactly what the API would, row numbers included, and says so in the form's own words ("Pick at
least one voice", not the API's "voice_ids must be ..."); the Start button stays disabled until
the config is valid. `JobMonitor` reads the job registry, so it shows the same jobs after a page
reload, and it refreshes itself while a job runs. `launch_view` (the form, the monitor below)
and `jobs_view` (the monitor alone) are the dashboards.

Starting and cancelling jobs is a lead's (the `jobs` action): both ask who the dashboard serves
(`people.kernel_person`) at every click, and refuse with the Forbidden message otherwise; for
anyone else the Start button stays disabled and Cancel buttons are not shown, with that message
as the explanation.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from voicelab import jobs, people, store
from voicelab.config import Settings
from voicelab.engines import ENGINES, Voice, available_engines, get_engine
from voicelab.errors import JobConfigError, Problem, ScriptError, VoicelabError
from voicelab.jobs import liveness, registry
from voicelab.jobs.kinds import sync as sync_kind
from voicelab.jobspec import MAX_VARIANTS, MAX_VOICES, SETTING_LIMITS, estimate, parse_config
from voicelab.lines import more, sync
from voicelab.script import decode_script, parse_script
from voicelab.widgets.views import wait_for_visit

RANK_URL = "rank.ipynb?batch_id="
PREVIEW_ROWS = 8
JOBS_PAGE_LIMIT = 50  # jobs the Jobs dashboard lists (the launch page lists 10)
SKIN_NAME_MAX = 100  # characters, as voicelab.jobspec allows
SLIDERS = {"stability": "Stability", "similarity_boost": "Similarity", "style": "Style",
           "speed": "Speed"}
UPLOAD_A_SCRIPT = "Upload a script: a CSV with Function and Line columns."
# The config's fields as the form names them, for a problem no rule below words (none the form
# can cause today): better a label than a field name.
FORM_LABELS = {"skin_name": "Skin name", "voice_ids": "Voices", "variants": "Variants per line",
               "model_id": "Model", "use_speaker_boost": "Speaker boost",
               "similarity_boost": "Similarity", "script_csv": "Script CSV", "settings.": ""}


def available_voices(settings: Settings) -> list[Voice]:
    """Voices of every engine that can run here (ElevenLabs only with a key)."""
    voices: list[Voice] = []
    for name in available_engines(settings):
        try:
            voices += get_engine(name, settings).voices()
        except VoicelabError:
            continue
    return voices


def jobs_refusal(settings: Settings) -> str:
    """Why the person this dashboard serves may not start or cancel jobs, or "" (a lead).

    Asked anew at every call, never cached: a role changed meanwhile counts at once. The text is
    the Forbidden message (`bob is a designer: only a lead may start or cancel jobs`), or why the
    users file cannot be read (then nobody may).
    """
    try:
        people.require(people.kernel_person(settings.audio_root), "jobs")
    except VoicelabError as exc:
        return str(exc)
    return ""


def _refusal_html(text: str) -> str:
    if not text:
        return ""
    return ("<div class='vl-jobs-refused' role='note' style='color:var(--jp-ui-font-color2,#555);"
            f"padding:4px 0'>{html.escape(text)}.</div>")


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table class='vl-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class LaunchForm:
    """The generation form; `widget` is what the dashboard shows."""

    def __init__(self, settings: Settings, voices: list[Voice] | None = None,
                 on_submit: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.voices = voices if voices is not None else available_voices(settings)
        self.on_submit = on_submit
        self.task_id: str | None = None
        style = {"description_width": "120px"}
        wide = w.Layout(width="460px")
        self.engine = w.Dropdown(options=[n for n in ENGINES if any(
            v.engine == n for v in self.voices)] or ["piper"], value=settings.default_engine
            if any(v.engine == settings.default_engine for v in self.voices) else None,
            description="Engine", style=style, layout=wide)
        self.search = w.Text(placeholder="search voices", description="Voices", style=style,
                             layout=wide)
        self.voice_select = w.SelectMultiple(options=[], rows=6, description="", style=style,
                                             layout=w.Layout(width="460px", margin="0 0 0 124px"))
        self.skin = w.Text(description="Skin name", placeholder="e.g. Aldric", style=style,
                           layout=wide)
        self.variants = w.BoundedIntText(value=3, min=1, max=MAX_VARIANTS,
                                         description="Variants per line", style=style)
        self.ranges = {
            name: w.FloatRangeSlider(
                value=[default, default] if name != "stability" else [0.3, 0.7],
                min=low, max=high, step=0.01, description=label, style=style, layout=wide,
                readout_format=".2f")
            for name, label in SLIDERS.items()
            for low, high, default in [SETTING_LIMITS[name]]}
        self.speaker_boost = w.Checkbox(value=True, description="Speaker boost", style=style)
        self.model = w.Dropdown(options=[], description="Model", style=style, layout=wide)
        self.upload = w.FileUpload(accept=".csv,.txt,.tsv", multiple=False,
                                   description="Script CSV")
        self.preview = w.HTML()
        self.errors = w.HTML()
        self.estimate = w.HTML()
        self.start = w.Button(description="Start generation", button_style="primary",
                              disabled=True, icon="play")
        self.status = w.HTML()
        self.role_note = w.HTML()
        self.target = w.Dropdown(options=update_targets(settings), value="",
                                 description="Batch", style=style, layout=wide)
        self.heading = w.HTML("<h3>New batch</h3>")
        self.new_batch = w.VBox([self.engine, self.search, self.voice_select, self.skin,
                                 self.variants, *self.ranges.values(), self.speaker_boost,
                                 self.model])
        for control in (self.engine, self.search, self.voice_select, self.skin, self.variants,
                        self.speaker_boost, self.model, self.upload, self.target,
                        *self.ranges.values()):
            control.observe(self._changed, names="value")
        self.start.on_click(lambda _: self.submit())
        self._filter_voices(preselect=True)
        self._models()
        self.widget = w.VBox([
            self.heading, self.role_note, self.target, self.new_batch,
            w.HBox([self.upload]), self.preview, self.errors, self.estimate,
            w.HBox([self.start, self.status])])
        self.widget.add_class("vl-launch")
        self._changed()

    # -- state -> config ------------------------------------------------------------------

    def script_bytes(self) -> tuple[str, bytes] | None:
        files = self.upload.value
        if not files:
            return None
        item = files[0]
        return item["name"], bytes(item["content"])

    def config(self) -> dict[str, Any]:
        """The job config (the API body's shape) the form describes: a new batch, or with a
        batch chosen under "Batch", a sync of the uploaded script into it."""
        if self.target.value:
            script = self.script_bytes()
            update: dict[str, Any] = {"kind": sync_kind.KIND, "batch_id": self.target.value}
            if script:
                name, data = script
                update["script_name"], update["script_csv"] = name, _decode(data, name)
            return update
        settings: dict[str, Any] = {
            name: (list(slider.value) if slider.value[0] != slider.value[1]
                   else slider.value[0]) for name, slider in self.ranges.items()}
        settings["use_speaker_boost"] = self.speaker_boost.value
        config: dict[str, Any] = {"skin_name": self.skin.value,
                                  "voice_ids": list(self.voice_select.value),
                                  "variants": self.variants.value, "engine": self.engine.value,
                                  "settings": settings}
        if self.model.value:
            config["model_id"] = self.model.value
        script = self.script_bytes()
        if script:
            name, data = script
            config["script_name"] = name
            config["script_csv"] = _decode(data, name)
        return config

    def _filter_voices(self, preselect: bool = False) -> None:
        """Show the engine's voices that match the search (and the chosen ones, always).

        With `preselect` (a new form, another engine) and nothing of this engine chosen yet, an
        engine that offers a single voice has it selected: there is nothing else to pick.
        """
        term = self.search.value.strip().casefold()
        chosen = set(self.voice_select.value)
        offered = [v.id for v in self.voices if v.engine == self.engine.value]
        if preselect and len(offered) == 1 and not chosen & set(offered):
            chosen = set(offered)
        options = [(f"{v.name} ({v.id})", v.id) for v in self.voices
                   if v.engine == self.engine.value
                   and (not term or term in v.name.casefold() or term in v.id.casefold()
                        or v.id in chosen)]
        self.voice_select.options = options
        self.voice_select.value = tuple(v for v in chosen if v in {o[1] for o in options})

    def _models(self) -> None:
        kind = ENGINES.get(self.engine.value or "")
        default = kind.default_model if kind else None
        self.model.disabled = default is None
        if default is None:  # "" is no model: config() leaves model_id out
            self.model.options = [(f"none: {self.engine.value or 'this engine'} has no models", "")]
            self.model.value = ""
            return
        models: list[str] = []
        try:
            engine = get_engine(self.engine.value, self.settings)
            models = [m["model_id"] for m in engine.models()]  # type: ignore[attr-defined]
        except VoicelabError:
            pass
        self.model.options = models or [default]
        self.model.value = default if default in self.model.options else self.model.options[0]

    def _changed(self, change: dict[str, Any] | None = None) -> None:
        owner = change and change.get("owner")
        if owner in (self.engine, self.search):
            if owner is self.engine:
                self._models()
            self._filter_voices(preselect=owner is self.engine)
        self._show_preview()
        refusal = jobs_refusal(self.settings)
        self.role_note.value = _refusal_html(refusal)
        self.start.tooltip = refusal or None
        updating = bool(self.target.value)
        self.new_batch.layout.display = "none" if updating else None
        self.heading.value = "<h3>Update an existing batch</h3>" if updating else \
            "<h3>New batch</h3>"
        self.start.description = "Update batch" if updating else "Start generation"
        if updating:
            self._changed_update(refusal)
            return
        try:
            job = parse_config(self.config(), default_engine=self.settings.default_engine,
                               settings=self.settings)
        except JobConfigError as exc:
            self.errors.value = ("<ul class='vl-errors'>" + "".join(
                f"<li>{html.escape(self._explain(p))}</li>" for p in exc.problems) + "</ul>")
            self.estimate.value = ""
            self.start.disabled = True
            return
        self.errors.value = ""
        self.estimate.value = self._estimate_html(job)
        self.start.disabled = bool(refusal)

    def _changed_update(self, refusal: str) -> None:
        """The plan of a sync into the chosen batch: the lines it adds, changes and removes and
        what it costs, before anything is spent; Start stays disabled without a valid script."""
        config = self.config()
        self.start.disabled = True
        self.estimate.value = ""
        if "script_csv" not in config:
            self.errors.value = f"<ul class='vl-errors'><li>{UPLOAD_A_SCRIPT}</li></ul>"
            return
        try:
            plan = sync_plan(self.settings, config)
        except (JobConfigError, ScriptError) as exc:
            problems = exc.problems
            self.errors.value = ("<ul class='vl-errors'>" + "".join(
                f"<li>{html.escape(str(p))}</li>" for p in problems) + "</ul>")
            return
        except VoicelabError as exc:
            self.errors.value = f"<ul class='vl-errors'><li>{html.escape(str(exc))}</li></ul>"
            return
        self.errors.value = ""
        self.estimate.value = ("<div class='vl-estimate'><pre>" + html.escape(plan.text())
                               + "</pre></div>")
        self.start.disabled = bool(refusal) or plan.diff.empty

    def _explain(self, problem: Problem) -> str:
        """A problem in the form's words: what to do with which control, not the config's field
        names (jobspec words them for the API and the CLI). Problems of the uploaded script are
        already about the file (its name, row and column) and are shown as they are."""
        field = problem.field or ""
        if field == "skin_name":
            if len(self.skin.value) > SKIN_NAME_MAX:
                return f"Shorten the skin name to {SKIN_NAME_MAX} characters or fewer."
            return "Name the skin, e.g. Aldric."
        if field == "voice_ids":
            if len(self.voice_select.value) > MAX_VOICES:
                return f"Pick at most {MAX_VOICES} voices."
            return "Pick at least one voice."
        if field == "variants":
            return f"Set variants per line to a whole number from 1 to {MAX_VARIANTS}."
        if field == "engine":
            return "Pick an engine."
        if field == "model_id":
            return "Pick a model."
        setting = field.removeprefix("settings.")
        if setting in SLIDERS:
            low, high, _ = SETTING_LIMITS[setting]
            return f"Set {SLIDERS[setting]} between {low:g} and {high:g}."
        if setting == "use_speaker_boost":
            return "Turn speaker boost on or off."
        if field in ("script_csv", "script_path"):
            script = self.script_bytes()
            if not script:
                return UPLOAD_A_SCRIPT
            return (f"{script[0]} cannot be read as text: save it as CSV (UTF-8) and upload "
                    "it again.")
        text = str(problem)
        if field in ("", "Function", "Line"):  # the script's own: "<file>: row 2: Line is empty"
            return text
        for name, label in FORM_LABELS.items():
            text = text.replace(name, label)
        return text[:1].upper() + text[1:]

    def _show_preview(self) -> None:
        script = self.script_bytes()
        if not script:
            self.preview.value = "<i>Upload a CSV with Function and Line columns.</i>"
            return
        name, data = script
        try:
            parsed = parse_script(data, name=name)
        except ScriptError:
            self.preview.value = f"<b>{html.escape(name)}</b>: see the problems below."
            return
        rows = [[str(line.row), line.function, line.text] for line in parsed.lines[:PREVIEW_ROWS]]
        more = len(parsed.lines) - len(rows)
        self.preview.value = (f"<b>{html.escape(name)}</b>: {len(parsed.lines)} lines"
                              + _table(rows, ["row", "Function", "Line"])
                              + (f"<i>… and {more} more</i>" if more > 0 else ""))

    def _estimate_html(self, job: Any) -> str:
        figures = estimate(job)
        text = (f"<b>Estimate</b>: {figures['takes']} takes, {figures['requests']} requests, "
                f"{figures['characters']:,} characters")
        if ENGINES[job.engine].shares_quota:
            try:
                quota = get_engine(job.engine, self.settings).quota()  # type: ignore[attr-defined]
                remaining = quota.get("remaining") or 0
                share = figures["characters"] / remaining if remaining else float("inf")
                text += f" = {share:.1%} of the {remaining:,} characters left this month"
            except VoicelabError as exc:
                text += f" (quota unknown: {html.escape(str(exc))})"
        else:
            text += " (local engine: free)"
        return f"<div class='vl-estimate'>{text}</div>"

    def submit(self) -> str | None:
        """Queue the job; returns its task id (None when the config or the person's role was
        refused: only a lead may start jobs, asked now)."""
        refusal = jobs_refusal(self.settings)
        if refusal:
            self.role_note.value = _refusal_html(refusal)
            self.start.disabled = True
            self.status.value = f"<span class='vl-error'>{html.escape(refusal)}</span>"
            return None
        try:
            self.task_id = jobs.submit(self.settings, self.config())
        except JobConfigError as exc:
            words = " ".join(self._explain(p) for p in exc.problems)
            self.status.value = f"<span class='vl-error'>{html.escape(words)}</span>"
            return None
        except VoicelabError as exc:
            self.status.value = f"<span class='vl-error'>{html.escape(str(exc))}</span>"
            return None
        self.status.value = f"queued <code>{self.task_id}</code>"
        if self.on_submit:
            self.on_submit(self.task_id)
        return self.task_id


def update_targets(settings: Settings) -> list[tuple[str, str]]:
    """What "Batch" offers: a new batch, or an unlocked batch to update from an edited script
    (newest first)."""
    options = [("New batch", "")]
    for record in store.find_batches(settings.audio_root):
        if not record["locked"]:
            options.append((f"{record['skin']} · {record['voice']} · {record['batch_id']}",
                            record["batch_id"]))
    return options


def sync_plan(settings: Settings, config: dict[str, Any]) -> sync.SyncPlan:
    """The plan of a sync job's config (its batch, its script, the batch's dictionary).

    Raises:
        JobConfigError, ScriptError, BatchNotFound, MetadataError, PronunciationError.
    """
    batch_dir = store.find_batch(settings.audio_root, config["batch_id"])
    metadata = store.load_metadata(batch_dir)
    return sync.plan_sync(metadata, sync_kind.script_of(config, metadata),
                          more.batch_dictionary(batch_dir, metadata, settings))


def _decode(data: bytes, name: str) -> str:
    """CSV bytes as text for the config, read by the scripts' one decoder; a file it cannot
    read is passed on as best it can be, and the preview names its problem."""
    try:
        return decode_script(data, name)[0]
    except ScriptError:
        return data.decode("utf-8", errors="replace")


class JobMonitor:
    """Recent jobs with state, progress, ETA, failures, cancel, and links to the boards."""

    def __init__(self, settings: Settings, rank_url: str = RANK_URL, limit: int = 10,
                 title: str | None = "Jobs") -> None:
        self.settings, self.rank_url, self.limit = settings, rank_url, limit
        self.workers = w.HTML()
        self.rows = w.VBox()
        heading = [w.HTML(f"<h3>{html.escape(title)}</h3>")] if title else []
        self.widget = w.VBox([*heading, self.rows])
        self.widget.add_class("vl-jobs")
        self._stop = threading.Event()
        self._shown: list[Any] | None = None  # nothing shown yet: "No jobs yet." is news too
        self.refresh()

    def refresh(self) -> None:
        """Show the latest jobs; a Cancel button on each unfinished one for a lead, else one
        line saying why there is none (the role is asked anew each time)."""
        records = registry.recent(self.settings.audio_root, self.limit)
        self.workers.value = self._workers_html(records)
        refusal = jobs_refusal(self.settings)
        snapshot = [refusal] + [(r["task_id"], r["state"], r.get("progress"), r.get("result"),
                                 r.get("error")) for r in records]
        if snapshot == self._shown:
            return
        self._shown = snapshot
        running = any(r["state"] not in registry.TERMINAL for r in records)
        note = [w.HTML(_refusal_html(refusal))] if refusal and running else []
        self.rows.children = [*note, *(self._row(r, cancel=not refusal) for r in records)] or [
            w.HTML("<i>No jobs yet.</i>")]

    def _workers_html(self, records: list[dict[str, Any]]) -> str:
        """Nothing while a worker is alive; otherwise a warning that says what to do."""
        if liveness.alive(self.settings.audio_root):
            return ""
        waiting = sum(r["state"] == "QUEUED" for r in records)
        what = (f"{waiting} queued job{'s' if waiting != 1 else ''} will wait until one runs"
                if waiting else "new jobs will wait in the queue until one runs")
        return ("<div class='vl-no-worker' role='alert' style='border:1px solid #d97706;"
                "background:#fffbeb;color:#78350f;padding:8px 12px;margin:4px 0;"
                "border-radius:4px'><b>No job worker is running</b>: "
                f"{what}. Start one with <code>voicelab worker</code> (or restart "
                "<code>voicelab serve</code>, which runs one); <code>voicelab doctor</code> "
                "checks the whole set-up.</div>")

    def _row(self, record: dict[str, Any], cancel: bool = True) -> w.Widget:
        progress = record.get("progress") or {}
        total, done = progress.get("total") or 0, progress.get("done") or 0
        failed = progress.get("failed") or 0
        state = record["state"]
        bar = w.IntProgress(value=done + failed, max=max(total, 1),
                            bar_style={"SUCCESS": "success", "FAILURE": "danger",
                                       "REVOKED": "warning"}.get(state, "info"))
        eta = progress.get("eta_s")
        facts = [f"<b>{html.escape(record.get('skin') or '')}</b>",
                 html.escape(", ".join(record.get("voices") or [])),
                 f"<span class='vl-state' data-state='{state}'>{state}</span>",
                 f"{done}/{total or '?'} takes", f"{failed} failed"]
        if eta is not None and state not in registry.TERMINAL:
            facts.append(f"ETA {eta:.0f}s")
        children: list[w.Widget] = [w.HTML(" · ".join(facts)), bar]
        result = record.get("result") or {}
        if state == "SUCCESS":
            links = " ".join(f"<a class='vl-rank-link' href='{self.rank_url}{b}' "
                             f"target='_blank'>Rank {html.escape(b)}</a>"
                             for b in result.get("batch_ids", []))
            children.append(w.HTML(links))
        if record.get("error"):
            children.append(w.HTML(f"<pre class='vl-error'>{html.escape(record['error'])}</pre>"))
        if cancel and state not in registry.TERMINAL:
            button = w.Button(description="Cancel", button_style="warning",
                              layout=w.Layout(width="90px"))
            button.on_click(lambda _, task_id=record["task_id"]: self.cancel(task_id))
            children.append(button)
        row = w.VBox(children, layout=w.Layout(border="1px solid var(--jp-border-color2, #ccc)",
                                               padding="6px", margin="4px 0"))
        row.add_class("vl-job")
        return row

    def cancel(self, task_id: str) -> bool:
        """Cancel a job, if the person this dashboard serves is a lead now; False if refused
        (then the jobs show again, without Cancel buttons and with the reason above them)."""
        if jobs_refusal(self.settings):
            self.refresh()
            return False
        jobs.cancel(self.settings, task_id)
        self.refresh()
        return True

    def watch(self, every_s: float = 1.0) -> None:
        """Refresh in the background while the page is open."""
        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.refresh()
                except Exception:  # a transient read must not kill the loop
                    continue

        threading.Thread(target=loop, daemon=True, name="vl-job-monitor").start()

    def stop(self) -> None:
        self._stop.set()


def launch_view(settings: Settings | None = None, refresh_s: float = 1.0) -> w.Widget:
    """The whole launch dashboard: the form above, the job monitor below, wired together; a
    warning on top while no worker runs (before anyone fills the form in vain).

    In a kernel Voila preheated, it first waits for the page's visitor, so the voices, the jobs
    and the worker's state are read when someone looks, not when the kernel warmed up.
    """
    from voicelab.config import get_settings

    wait_for_visit()
    settings = settings or get_settings()
    monitor = JobMonitor(settings)
    form = LaunchForm(settings, on_submit=lambda _: monitor.refresh())
    monitor.watch(refresh_s)
    return w.VBox([monitor.workers, form.widget, monitor.widget])


def jobs_view(settings: Settings | None = None, refresh_s: float = 1.0,
              limit: int = JOBS_PAGE_LIMIT) -> w.Widget:
    """The jobs dashboard: the latest `limit` jobs (the launch page's monitor, longer), live,
    under the same no-worker warning. Waits for the visitor first, as `launch_view` does."""
    from voicelab.config import get_settings

    wait_for_visit()
    monitor = JobMonitor(settings or get_settings(), limit=limit, title=None)
    monitor.watch(refresh_s)
    return w.VBox([monitor.workers, monitor.widget])
