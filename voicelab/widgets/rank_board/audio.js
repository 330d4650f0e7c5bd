/**
 * The board's audio: where a take's bytes come from (the /audio/ route of `voicelab serve`, else
 * the kernel's `audio` message), the Player, prefetching, play/pause and the loop.
 */
import { take_label } from "./labels.js";
import { Player } from "./player.js";
import { peaks_from_samples, WAVE_WIDTH } from "./waveform.js";

const PREFETCH_AHEAD = 2;

/** The URL of a take: `base` + its path under AUDIO_ROOT, each segment encoded; null if none. */
export function audio_url(base, path) {
  if (!path) return null;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return prefix + path.split("/").map(encodeURIComponent).join("/");
}

/**
 * Playback for the board. A take's bytes come from `audio_base` + `audio_path` (the /audio/
 * route of `voicelab serve`); where that route is missing (JupyterLab, Notebook 7) they come
 * from the kernel: an `audio` message, answered by an `audio` message carrying the bytes.
 * @param {{get: Function, send: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {{on_change: Function, on_decoded: Function, on_play: Function, on_error: Function}}
 *   hooks redraw after any playback change, after a take is decoded, when playback starts
 *   (the playhead), and with a message when a take cannot play
 */
export function create_audio(model, state, hooks) {
  const decoded_peaks = new Map(); // file -> peaks from the decoded audio
  const decoded_duration = new Map(); // file -> seconds, for takes whose metadata has none
  const waiters = new Map(); // file -> [{resolve, reject}]
  let comm_audio = false; // the /audio/ route failed once: ask the kernel from now on

  /** The bytes of `file` from the kernel: one `audio` message per file however many ask. */
  const request = (file) =>
    new Promise((resolve, reject) => {
      if (!waiters.has(file)) {
        waiters.set(file, []);
        model.send({ kind: "audio", file });
      }
      waiters.get(file).push({ resolve, reject });
    });

  /** Python's `audio` reply: settle everyone waiting for that file. */
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
        // no /audio route here (JupyterLab, Notebook 7): ask the kernel instead
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
      const name = take?.label ? take_label(take) : file; // a blind board has no file names
      hooks.on_error(`Cannot play ${name}: ${err?.message ?? err}`);
    });
    hooks.on_play();
  };

  /** Start decoding `file` and the next takes, so switching between them is instant. */
  const prefetch = (file) => {
    const order = state.view.order;
    const index = order.indexOf(file);
    for (const name of order.slice(Math.max(0, index), index + 1 + PREFETCH_AHEAD)) {
      player.load(name).catch(() => {});
    }
  };

  /** Play or pause the focused take; within a line, a switch keeps the position. */
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

  /** Re-apply the take's gain after `state.matched` changed. */
  const regain = () => {
    if (player.file) player.set_gain(state.take_gain(player.file));
  };

  return {
    ...{ player, decoded_peaks, decoded_duration, fetch_bytes, request, receive },
    ...{ play, prefetch, toggle, set_loop, regain },
    close: () => player.close(),
  };
}
