/**
 * The board's root element: its markup (TEMPLATE, every part's nodes), and the class and data
 * attributes the styles and browser tests read (`mark_board`).
 */
import { make_node } from "./dom.js";

const TEMPLATE = `
  <div class="vl-toolbar">
    <span class="vl-title"></span>
    <span class="vl-progress" data-done="0" data-total="0"></span>
    <span class="vl-view-only" data-lacks="rank">View only</span>
    <span class="vl-presence" role="status" hidden></span>
    <label class="vl-toggle"><input type="checkbox" class="vl-filter-unranked"> Unranked only</label>
    <label class="vl-toggle vl-show-removed" hidden
      title="Show the takes of lines gone from the script, greyed (they keep their ranks, never exported)">
      <input type="checkbox" class="vl-show-removed-toggle"> Show removed</label>
    <label class="vl-toggle"><input type="checkbox" class="vl-loop-toggle"> Loop</label>
    <label class="vl-toggle" title="Play every take at the same loudness (measured at generation)">
      <input type="checkbox" class="vl-loudness-toggle" checked> Match loudness</label>
    <span class="vl-toolbar-slot" data-slot="export">
      <button type="button" class="vl-undo-button" data-needs="undo"
        title="Undo your last change on this batch (u, Ctrl+Z)">Undo</button>
      <button type="button" class="vl-export-button" data-needs="export" hidden
        title="Download the rank-1 takes as a zip, laid out for your audio tool (plain, Wwise, Unreal, FMOD)">Export selects…</button>
      <a class="vl-export-link" hidden></a>
    </span>
    <button type="button" class="vl-panel-button" data-needs="panel" hidden
      title="Several raters rank this batch alone, blind by default; the board then shows their consensus">Rate as a panel…</button>
    <button type="button" class="vl-lock-button" data-needs="lock">Lock batch…</button>
    <button type="button" class="vl-keys-button" aria-haspopup="dialog" aria-expanded="false"
      title="Keys and how to rank (?)">Keys <kbd>?</kbd></button>
    <button type="button" class="vl-unlock-button" data-needs="unlock" hidden
      title="Open this batch for ranking again (recorded in the history)">Unlock…</button>
  </div>
  <div class="vl-panel-bar" hidden>
    <span class="vl-panel-summary"></span>
    <span class="vl-panel-raters"></span>
    <button type="button" class="vl-disagreements-button" data-needs="panel" aria-pressed="false"
      title="Lines where the raters disagree most, first: listen, set final ranks, close (d)">Disagreements</button>
  </div>
  <div class="vl-readonly-banner" hidden>Locked: this batch is read-only.</div>
  <div class="vl-message" role="alert" hidden>
    <span class="vl-message-text"></span>
    <button type="button" class="vl-message-close" aria-label="Dismiss">×</button>
  </div>
  <div class="vl-notice" role="status" hidden></div>
  <div class="vl-confirm" role="dialog" aria-modal="false" aria-label="Confirm" hidden>
    <span class="vl-confirm-text"></span>
    <ul class="vl-confirm-problems" aria-label="Lines to check before locking" hidden></ul>
    <button type="button" class="vl-confirm-lock">Lock</button>
    <button type="button" class="vl-confirm-unlock" hidden>Unlock</button>
    <button type="button" class="vl-confirm-cancel">Cancel</button>
    <span class="vl-popover-hint vl-confirm-hint"><kbd>Enter</kbd> confirms · <kbd>Esc</kbd> cancels · <kbd>↑</kbd><kbd>↓</kbd> move</span>
  </div>
  <div class="vl-export-dialog" role="dialog" aria-modal="false" aria-label="Export selects" hidden>
    <span class="vl-export-title">Export the selects:</span>
    <label>Preset <select class="vl-export-preset"></select></label>
    <label>Format <select class="vl-export-format">
      <option value="">as generated (MP3)</option>
      <option value="wav">WAV</option></select></label>
    <span class="vl-export-layout"></span>
    <button type="button" class="vl-export-start">Export</button>
    <button type="button" class="vl-export-cancel">Cancel</button>
    <span class="vl-popover-hint"><kbd>Enter</kbd> exports · <kbd>Esc</kbd> cancels</span>
  </div>
  <div class="vl-panel-dialog" role="dialog" aria-modal="false" aria-label="Rate as a panel" hidden>
    <div class="vl-panel-dialog-title">Rate as a panel</div>
    <div class="vl-panel-dialog-help">Each rater ranks this batch alone; the batch's ranks become
      their consensus (Borda). Ranks given so far become your own ranking.</div>
    <fieldset class="vl-panel-choices"><legend>Raters</legend></fieldset>
    <label class="vl-panel-more">More raters
      <input type="text" class="vl-panel-names" placeholder="names, comma-separated"></label>
    <label class="vl-toggle"><input type="checkbox" class="vl-panel-blind" checked> Blind: takes
      shuffled and labelled; settings and other raters' ranks hidden</label>
    <div class="vl-panel-dialog-buttons">
      <button type="button" class="vl-panel-open">Open panel</button>
      <button type="button" class="vl-panel-cancel">Cancel</button>
    </div>
  </div>
  <div class="vl-scroll"><div class="vl-spacer">
    <div class="vl-note-editor vl-popover" role="dialog" aria-modal="false" aria-label="Director note" hidden>
      <div class="vl-popover-title vl-note-title"></div>
      <textarea class="vl-note-input" rows="3" maxlength="2000" aria-label="Note"
        placeholder="What should the next pass change?"></textarea>
      <label class="vl-toggle"><input type="checkbox" class="vl-note-pass"> Needs another pass</label>
      <div class="vl-popover-buttons">
        <button type="button" class="vl-note-save">Save</button>
        <button type="button" class="vl-note-cancel">Cancel</button>
        <span class="vl-popover-hint"><kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves · <kbd>Esc</kbd> cancels · an empty note without the flag is removed</span>
      </div>
    </div>
    <div class="vl-more-dialog vl-popover" role="dialog" aria-modal="false" aria-label="More takes" hidden>
      <div class="vl-popover-title vl-more-title"></div>
      <div class="vl-more-fields">
        <label>How many <input type="number" class="vl-more-count" min="1" max="20" step="1" value="3"></label>
        <label>Settings <select class="vl-more-like">
          <option value="1">like the #1 (close to its settings, new seeds)</option>
          <option value="ranges">the batch's ranges</option></select></label>
      </div>
      <label class="vl-more-text-label">Text <input type="text" class="vl-more-text"
        aria-label="Text of the line" title="Edit the line to say something new: its current takes then go stale"></label>
      <div class="vl-more-estimate" role="status"></div>
      <div class="vl-popover-buttons">
        <button type="button" class="vl-more-submit" disabled>Ask for takes</button>
        <button type="button" class="vl-more-cancel">Cancel</button>
        <span class="vl-popover-hint">Nothing is spent until you ask · <kbd>Esc</kbd> cancels</span>
      </div>
    </div>
  </div></div>
  <div class="vl-keys" role="dialog" aria-modal="true" aria-label="Keys and how to rank" hidden>
    <div class="vl-keys-box">
      <h2>Keys</h2>
      <dl class="vl-keys-list">
        <div data-needs="rank"><dt><kbd>1</kbd>–<kbd>5</kbd></dt><dd>rank the focused take (or drag it onto a rank slot)</dd></div>
        <div data-needs="rank"><dt><kbd>0</kbd> <kbd>⌫</kbd></dt><dd>clear its rank</dd></div>
        <div data-needs="undo"><dt><kbd>u</kbd> <kbd>Ctrl</kbd>+<kbd>Z</kbd></dt><dd>undo your last change</dd></div>
        <div><dt><kbd>↑</kbd><kbd>↓</kbd> <kbd>k</kbd><kbd>j</kbd></dt><dd>previous, next take</dd></div>
        <div><dt><kbd>←</kbd><kbd>→</kbd> <kbd>h</kbd><kbd>l</kbd></dt><dd>previous, next line</dd></div>
        <div><dt><kbd>Space</kbd></dt><dd>play or pause</dd></div>
        <div><dt><kbd>Enter</kbd></dt><dd>play, then move to the next take</dd></div>
        <div data-needs="note"><dt><kbd>n</kbd></dt><dd>a director note on the line ("needs another pass")</dd></div>
        <div data-needs="more"><dt><kbd>g</kbd></dt><dd>more takes of the line (the estimate shows first)</dd></div>
        <div data-needs="panel" data-mode-only="lead"><dt><kbd>d</kbd></dt><dd>Disagreements: the lines the raters disagree on most</dd></div>
        <div data-needs="panel" data-mode-only="lead"><dt><kbd>c</kbd></dt><dd>close or reopen the line</dd></div>
        <div><dt><kbd>?</kbd></dt><dd>this help</dd></div>
      </dl>
      <h2>How to rank</h2>
      <p>Listen, then give each line's best take 1, the next 2, and so on: a rank taken by another
        take moves that one down. Ranks are saved as you press them, mirrored into the batch's
        <code>ranked/</code> folder. A lead locks the batch when ranking is done, and can unlock it.</p>
      <p data-needs="note">Line by line: a note flags what the next pass should change (the batch list counts
        them), and more takes of a line appear on the board as they land. Takes whose line's text
        changed are struck through (stale) and cannot be ranked; lines gone from the script are
        hidden unless you tick "Show removed".</p>
      <p>On a panel, each rater ranks alone, blind by default (takes shuffled and labelled A, B,
        C…, settings and others' ranks hidden); the batch's ranks become their consensus.</p>
      <div class="vl-keys-buttons">
        <button type="button" class="vl-keys-close">Close</button>
        <span class="vl-popover-hint"><kbd>Esc</kbd> or <kbd>?</kbd> closes</span>
      </div>
    </div>
  </div>`;

/**
 * The board's root element, filled from TEMPLATE and added to `el`: focusable, so the board
 * gets its keys, and exempt from JupyterLab's shortcuts.
 * @param {HTMLElement} el the element anywidget gives `render`
 */
export function create_board_root(el) {
  const root = make_node("div", "vl-rank-board");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab: our keys, not its
  root.innerHTML = TEMPLATE;
  el.appendChild(root);
  return root;
}

/**
 * The root's class and data attributes, for the styles and the browser tests: `vl-readonly`,
 * the batch, the focused take, the playing take, how many rank changes await Python, and the
 * person's role and `allowed` actions (the styles hide `[data-needs~=<action>]` parts their role
 * lacks, and show `[data-lacks=rank]` ones, the "View only" mark, to those who may not rank), and
 * the `mode` (`vl-disagreements` while a lead's Disagreements view shows).
 * @param {{classList: {toggle: Function}, dataset: Object<string, string>}} root
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {{playing: boolean, file: string|null}} player
 */
export function mark_board(root, model, state, player) {
  root.classList.toggle("vl-readonly", state.readonly());
  root.classList.toggle("vl-disagreements", state.disagreements);
  root.dataset.mode = state.mode();
  root.dataset.batchId = model.get("batch_id") ?? "";
  root.dataset.focusedFile = state.focused ?? "";
  root.dataset.playingFile = player.playing ? player.file : "";
  root.dataset.pending = String(state.pending.length);
  root.dataset.role = model.get("role") ?? "";
  root.dataset.allowed = (model.get("allowed") ?? []).join(" ");
}
