/**
 * The virtual list's geometry (fixed-height rows: a header per line, a row per take, and which
 * rows intersect the viewport) and moving the focus along it. Pure.
 */

export const LINE_HEIGHT = 56;

export const TAKE_HEIGHT = 44;

/**
 * Fixed-height rows for the virtual list: a header row per line, then a row per take.
 * @param {string[]} lines visible line names, in order
 * @param {Map<string, Take[]>} groups
 * @returns {{rows: {kind: string, key: string, line: string, file?: string, top: number,
 *   height: number}[], height: number}}
 */
export function layout(lines, groups, line_height = LINE_HEIGHT, take_height = TAKE_HEIGHT) {
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

/**
 * Index range [start, end) of the rows that intersect the viewport, widened by `overscan` rows
 * on each side. Rows are sorted by top; binary search keeps a scroll O(log n).
 */
export function visible_range(rows, scroll_top, viewport_height, overscan = 4) {
  const first_below = (y) => {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
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

/** The file `delta` takes away from `current` in `order`, clamped; the first if none. */
export function step_take(order, current, delta) {
  if (!order.length) return null;
  const index = order.indexOf(current);
  if (index < 0) return order[0];
  return order[Math.min(order.length - 1, Math.max(0, index + delta))];
}

/** The first take of the line `delta` lines away from `current_line`, clamped. */
export function step_line(lines, groups, current_line, delta) {
  if (!lines.length) return null;
  const index = lines.indexOf(current_line);
  const target = index < 0 ? 0 : Math.min(lines.length - 1, Math.max(0, index + delta));
  const list = groups.get(lines[target]) ?? [];
  return list.length ? list[0].file : null;
}
