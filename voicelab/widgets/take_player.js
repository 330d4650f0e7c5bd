/** A list of takes with play buttons; switching takes keeps the playback position. */

export function next_position(current_time, duration) {
  if (!Number.isFinite(current_time) || current_time < 0) return 0;
  if (!Number.isFinite(duration) || duration <= 0) return current_time;
  return current_time < duration ? current_time : 0;
}

export default {
  render({ model, el }) {
    el.classList.add("vl-take-player");
    const player = new Audio();
    let urls = [];
    let playing = -1;

    const draw = () => {
      urls.forEach((url) => URL.revokeObjectURL(url));
      const takes = model.get("takes");
      const audio = model.get("audio");
      urls = audio.map((bytes) => {
        const view = ArrayBuffer.isView(bytes)
          ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
          : bytes;
        return URL.createObjectURL(new Blob([view], { type: "audio/mpeg" }));
      });
      el.replaceChildren();
      takes.forEach((take, index) => {
        const row = document.createElement("div");
        row.className = "vl-tp-row";
        row.dataset.index = String(index);
        const button = document.createElement("button");
        button.className = "vl-tp-play";
        button.textContent = "▶";
        button.title = "Play / pause";
        button.addEventListener("click", () => toggle(index));
        const label = document.createElement("span");
        label.className = "vl-tp-label";
        label.textContent = take.label;
        const facts = document.createElement("span");
        facts.className = "vl-tp-facts";
        facts.textContent = take.facts;
        row.append(button, label, facts);
        el.append(row);
      });
    };

    const mark = () => {
      el.querySelectorAll(".vl-tp-row").forEach((row) => {
        const on = Number(row.dataset.index) === playing && !player.paused;
        row.classList.toggle("vl-tp-playing", on);
        row.querySelector(".vl-tp-play").textContent = on ? "❚❚" : "▶";
      });
    };

    const toggle = (index) => {
      if (index === playing && !player.paused) {
        player.pause();
      } else {
        const at = index === playing ? player.currentTime : next_position(player.currentTime, player.duration);
        if (index !== playing) {
          player.src = urls[index];
          player.currentTime = at;
        }
        playing = index;
        player.play().catch(() => {});
      }
      mark();
    };

    player.addEventListener("pause", mark);
    player.addEventListener("ended", () => { player.currentTime = 0; mark(); });
    model.on("change:takes", draw);
    model.on("change:audio", draw);
    draw();
    return () => {
      player.pause();
      urls.forEach((url) => URL.revokeObjectURL(url));
      model.off("change:takes", draw);
      model.off("change:audio", draw);
    };
  },
};
