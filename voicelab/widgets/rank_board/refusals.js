/**
 * What the board says when it refuses an action at once, without asking Python (which checks
 * again): a locked batch, a role without the action, a panel rater's board, a lead's consensus.
 */

export const LOCKED_MESSAGE = "This batch is locked: ranks can no longer change.";

/** What a "more takes" on a locked batch says (voicelab rank_board.MORE_LOCKED, in words). */
export const MORE_LOCKED_MESSAGE = "This batch is locked: a lead unlocks it first to ask for more takes.";

/** Notes and more takes on a panel rater's board (voicelab rank_board.PANEL_LINES). */
export const PANEL_LINES_MESSAGE =
  "A panel's raters rank alone: notes and more takes wait until the panel ends (a lead can).";

const ACTION_WORDS = {
  ...{ rank: "rank", undo: "undo", lock: "lock a batch", unlock: "unlock a batch" },
  ...{ export: "export", panel: "run a rating panel" },
  ...{ note: "write director notes", more: "ask for more takes" },
};

/** Rank keys on a lead's panel board outside Disagreements (voicelab rank_board.LEAD_RANKS). */
export const LEAD_RANK_MESSAGE =
  "You lead this panel: the board shows its consensus. Set a line's final ranks in Disagreements (d).";

/**
 * Why the board refuses an action the role does not allow, at once and without asking Python:
 * "View only: a viewer cannot rank." (a role that may not rank), "Only this panel's raters
 * rank here." (a designer or lead on a panel they do not rate), notes and more takes on a
 * panel rater's board (PANEL_LINES_MESSAGE) or by a viewer ("View only: a viewer cannot write
 * director notes."), else "Only a lead can lock a batch." (the lead's actions).
 * @param {string} role the `role` trait
 * @param {string} action a key of ACTION_WORDS
 * @param {string} [mode] the `mode` trait
 */
export function refusal(role, action, mode = "solo") {
  const words = ACTION_WORDS[action] ?? action;
  if (action === "note" || action === "more") {
    if (mode === "blind" || mode === "rater") return PANEL_LINES_MESSAGE;
    return `View only: a ${role || "viewer"} cannot ${words}.`;
  }
  if (action === "rank" || action === "undo") {
    const panel = (mode === "blind" || mode === "rater") && (role === "designer" || role === "lead");
    if (panel) return "You are not one of this panel's raters: only its raters rank here.";
    return `View only: a ${role || "viewer"} cannot ${words}.`;
  }
  return `Only a lead can ${words}.`;
}
