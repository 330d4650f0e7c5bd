/**
 * A line's ranks: the cascade (docs/design.md, decision 1, as voicelab.ranking.cascade), pending changes
 * replayed on the saved ranks, takes grouped by line, stale and removed takes (docs/design.md, decision 13),
 * and what counts as ranked. Pure.
 */
import { take_label } from "./labels.js";

export const MAX_RANK = 5;

/**
 * A line's ranks after giving `file` the rank `rank` (null clears): docs/design.md, decision 1, the same
 * rule as voicelab.ranking.cascade. The take leaves its old rank first; whoever holds the new
 * rank moves down one, and so on until a free rank; a take pushed past 5 becomes unranked.
 * @param {Object<string, number|null>} ranks file -> rank for the takes of one line
 * @param {string} file
 * @param {number|null} rank
 * @returns {Object<string, number|null>}
 */
export function cascade(ranks, file, rank) {
  const result = { ...ranks, [file]: null };
  if (rank === null || rank === undefined) return result;
  const holder_of = new Map();
  for (const [name, held] of Object.entries(result)) {
    if (held !== null && held !== undefined) holder_of.set(held, name);
  }
  let mover = file;
  let position = rank;
  for (;;) {
    const displaced = holder_of.get(position);
    result[mover] = position;
    if (displaced === undefined) return result;
    mover = displaced;
    position += 1;
    if (position > MAX_RANK) {
      result[mover] = null;
      return result;
    }
  }
}

/**
 * The ranks to show: the saved ones with the not-yet-confirmed changes replayed on top.
 * @param {Take[]} takes saved state (from Python)
 * @param {{file: string, rank: number|null}[]} pending changes sent but not acknowledged
 * @returns {Map<string, number|null>} file -> rank
 */
export function apply_pending(takes, pending) {
  const rank_of = new Map(takes.map((t) => [t.file, t.rank ?? null]));
  if (!pending.length) return rank_of;
  const line_of = new Map(takes.map((t) => [t.file, t.line]));
  const members = new Map();
  for (const t of takes) {
    if (!members.has(t.line)) members.set(t.line, []);
    members.get(t.line).push(t.file);
  }
  for (const op of pending) {
    const line = line_of.get(op.file);
    if (line === undefined) continue;
    const ranks = {};
    for (const f of members.get(line)) ranks[f] = rank_of.get(f);
    for (const [f, r] of Object.entries(cascade(ranks, op.file, op.rank))) rank_of.set(f, r);
  }
  return rank_of;
}

/**
 * Takes grouped by line, in the order of `lines`, each line's takes by take_number.
 * @param {{line: string}[]} lines
 * @param {Take[]} takes
 * @returns {Map<string, Take[]>}
 */
export function group_takes(lines, takes) {
  const groups = new Map(lines.map((l) => [l.line, []]));
  for (const t of takes) {
    if (!groups.has(t.line)) groups.set(t.line, []);
    groups.get(t.line).push(t);
  }
  for (const list of groups.values()) list.sort((a, b) => a.take_number - b.take_number);
  return groups;
}

/**
 * Why a take cannot be ranked: "stale" (its line's text changed), "removed" (its line left the
 * script), or "" (a current take).
 */
export function retired(take) {
  if (take?.stale) return "stale";
  return take?.removed ? "removed" : "";
}

/** Whether a take counts: neither stale nor removed (only those hold slots and count). */
export const is_current = (take) => !retired(take);

/** What a stale take's badge says on hover: the line's text it says. */
export function stale_title(take) {
  const was = take?.text_was;
  return was ? `text was: “${was}”` : "its line's text changed";
}

/** Why a rank key, drop or × on a stale or removed take changes nothing ("" for a current one). */
export function retired_message(take) {
  const why = retired(take);
  if (why === "stale") {
    return `${take_label(take)} is stale: its line's text changed (${stale_title(take)}). Rank its new takes.`;
  }
  if (why === "removed") return `${take_label(take)} is removed: its line is gone from the script.`;
  return "";
}

/** Whether a line's takes are all removed (the line left the script); false with no takes. */
export function line_removed(line_takes) {
  return line_takes.length > 0 && line_takes.every((t) => t.removed);
}

/** Whether a line has its best take (a current take ranked 1). */
export function has_best(line_takes, rank_of) {
  return line_takes.some((t) => is_current(t) && rank_of.get(t.file) === 1);
}

/**
 * Progress: lines with a rank-1 current take, out of the lines still in the script (a line
 * whose takes are all removed does not count).
 * @param {Map<string, Take[]>} groups
 * @param {Map<string, number|null>} rank_of
 */
export function progress(groups, rank_of) {
  let done = 0;
  let total = 0;
  for (const list of groups.values()) {
    if (line_removed(list)) continue;
    total += 1;
    if (has_best(list, rank_of)) done += 1;
  }
  return { done, total };
}

/**
 * The lines to show. With `only_unranked`, lines without a best take, plus `sticky` lines (those
 * that were unranked when the filter was turned on, so a line does not vanish while ranked).
 * @param {Map<string, Take[]>} groups
 * @param {Map<string, number|null>} rank_of
 * @param {boolean} only_unranked
 * @param {Set<string>} sticky
 * @returns {string[]}
 */
export function visible_lines(groups, rank_of, only_unranked, sticky) {
  const names = [...groups.keys()];
  if (!only_unranked) return names;
  return names.filter((n) => sticky.has(n) || !(has_best(groups.get(n), rank_of) || line_removed(groups.get(n))));
}
