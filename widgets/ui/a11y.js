// Accessible controls for the case card, where ipywidgets falls short (jupyter-widgets/ipywidgets#2650):
// a radio group with a programmatic name, a confidence slider with a label, a status line that is a
// persistent live region, and a reveal panel that takes the focus when the learner commits. And a
// commit button whose click carries what the learner typed (see renderCommit).
//
// Labels and messages are set with textContent, never innerHTML. The one exception is the reveal,
// whose HTML the kernel builds from escaped and sanitised parts (widgets/reveal.py, widgets/render.py).

let serial = 0;
const uid = (prefix) => `dualrole-${prefix}-${Math.random().toString(36).slice(2, 8)}-${serial++}`;

// Keys these controls handle themselves. JupyterLab's notebook shortcuts (arrows move between cells,
// Enter edits a cell) listen on the document, so they must not see them.
const OWN_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End",
  "PageUp", "PageDown", " ", "Enter"]);

function keepOwnKeys(node) {
  node.addEventListener("keydown", (event) => {
    if (OWN_KEYS.has(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.stopPropagation();
    }
  });
}

// Every dualrole widget (a card, My answers, a reflection box...) is a box marked "dualrole-guard". No
// key pressed inside it may reach JupyterLab's notebook shortcuts: in command mode a focused select,
// radio, slider or button is not an editable element, so "m" would turn the card's cell into Markdown,
// arrows would move to another cell and "d d" would delete it. Lumino skips any element inside one
// marked data-lm-suppress-shortcuts; stopping the key at the box also keeps it from the notebook's own
// listeners. Tab still moves the focus, so nobody is trapped.
const GUARD = "dualrole-guard";

function shield(box) {
  if (box.dataset.dualroleShield) return;
  box.dataset.dualroleShield = "1";
  box.setAttribute("data-lm-suppress-shortcuts", "true");
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") event.stopPropagation();
  });
  // ipywidgets marks the box's own view when its kernel is gone.
  const stale = () => { if (box.classList.contains(DISCONNECTED)) markStale(box); };
  new MutationObserver(stale).observe(box, { attributes: true, attributeFilter: ["class"] });
  stale();
}

// A view is appended to its box after it renders: wait until it is in the page to find the box.
function whenInPage(el, found, tries = 200) {
  if (el.isConnected) { found(); return; }
  if (tries > 0) setTimeout(() => whenInPage(el, found, tries - 1), 50);
}

// After the kernel restarts, the widgets on the page lose their kernel: what is typed into them can
// never be saved. ipywidgets marks each such view "jupyter-widgets-disconnected" (a broken-link icon and
// nothing more); here the whole box is locked, and one plain line says what to do. A box made later by
// rerunning the cell is a new one, live again.
const DISCONNECTED = "jupyter-widgets-disconnected";

function markStale(box) {
  if (box.querySelector(":scope > .dualrole-stale-notice")) return;
  for (const control of box.querySelectorAll("input, textarea, select, button")) {
    control.disabled = true;
  }
  const what = box.classList.contains("dualrole-card") ? "This card" : "This part of the page";
  const notice = document.createElement("p");
  notice.className = "dualrole-stale-notice";
  notice.setAttribute("role", "alert");
  notice.textContent = `${what} was made before the kernel restarted: run this cell again (click the cell's `
    + "code, then press Shift+Enter). Until then it cannot save anything, so nothing here accepts input.";
  box.classList.add("dualrole-stale");
  box.prepend(notice);
}

function guard(el) {
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  whenInPage(el, () => { const box = el.closest(`.${GUARD}`); if (box) shield(box); });
}

function listen(model, events, handler) {
  for (const name of events) model.on(name, handler);
  return () => { for (const name of events) model.off(name, handler); };
}

// A fieldset whose legend names the group; native radios sharing one name, so Tab enters the
// group once and the arrow keys move the choice.
function renderChoice({ model, el }) {
  const fieldset = document.createElement("fieldset");
  fieldset.className = model.get("inline") ? "dualrole-choice dualrole-choice-inline" : "dualrole-choice";
  const legend = document.createElement("legend");
  fieldset.append(legend);
  const name = uid("choice");
  let inputs = [];

  function sync() {
    fieldset.disabled = model.get("disabled");
    const value = model.get("value");
    for (const input of inputs) input.checked = input.value === value;
  }

  function build() {
    legend.textContent = model.get("description");
    for (const row of fieldset.querySelectorAll("label")) row.remove();
    inputs = model.get("options").map(([label, value]) => {
      const row = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name;
      input.value = value;
      input.addEventListener("change", () => {
        if (input.checked) {
          model.set("value", value);
          model.save_changes();
        }
      });
      const span = document.createElement("span");
      span.textContent = label;
      row.append(input, span);
      fieldset.append(row);
      return input;
    });
    sync();
  }

  keepOwnKeys(fieldset);
  build();
  el.append(fieldset);
  const offBuild = listen(model, ["change:options", "change:description"], build);
  const offSync = listen(model, ["change:value", "change:disabled"], sync);
  return () => { offBuild(); offSync(); };
}

// A native range input named by its label; the readout is visible but hidden from assistive
// technology, which hears aria-valuetext ("65%") instead.
function renderRange({ model, el }) {
  const id = uid("range");
  const wrap = document.createElement("div");
  wrap.className = "dualrole-range";
  const label = document.createElement("label");
  label.htmlFor = id;
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  const readout = document.createElement("span");
  readout.className = "dualrole-range-readout";
  readout.setAttribute("aria-hidden", "true");

  function show(value) {
    const words = `${value}${model.get("unit")}`;
    readout.textContent = words;
    input.setAttribute("aria-valuetext", words);
  }

  function sync() {
    label.textContent = model.get("description");
    input.min = model.get("min");
    input.max = model.get("max");
    input.step = model.get("step");
    input.value = model.get("value");
    input.disabled = model.get("disabled");
    show(model.get("value"));
  }

  input.addEventListener("input", () => show(Number(input.value)));
  input.addEventListener("change", () => {
    model.set("value", Number(input.value));
    model.save_changes();
  });
  keepOwnKeys(input);
  wrap.append(label, input, readout);
  sync();
  el.append(wrap);
  return listen(model, ["change:value", "change:min", "change:max", "change:step", "change:disabled",
    "change:description", "change:unit"], sync);
}

// Two live regions made once, so that every later message is announced: role=status (polite)
// for progress, role=alert (assertive) for a failed save.
function renderStatus({ model, el }) {
  const polite = document.createElement("p");
  polite.setAttribute("role", "status");
  polite.className = "dualrole-status";
  const urgent = document.createElement("p");
  urgent.setAttribute("role", "alert");
  urgent.className = "dualrole-status dualrole-status-urgent";

  function sync() {
    const message = model.get("value");
    const isUrgent = model.get("urgent");
    polite.textContent = isUrgent ? "" : message;
    urgent.textContent = isUrgent ? message : "";
  }

  sync();
  el.append(polite, urgent);
  return listen(model, ["change:value", "change:urgent"], sync);
}

// The reveal: HTML built by the kernel (widgets/reveal.py). The card asks for the focus to move
// here when the learner commits, so a keyboard or screen-reader user lands on it.
function renderReveal({ model, el }) {
  const box = document.createElement("div");
  box.className = "dualrole-reveal-box";
  // After the reference, one clear next step: the next case on the page (none after the last).
  const next = document.createElement("button");
  next.type = "button";
  next.className = "jupyter-widgets jupyter-button widget-button dualrole-next";
  next.textContent = "Next case ↓";
  next.addEventListener("click", () => {
    const card = nextCard(el);
    if (!card) return;
    const target = card.querySelector("h3") || card;
    target.tabIndex = -1;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  });
  const show = () => {
    box.innerHTML = model.get("value");
    next.style.display = !model.get("value") || !nextCard(el) ? "none" : "";
  };
  show();
  el.append(box, next);
  whenInPage(el, show);
  return listen(model, ["change:value"], show);
}

function nextCard(el) {
  const mine = el.closest(".dualrole-card");
  if (!mine) return null;
  const cards = [...document.querySelectorAll(".dualrole-card")];
  return cards[cards.indexOf(mine) + 1] || null;
}

// A button like ipywidgets' own (same classes, so the same look), whose click message carries the
// values of its sources as this page holds them. ipywidgets 8 sends a control's state updates one at a
// time, holding later keystrokes until the kernel is idle, but a click goes at once: without the values
// it could reach the kernel ahead of the last keystrokes, and the commit would miss them.
const MODEL_PREFIX = "IPY_MODEL_";

function renderCommit({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  let sources = Promise.resolve([]);

  function resolveSources() {
    sources = Promise.all(model.get("sources").map((ref) => (typeof ref === "string"
      ? model.widget_manager.get_model(ref.slice(MODEL_PREFIX.length)) : Promise.resolve(ref))));
  }

  function sync() {
    const style = model.get("button_style");
    button.className = "jupyter-widgets jupyter-button widget-button" + (style ? ` mod-${style}` : "");
    button.textContent = model.get("description");
    button.title = model.get("tooltip");
    button.disabled = model.get("disabled");
  }

  button.addEventListener("click", async () => {
    // Read the values after the models resolve (at once, once they have): every keystroke made before
    // the click is in them.
    const models = await sources;
    const carried = model.get("carried");
    model.send({ event: "click", state: models.map((source, i) => source.get(carried[i])) });
  });
  keepOwnKeys(button);
  resolveSources();
  sync();
  el.append(button);
  const offSources = listen(model, ["change:sources"], resolveSources);
  const offSync = listen(model, ["change:description", "change:tooltip", "change:disabled",
    "change:button_style"], sync);
  return () => { offSources(); offSync(); };
}

// Where focus goes when the kernel asks (focus_request): the chosen radio (or the first), the
// range input, the commit button, or the reveal region.
function focusTarget(el) {
  return el.querySelector("input[type=radio]:checked") || el.querySelector("input, button, .dualrole-reveal");
}

function moveFocus(el) {
  const target = focusTarget(el);
  if (!target) return;
  const isInput = target.matches("input, button");
  if (!isInput) target.tabIndex = -1;
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: isInput ? "nearest" : "start" });
}

const RENDERERS = {
  choice: renderChoice, range: renderRange, status: renderStatus, reveal: renderReveal, commit: renderCommit,
};

export default {
  render(context) {
    const { model, el } = context;
    const cleanup = RENDERERS[model.get("kind")](context);
    // The request arrives after the state it depends on (unlocked inputs, new reveal HTML);
    // wait one frame so that state is in the page.
    const offFocus = listen(model, ["change:focus_request"], () => requestAnimationFrame(() => moveFocus(el)));
    guard(el);
    return () => { cleanup(); offFocus(); };
  },
};
