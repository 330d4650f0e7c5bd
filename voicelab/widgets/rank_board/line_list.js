/**
 * The rows in `.vl-scroll` as a virtual list: only the rows on screen are mounted; the
 * playhead, scrolling a take into view, and keeping the focused take in place when rows move.
 */
import { visible_range } from "./layout.js";
import { paint_wave, stored_peaks } from "./waveform.js";
import { rater_ranks } from "./panel.js";
import { build_line_row, build_take_row, fill_line_extras, fill_line_row, fill_take_row } from "./rows.js";

/**
 * The rows in `.vl-scroll`, as a virtual list: a spacer as tall as all rows of `state.view`,
 * and only the rows on screen (and a few around) mounted in it. `update` mounts, brings up to
 * date and drops rows; a take's waveform is painted when its row is built, and again when its
 * audio is decoded (`redraw_take`) or `peaks` changes (`redraw_waves`).
 * @param {{querySelector: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {ReturnType<typeof create_audio>} audio its player, decoded peaks and durations
 */
export function create_line_list(root, model, state, audio) {
  const scroller = root.querySelector(".vl-scroll");
  const spacer = root.querySelector(".vl-spacer");
  const mounted = new Map(); // row key -> element
  const { player } = audio;

  const is_playing = (file) => player.playing && player.file === file;
  const wave_color = () => getComputedStyle(root).getPropertyValue("--vl-wave-color").trim();

  const draw_wave = (row, file, color = wave_color()) => {
    const decoded = audio.decoded_peaks.get(file);
    const peaks = decoded ?? stored_peaks(model.get("peaks"), state.view.index_of.get(file) ?? -1);
    paint_wave(row, peaks, decoded ? "decoded" : "stored", color);
  };

  /** Nothing drags or clears: a locked batch, or a lead's normal view (the consensus). */
  const frozen = () => state.readonly() || !state.rank_kind();
  const panel_line = (line) => (state.disagreements ? state.view.panel_lines.get(line) ?? null : null);

  const fill_line = (row, line, script) => {
    const list = state.view.groups.get(line) ?? [];
    const { rank_of } = state.view;
    const locked = state.readonly();
    fill_line_row(row, { line, script, list, rank_of, readonly: frozen(), locked, panel_line: panel_line(line) });
    const task = state.view.pending[line];
    fill_line_extras(row, { note: state.view.notes[line], task, coming: state.asked.get(task) });
  };

  const fill_take = (row, file) => {
    const take = state.view.take_of.get(file);
    const shown_line = panel_line(take.line);
    fill_take_row(row, {
      take,
      rank: state.view.rank_of.get(file) ?? null,
      focused: state.focused === file,
      playing: is_playing(file),
      readonly: frozen(),
      duration_s: take.duration_s ?? audio.decoded_duration.get(file),
      raters: shown_line ? rater_ranks(state.view.panel, shown_line, file) : null,
    });
  };

  const update = () => {
    const { rows, height } = state.view;
    spacer.style.height = `${height}px`;
    const [start, end] = visible_range(rows, scroller.scrollTop, scroller.clientHeight || 600);
    const keep = new Set();
    const color = wave_color();
    const lines_text = new Map((model.get("lines") ?? []).map((l) => [l.line, l.script_text]));
    for (let i = start; i < end; i += 1) {
      const r = rows[i];
      keep.add(r.key);
      let row = mounted.get(r.key);
      const fresh = !row;
      if (fresh) {
        row = r.kind === "line" ? build_line_row(r.line) : build_take_row(state.view.take_of.get(r.file));
        mounted.set(r.key, row);
        spacer.append(row);
      }
      row.style.top = `${r.top}px`;
      row.style.height = `${r.height}px`;
      if (r.kind === "line") fill_line(row, r.line, lines_text.get(r.line) ?? "");
      else {
        fill_take(row, r.file);
        if (fresh) draw_wave(row, r.file, color);
      }
    }
    for (const [key, row] of mounted) {
      if (!keep.has(key)) {
        if (state.dragging && row.dataset.dragFile === state.dragging) continue; // keep drag source
        row.remove();
        mounted.delete(key);
      }
    }
  };

  /** The playhead on the playing (or paused part-way) take's waveform, hidden on the others. */
  const update_playhead = () => {
    for (const row of mounted.values()) {
      const head = row.querySelector?.(".vl-playhead");
      if (!head) continue;
      const mine = row.dataset.file === player.file && (player.playing || player.offset > 0);
      head.hidden = !mine;
      if (mine) {
        const duration = player.duration || state.view.take_of.get(player.file)?.duration_s || 0;
        const share = duration > 0 ? Math.min(1, player.position() / duration) : 0;
        head.style.left = `${(share * 100).toFixed(2)}%`;
      }
    }
  };

  /** Scroll just enough to show the take's row (and its line's header when it fits). */
  const ensure_visible = (file) => {
    const index = state.view.row_index.get(`T:${file}`);
    if (index === undefined) return;
    const row = state.view.rows[index];
    const view_h = scroller.clientHeight;
    const header = state.view.rows[state.view.row_index.get(`L:${row.line}`)];
    const top = Math.min(row.top, header ? header.top : row.top);
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (row.top + row.height > scroller.scrollTop + view_h) {
      scroller.scrollTop = row.top + row.height - view_h;
    }
  };

  /** Where the focused take's row is in the viewport, to keep it there when rows move. */
  const anchor = () => {
    const index = state.view?.row_index.get(`T:${state.focused}`);
    if (index === undefined) return null;
    const top = state.view.rows[index].top - scroller.scrollTop;
    return top >= 0 && top < (scroller.clientHeight || 600) ? { file: state.focused, top } : null;
  };

  /**
   * After new traits (takes landing on a line above, a sync), scroll so the focused take stays
   * where it was on screen: what the user looks at does not jump.
   */
  const restore = (was) => {
    if (!was || state.focused !== was.file) return;
    const index = state.view.row_index.get(`T:${was.file}`);
    if (index === undefined) return;
    const moved = state.view.rows[index].top - scroller.scrollTop - was.top;
    if (moved) scroller.scrollTop += moved;
  };

  /** A decoded take: its row (if mounted) gets the real waveform and duration. */
  const redraw_take = (file) => {
    const row = mounted.get(`T:${file}`);
    if (row) {
      draw_wave(row, file);
      fill_take(row, file);
    }
  };

  /** New `peaks`: repaint the waveform of every mounted take row. */
  const redraw_waves = () => {
    const color = wave_color();
    for (const row of mounted.values()) if (row.dataset.file) draw_wave(row, row.dataset.file, color);
  };

  return {
    ...{ scroller, update, update_playhead, ensure_visible, redraw_take, redraw_waves },
    ...{ anchor, restore },
    scroll_to_top: () => (scroller.scrollTop = 0),
  };
}
