// Bring the studio into view once, when it first shows. After Run All, JupyterLab scrolls to the notebook's last cell,
// below the studio (and it does so after the studio rendered, as the later cells run and as the studio grows). So
// until its notebook has run every cell (no prompt reads [*]) and the studio has kept its height for a moment, the
// studio is brought back whenever its top is out of view; it stops at once when the person scrolls, types or clicks (their choice wins), and after a minute at most.
const shown = new WeakSet(); // models already revealed in this page: a second view of the studio does not scroll
const SETTLE_MS = 1500; // after the last cell ran: JupyterLab's own scroll to the last cell comes in this time
const LONGEST_MS = 60000;
const USER_EVENTS = ["wheel", "keydown", "mousedown", "touchstart"];

function scrollArea(node) {
  for (let n = node.parentElement; n; n = n.parentElement) {
    const overflow = getComputedStyle(n).overflowY;
    if ((overflow === "auto" || overflow === "scroll") && n.scrollHeight > n.clientHeight) return n;
  }
  return null;
}

function running(notebook) {
  return notebook !== null && [...notebook.querySelectorAll(".jp-InputPrompt")].some((p) => p.textContent.includes("*"));
}

export default {
  render({ model, el }) {
    if (shown.has(model)) return undefined;
    shown.add(model);
    const started = performance.now();
    let quietSince = null;
    let lastHeight = -1; // the studio grows as it loads: the browser may keep the last cell in view meanwhile
    let stopped = false;
    const stop = () => { stopped = true; };
    for (const name of USER_EVENTS) window.addEventListener(name, stop, { capture: true, passive: true });
    const done = () => {
      stopped = true;
      for (const name of USER_EVENTS) window.removeEventListener(name, stop, { capture: true });
    };
    const step = () => {
      const now = performance.now();
      if (stopped || now - started > LONGEST_MS) return done();
      const studio = el.isConnected ? el.closest(".zw-studio") : null;
      if (studio !== null && studio.getBoundingClientRect().height > 0) {
        const area = scrollArea(studio);
        const box = area ? area.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
        const top = studio.getBoundingClientRect().top;
        if (top < box.top - 1 || top > box.bottom - 40) studio.scrollIntoView({ block: "start" });
        const height = Math.round(studio.getBoundingClientRect().height);
        if (running(studio.closest(".jp-Notebook")) || height !== lastHeight) quietSince = null;
        else if (quietSince === null) quietSince = now;
        else if (now - quietSince > SETTLE_MS) return done();
        lastHeight = height;
      }
      setTimeout(step, 100);
      return undefined;
    };
    step();
    return done;
  },
};
