/**
 * Waveform overviews: the stored `peaks` trait (bytes 0-255 per point), peaks of decoded samples,
 * and painting them on a take row's canvas.
 */

export const WAVE_WIDTH = 240;

export const WAVE_HEIGHT = 30;

export const PEAK_POINTS = 100; // bytes per take in the `peaks` trait (rank_board.PEAK_POINTS)

/**
 * One take's stored waveform overview from the packed `peaks` trait (bytes 0-255 per point).
 * @param {DataView|ArrayBuffer|Uint8Array|null} packed
 * @param {number} index the take's position in `takes`
 * @returns {number[]} values 0.0-1.0, empty when there is none
 */
export function stored_peaks(packed, index, points = PEAK_POINTS) {
  if (!packed || index < 0) return [];
  const bytes = ArrayBuffer.isView(packed)
    ? new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength)
    : new Uint8Array(packed);
  const start = index * points;
  if (start + points > bytes.length) return [];
  const out = Array.from(bytes.subarray(start, start + points), (v) => v / 255);
  return out.some((v) => v > 0) ? out : [];
}

/** A waveform overview of decoded samples: the max |sample| of `points` equal slices. */
export function peaks_from_samples(samples, points) {
  const out = [];
  const n = samples.length;
  if (!n) return out;
  const count = Math.min(points, n);
  for (let i = 0; i < count; i += 1) {
    const from = Math.floor((i * n) / count);
    const to = Math.floor(((i + 1) * n) / count);
    let max = 0;
    for (let j = from; j < to; j += 1) {
      const v = Math.abs(samples[j]);
      if (v > max) max = v;
    }
    out.push(max);
  }
  return out;
}

/** Paint a waveform overview (`peaks`, 0.0-1.0) on a take row's canvas. */
export function paint_wave(row, peaks, source, color) {
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
    const p = Math.min(1, peaks[Math.floor((x * peaks.length) / w)] || 0);
    const bar = Math.max(ratio, p * h);
    g.fillRect(x, (h - bar) / 2, 1, bar);
  }
}
