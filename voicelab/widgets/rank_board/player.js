/**
 * Web Audio playback: a decoded-buffer cache, loudness-matched gain, and the position carried
 * over when switching takes within a line. The arithmetic is pure and exported for node --test.
 */

const DECODED_KEEP = 32;

/** Where playback of another take starts when switching mid-play: the same spot, if it has it. */
export function switch_offset(position, duration) {
  return position >= 0 && position < duration ? position : 0;
}

/** The playback position after `elapsed` seconds of a take lasting `duration`. */
export function position_at(elapsed, duration, loop) {
  if (!(duration > 0)) return 0;
  return loop ? elapsed % duration : Math.min(Math.max(0, elapsed), duration);
}

/** Linear gain for loudness-matched playback (gain_db from the loudness measured at generation). */
export function gain_factor(gain_db, matched) {
  return matched && Number.isFinite(gain_db) ? 10 ** (gain_db / 20) : 1;
}

/** Web Audio playback with a decoded-buffer cache, loudness gain and position carry-over. */
export class Player {
  constructor(fetch_bytes, on_decoded, on_change) {
    this.fetch_bytes = fetch_bytes;
    this.on_decoded = on_decoded;
    this.on_change = on_change;
    this.ctx = null;
    this.gain = null;
    this.cache = new Map(); // file -> Promise<AudioBuffer>, least recently used first
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
    const promise = this.fetch_bytes(file)
      .then((bytes) => ctx.decodeAudioData(bytes))
      .then((buffer) => {
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
    if (ctx.state === "suspended") ctx.resume(); // inside the user's gesture, before any await
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
      // already stopped
    }
    source.disconnect();
  }

  close() {
    this.token += 1;
    this.stop_source();
    if (this.ctx) this.ctx.close();
  }
}
