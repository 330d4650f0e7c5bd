/**
 * "More takes" of a line: the request the dialog sends, the estimate Python answers with (shown
 * before anything is spent), the pending badge, and the dialog itself.
 */
import { has_best } from "./ranks.js";
import { focus_board, place_popover } from "./dom.js";

export const MAX_MORE = 20; // takes one "more takes" request may ask for (voicelab.lines.plan)

/**
 * The "more takes" request the dialog sends, from what it holds: `takes` a whole number 1-20
 * (else null: the dialog says so), `like` 1 ("like the #1") or null ("the batch's ranges"),
 * and `text` the edited line, or null when it is empty or the line's text as it is.
 * @param {{takes: string|number, like: string, text: string}} fields
 * @param {string} current_text the line's text now
 */
export function more_request({ takes, like, text }, current_text) {
  const count = Number(takes);
  const whole = Number.isInteger(count) && count >= 1 && count <= MAX_MORE ? count : null;
  const edited = String(text ?? "").trim();
  return {
    takes: whole,
    like: like === "1" || like === 1 ? 1 : null,
    text: edited && edited !== String(current_text ?? "").trim() ? edited : null,
  };
}

/** The same request: what an estimate was made for is what would be sent. */
export const same_request = (a, b) =>
  Boolean(a && b) && a.line === b.line && a.takes === b.takes && a.like === b.like && a.text === b.text;

const count_of = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

/**
 * The estimate as the "more takes" dialog shows it, before anything is spent: "3 takes · 3
 * requests · 126 characters", then the quota share when the engine has one ("0.4 % of the
 * 30,000 characters left"; "not enough" when it is short), or why it is not known.
 * @param {{takes: number, requests: number, characters: number, quota: object|null,
 *   text_changed?: boolean}} estimate
 */
export function estimate_label(estimate) {
  if (!estimate) return "";
  const parts = [count_of(estimate.takes ?? 0, "take"), count_of(estimate.requests ?? 0, "request"),
    count_of(estimate.characters ?? 0, "character")];
  const quota = estimate.quota;
  if (quota && typeof quota.error === "string") parts.push(`quota not known: ${quota.error}`);
  else if (quota && typeof quota.remaining === "number") {
    const share = typeof quota.share === "number" ? `${(quota.share * 100).toFixed(1)} % of` : "all of";
    const left = `${share} the ${quota.remaining.toLocaleString("en")} characters left`;
    parts.push(quota.enough === false ? `not enough: ${left}` : left);
  } else parts.push("no quota (a local engine)");
  if (estimate.text_changed) parts.push("the line's current takes go stale");
  return parts.join(" · ");
}

/** A pending line's badge: "3 takes coming" (when this view asked for them), else "takes coming". */
export function pending_label(takes) {
  return Number.isInteger(takes) && takes > 0 ? `${count_of(takes, "take")} coming` : "takes coming";
}

/**
 * The "more takes" dialog of a line: `open(line)` (a role that may, on an open batch) offers how
 * many (1-20, 3), "like the #1" (the default when the line has a rank-1 current take, and only
 * then) or "the batch's ranges", and the line's text to edit; `request()` is what it asks for
 * ({line, takes, like, text}: `more_request`). The estimate Python sends back for the request
 * as it stands is shown (`show_estimate`), and only then can it be sent; `show_result` takes
 * Python's `more` reply: closes on success, says why otherwise. Hidden once no longer offered
 * (the batch locked, the role lost) or the line is no longer shown.
 * @param {{querySelector: Function, focus: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_more_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-more-dialog");
  const title = root.querySelector(".vl-more-title");
  const count = root.querySelector(".vl-more-count");
  const like = root.querySelector(".vl-more-like");
  const text = root.querySelector(".vl-more-text");
  const estimate_box = root.querySelector(".vl-more-estimate");
  const submit = root.querySelector(".vl-more-submit");
  let line = null;
  let expected = null; // {seq, request}: the estimate asked for last
  let estimated = null; // the request the shown estimate is for
  let sending = false;

  const request = () => ({ line, ...more_request({ takes: count.value, like: like.value, text: text.value },
    state.view.text_of.get(line)) });
  const refresh_submit = () => {
    const now = request();
    submit.disabled = sending || !same_request(now, estimated);
    submit.textContent = now.takes ? `Ask for ${count_of(now.takes, "take")}` : "Ask for takes";
  };
  const say = (message, kind) => {
    estimate_box.textContent = message;
    estimate_box.dataset.kind = kind;
  };
  const open = (which) => {
    if (!which || !state.more_offered() || !place_popover(dialog, state, which)) return;
    line = which;
    const best = has_best(state.view.groups.get(which) ?? [], state.view.rank_of);
    title.textContent = `More takes of ${which}`;
    count.value = "3";
    like.querySelector("option[value='1']").disabled = !best;
    like.value = best ? "1" : "ranges";
    text.value = state.view.text_of.get(which) ?? "";
    Object.assign(dialog.dataset, { line: which });
    expected = estimated = null;
    sending = false;
    say("Estimating…", "wait");
    refresh_submit();
    dialog.hidden = false;
    count.focus();
  };
  const close = () => {
    dialog.hidden = true;
    line = expected = estimated = null;
    focus_board(root);
  };
  /** An estimate was asked for `req` with `seq`: only its answer counts. */
  const expect = (seq, req) => {
    expected = { seq, request: req };
    estimated = null;
    say("Estimating…", "wait");
    refresh_submit();
  };
  /** What the dialog says when the request cannot be sent as it is (no estimate asked). */
  const invalid = (message) => {
    expected = estimated = null;
    say(message, "error");
    refresh_submit();
  };
  /** Python's `more_estimate` reply; replies to earlier requests, or other views', are ignored. */
  const show_estimate = (msg) => {
    if (dialog.hidden || !expected || msg.seq !== expected.seq) return false;
    if (msg.error) say(msg.error, "error");
    else {
      estimated = expected.request;
      say(`Estimate: ${estimate_label(msg.estimate)}`, "estimate");
    }
    refresh_submit();
    return true;
  };
  const start = () => {
    sending = true;
    say("Asking…", "wait");
    refresh_submit();
  };
  /** Python's `more` reply: true when the job was queued (the dialog closes). */
  const show_result = (msg) => {
    if (dialog.hidden || !sending || msg.line !== line) return false;
    sending = false;
    if (msg.ok) {
      close();
      return true;
    }
    say(msg.error || "Refused.", "error");
    refresh_submit();
    return false;
  };
  const update = () => {
    if (dialog.hidden) return;
    if (!state.more_offered() || !place_popover(dialog, state, line)) close();
  };
  return {
    ...{ open, close, request, expect, invalid, show_estimate, start, show_result, update },
    changed: refresh_submit,
    is_open: () => !dialog.hidden,
    ready: () => !submit.disabled,
  };
}
