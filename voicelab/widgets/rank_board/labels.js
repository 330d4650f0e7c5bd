/**
 * What the board calls things: a take's name, who ranked it, its settings, the progress counter,
 * a duration. Pure; no imports.
 */

/** A short label of the generation settings used for a take. */
export function settings_label(settings) {
  const s = settings ?? {};
  const num = (v) => (typeof v === "number" ? v.toFixed(2) : "?");
  const parts = [];
  if ("stability" in s) parts.push(`stab ${num(s.stability)}`);
  if ("similarity_boost" in s) parts.push(`sim ${num(s.similarity_boost)}`);
  if ("style" in s) parts.push(`style ${num(s.style)}`);
  if ("speed" in s) parts.push(`speed ${num(s.speed)}`);
  if ("use_speaker_boost" in s) parts.push(s.use_speaker_boost ? "boost" : "no boost");
  return parts.join(" · ");
}

/** The `ranked_by` of a take whose rank is a panel's consensus (voicelab.panel.PANEL_NAME). */
export const PANEL_NAME = "panel";

/**
 * Who gave a take its saved rank, for its tooltip: "ranked 1 by alice", "consensus rank 1" (a
 * panel's); "" when unranked.
 */
export function ranked_label(take) {
  if (take?.rank === null || take?.rank === undefined) return "";
  if (take.ranked_by === PANEL_NAME) return `consensus rank ${take.rank}`;
  return take.ranked_by ? `ranked ${take.rank} by ${take.ranked_by}` : `ranked ${take.rank}`;
}

/** What the board calls a take: "Take A" on a blind board (its label), else "Take 3". */
export function take_label(take) {
  return take?.label ? `Take ${take.label}` : `Take ${take?.take_number ?? "?"}`;
}

/** The words of the progress counter in each mode: a rater counts their own ranks. */
export function progress_label({ done, total }, mode) {
  const what = { blind: "lines ranked by you", rater: "lines ranked by you", lead: "lines with a consensus" };
  return `${done} / ${total} ${what[mode] ?? "lines ranked"}`;
}

/** "1.23 s", or an en dash when the duration is unknown. */
export function format_duration(seconds) {
  return typeof seconds === "number" && Number.isFinite(seconds) ? `${seconds.toFixed(2)} s` : "–";
}
