/**
 * The virtual list's rows: building and filling a line's header (script text, note, pending
 * badge, Note and More takes buttons, a lead's panel part, the five rank slots) and a take's row
 * (play, label, rank badge, waveform, duration, raters' ranks, settings, stale/removed, QC flags).
 */
import { format_duration, ranked_label, settings_label, take_label } from "./labels.js";
import { has_best, is_current, line_removed, MAX_RANK, retired, stale_title } from "./ranks.js";
import { make_node } from "./dom.js";
import { agreement_label, line_status } from "./panel.js";
import { note_label } from "./notes.js";
import { pending_label } from "./more.js";

/** A small button of a line's header ("Note", "More takes…"), shown to roles that may. */
function line_button(cls, label, line, needs, title) {
  const button = make_node("button", cls, label);
  button.type = "button";
  button.dataset.line = line;
  button.dataset.needs = needs;
  button.title = title;
  return button;
}

/**
 * A line's header row: its name and script text, its director note, the pending badge of more
 * takes coming, the Note and More takes buttons, and the five rank slots.
 */
export function build_line_row(line) {
  const row = make_node("div", "vl-row vl-line");
  row.dataset.line = line;
  const text = make_node("div", "vl-line-text");
  text.append(make_node("span", "vl-line-name", line), make_node("span", "vl-line-script"));
  const note = make_node("div", "vl-line-note");
  note.hidden = true;
  note.append(make_node("span", "vl-needs-pass", "needs another pass"), make_node("span", "vl-note-text"));
  const pending = make_node("span", "vl-line-pending");
  pending.hidden = true;
  const actions = make_node("div", "vl-line-actions");
  actions.append(
    line_button("vl-note-button", "Note", line, "note", "Write a director note on this line (n)"),
    line_button("vl-more-button", "More takes…", line, "more",
      "Ask for more takes of this line, like its best take or across the batch's ranges (g)"),
  );
  const slots = make_node("div", "vl-slots");
  for (let rank = 1; rank <= MAX_RANK; rank += 1) {
    const slot = make_node("div", "vl-slot");
    slot.dataset.rank = String(rank);
    slot.dataset.line = line;
    slot.append(make_node("span", "vl-slot-label", String(rank)));
    slots.append(slot);
  }
  const panel = make_node("div", "vl-line-panel");
  panel.hidden = true;
  row.append(text, note, pending, actions, panel, slots);
  return row;
}

/**
 * A line header's note (text, a "needs another pass" badge; the author and time on hover)
 * and its "takes coming" badge while a job makes more takes of it.
 * @param {{note: object|undefined, task: string|undefined, coming: number|undefined}} shown
 */
export function fill_line_extras(row, { note, task, coming }) {
  const box = row.querySelector(".vl-line-note");
  if (box) {
    const { text, title } = note_label(note);
    box.hidden = !note;
    box.dataset.needsPass = String(Boolean(note?.needs_pass));
    box.querySelector(".vl-needs-pass").hidden = !note?.needs_pass;
    const text_node = box.querySelector(".vl-note-text");
    if (text_node.textContent !== text) text_node.textContent = text;
    if (box.title !== title) box.title = title;
  }
  const badge = row.querySelector(".vl-line-pending");
  if (badge) {
    badge.hidden = !task;
    badge.dataset.task = task ?? "";
    const label = task ? pending_label(coming) : "";
    if (badge.textContent !== label) badge.textContent = label;
    badge.title = task ? `Job ${task} is making more takes of this line; they show when they land` : "";
  }
}

/**
 * A line header's panel part in a lead's Disagreements view: the agreement, the line's state,
 * and "Close line" or "Reopen" (not on a locked batch). Hidden in every other view.
 * @param {{hidden: boolean, dataset: Object, replaceChildren: Function}} box `.vl-line-panel`
 * @param {string} line
 * @param {object|null} panel_line the line's entry in `panel.lines`, or null
 */
function fill_line_panel(box, line, panel_line, readonly) {
  const key = panel_line
    ? [panel_line.agreement, panel_line.closed, panel_line.override, panel_line.closed_by,
      (panel_line.raters_ranked ?? []).join(","), readonly].join("|")
    : "";
  box.hidden = !panel_line;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (!panel_line) {
    box.replaceChildren();
    return;
  }
  const agreement = make_node("span", "vl-agreement", agreement_label(panel_line.agreement));
  const ranked = (panel_line.raters_ranked ?? []).length;
  agreement.title =
    `Kendall's W over ${ranked} rater${ranked === 1 ? "" : "s"}: 1 = same order, 0 = unrelated` +
    (typeof panel_line.agreement === "number" ? "" : " (needs two raters)");
  const status = make_node("span", "vl-line-status", line_status(panel_line));
  status.dataset.closed = String(Boolean(panel_line.closed));
  const parts = [agreement, status];
  if (!readonly) {
    const reopen = Boolean(panel_line.closed);
    const button = make_node("button", reopen ? "vl-line-reopen" : "vl-line-close",
      reopen ? "Reopen" : "Close line");
    button.type = "button";
    button.dataset.line = line;
    button.dataset.needs = "panel";
    button.title = reopen
      ? "Raters may change this line again; it holds their consensus again (c)"
      : "Make this line's ranks final: raters can no longer change it (c)";
    parts.push(button);
  }
  box.replaceChildren(...parts);
}

/**
 * Bring a line's header row up to date: its script text, which take holds each slot, and (in
 * a lead's Disagreements view) the line's agreement and state.
 * @param {{line: string, script: string, list: Take[], rank_of: Map<string, number|null>,
 *   readonly: boolean, locked: boolean, panel_line: object|null}} shown
 */
export function fill_line_row(row, { line, script, list, rank_of, readonly, locked, panel_line }) {
  const panel_box = row.querySelector(".vl-line-panel");
  if (panel_box) fill_line_panel(panel_box, line, panel_line ?? null, locked);
  row.dataset.ranked = String(has_best(list, rank_of));
  row.classList.toggle("vl-removed", line_removed(list));
  const script_node = row.querySelector(".vl-line-script");
  if (script_node.textContent !== script) script_node.textContent = script;
  row.querySelector(".vl-line-text").title = `${line}: ${script}`;
  for (const slot of row.querySelectorAll(".vl-slot")) {
    const rank = Number(slot.dataset.rank);
    const holder = list.find((t) => !t.stale && rank_of.get(t.file) === rank);
    const current = slot.dataset.file ?? "";
    if ((holder?.file ?? "") === current) continue;
    for (const child of [...slot.children]) if (child.className !== "vl-slot-label") child.remove();
    if (holder) {
      slot.dataset.file = holder.file;
      const chip = make_node("span", "vl-slot-take", take_label(holder));
      chip.dataset.dragFile = holder.file;
      chip.draggable = !readonly && is_current(holder);
      const clear = make_node("button", "vl-slot-clear", "×");
      clear.type = "button";
      clear.title = "Clear this rank";
      clear.dataset.file = holder.file;
      clear.dataset.needs = "rank";
      slot.append(chip, clear);
    } else {
      delete slot.dataset.file;
    }
    slot.classList.toggle("vl-filled", Boolean(holder));
  }
  for (const chip of row.querySelectorAll(".vl-slot-take")) {
    const holder = list.find((t) => t.file === chip.dataset.dragFile);
    chip.draggable = !readonly && is_current(holder);
    const who = ranked_label(holder);
    if (chip.title !== who) chip.title = who;
  }
}

/** A take's row: play button, number, rank badge, waveform, duration, settings and flags. */
export function build_take_row(take) {
  const row = make_node("div", "vl-row vl-take");
  row.dataset.file = take.file;
  row.dataset.dragFile = take.file;
  row.dataset.line = take.line;
  const play_button = make_node("button", "vl-play", "▶");
  play_button.type = "button";
  play_button.setAttribute("aria-label", `Play ${take.label ? take_label(take) : take.file}`);
  const wave = make_node("div", "vl-wave");
  const canvas = make_node("canvas", "vl-wave-canvas");
  wave.append(canvas, make_node("div", "vl-playhead"));
  const flags = make_node("span", "vl-flags");
  const retired_badge = make_node("span", "vl-retired");
  retired_badge.hidden = true;
  const settings = make_node("span", "vl-settings", settings_label(take.settings));
  const shown = Object.keys(take.settings ?? {}).length > 0; // none on a blind board
  settings.title = shown ? JSON.stringify(take.settings) : "";
  const raters = make_node("span", "vl-raters");
  raters.hidden = true;
  row.append(
    play_button,
    make_node("span", "vl-take-number", take_label(take)),
    make_node("span", "vl-rank-badge"),
    wave,
    make_node("span", "vl-duration", format_duration(take.duration_s)),
    raters,
    settings,
    retired_badge, // at the end: the columns of stale and current takes stay aligned
    flags,
  );
  return row;
}

/**
 * Each rater's rank of a take, in a lead's Disagreements view ("alice 1", "bob –"); hidden in
 * every other view.
 * @param {{name: string, rank: number|null}[]|null} ranks
 */
function fill_raters(box, ranks) {
  const key = ranks ? ranks.map((r) => `${r.name}:${r.rank ?? ""}`).join(" ") : "";
  box.hidden = !ranks;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(
    ...(ranks ?? []).map(({ name, rank }) => {
      const chip = make_node("span", "vl-rater-rank", `${name} ${rank ?? "–"}`);
      chip.dataset.rater = name;
      chip.dataset.rank = rank === null ? "" : String(rank);
      chip.title = rank === null ? `${name} left it unranked` : `${name} ranked it ${rank}`;
      return chip;
    }),
  );
}

/**
 * A take row's QC flags, and what it is if it cannot be ranked: a "stale" badge (the line's old
 * text on hover) or a "removed" one. Stale marks come while the board is open (a sync), and
 * flags compare the takes of a line, so both follow the traits.
 */
function fill_take_marks(row, take) {
  const why = retired(take);
  row.classList.toggle("vl-stale", why === "stale");
  row.classList.toggle("vl-removed", why === "removed");
  const badge = row.querySelector(".vl-retired");
  if (badge) {
    badge.hidden = !why;
    badge.dataset.why = why;
    badge.textContent = why;
    badge.title = why === "stale" ? `Stale, not ranked: ${stale_title(take)}`
      : why === "removed" ? "Removed: its line is gone from the script; never exported" : "";
  }
  const flags = row.querySelector(".vl-flags");
  const key = `${(take.flags ?? []).join(" ")}|${take.heard ?? ""}`;
  if (!flags || flags.dataset.key === key) return;
  flags.dataset.key = key;
  flags.replaceChildren(...(take.flags ?? []).map((flag) => {
    const node = make_node("span", "vl-flag", flag.replaceAll("_", " "));
    node.dataset.flag = flag;
    node.title = flag_title(flag, take);
    return node;
  }));
}

const FLAG_TITLES = {
  clipping: "Clipping: several samples at full scale",
  mostly_silence: "Mostly silence: little of the take is voiced",
  duration_outlier: "Duration outlier: much shorter or longer than the line's other takes",
};

/** What a QC flag means; for "words", what the speech check heard and how far off it was. */
export function flag_title(flag, take) {
  if (flag === "words" && take.heard !== undefined) {
    const share = Math.round((take.wer ?? 0) * 100);
    return `Wrong words? Heard: \u201c${take.heard}\u201d (${share} % word error rate)`;
  }
  if (flag === "words") return "Wrong words: the speech check did not hear the line";
  return FLAG_TITLES[flag] ?? flag;
}

/**
 * Bring a take's row up to date: rank shown (pending if it differs from the saved one), focus,
 * playing, draggable and duration.
 * @param {{take: Take, rank: number|null, focused: boolean, playing: boolean, readonly: boolean,
 *   duration_s: number|undefined, raters: {name: string, rank: number|null}[]|null}} shown
 */
export function fill_take_row(row, { take, rank, focused, playing, readonly, duration_s, raters }) {
  const raters_box = row.querySelector(".vl-raters");
  if (raters_box) fill_raters(raters_box, raters ?? null);
  fill_take_marks(row, take);
  const saved = take.rank ?? null;
  row.dataset.rank = rank === null ? "" : String(rank);
  row.dataset.rankedBy = take.ranked_by ?? "";
  const badge = row.querySelector(".vl-rank-badge");
  badge.textContent = rank === null ? "–" : `#${rank}`;
  const who = ranked_label(take);
  if (badge.title !== who) badge.title = who;
  row.classList.toggle("vl-pending", rank !== saved);
  row.classList.toggle("vl-focused", focused);
  row.classList.toggle("vl-playing", playing);
  row.draggable = !readonly && is_current(take);
  row.querySelector(".vl-play").textContent = playing ? "❚❚" : "▶";
  const duration = format_duration(duration_s);
  const duration_node = row.querySelector(".vl-duration");
  if (duration_node.textContent !== duration) duration_node.textContent = duration;
}
