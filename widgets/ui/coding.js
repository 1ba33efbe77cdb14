// The coding screen's code pad (widgets/ui/coding.py). The answer sits in a text area that refuses
// every edit, so the keyboard can move a caret through it and select a span with Shift and the arrow keys; a
// number key then applies the code with that key to the selected span, or to the whole answer when
// nothing is selected (pressing it again removes it). The codes are native checkboxes (whole answer)
// in one fieldset; the spans coded so far are listed, each with a button that removes it. "n" and
// "p" go to the next and previous answer. Every key is sent to the kernel, which holds the rules
// (CodePad.press); this file only draws the state and forwards the keys.
//
// Text is set with textContent or .value, never innerHTML.

let serial = 0;
const uid = (prefix) => `dualrole-${prefix}-${Math.random().toString(36).slice(2, 8)}-${serial++}`;
const KEYS = "1234567890";

function render({ model, el }) {
  const pad = document.createElement("div");
  pad.className = "dualrole-codepad";
  const help = document.createElement("p");
  help.id = uid("codepad-help");
  help.className = "dualrole-codepad-help";
  const textLabel = document.createElement("label");
  const area = document.createElement("textarea");
  area.id = uid("codepad-text");
  // Not the readOnly attribute: Chromium gives a read-only text area no caret, so the keyboard could
  // not select a span. Every edit is refused instead, and assistive technology is told it is read-only.
  area.setAttribute("aria-readonly", "true");
  area.spellcheck = false;
  area.addEventListener("beforeinput", (event) => event.preventDefault());
  area.addEventListener("input", () => { area.value = model.get("text"); });
  area.rows = 6;
  area.className = "dualrole-codepad-text";
  area.setAttribute("aria-describedby", help.id);
  textLabel.htmlFor = area.id;
  textLabel.textContent = "The answer being coded (select a span with Shift and the arrow keys):";
  const fieldset = document.createElement("fieldset");
  fieldset.className = "dualrole-codes";
  const legend = document.createElement("legend");
  legend.textContent = "Codes for the whole answer";
  fieldset.append(legend);
  const spansHeading = document.createElement("p");
  spansHeading.className = "dualrole-codepad-spans-heading";
  spansHeading.textContent = "Codes on spans:";
  const spans = document.createElement("ul");
  spans.className = "dualrole-codepad-spans";
  spans.setAttribute("aria-label", "Codes on spans");
  pad.append(help, textLabel, area, fieldset, spansHeading, spans);
  el.append(pad);
  let boxes = [];

  function send(key) {
    const start = area.selectionStart;
    const end = area.selectionEnd;
    model.send(start < end ? { key, start, end } : { key });
  }

  function build() {
    help.textContent = model.get("instructions");
    for (const row of [...fieldset.querySelectorAll("label")]) row.remove();
    boxes = model.get("codes").map(([id, name, key]) => {
      const row = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = id;
      input.addEventListener("change", () => model.send({ toggle: id }));
      const span = document.createElement("span");
      span.textContent = key ? `${key}: ${name}` : name;
      row.append(input, span);
      fieldset.append(row);
      return input;
    });
    sync();
  }

  function sync() {
    if (area.value !== model.get("text")) area.value = model.get("text");
    const whole = new Set(model.get("segments").filter((s) => s.start === null).map((s) => s.code));
    const disabled = model.get("disabled");
    fieldset.disabled = disabled;
    for (const input of boxes) input.checked = whole.has(input.value);
    const names = Object.fromEntries(model.get("codes").map(([id, name]) => [id, name]));
    spans.replaceChildren();
    model.get("segments").forEach((s, index) => {
      if (s.start === null) return;
      const item = document.createElement("li");
      const quote = document.createElement("span");
      quote.textContent = `${names[s.code] || s.code}: “${model.get("text").slice(s.start, s.end)}” `;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${names[s.code] || s.code} from “${model.get("text").slice(s.start, s.end)}”`);
      remove.addEventListener("click", () => model.send({ remove: index }));
      item.append(quote, remove);
      spans.append(item);
    });
    spansHeading.hidden = spans.childElementCount === 0;
  }

  pad.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (KEYS.includes(event.key) || ["n", "p", "N", "P"].includes(event.key)) {
      event.preventDefault();
      event.stopPropagation(); // JupyterLab's command-mode shortcuts must not see them
      if (!model.get("disabled")) send(event.key.toLowerCase());
    } else if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", " ", "Enter"].includes(event.key)) {
      event.stopPropagation();
    }
  });

  model.on("change:codes", build);
  model.on("change:instructions", build);
  model.on("change:segments", sync);
  model.on("change:text", () => { sync(); area.setSelectionRange(0, 0); });
  model.on("change:disabled", sync);
  model.on("change:focus_request", () => area.focus());
  build();
  return () => {
    model.off("change:codes", build);
    model.off("change:instructions", build);
    model.off("change:segments", sync);
    model.off("change:disabled", sync);
  };
}

export default { render };
