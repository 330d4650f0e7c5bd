/**
 * The model side: trait changes and Python's messages (`ack`, `export`, `audio`,
 * `more_estimate`, `more`: docs/widget-protocol.md), and the periodic `refresh`.
 */

/** Add `handlers` ({event name: callback}) to an anywidget model; returns the cleanup. */
export function subscribe(model, handlers) {
  const entries = Object.entries(handlers);
  for (const [name, handler] of entries) model.on(name, handler);
  return () => {
    for (const [name, handler] of entries) model.off(name, handler);
  };
}

/**
 * Trait changes and Python's messages (`ack`, `export`, `audio`, `more_estimate`, `more`:
 * docs/widget-protocol.md).
 */
export function bind_model(model, { state, audio, renderer, actions }) {
  const on_state = () => {
    state.derive();
    renderer.schedule();
  };
  /** New takes (a job's landing, a sync): the focused take stays where it is on screen. */
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
    ...{ "change:notice": renderer.show_notice, "msg:custom": on_custom },
  });
}

/**
 * Every `refresh_ms`, ask Python to look for changes made elsewhere (not while the page is
 * hidden), and give up on rank changes that were never acknowledged. Returns the cleanup.
 */
export function start_refresh(model, actions, is_hidden = () => document.hidden) {
  const timer = setInterval(() => {
    if (!is_hidden()) actions.refresh();
    actions.expire_pending();
  }, model.get("refresh_ms") || 1500);
  return () => clearInterval(timer);
}
