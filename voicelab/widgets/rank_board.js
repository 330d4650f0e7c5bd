// Built by scripts/bundle.mjs from voicelab/widgets/rank_board/ (make bundle): edit the sources, not this file. sources sha256 3e10233a1948730c7726e77f72754d4acb02fbb02a4ba3525d60977a663dab5b, body sha256 58692dc3e42bc0b849d671009cf2f78f58608959425d845a3bfa895119b417c4
/**
 * VoiceLab ranking board: the anywidget front end of voicelab/widgets/rank_board.py, bundled into
 * one ES module that imports nothing (anywidget loads it from a Blob URL). The sources, with
 * their comments, are in voicelab/widgets/rank_board/ (index.js first); docs/widget-protocol.md
 * describes the traits and messages between Python and this module.
 */

// voicelab/widgets/rank_board/labels.js
function settings_label(settings) {
  const s = settings ?? {};
  const num = (v) => typeof v === "number" ? v.toFixed(2) : "?";
  const parts = [];
  if ("stability" in s) parts.push(`stab ${num(s.stability)}`);
  if ("similarity_boost" in s) parts.push(`sim ${num(s.similarity_boost)}`);
  if ("style" in s) parts.push(`style ${num(s.style)}`);
  if ("speed" in s) parts.push(`speed ${num(s.speed)}`);
  if ("use_speaker_boost" in s) parts.push(s.use_speaker_boost ? "boost" : "no boost");
  return parts.join(" · ");
}
var PANEL_NAME = "panel";
function ranked_label(take) {
  if (take?.rank === null || take?.rank === void 0) return "";
  if (take.ranked_by === PANEL_NAME) return `consensus rank ${take.rank}`;
  return take.ranked_by ? `ranked ${take.rank} by ${take.ranked_by}` : `ranked ${take.rank}`;
}
function take_label(take) {
  return take?.label ? `Take ${take.label}` : `Take ${take?.take_number ?? "?"}`;
}
function progress_label({ done, total }, mode) {
  const what = { blind: "lines ranked by you", rater: "lines ranked by you", lead: "lines with a consensus" };
  return `${done} / ${total} ${what[mode] ?? "lines ranked"}`;
}
function format_duration(seconds) {
  return typeof seconds === "number" && Number.isFinite(seconds) ? `${seconds.toFixed(2)} s` : "–";
}

// voicelab/widgets/rank_board/ranks.js
var MAX_RANK = 5;
function cascade(ranks, file, rank) {
  const result = { ...ranks, [file]: null };
  if (rank === null || rank === void 0) return result;
  const holder_of = /* @__PURE__ */ new Map();
  for (const [name, held] of Object.entries(result)) {
    if (held !== null && held !== void 0) holder_of.set(held, name);
  }
  let mover = file;
  let position = rank;
  for (; ; ) {
    const displaced = holder_of.get(position);
    result[mover] = position;
    if (displaced === void 0) return result;
    mover = displaced;
    position += 1;
    if (position > MAX_RANK) {
      result[mover] = null;
      return result;
    }
  }
}
function apply_pending(takes, pending) {
  const rank_of = new Map(takes.map((t) => [t.file, t.rank ?? null]));
  if (!pending.length) return rank_of;
  const line_of = new Map(takes.map((t) => [t.file, t.line]));
  const members = /* @__PURE__ */ new Map();
  for (const t of takes) {
    if (!members.has(t.line)) members.set(t.line, []);
    members.get(t.line).push(t.file);
  }
  for (const op of pending) {
    const line = line_of.get(op.file);
    if (line === void 0) continue;
    const ranks = {};
    for (const f of members.get(line)) ranks[f] = rank_of.get(f);
    for (const [f, r] of Object.entries(cascade(ranks, op.file, op.rank))) rank_of.set(f, r);
  }
  return rank_of;
}
function group_takes(lines, takes) {
  const groups = new Map(lines.map((l) => [l.line, []]));
  for (const t of takes) {
    if (!groups.has(t.line)) groups.set(t.line, []);
    groups.get(t.line).push(t);
  }
  for (const list of groups.values()) list.sort((a, b) => a.take_number - b.take_number);
  return groups;
}
function retired(take) {
  if (take?.stale) return "stale";
  return take?.removed ? "removed" : "";
}
var is_current = (take) => !retired(take);
function stale_title(take) {
  const was = take?.text_was;
  return was ? `text was: “${was}”` : "its line's text changed";
}
function retired_message(take) {
  const why = retired(take);
  if (why === "stale") {
    return `${take_label(take)} is stale: its line's text changed (${stale_title(take)}). Rank its new takes.`;
  }
  if (why === "removed") return `${take_label(take)} is removed: its line is gone from the script.`;
  return "";
}
function line_removed(line_takes) {
  return line_takes.length > 0 && line_takes.every((t) => t.removed);
}
function has_best(line_takes, rank_of) {
  return line_takes.some((t) => is_current(t) && rank_of.get(t.file) === 1);
}
function progress(groups, rank_of) {
  let done = 0;
  let total = 0;
  for (const list of groups.values()) {
    if (line_removed(list)) continue;
    total += 1;
    if (has_best(list, rank_of)) done += 1;
  }
  return { done, total };
}
function visible_lines(groups, rank_of, only_unranked, sticky) {
  const names = [...groups.keys()];
  if (!only_unranked) return names;
  return names.filter((n) => sticky.has(n) || !(has_best(groups.get(n), rank_of) || line_removed(groups.get(n))));
}

// voicelab/widgets/rank_board/layout.js
var LINE_HEIGHT = 56;
var TAKE_HEIGHT = 44;
function layout(lines, groups, line_height = LINE_HEIGHT, take_height = TAKE_HEIGHT) {
  const rows = [];
  let top = 0;
  for (const line of lines) {
    rows.push({ kind: "line", key: `L:${line}`, line, top, height: line_height });
    top += line_height;
    for (const t of groups.get(line) ?? []) {
      rows.push({ kind: "take", key: `T:${t.file}`, line, file: t.file, top, height: take_height });
      top += take_height;
    }
  }
  return { rows, height: top };
}
function visible_range(rows, scroll_top, viewport_height, overscan = 4) {
  const first_below = (y) => {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = lo + hi >> 1;
      if (rows[mid].top + rows[mid].height <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = first_below(scroll_top);
  let end = start;
  const bottom = scroll_top + viewport_height;
  while (end < rows.length && rows[end].top < bottom) end += 1;
  return [Math.max(0, start - overscan), Math.min(rows.length, end + overscan)];
}
function step_take(order, current, delta) {
  if (!order.length) return null;
  const index = order.indexOf(current);
  if (index < 0) return order[0];
  return order[Math.min(order.length - 1, Math.max(0, index + delta))];
}
function step_line(lines, groups, current_line, delta) {
  if (!lines.length) return null;
  const index = lines.indexOf(current_line);
  const target = index < 0 ? 0 : Math.min(lines.length - 1, Math.max(0, index + delta));
  const list = groups.get(lines[target]) ?? [];
  return list.length ? list[0].file : null;
}

// voicelab/widgets/rank_board/player.js
var DECODED_KEEP = 32;
function switch_offset(position, duration) {
  return position >= 0 && position < duration ? position : 0;
}
function position_at(elapsed, duration, loop) {
  if (!(duration > 0)) return 0;
  return loop ? elapsed % duration : Math.min(Math.max(0, elapsed), duration);
}
function gain_factor(gain_db, matched) {
  return matched && Number.isFinite(gain_db) ? 10 ** (gain_db / 20) : 1;
}
var Player = class {
  constructor(fetch_bytes, on_decoded, on_change) {
    this.fetch_bytes = fetch_bytes;
    this.on_decoded = on_decoded;
    this.on_change = on_change;
    this.ctx = null;
    this.gain = null;
    this.cache = /* @__PURE__ */ new Map();
    this.source = null;
    this.file = null;
    this.line = null;
    this.playing = false;
    this.offset = 0;
    this.started_at = 0;
    this.duration = 0;
    this.loop = false;
    this.token = 0;
  }
  context() {
    if (!this.ctx) {
      const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
      this.ctx = new Ctx();
      this.gain = this.ctx.createGain();
      this.gain.connect(this.ctx.destination);
    }
    return this.ctx;
  }
  load(file) {
    const hit = this.cache.get(file);
    if (hit) {
      this.cache.delete(file);
      this.cache.set(file, hit);
      return hit;
    }
    const ctx = this.context();
    const promise = this.fetch_bytes(file).then((bytes) => ctx.decodeAudioData(bytes)).then((buffer) => {
      this.on_decoded(file, buffer);
      return buffer;
    });
    promise.catch(() => this.cache.delete(file));
    this.cache.set(file, promise);
    for (const key of this.cache.keys()) {
      if (this.cache.size <= DECODED_KEEP) break;
      if (key !== this.file && key !== file) this.cache.delete(key);
    }
    return promise;
  }
  position() {
    if (!this.playing || !this.source) return this.offset;
    return position_at(this.ctx.currentTime - this.started_at, this.duration, this.loop);
  }
  async play(file, line, offset, gain) {
    const token = ++this.token;
    const ctx = this.context();
    if (ctx.state === "suspended") ctx.resume();
    this.stop_source();
    Object.assign(this, { file, line, playing: true, offset });
    this.on_change();
    let buffer;
    try {
      buffer = await this.load(file);
    } catch (err) {
      if (token === this.token) Object.assign(this, { playing: false, offset: 0 });
      this.on_change();
      throw err;
    }
    if (token !== this.token) return;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.loop = this.loop;
    source.connect(this.gain);
    this.gain.gain.value = gain;
    const start = switch_offset(offset, buffer.duration);
    source.start(0, start);
    Object.assign(this, { source, duration: buffer.duration, started_at: ctx.currentTime - start });
    source.onended = () => {
      if (this.source !== source) return;
      Object.assign(this, { source: null, playing: false, offset: 0 });
      this.on_change();
    };
  }
  pause() {
    this.offset = this.position();
    this.token += 1;
    this.stop_source();
    this.playing = false;
    this.on_change();
  }
  stop() {
    this.pause();
    Object.assign(this, { offset: 0, file: null, line: null });
    this.on_change();
  }
  set_gain(gain) {
    if (this.gain) this.gain.gain.value = gain;
  }
  stop_source() {
    const source = this.source;
    this.source = null;
    if (!source) return;
    source.onended = null;
    try {
      source.stop();
    } catch (_err) {
    }
    source.disconnect();
  }
  close() {
    this.token += 1;
    this.stop_source();
    if (this.ctx) this.ctx.close();
  }
};

// voicelab/widgets/rank_board/view_state.js
var PENDING_TIMEOUT_MS = 15e3;
var UNCONFIRMED_MESSAGE = "The kernel did not confirm a rank change; showing the saved ranks.";
function create_view_state(model, { view_id = Math.random().toString(36).slice(2, 10) } = {}) {
  const state = {
    focused: null,
    pending: [],
    // {seq, file, rank, at}
    seq: 0,
    only_unranked: false,
    sticky: /* @__PURE__ */ new Set(),
    local_message: "",
    dismissed_error: "",
    matched: true,
    dragging: null,
    disagreements: false,
    // a lead's Disagreements view
    show_removed: false,
    // "Show removed": the takes of lines gone from the script, greyed
    asked: /* @__PURE__ */ new Map(),
    // task id -> how many takes this view asked for (the pending badge)
    view: null
  };
  state.mode = () => model.get("mode") || "solo";
  state.derive = () => {
    const takes = model.get("takes") ?? [];
    const shown_takes = state.show_removed ? takes : takes.filter((t) => !t.removed);
    const all_lines = model.get("lines") ?? [];
    const shown_lines = state.show_removed ? all_lines : all_lines.filter((l) => !l.removed);
    const groups = group_takes(shown_lines, shown_takes);
    const rank_of = apply_pending(takes, state.pending);
    if (state.mode() !== "lead") state.disagreements = false;
    const panel = model.get("panel") ?? {};
    const panel_lines = new Map((panel.lines ?? []).map((l) => [l.line, l]));
    let lines = visible_lines(groups, rank_of, state.only_unranked, state.sticky);
    if (state.disagreements) {
      const shown = new Set(lines);
      lines = [...panel_lines.keys()].filter((name) => shown.has(name) && groups.has(name));
    }
    const { rows, height } = layout(lines, groups);
    const order = rows.filter((r) => r.kind === "take").map((r) => r.file);
    const take_of = new Map(takes.map((t) => [t.file, t]));
    const index_of = new Map(takes.map((t, i) => [t.file, i]));
    const row_index = new Map(rows.map((r, i) => [r.key, i]));
    const text_of = new Map(all_lines.map((l) => [l.line, l.script_text ?? ""]));
    const has_removed = takes.some((t) => t.removed);
    state.view = {
      ...{ takes, groups, rank_of, lines, rows, height, order },
      ...{ take_of, index_of, row_index, panel, panel_lines, text_of, has_removed },
      ...{ notes: model.get("notes") ?? {}, pending: model.get("pending") ?? {} }
    };
    if (!take_of.has(state.focused) || !order.includes(state.focused)) {
      state.focused = order[0] ?? null;
    }
  };
  state.readonly = () => Boolean(model.get("locked"));
  state.rank_kind = () => {
    if (state.mode() !== "lead") return "rank";
    return state.disagreements ? "override" : "";
  };
  state.set_disagreements = (on) => {
    state.disagreements = Boolean(on) && state.mode() === "lead";
    state.derive();
  };
  state.may = (action) => (model.get("allowed") ?? []).includes(action);
  state.line_of = (file) => state.view.take_of.get(file)?.line ?? null;
  state.take_gain = (file) => gain_factor(state.view.take_of.get(file)?.gain_db ?? 0, state.matched);
  state.begin_rank = (file, rank, now = Date.now()) => {
    if (!file || state.view.rank_of.get(file) === rank) return null;
    const op = { seq: `${view_id}:${++state.seq}`, file, rank, at: now };
    state.pending.push(op);
    state.local_message = "";
    state.derive();
    return op;
  };
  state.settle = (seq) => {
    const index = state.pending.findIndex((op) => op.seq === seq);
    if (index < 0) return false;
    state.pending.splice(0, index + 1);
    state.derive();
    return true;
  };
  state.expire = (now = Date.now()) => {
    if (!state.pending.some((op) => now - op.at > PENDING_TIMEOUT_MS)) return false;
    state.pending = [];
    state.local_message = UNCONFIRMED_MESSAGE;
    state.derive();
    return true;
  };
  state.filter_unranked = (on) => {
    state.only_unranked = on;
    state.derive();
    const { lines, groups, rank_of } = state.view;
    state.sticky = new Set(lines.filter((n) => !has_best(groups.get(n), rank_of)));
    state.derive();
  };
  state.set_show_removed = (on) => {
    state.show_removed = Boolean(on);
    state.derive();
  };
  state.more_offered = () => state.may("more") && !state.readonly();
  state.message = () => {
    const error = model.get("error") ?? "";
    return state.local_message || (error !== state.dismissed_error ? error : "");
  };
  state.dismiss_message = () => {
    state.local_message = "";
    state.dismissed_error = model.get("error") ?? "";
  };
  return state;
}

// voicelab/widgets/rank_board/waveform.js
var WAVE_WIDTH = 240;
var WAVE_HEIGHT = 30;
var PEAK_POINTS = 100;
function stored_peaks(packed, index, points = PEAK_POINTS) {
  if (!packed || index < 0) return [];
  const bytes = ArrayBuffer.isView(packed) ? new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength) : new Uint8Array(packed);
  const start = index * points;
  if (start + points > bytes.length) return [];
  const out = Array.from(bytes.subarray(start, start + points), (v) => v / 255);
  return out.some((v) => v > 0) ? out : [];
}
function peaks_from_samples(samples, points) {
  const out = [];
  const n = samples.length;
  if (!n) return out;
  const count = Math.min(points, n);
  for (let i = 0; i < count; i += 1) {
    const from = Math.floor(i * n / count);
    const to = Math.floor((i + 1) * n / count);
    let max = 0;
    for (let j = from; j < to; j += 1) {
      const v = Math.abs(samples[j]);
      if (v > max) max = v;
    }
    out.push(max);
  }
  return out;
}
function paint_wave(row, peaks, source, color) {
  const canvas = row.querySelector(".vl-wave-canvas");
  if (!canvas) return;
  const ratio = globalThis.devicePixelRatio || 1;
  const w = Math.round(WAVE_WIDTH * ratio);
  const h = Math.round(WAVE_HEIGHT * ratio);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const g = canvas.getContext("2d");
  if (!g) return;
  g.clearRect(0, 0, w, h);
  row.querySelector(".vl-wave").dataset.source = source;
  if (!peaks.length) return;
  g.fillStyle = color || "#1976d2";
  for (let x = 0; x < w; x += 1) {
    const p = Math.min(1, peaks[Math.floor(x * peaks.length / w)] || 0);
    const bar = Math.max(ratio, p * h);
    g.fillRect(x, (h - bar) / 2, 1, bar);
  }
}

// voicelab/widgets/rank_board/audio.js
var PREFETCH_AHEAD = 2;
function audio_url(base, path) {
  if (!path) return null;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return prefix + path.split("/").map(encodeURIComponent).join("/");
}
function create_audio(model, state, hooks) {
  const decoded_peaks = /* @__PURE__ */ new Map();
  const decoded_duration = /* @__PURE__ */ new Map();
  const waiters = /* @__PURE__ */ new Map();
  let comm_audio = false;
  const request = (file) => new Promise((resolve, reject) => {
    if (!waiters.has(file)) {
      waiters.set(file, []);
      model.send({ kind: "audio", file });
    }
    waiters.get(file).push({ resolve, reject });
  });
  const receive = (msg, buffers) => {
    const list = waiters.get(msg.file) ?? [];
    waiters.delete(msg.file);
    const data = buffers?.[0];
    for (const { resolve, reject } of list) {
      if (msg.error || !data) reject(new Error(msg.error || "no audio data"));
      else if (data instanceof ArrayBuffer) resolve(data.slice(0));
      else resolve(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    }
  };
  const fetch_bytes = async (file) => {
    const folder = model.get("audio_path");
    const url = folder ? audio_url(model.get("audio_base") ?? "/audio/", folder + file) : null;
    if (url && !comm_audio) {
      try {
        const response = await fetch(url);
        const type = response.headers.get("content-type") ?? "";
        if (response.ok && !type.includes("text/html")) return await response.arrayBuffer();
      } catch (_err) {
      }
      comm_audio = true;
    }
    return request(file);
  };
  const on_decoded = (file, buffer) => {
    decoded_peaks.set(file, peaks_from_samples(buffer.getChannelData(0), WAVE_WIDTH));
    decoded_duration.set(file, buffer.duration);
    hooks.on_decoded(file);
  };
  const player = new Player(fetch_bytes, on_decoded, () => hooks.on_change());
  const play = (file, offset) => {
    player.play(file, state.line_of(file), offset, state.take_gain(file)).catch((err) => {
      const take = state.view.take_of.get(file);
      const name = take?.label ? take_label(take) : file;
      hooks.on_error(`Cannot play ${name}: ${err?.message ?? err}`);
    });
    hooks.on_play();
  };
  const prefetch = (file) => {
    const order = state.view.order;
    const index = order.indexOf(file);
    for (const name of order.slice(Math.max(0, index), index + 1 + PREFETCH_AHEAD)) {
      player.load(name).catch(() => {
      });
    }
  };
  const toggle = () => {
    const file = state.focused;
    if (!file) return;
    if (player.playing && player.file === file) player.pause();
    else if (player.line === state.line_of(file)) play(file, player.position());
    else play(file, 0);
  };
  const set_loop = (on) => {
    player.loop = on;
    if (player.playing) play(player.file, player.position());
  };
  const regain = () => {
    if (player.file) player.set_gain(state.take_gain(player.file));
  };
  return {
    ...{ player, decoded_peaks, decoded_duration, fetch_bytes, request, receive },
    ...{ play, prefetch, toggle, set_loop, regain },
    close: () => player.close()
  };
}

// voicelab/widgets/rank_board/dom.js
function make_node(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== void 0) node.textContent = text;
  return node;
}
var focus_board = (root) => root.focus({ preventScroll: true });
function place_popover(popover, state, line) {
  const index = state.view.row_index.get(`L:${line}`);
  if (index === void 0) return false;
  popover.style.top = `${state.view.rows[index].top + LINE_HEIGHT}px`;
  return true;
}
function listen(target, handlers, options) {
  const entries = Object.entries(handlers);
  for (const [type, handler] of entries) target.addEventListener(type, handler, options);
  return () => {
    for (const [type, handler] of entries) target.removeEventListener(type, handler, options);
  };
}

// voicelab/widgets/rank_board/root.js
var TEMPLATE = `
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
function create_board_root(el) {
  const root = make_node("div", "vl-rank-board");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.innerHTML = TEMPLATE;
  el.appendChild(root);
  return root;
}
function mark_board(root, model, state, player) {
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

// voicelab/widgets/rank_board/toolbar.js
var NOTICE_MS = 6e3;
function create_toolbar(root, model, state) {
  const title = root.querySelector(".vl-title");
  const counter = root.querySelector(".vl-progress");
  const banner = root.querySelector(".vl-readonly-banner");
  const lock_button = root.querySelector(".vl-lock-button");
  const unlock_button = root.querySelector(".vl-unlock-button");
  const undo_button = root.querySelector(".vl-undo-button");
  const view_only = root.querySelector(".vl-view-only");
  const show_removed = root.querySelector(".vl-show-removed");
  const update = () => {
    const locked = state.readonly();
    if (show_removed) show_removed.hidden = !state.view.has_removed && !state.show_removed;
    const person = model.get("person") || "unknown";
    const mode = state.mode();
    view_only.title = mode === "blind" || mode === "rater" ? `${person} is not one of this panel's raters: listening only` : `${person} is a ${model.get("role") || "viewer"}: listening only, ranks cannot change here`;
    undo_button.disabled = locked;
    title.textContent = [model.get("skin"), model.get("voice"), model.get("batch_id")].filter(Boolean).join(" · ");
    const { done, total } = progress(state.view.groups, state.view.rank_of);
    counter.dataset.done = String(done);
    counter.dataset.total = String(total);
    counter.textContent = progress_label({ done, total }, mode);
    banner.hidden = !locked;
    lock_button.disabled = locked;
    lock_button.textContent = locked ? "Locked" : "Lock batch…";
    unlock_button.hidden = !locked;
  };
  return { update };
}
function create_messages(root, model, state, notice_ms = NOTICE_MS) {
  const box = root.querySelector(".vl-message");
  const box_text = root.querySelector(".vl-message-text");
  const notice = root.querySelector(".vl-notice");
  let notice_timer = 0;
  const update = () => {
    const text = state.message();
    box_text.textContent = text;
    box.hidden = !text;
  };
  const show_notice = () => {
    const text = model.get("notice") ?? "";
    notice.textContent = text;
    notice.hidden = !text;
    clearTimeout(notice_timer);
    if (text) notice_timer = setTimeout(() => notice.hidden = true, notice_ms);
  };
  return { update, show_notice, close: () => clearTimeout(notice_timer) };
}

// voicelab/widgets/rank_board/lock_dialog.js
var GATE_SHOWN = 100;
var NO_PROBLEMS = Object.freeze([]);
function lock_question(batch, problems) {
  if (!problems.length) return `Lock batch ${batch}? Ranks can no longer change after this.`;
  const lines = problems.length === 1 ? "1 line needs" : `${problems.length} lines need`;
  return `${lines} a look before batch ${batch} locks: a flagged or stale selected take, or no selection. Lock anyway? The lock records them.`;
}
function gate_row(problem, take_of) {
  const take = problem.take ? take_of.get(problem.take) : null;
  const words = problem.words || problem.problems.join(", ").replaceAll("_", " ");
  return { line: problem.line, words, take: take ? take_label(take) : problem.take ?? "" };
}
function jump_target(problem, groups) {
  const list = groups.get(problem.line) ?? [];
  if (problem.take && list.some((t) => t.file === problem.take)) return problem.take;
  return (list.find(is_current) ?? list[0])?.file ?? null;
}
function create_lock_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-confirm");
  const text = root.querySelector(".vl-confirm-text");
  const list = root.querySelector(".vl-confirm-problems");
  const confirm = {
    lock: root.querySelector(".vl-confirm-lock"),
    unlock: root.querySelector(".vl-confirm-unlock")
  };
  let mode = "lock";
  let shown = [];
  const offered = (action) => state.may(action) && state.readonly() === (action === "unlock");
  const problems = () => mode === "lock" ? model.get("lock_problems") ?? NO_PROBLEMS : NO_PROBLEMS;
  const fill = () => {
    shown = problems();
    const batch = model.get("batch_id");
    text.textContent = mode === "lock" ? lock_question(batch, shown) : `Unlock batch ${batch}? Ranks can change again; the unlock is recorded.`;
    confirm.lock.textContent = shown.length ? "Lock anyway" : "Lock";
    dialog.classList?.toggle("vl-confirm-gate", shown.length > 0);
    if (!list) return;
    list.hidden = !shown.length;
    list.replaceChildren?.();
    const take_of = state.view?.take_of ?? /* @__PURE__ */ new Map();
    for (const problem of shown.slice(0, GATE_SHOWN)) {
      const { line, words, take } = gate_row(problem, take_of);
      const item = make_node("li", "vl-gate-problem");
      item.dataset.line = line;
      item.append(
        make_node("span", "vl-gate-line", line),
        make_node("span", "vl-gate-words", words),
        make_node("span", "vl-gate-take", take)
      );
      const jump = make_node("button", "vl-gate-jump", "Go to line");
      jump.type = "button";
      jump.dataset.line = line;
      jump.title = `Close this and go to line ${line}`;
      item.append(jump);
      list.append(item);
    }
    if (shown.length > GATE_SHOWN) {
      list.append(make_node("li", "vl-gate-more", `…and ${shown.length - GATE_SHOWN} more lines`));
    }
  };
  const open = (action = "lock") => {
    if (!(action in confirm) || !offered(action)) return;
    mode = action;
    fill();
    confirm.lock.hidden = action !== "lock";
    confirm.unlock.hidden = action !== "unlock";
    dialog.hidden = false;
    confirm[action].focus();
  };
  const close = () => {
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    if (!offered(mode)) dialog.hidden = true;
    else if (!dialog.hidden && problems() !== shown) {
      const in_list = Boolean(list?.contains?.(globalThis.document?.activeElement));
      fill();
      if (in_list) confirm.lock.focus();
    }
  };
  const problem_of = (line) => shown.find((p) => p.line === line) ?? { line, take: null };
  const step = (delta) => {
    const buttons = [...dialog.querySelectorAll?.("button") ?? []].filter((b) => !b.hidden);
    if (!buttons.length) return;
    const at = buttons.indexOf(globalThis.document?.activeElement);
    buttons[(at + delta + buttons.length) % buttons.length].focus();
  };
  return {
    open,
    close,
    update,
    step,
    problem_of,
    is_open: () => !dialog.hidden,
    forced: () => mode === "lock" && shown.length > 0,
    confirm: () => confirm[mode].click()
  };
}

// voicelab/widgets/rank_board/panel.js
function agreement_label(agreement) {
  return typeof agreement === "number" ? `W ${agreement.toFixed(2)}` : "W –";
}
function line_status(line) {
  if (!line?.closed) return "open";
  return line.override ? `final ranks by ${line.closed_by}` : `closed by ${line.closed_by}`;
}
function rater_ranks(panel, line, file) {
  return (panel?.raters ?? []).map((name) => ({ name, rank: line?.ranks_by?.[name]?.[file] ?? null }));
}
function rater_progress_label(name, { done = 0, total = 0 } = {}) {
  return `${name} ${done}/${total}`;
}
function rater_note(mode) {
  if (mode === "blind") {
    return "Blind panel: you rank alone. Takes are shuffled and labelled; settings, take numbers and other raters' ranks are hidden.";
  }
  if (mode === "rater") return "Panel: you rank alone; other raters' ranks and the consensus are hidden.";
  return "";
}
function panel_summary(panel) {
  if (!panel?.raters) return "";
  const method = panel.method === "borda" ? "Borda consensus" : `${panel.method} consensus`;
  const parts = [`${panel.blind ? "Blind panel" : "Panel"} of ${panel.raters.length}`, method];
  if (panel.opened_by) parts.push(`opened by ${panel.opened_by}`);
  return parts.join(" · ");
}
function chosen_raters(ticked, typed) {
  const names = [...ticked, ...String(typed ?? "").split(",").map((n) => n.trim())];
  return [...new Set(names.filter(Boolean))];
}
function create_panel_bar(root, model, state) {
  const bar = root.querySelector(".vl-panel-bar");
  const summary = root.querySelector(".vl-panel-summary");
  const raters = root.querySelector(".vl-panel-raters");
  const toggle = root.querySelector(".vl-disagreements-button");
  const open_button = root.querySelector(".vl-panel-button");
  const update = () => {
    const mode = state.mode();
    const panel = model.get("panel") ?? {};
    open_button.hidden = !(mode === "solo" && !state.readonly());
    bar.hidden = mode === "solo";
    bar.dataset.mode = mode;
    const lead = mode === "lead";
    summary.textContent = lead ? panel_summary(panel) : rater_note(mode);
    toggle.hidden = !lead;
    toggle.setAttribute("aria-pressed", String(state.disagreements));
    toggle.textContent = state.disagreements ? "All lines" : "Disagreements";
    const progress_of = lead ? panel.progress ?? {} : {};
    const names = lead ? panel.raters ?? [] : [];
    const key = names.map((n) => rater_progress_label(n, progress_of[n])).join(" ");
    if (raters.dataset.key === key) return;
    raters.dataset.key = key;
    raters.replaceChildren(
      ...names.map((name) => {
        const { done = 0, total = 0 } = progress_of[name] ?? {};
        const chip = make_node("span", "vl-rater-progress", rater_progress_label(name, { done, total }));
        Object.assign(chip.dataset, { rater: name, done: String(done), total: String(total) });
        chip.dataset.complete = String(total > 0 && done >= total);
        chip.title = `${name} has ranked ${done} of ${total} lines`;
        return chip;
      })
    );
  };
  return { update };
}
function create_panel_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-panel-dialog");
  const title = root.querySelector(".vl-panel-dialog-title");
  const choices = root.querySelector(".vl-panel-choices");
  const names = root.querySelector(".vl-panel-names");
  const blind = root.querySelector(".vl-panel-blind");
  const offered = () => state.may("panel") && state.mode() === "solo" && !state.readonly();
  const open = () => {
    if (!offered()) return;
    title.textContent = `Rate batch ${model.get("batch_id")} as a panel`;
    const users = model.get("raters_offered") ?? [];
    const boxes = users.map((name) => {
      const label = make_node("label", "vl-panel-choice");
      const box = make_node("input", "vl-panel-rater");
      box.type = "checkbox";
      box.value = name;
      label.append(box, document.createTextNode(` ${name}`));
      return label;
    });
    choices.replaceChildren(make_node("legend", "", "Raters"), ...boxes);
    choices.hidden = !users.length;
    names.value = "";
    blind.checked = true;
    dialog.hidden = false;
    (choices.querySelector("input") ?? names).focus();
  };
  const chosen = () => {
    const ticked = [...choices.querySelectorAll("input.vl-panel-rater")].filter((b) => b.checked);
    return { raters: chosen_raters(ticked.map((b) => b.value), names.value), blind: Boolean(blind.checked) };
  };
  const close = () => {
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    if (!offered()) dialog.hidden = true;
  };
  return { open, close, chosen, is_open: () => !dialog.hidden, update };
}

// voicelab/widgets/rank_board/notes.js
function note_label(note) {
  if (!note) return { text: "", title: "" };
  const when = typeof note.at === "string" ? note.at.replace("T", " ").slice(0, 16) : "";
  const who = [note.by, when && `${when} UTC`].filter(Boolean).join(", ");
  const pass = note.needs_pass ? " (needs another pass)" : "";
  return { text: note.text ?? "", title: `${who}${pass}: ${note.text || "no text"}` };
}
function create_note_editor(root, model, state) {
  const editor = root.querySelector(".vl-note-editor");
  const title = root.querySelector(".vl-note-title");
  const input = root.querySelector(".vl-note-input");
  const pass = root.querySelector(".vl-note-pass");
  let line = null;
  const open = (which) => {
    if (!which || !state.may("note") || !place_popover(editor, state, which)) return;
    line = which;
    const note = (model.get("notes") ?? {})[which];
    title.textContent = `Director note on ${which}`;
    input.value = note?.text ?? "";
    pass.checked = Boolean(note?.needs_pass);
    editor.dataset.line = which;
    editor.hidden = false;
    input.focus();
  };
  const close = () => {
    editor.hidden = true;
    line = null;
    focus_board(root);
  };
  const fields = () => ({ line, text: input.value, needs_pass: Boolean(pass.checked) });
  const update = () => {
    if (editor.hidden) return;
    if (!state.may("note") || !place_popover(editor, state, line)) close();
  };
  return { open, close, fields, is_open: () => !editor.hidden, update };
}

// voicelab/widgets/rank_board/more.js
var MAX_MORE = 20;
function more_request({ takes, like, text }, current_text) {
  const count = Number(takes);
  const whole = Number.isInteger(count) && count >= 1 && count <= MAX_MORE ? count : null;
  const edited = String(text ?? "").trim();
  return {
    takes: whole,
    like: like === "1" || like === 1 ? 1 : null,
    text: edited && edited !== String(current_text ?? "").trim() ? edited : null
  };
}
var same_request = (a, b) => Boolean(a && b) && a.line === b.line && a.takes === b.takes && a.like === b.like && a.text === b.text;
var count_of = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
function estimate_label(estimate) {
  if (!estimate) return "";
  const parts = [
    count_of(estimate.takes ?? 0, "take"),
    count_of(estimate.requests ?? 0, "request"),
    count_of(estimate.characters ?? 0, "character")
  ];
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
function pending_label(takes) {
  return Number.isInteger(takes) && takes > 0 ? `${count_of(takes, "take")} coming` : "takes coming";
}
function create_more_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-more-dialog");
  const title = root.querySelector(".vl-more-title");
  const count = root.querySelector(".vl-more-count");
  const like = root.querySelector(".vl-more-like");
  const text = root.querySelector(".vl-more-text");
  const estimate_box = root.querySelector(".vl-more-estimate");
  const submit = root.querySelector(".vl-more-submit");
  let line = null;
  let expected = null;
  let estimated = null;
  let sending = false;
  const request = () => ({ line, ...more_request(
    { takes: count.value, like: like.value, text: text.value },
    state.view.text_of.get(line)
  ) });
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
  const expect = (seq, req) => {
    expected = { seq, request: req };
    estimated = null;
    say("Estimating…", "wait");
    refresh_submit();
  };
  const invalid = (message) => {
    expected = estimated = null;
    say(message, "error");
    refresh_submit();
  };
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
    ready: () => !submit.disabled
  };
}

// voicelab/widgets/rank_board/export.js
function offer_download(link, bytes, name, type) {
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([bytes], { type }));
  link.download = name;
  link.textContent = `Download ${name}`;
  link.hidden = false;
  link.click();
}
function preset_layout(preset, format) {
  const path = preset.layout.replaceAll("{lang}", "en").replace(/\{(\w+)\}/g, (_, f) => `<${f[0].toUpperCase()}${f.slice(1)}>`);
  return `${path}.${format || "mp3"}`;
}
function export_format(preset, format) {
  const mp3 = !preset || preset.formats.includes("mp3");
  return { mp3, format: mp3 ? format : "wav" };
}
function create_export(root, state, model) {
  const button = root.querySelector(".vl-export-button");
  const link = root.querySelector(".vl-export-link");
  const dialog = root.querySelector(".vl-export-dialog");
  const preset_select = root.querySelector(".vl-export-preset");
  const format_select = root.querySelector(".vl-export-format");
  const layout_text = root.querySelector(".vl-export-layout");
  const presets = () => model?.get("export_presets") ?? [];
  const chosen = () => presets().find((p) => p.name === preset_select?.value) ?? presets()[0];
  const changed = () => {
    if (!format_select) return;
    const preset = chosen();
    const { mp3, format } = export_format(preset, format_select.value);
    format_select.options[0].disabled = !mp3;
    format_select.value = format;
    if (layout_text) layout_text.textContent = preset ? `→ ${preset_layout(preset, format)}` : "";
  };
  const fill = () => {
    if (!preset_select || preset_select.options.length === presets().length) return;
    preset_select.replaceChildren(...presets().map((p) => {
      const option = make_node("option", "", p.name);
      option.value = p.name;
      option.title = p.layout;
      return option;
    }));
  };
  const is_open = () => Boolean(dialog && !dialog.hidden);
  const open = () => {
    if (!dialog || !state.may("export") || !state.readonly()) return;
    fill();
    changed();
    dialog.hidden = false;
    preset_select.focus();
  };
  const close = () => {
    if (!dialog || dialog.hidden) return;
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    button.hidden = !state.readonly();
    if (is_open() && !(state.may("export") && state.readonly())) dialog.hidden = true;
  };
  const start = () => {
    button.disabled = true;
  };
  const show = (msg, data) => {
    button.disabled = false;
    if (msg.error || !data) return;
    const bytes = data instanceof ArrayBuffer ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    offer_download(link, bytes, msg.name, "application/zip");
  };
  const choice = () => ({ preset: chosen()?.name ?? "plain", format: format_select?.value || null });
  return { update, start, show, open, close, is_open, changed, choice };
}

// voicelab/widgets/rank_board/keys_help.js
function create_keys_help(root) {
  const overlay = root.querySelector(".vl-keys");
  const button = root.querySelector(".vl-keys-button");
  const is_open = () => !overlay.hidden;
  const open = () => {
    overlay.hidden = false;
    button.setAttribute("aria-expanded", "true");
    overlay.querySelector(".vl-keys-close").focus({ preventScroll: true });
  };
  const close = () => {
    if (!is_open()) return;
    overlay.hidden = true;
    button.setAttribute("aria-expanded", "false");
    focus_board(root);
  };
  const toggle = () => is_open() ? close() : open();
  return { open, close, toggle, is_open };
}

// voicelab/widgets/rank_board/rows.js
function line_button(cls, label, line, needs, title) {
  const button = make_node("button", cls, label);
  button.type = "button";
  button.dataset.line = line;
  button.dataset.needs = needs;
  button.title = title;
  return button;
}
function build_line_row(line) {
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
    line_button(
      "vl-more-button",
      "More takes…",
      line,
      "more",
      "Ask for more takes of this line, like its best take or across the batch's ranges (g)"
    )
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
function fill_line_extras(row, { note, task, coming }) {
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
function fill_line_panel(box, line, panel_line, readonly) {
  const key = panel_line ? [
    panel_line.agreement,
    panel_line.closed,
    panel_line.override,
    panel_line.closed_by,
    (panel_line.raters_ranked ?? []).join(","),
    readonly
  ].join("|") : "";
  box.hidden = !panel_line;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (!panel_line) {
    box.replaceChildren();
    return;
  }
  const agreement = make_node("span", "vl-agreement", agreement_label(panel_line.agreement));
  const ranked = (panel_line.raters_ranked ?? []).length;
  agreement.title = `Kendall's W over ${ranked} rater${ranked === 1 ? "" : "s"}: 1 = same order, 0 = unrelated` + (typeof panel_line.agreement === "number" ? "" : " (needs two raters)");
  const status = make_node("span", "vl-line-status", line_status(panel_line));
  status.dataset.closed = String(Boolean(panel_line.closed));
  const parts = [agreement, status];
  if (!readonly) {
    const reopen = Boolean(panel_line.closed);
    const button = make_node(
      "button",
      reopen ? "vl-line-reopen" : "vl-line-close",
      reopen ? "Reopen" : "Close line"
    );
    button.type = "button";
    button.dataset.line = line;
    button.dataset.needs = "panel";
    button.title = reopen ? "Raters may change this line again; it holds their consensus again (c)" : "Make this line's ranks final: raters can no longer change it (c)";
    parts.push(button);
  }
  box.replaceChildren(...parts);
}
function fill_line_row(row, { line, script, list, rank_of, readonly, locked, panel_line }) {
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
function build_take_row(take) {
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
  const shown = Object.keys(take.settings ?? {}).length > 0;
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
    retired_badge,
    // at the end: the columns of stale and current takes stay aligned
    flags
  );
  return row;
}
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
    })
  );
}
function fill_take_marks(row, take) {
  const why = retired(take);
  row.classList.toggle("vl-stale", why === "stale");
  row.classList.toggle("vl-removed", why === "removed");
  const badge = row.querySelector(".vl-retired");
  if (badge) {
    badge.hidden = !why;
    badge.dataset.why = why;
    badge.textContent = why;
    badge.title = why === "stale" ? `Stale, not ranked: ${stale_title(take)}` : why === "removed" ? "Removed: its line is gone from the script; never exported" : "";
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
var FLAG_TITLES = {
  clipping: "Clipping: several samples at full scale",
  mostly_silence: "Mostly silence: little of the take is voiced",
  duration_outlier: "Duration outlier: much shorter or longer than the line's other takes"
};
function flag_title(flag, take) {
  if (flag === "words" && take.heard !== void 0) {
    const share = Math.round((take.wer ?? 0) * 100);
    return `Wrong words? Heard: “${take.heard}” (${share} % word error rate)`;
  }
  if (flag === "words") return "Wrong words: the speech check did not hear the line";
  return FLAG_TITLES[flag] ?? flag;
}
function fill_take_row(row, { take, rank, focused, playing, readonly, duration_s, raters }) {
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

// voicelab/widgets/rank_board/line_list.js
function create_line_list(root, model, state, audio) {
  const scroller = root.querySelector(".vl-scroll");
  const spacer = root.querySelector(".vl-spacer");
  const mounted = /* @__PURE__ */ new Map();
  const { player } = audio;
  const is_playing = (file) => player.playing && player.file === file;
  const wave_color = () => getComputedStyle(root).getPropertyValue("--vl-wave-color").trim();
  const draw_wave = (row, file, color = wave_color()) => {
    const decoded = audio.decoded_peaks.get(file);
    const peaks = decoded ?? stored_peaks(model.get("peaks"), state.view.index_of.get(file) ?? -1);
    paint_wave(row, peaks, decoded ? "decoded" : "stored", color);
  };
  const frozen = () => state.readonly() || !state.rank_kind();
  const panel_line = (line) => state.disagreements ? state.view.panel_lines.get(line) ?? null : null;
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
      raters: shown_line ? rater_ranks(state.view.panel, shown_line, file) : null
    });
  };
  const update = () => {
    const { rows, height } = state.view;
    spacer.style.height = `${height}px`;
    const [start, end] = visible_range(rows, scroller.scrollTop, scroller.clientHeight || 600);
    const keep = /* @__PURE__ */ new Set();
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
        if (state.dragging && row.dataset.dragFile === state.dragging) continue;
        row.remove();
        mounted.delete(key);
      }
    }
  };
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
  const ensure_visible = (file) => {
    const index = state.view.row_index.get(`T:${file}`);
    if (index === void 0) return;
    const row = state.view.rows[index];
    const view_h = scroller.clientHeight;
    const header = state.view.rows[state.view.row_index.get(`L:${row.line}`)];
    const top = Math.min(row.top, header ? header.top : row.top);
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (row.top + row.height > scroller.scrollTop + view_h) {
      scroller.scrollTop = row.top + row.height - view_h;
    }
  };
  const anchor = () => {
    const index = state.view?.row_index.get(`T:${state.focused}`);
    if (index === void 0) return null;
    const top = state.view.rows[index].top - scroller.scrollTop;
    return top >= 0 && top < (scroller.clientHeight || 600) ? { file: state.focused, top } : null;
  };
  const restore = (was) => {
    if (!was || state.focused !== was.file) return;
    const index = state.view.row_index.get(`T:${was.file}`);
    if (index === void 0) return;
    const moved = state.view.rows[index].top - scroller.scrollTop - was.top;
    if (moved) scroller.scrollTop += moved;
  };
  const redraw_take = (file) => {
    const row = mounted.get(`T:${file}`);
    if (row) {
      draw_wave(row, file);
      fill_take(row, file);
    }
  };
  const redraw_waves = () => {
    const color = wave_color();
    for (const row of mounted.values()) if (row.dataset.file) draw_wave(row, row.dataset.file, color);
  };
  return {
    ...{ scroller, update, update_playhead, ensure_visible, redraw_take, redraw_waves },
    ...{ anchor, restore },
    scroll_to_top: () => scroller.scrollTop = 0
  };
}

// voicelab/widgets/rank_board/renderer.js
function create_renderer(el, model, state, audio) {
  const root = create_board_root(el);
  const toolbar = create_toolbar(root, model, state);
  const dialog = create_lock_dialog(root, model, state);
  const panel_bar = create_panel_bar(root, model, state);
  const panel_dialog = create_panel_dialog(root, model, state);
  const note_editor = create_note_editor(root, model, state);
  const more_dialog = create_more_dialog(root, model, state);
  const exporter = create_export(root, state, model);
  const keys_help = create_keys_help(root);
  const messages = create_messages(root, model, state);
  const list = create_line_list(root, model, state, audio);
  const { player } = audio;
  let frame = 0;
  let playhead_frame = 0;
  const draw_playhead = () => {
    playhead_frame = 0;
    list.update_playhead();
    if (player.playing) schedule_playhead();
  };
  const schedule_playhead = () => {
    if (!playhead_frame) playhead_frame = requestAnimationFrame(draw_playhead);
  };
  const draw = () => {
    frame = 0;
    mark_board(root, model, state, player);
    for (const part of [toolbar, panel_bar, dialog, panel_dialog, exporter, messages, list]) part.update();
    note_editor.update();
    more_dialog.update();
    draw_playhead();
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const show_local = (text) => {
    state.local_message = text;
    schedule();
  };
  const close = () => {
    messages.close();
    cancelAnimationFrame(frame);
    cancelAnimationFrame(playhead_frame);
    root.remove();
  };
  const { scroller, ensure_visible, redraw_take, redraw_waves, scroll_to_top, anchor, restore } = list;
  const popover = (part, other) => (line) => {
    other.is_open() && other.close();
    const first = state.view.groups.get(line)?.[0];
    if (first) ensure_visible(first.file);
    part.open(line);
  };
  return {
    ...{ anchor, restore, note_editor, more_dialog },
    open_note: popover(note_editor, more_dialog),
    open_more: popover(more_dialog, note_editor),
    ...{ root, scroller, draw, schedule, schedule_playhead, ensure_visible, redraw_take, redraw_waves },
    ...{ show_local, show_notice: messages.show_notice, focus: () => focus_board(root) },
    ...{ open_confirm: dialog.open, close_confirm: dialog.close, confirm_open: dialog.is_open },
    ...{ confirm_forced: dialog.forced, confirm: dialog.confirm, confirm_step: dialog.step },
    gate_problem: dialog.problem_of,
    ...{ open_panel_dialog: panel_dialog.open, close_panel_dialog: panel_dialog.close },
    ...{ panel_dialog_open: panel_dialog.is_open, panel_choice: panel_dialog.chosen },
    ...{ start_export: exporter.start, show_export: exporter.show, scroll_to_top, close },
    ...{ open_export: exporter.open, close_export: exporter.close, export_open: exporter.is_open },
    ...{ toggle_keys: keys_help.toggle, close_keys: keys_help.close, keys_open: keys_help.is_open },
    ...{ export_changed: exporter.changed, export_choice: exporter.choice }
  };
}

// voicelab/widgets/rank_board/refusals.js
var LOCKED_MESSAGE = "This batch is locked: ranks can no longer change.";
var MORE_LOCKED_MESSAGE = "This batch is locked: a lead unlocks it first to ask for more takes.";
var PANEL_LINES_MESSAGE = "A panel's raters rank alone: notes and more takes wait until the panel ends (a lead can).";
var ACTION_WORDS = {
  ...{ rank: "rank", undo: "undo", lock: "lock a batch", unlock: "unlock a batch" },
  ...{ export: "export", panel: "run a rating panel" },
  ...{ note: "write director notes", more: "ask for more takes" }
};
var LEAD_RANK_MESSAGE = "You lead this panel: the board shows its consensus. Set a line's final ranks in Disagreements (d).";
function refusal(role, action, mode = "solo") {
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

// voicelab/widgets/rank_board/actions.js
var ESTIMATE_DELAY_MS = 250;
function create_actions(model, state, audio, renderer) {
  const set_focus = (file, { follow = true } = {}) => {
    if (!file) return;
    state.focused = file;
    const { player } = audio;
    if (follow && player.playing && player.file !== file) {
      if (player.line === state.line_of(file)) audio.play(file, player.position());
      else player.stop();
    }
    renderer.ensure_visible(file);
    audio.prefetch(file);
    renderer.schedule();
  };
  const refuse = (action, { locked = true } = {}) => {
    if (!state.may(action)) renderer.show_local(refusal(model.get("role"), action, state.mode()));
    else if (locked && state.readonly()) renderer.show_local(LOCKED_MESSAGE);
    else return false;
    return true;
  };
  const send_rank = (file, rank) => {
    const why = retired_message(state.view.take_of.get(file));
    if (why) {
      renderer.show_local(why);
      return;
    }
    const kind = state.rank_kind();
    if (!kind) {
      renderer.show_local(LEAD_RANK_MESSAGE);
      return;
    }
    if (refuse(kind === "override" ? "panel" : "rank")) return;
    const op = state.begin_rank(file, rank);
    if (!op) return;
    if (kind === "override") model.send({ kind: "override", file, rank, seq: op.seq });
    else model.send({ kind: "rank", file, rank, seq: op.seq });
    renderer.schedule();
  };
  const close_line = (line) => {
    if (line && !refuse("panel")) model.send({ kind: "close", line });
  };
  const reopen_line = (line) => {
    if (line && !refuse("panel")) model.send({ kind: "reopen", line });
  };
  const toggle_line = () => {
    if (!state.disagreements) return;
    const line = state.line_of(state.focused);
    if (state.view.panel_lines.get(line)?.closed) reopen_line(line);
    else close_line(line);
  };
  const toggle_disagreements = () => {
    if (state.mode() !== "lead") return;
    state.set_disagreements(!state.disagreements);
    renderer.scroll_to_top();
    if (state.focused) renderer.ensure_visible(state.focused);
    renderer.schedule();
  };
  const open_panel = ({ raters, blind }) => {
    if (refuse("panel")) return false;
    if (!raters.length) {
      renderer.show_local("Choose at least one rater (tick a name, or type names).");
      return false;
    }
    model.send({ kind: "panel", raters, blind });
    return true;
  };
  const focused_line = () => state.line_of(state.focused);
  const open_note = (line = focused_line()) => {
    if (!line) return;
    if (!state.may("note")) renderer.show_local(refusal(model.get("role"), "note", state.mode()));
    else renderer.open_note(line);
  };
  const save_note = () => {
    const { line, text, needs_pass } = renderer.note_editor.fields();
    if (!line || refuse("note", { locked: false })) return;
    model.send({ kind: "note", line, text, needs_pass });
    renderer.note_editor.close();
  };
  let estimates = 0;
  let estimate_timer = 0;
  const open_more = (line = focused_line()) => {
    if (!line) return;
    if (!state.may("more")) renderer.show_local(refusal(model.get("role"), "more", state.mode()));
    else if (state.readonly()) renderer.show_local(MORE_LOCKED_MESSAGE);
    else {
      renderer.open_more(line);
      estimate_more();
    }
  };
  const estimate_more = () => {
    clearTimeout(estimate_timer);
    const dialog = renderer.more_dialog;
    if (!dialog.is_open()) return;
    const request = dialog.request();
    if (request.takes === null) {
      dialog.invalid(`How many: a whole number from 1 to ${MAX_MORE}.`);
      return;
    }
    const seq = `e${++estimates}:${Math.random().toString(36).slice(2, 8)}`;
    dialog.expect(seq, request);
    const { line, takes, like, text } = request;
    model.send({ kind: "more_estimate", line, takes, like, text, seq });
  };
  const more_changed = () => {
    renderer.more_dialog.changed();
    clearTimeout(estimate_timer);
    estimate_timer = setTimeout(estimate_more, ESTIMATE_DELAY_MS);
  };
  const ask_more = () => {
    const dialog = renderer.more_dialog;
    if (!dialog.is_open() || !dialog.ready()) return;
    if (!state.more_offered()) {
      renderer.show_local(state.readonly() ? MORE_LOCKED_MESSAGE : refusal(model.get("role"), "more", state.mode()));
      return;
    }
    const { line, takes, like, text } = dialog.request();
    dialog.start();
    model.send({ kind: "more", line, takes, like, text });
  };
  const on_more = (msg) => {
    if (msg.ok && msg.task_id) state.asked.set(msg.task_id, msg.takes);
    renderer.more_dialog.show_result(msg);
    renderer.schedule();
  };
  const on_ack = (msg) => {
    if (state.settle(msg.seq)) renderer.schedule();
  };
  const expire_pending = () => {
    if (state.expire()) renderer.schedule();
  };
  const undo = () => {
    if (!refuse("undo")) model.send({ kind: "undo" });
  };
  const lock = ({ force = false } = {}) => {
    if (refuse("lock")) return;
    if (force) model.send({ kind: "lock", force: true });
    else model.send({ kind: "lock" });
  };
  const go_to_line = (problem) => {
    if (!state.view.groups.has(problem.line)) return;
    if (!state.view.lines.includes(problem.line)) {
      state.sticky.add(problem.line);
      if (state.disagreements) state.set_disagreements(false);
      else state.derive();
    }
    set_focus(jump_target(problem, state.view.groups), { follow: false });
  };
  const unlock = () => {
    if (!refuse("unlock", { locked: false })) model.send({ kind: "unlock" });
  };
  const export_selects = (choice) => {
    if (refuse("export", { locked: false })) return;
    if (choice) model.send({ kind: "export", rank: 1, preset: choice.preset, format: choice.format });
    else model.send({ kind: "export", rank: 1 });
  };
  return {
    ...{ set_focus, send_rank, on_ack, expire_pending, refuse, undo, lock, unlock, export_selects },
    go_to_line,
    ...{ close_line, reopen_line, toggle_line, toggle_disagreements, open_panel },
    ...{ open_note, save_note, open_more, estimate_more, more_changed, ask_more, on_more },
    on_estimate: (msg) => renderer.more_dialog.show_estimate(msg),
    refresh: () => model.send({ kind: "refresh" })
  };
}

// voicelab/widgets/rank_board/events.js
function bind_controls(root, { model, state, audio, renderer, actions }) {
  const on_click = (event) => {
    const target = event.target;
    const hit = (selector) => target.closest(selector);
    if (hit(".vl-keys-button") || hit(".vl-keys-close")) return renderer.toggle_keys();
    if (renderer.keys_open?.()) {
      if (!hit(".vl-keys-box")) renderer.close_keys();
      return;
    }
    if (hit(".vl-panel-button")) return renderer.open_panel_dialog();
    if (hit(".vl-panel-open")) {
      if (actions.open_panel(renderer.panel_choice())) renderer.close_panel_dialog();
      return;
    }
    if (hit(".vl-panel-cancel")) return renderer.close_panel_dialog();
    if (hit(".vl-panel-dialog")) return;
    if (hit(".vl-note-button")) return actions.open_note(hit(".vl-note-button").dataset.line);
    if (hit(".vl-more-button")) return actions.open_more(hit(".vl-more-button").dataset.line);
    if (hit(".vl-note-save")) return actions.save_note();
    if (hit(".vl-note-cancel")) return renderer.note_editor.close();
    if (hit(".vl-more-submit")) return actions.ask_more();
    if (hit(".vl-more-cancel")) return renderer.more_dialog.close();
    if (hit(".vl-popover")) return;
    if (hit(".vl-disagreements-button")) {
      actions.toggle_disagreements();
      return renderer.focus();
    }
    if (hit(".vl-line-close")) {
      actions.close_line(hit(".vl-line-close").dataset.line);
      return renderer.focus();
    }
    if (hit(".vl-line-reopen")) {
      actions.reopen_line(hit(".vl-line-reopen").dataset.line);
      return renderer.focus();
    }
    if (hit(".vl-lock-button")) return renderer.open_confirm("lock");
    if (hit(".vl-unlock-button")) return renderer.open_confirm("unlock");
    if (hit(".vl-undo-button")) {
      actions.undo();
      renderer.focus();
      return;
    }
    if (hit(".vl-gate-jump")) {
      const problem = renderer.gate_problem(hit(".vl-gate-jump").dataset.line);
      renderer.close_confirm();
      return actions.go_to_line(problem);
    }
    if (hit(".vl-confirm-lock")) {
      actions.lock({ force: Boolean(renderer.confirm_forced?.()) });
      return renderer.close_confirm();
    }
    if (hit(".vl-confirm-unlock")) {
      actions.unlock();
      return renderer.close_confirm();
    }
    if (hit(".vl-confirm-cancel")) return renderer.close_confirm();
    if (hit(".vl-export-button")) return renderer.open_export();
    if (hit(".vl-export-start")) {
      renderer.start_export();
      actions.export_selects(renderer.export_choice());
      return renderer.close_export();
    }
    if (hit(".vl-export-cancel")) return renderer.close_export();
    if (hit(".vl-export-dialog")) return;
    if (hit(".vl-message-close")) {
      state.dismiss_message();
      renderer.schedule();
      return;
    }
    if (hit("input, label")) return;
    const clear = hit(".vl-slot-clear");
    if (clear) {
      actions.send_rank(clear.dataset.file, null);
    } else if (hit(".vl-slot-take")) {
      actions.set_focus(hit(".vl-slot-take").dataset.dragFile);
    } else if (hit(".vl-line-text")) {
      const list = state.view.groups.get(hit(".vl-line").dataset.line) ?? [];
      if (list.length) actions.set_focus(list[0].file);
    } else if (hit(".vl-take")) {
      const file = hit(".vl-take").dataset.file;
      const wave = hit(".vl-wave");
      if (hit(".vl-play")) {
        state.focused = file;
        audio.toggle();
      } else if (wave) {
        state.focused = file;
        const box = wave.getBoundingClientRect();
        const share = Math.min(1, Math.max(0, (event.clientX - box.left) / (box.width || 1)));
        const take = state.view.take_of.get(file);
        audio.play(file, share * (take?.duration_s ?? audio.decoded_duration.get(file) ?? 0));
      } else {
        actions.set_focus(file);
      }
      renderer.schedule();
    }
    renderer.focus();
  };
  const on_change = (event) => {
    const target = event.target;
    if (target.closest?.(".vl-panel-dialog")) return;
    if (target.closest?.(".vl-export-dialog")) return renderer.export_changed?.();
    if (target.closest?.(".vl-more-dialog")) return actions.more_changed?.();
    if (target.closest?.(".vl-note-editor")) return;
    if (target.matches(".vl-show-removed-toggle")) {
      state.set_show_removed(target.checked);
    } else if (target.matches(".vl-filter-unranked")) {
      state.filter_unranked(target.checked);
      renderer.scroll_to_top();
    } else if (target.matches(".vl-loop-toggle")) {
      audio.set_loop(target.checked);
    } else if (target.matches(".vl-loudness-toggle")) {
      state.matched = target.checked;
      audio.regain();
    }
    renderer.focus();
    renderer.schedule();
  };
  const on_input = (event) => {
    if (event.target.closest?.(".vl-more-dialog")) actions.more_changed?.();
  };
  return listen(root, { click: on_click, change: on_change, input: on_input });
}
function bind_drag_drop(root, { state, renderer, actions }) {
  const slot_for = (event) => {
    const slot = event.target.closest?.(".vl-slot");
    if (!slot || !state.dragging || state.readonly()) return null;
    return slot.dataset.line === state.line_of(state.dragging) ? slot : null;
  };
  const drag_action = () => ({ rank: "rank", override: "panel" })[state.rank_kind()];
  const on_drag_start = (event) => {
    const source = event.target.closest?.("[data-drag-file]");
    const action = drag_action();
    const why = source ? retired_message(state.view.take_of.get(source.dataset.dragFile)) : "";
    if (why) renderer.show_local(why);
    else if (source && !state.readonly() && action && !state.may(action)) actions.refuse(action);
    if (!source || why || state.readonly() || !action || !state.may(action)) {
      event.preventDefault();
      return;
    }
    state.dragging = source.dataset.dragFile;
    event.dataTransfer.setData("text/plain", state.dragging);
    event.dataTransfer.effectAllowed = "move";
    root.classList.add("vl-dragging");
  };
  const on_drag_over = (event) => {
    const slot = slot_for(event);
    if (!slot) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    slot.classList.add("vl-drop-target");
  };
  const on_drag_leave = (event) => {
    const slot = event.target.closest?.(".vl-slot");
    if (slot && !slot.contains(event.relatedTarget)) slot.classList.remove("vl-drop-target");
  };
  const end_drag = () => {
    state.dragging = null;
    root.classList.remove("vl-dragging");
    for (const slot of root.querySelectorAll(".vl-drop-target")) slot.classList.remove("vl-drop-target");
    renderer.schedule();
  };
  const on_drop = (event) => {
    const slot = slot_for(event);
    if (!slot) return;
    event.preventDefault();
    const file = state.dragging;
    end_drag();
    actions.send_rank(file, Number(slot.dataset.rank));
    actions.set_focus(file, { follow: false });
  };
  return listen(root, {
    ...{ dragstart: on_drag_start, dragover: on_drag_over, dragleave: on_drag_leave },
    ...{ drop: on_drop, dragend: end_drag }
  });
}

// voicelab/widgets/rank_board/keys.js
function action_for_key(event) {
  const key = event.key;
  if (event.ctrlKey || event.metaKey || event.altKey) {
    const undo = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
    return undo && (key === "z" || key === "Z") ? { type: "undo" } : null;
  }
  if (/^[1-5]$/.test(key)) return { type: "rank", rank: Number(key) };
  switch (key) {
    case "0":
    case "Backspace":
    case "Delete":
      return { type: "rank", rank: null };
    case "ArrowUp":
    case "k":
      return { type: "take", delta: -1 };
    case "ArrowDown":
    case "j":
      return { type: "take", delta: 1 };
    case "ArrowLeft":
    case "h":
      return { type: "line", delta: -1 };
    case "ArrowRight":
    case "l":
      return { type: "line", delta: 1 };
    case " ":
    case "Spacebar":
      return { type: "toggle" };
    case "Enter":
      return { type: "play_next" };
    case "u":
      return { type: "undo" };
    case "d":
      return { type: "disagreements" };
    case "c":
      return { type: "close_line" };
    case "n":
      return { type: "note" };
    case "g":
      return { type: "more" };
    case "?":
      return { type: "keys" };
    default:
      return null;
  }
}
function popover_key(event, renderer, actions) {
  const note = renderer.note_editor;
  const more = renderer.more_dialog;
  const open = note?.is_open() ? note : more?.is_open() ? more : null;
  if (!open) return false;
  const save = event.key === "Enter" && (event.ctrlKey || event.metaKey);
  if (event.key === "Escape") open.close();
  else if (open === note && save) actions.save_note();
  else if (open === more && event.key === "Enter" && event.target.matches?.("input")) actions.ask_more();
  else return true;
  event.preventDefault();
  event.stopPropagation();
  return true;
}
function bind_keys(root, { state, audio, renderer, actions }) {
  const on_key = (event) => {
    const target = event.target;
    if (popover_key(event, renderer, actions)) return;
    if (renderer.keys_open?.()) {
      if (event.key !== "Escape" && event.key !== "?") return;
      renderer.close_keys();
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (renderer.export_open?.()) {
      if (event.key === "Enter" && target.matches("button")) return;
      if (event.key === "Escape") renderer.close_export();
      else if (event.key === "Enter") {
        renderer.start_export();
        actions.export_selects(renderer.export_choice());
        renderer.close_export();
      } else return;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (renderer.panel_dialog_open?.()) {
      if (event.key === "Escape") renderer.close_panel_dialog();
      return;
    }
    if (target.matches("input[type=text], input[type=search], textarea, select")) return;
    if (renderer.confirm_open()) {
      const key = event.key;
      if (key === "Enter" && target.matches("button")) return;
      if (key === "Escape") renderer.close_confirm();
      else if (key === "Enter") renderer.confirm?.();
      else if (key === "ArrowDown" || key === "ArrowUp") renderer.confirm_step?.(key === "ArrowDown" ? 1 : -1);
      else return;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (target.matches("button, input") && (event.key === " " || event.key === "Enter")) return;
    const action = action_for_key(event);
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    const { order, lines, groups } = state.view;
    if (action.type === "rank") actions.send_rank(state.focused, action.rank);
    else if (action.type === "undo") actions.undo();
    else if (action.type === "disagreements") actions.toggle_disagreements?.();
    else if (action.type === "close_line") actions.toggle_line?.();
    else if (action.type === "note") actions.open_note?.();
    else if (action.type === "more") actions.open_more?.();
    else if (action.type === "keys") renderer.toggle_keys?.();
    else if (action.type === "take") actions.set_focus(step_take(order, state.focused, action.delta));
    else if (action.type === "line") {
      actions.set_focus(step_line(lines, groups, state.line_of(state.focused), action.delta));
    } else if (action.type === "toggle") audio.toggle();
    else if (action.type === "play_next" && state.focused) {
      audio.play(state.focused, 0);
      actions.set_focus(step_take(order, state.focused, 1), { follow: false });
    }
    renderer.schedule();
  };
  return listen(root, { keydown: on_key });
}

// voicelab/widgets/rank_board/protocol.js
function subscribe(model, handlers) {
  const entries = Object.entries(handlers);
  for (const [name, handler] of entries) model.on(name, handler);
  return () => {
    for (const [name, handler] of entries) model.off(name, handler);
  };
}
function bind_model(model, { state, audio, renderer, actions }) {
  const on_state = () => {
    state.derive();
    renderer.schedule();
  };
  const on_takes = () => {
    const was = renderer.anchor?.();
    state.derive();
    renderer.restore?.(was);
    renderer.schedule();
  };
  const on_peaks = () => {
    state.derive();
    renderer.redraw_waves();
  };
  const on_error = () => {
    state.dismissed_error = "";
    renderer.schedule();
  };
  const on_custom = (msg, buffers) => {
    if (msg?.kind === "ack") actions.on_ack(msg);
    else if (msg?.kind === "export") renderer.show_export(msg, buffers?.[0]);
    else if (msg?.kind === "audio") audio.receive(msg, buffers);
    else if (msg?.kind === "more_estimate") actions.on_estimate(msg);
    else if (msg?.kind === "more") actions.on_more(msg);
  };
  return subscribe(model, {
    ...{ "change:takes": on_takes, "change:lines": on_state },
    ...{ "change:notes": on_state, "change:pending": on_state },
    ...{ "change:locked": on_state, "change:audio_path": on_state },
    ...{ "change:allowed": renderer.schedule, "change:role": renderer.schedule },
    ...{ "change:person": renderer.schedule, "change:raters_offered": renderer.schedule },
    ...{ "change:mode": on_state, "change:panel": on_state },
    ...{ "change:peaks": on_peaks, "change:error": on_error },
    ...{ "change:notice": renderer.show_notice, "msg:custom": on_custom }
  });
}
function start_refresh(model, actions, is_hidden = () => document.hidden) {
  const timer = setInterval(() => {
    if (!is_hidden()) actions.refresh();
    actions.expire_pending();
  }, model.get("refresh_ms") || 1500);
  return () => clearInterval(timer);
}

// voicelab/widgets/rank_board/presence.js
var BEAT_MS = 2500;
var CHECK_MS = 400;
function presence_label({ count, others }) {
  if (others.length) {
    const seen = others.map((o) => o.line ? `${o.name} (${o.line})` : o.name);
    return `Also here: ${[...new Set(seen)].join(", ")}`;
  }
  if (!count) return "";
  return count === 1 ? "1 other person here" : `${count} other people here`;
}
function new_view_id() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "v" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function start_presence(root, model, state, { fetch: send = globalThis.fetch, base = "/" } = {}) {
  const badge = root.querySelector(".vl-presence");
  const view = new_view_id();
  const url = `${base}api/batch/${encodeURIComponent(model.get("batch_id") ?? "")}/presence`;
  let sent_line, sent_at = 0, stopped = false, busy = false;
  const show = (presence) => {
    const text = presence ? presence_label(presence) : "";
    badge.textContent = text;
    badge.hidden = !text;
  };
  const beat = async () => {
    if (stopped || busy || !send || !model.get("batch_id")) return;
    const line = state.focused ? state.line_of(state.focused) ?? null : null;
    if (line === sent_line && Date.now() - sent_at < BEAT_MS) return;
    busy = true;
    sent_line = line;
    sent_at = Date.now();
    try {
      const response = await send(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ view, line })
      });
      if (!response.ok) {
        if (response.status === 404 || response.status === 405) stopped = true;
        return show(null);
      }
      show((await response.json()).data);
    } catch (_err) {
      stopped = true;
      show(null);
    } finally {
      busy = false;
    }
  };
  const leave = () => {
    if (stopped) return;
    stopped = true;
    send?.(`${url}?view=${view}`, { method: "DELETE", credentials: "same-origin", keepalive: true }).catch(() => {
    });
  };
  const timer = setInterval(beat, CHECK_MS);
  globalThis.addEventListener?.("pagehide", leave);
  beat();
  return () => {
    clearInterval(timer);
    globalThis.removeEventListener?.("pagehide", leave);
    leave();
  };
}

// voicelab/widgets/rank_board/index.js
function render({ model, el }) {
  const in_voila = Boolean(globalThis.location?.pathname?.includes("/voila/"));
  const state = create_view_state(model);
  const audio = create_audio(model, state, {
    on_change: () => renderer.schedule(),
    on_decoded: (file) => renderer.redraw_take(file),
    on_play: () => renderer.schedule_playhead(),
    on_error: (text) => renderer.show_local(text)
  });
  const renderer = create_renderer(el, model, state, audio);
  const actions = create_actions(model, state, audio, renderer);
  const parts = { model, state, audio, renderer, actions };
  const cleanups = [
    renderer.close,
    audio.close,
    bind_controls(renderer.root, parts),
    bind_keys(renderer.root, parts),
    bind_drag_drop(renderer.root, parts),
    listen(renderer.scroller, { scroll: renderer.schedule }, { passive: true }),
    bind_model(model, parts),
    start_refresh(model, actions)
  ];
  if (in_voila) cleanups.push(start_presence(renderer.root, model, state));
  state.derive();
  renderer.draw();
  if (state.focused) audio.prefetch(state.focused);
  if (in_voila) renderer.focus();
  return () => {
    for (const cleanup of [...cleanups].reverse()) cleanup();
  };
}
var index_default = { render };
export {
  BEAT_MS,
  GATE_SHOWN,
  LEAD_RANK_MESSAGE,
  LINE_HEIGHT,
  MAX_MORE,
  MAX_RANK,
  MORE_LOCKED_MESSAGE,
  PANEL_LINES_MESSAGE,
  PANEL_NAME,
  PEAK_POINTS,
  Player,
  TAKE_HEIGHT,
  WAVE_HEIGHT,
  WAVE_WIDTH,
  action_for_key,
  agreement_label,
  apply_pending,
  audio_url,
  bind_controls,
  bind_drag_drop,
  bind_keys,
  bind_model,
  cascade,
  chosen_raters,
  create_actions,
  create_audio,
  create_board_root,
  create_export,
  create_line_list,
  create_lock_dialog,
  create_messages,
  create_more_dialog,
  create_note_editor,
  create_panel_bar,
  create_panel_dialog,
  create_renderer,
  create_toolbar,
  create_view_state,
  estimate_label,
  export_format,
  flag_title,
  format_duration,
  gain_factor,
  gate_row,
  group_takes,
  has_best,
  is_current,
  jump_target,
  layout,
  line_removed,
  line_status,
  listen,
  lock_question,
  mark_board,
  more_request,
  new_view_id,
  note_label,
  offer_download,
  panel_summary,
  peaks_from_samples,
  pending_label,
  position_at,
  presence_label,
  preset_layout,
  progress,
  progress_label,
  ranked_label,
  rater_note,
  rater_progress_label,
  rater_ranks,
  refusal,
  retired,
  retired_message,
  same_request,
  settings_label,
  stale_title,
  start_presence,
  start_refresh,
  step_line,
  step_take,
  stored_peaks,
  subscribe,
  switch_offset,
  take_label,
  visible_lines,
  visible_range
};
export default index_default;
