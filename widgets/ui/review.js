// The review screen's score pad (widgets/ui/review.py): one fieldset of native radio buttons per
// rubric criterion, so Tab and the arrow keys work and screen readers hear each group's name, plus
// keys that make scoring fast: a number sets the level of the criterion in focus and moves to the
// next criterion; "n" and "p" go to the next and previous answer. Every key is sent to the kernel,
// which holds the rules (ScorePad.press); this file only draws the state and forwards the keys.
//
// Text is set with textContent, never innerHTML.

let serial = 0;
const uid = (prefix) => `dualrole-${prefix}-${Math.random().toString(36).slice(2, 8)}-${serial++}`;
const PAD_KEYS = new Set(["n", "p", "N", "P"]);

function render({ model, el }) {
  const pad = document.createElement("div");
  pad.className = "dualrole-scorepad";
  pad.setAttribute("role", "group");
  const help = document.createElement("p");
  help.id = uid("pad-help");
  help.className = "dualrole-scorepad-help";
  pad.setAttribute("aria-labelledby", help.id);
  const rows = document.createElement("div");
  pad.append(help, rows);
  el.append(pad);
  let groups = [];

  function build() {
    rows.replaceChildren();
    help.textContent = model.get("instructions");
    groups = model.get("criteria").map(([id, label, levels], index) => {
      const fieldset = document.createElement("fieldset");
      fieldset.className = "dualrole-criterion";
      const legend = document.createElement("legend");
      legend.textContent = `${index + 1}. ${label}`;
      fieldset.append(legend);
      const name = uid("criterion");
      const inputs = levels.map((descriptor, level) => {
        const row = document.createElement("label");
        const input = document.createElement("input");
        input.type = "radio";
        input.name = name;
        input.value = String(level);
        input.addEventListener("change", () => {
          if (input.checked) model.send({ key: String(level), criterion: index, advance: false });
        });
        const span = document.createElement("span");
        span.textContent = `${level}: ${descriptor}`;
        row.append(input, span);
        fieldset.append(row);
        return input;
      });
      fieldset.addEventListener("focusin", () => {
        if (model.get("active") !== index) {
          model.set("active", index);
          model.save_changes();
        }
      });
      rows.append(fieldset);
      return { id, fieldset, inputs };
    });
    sync();
  }

  function sync() {
    const levels = model.get("levels");
    const active = model.get("active");
    groups.forEach(({ id, fieldset, inputs }, index) => {
      fieldset.classList.toggle("dualrole-criterion-active", index === active);
      fieldset.disabled = model.get("disabled");
      for (const input of inputs) input.checked = levels[id] !== undefined && Number(input.value) === levels[id];
    });
  }

  function focusActive() {
    const group = groups[model.get("active")];
    if (!group) return;
    const target = group.inputs.find((input) => input.checked) || group.inputs[0];
    if (target) target.focus();
  }

  pad.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const index = groups.findIndex(({ fieldset }) => fieldset.contains(document.activeElement));
    if (/^[0-9]$/.test(event.key) || PAD_KEYS.has(event.key)) {
      event.preventDefault();
      event.stopPropagation(); // JupyterLab's command-mode shortcuts must not see them
      const criterion = index < 0 ? model.get("active") : index;
      model.send({ key: event.key.toLowerCase(), criterion, advance: true });
      // Move on at once rather than after the kernel answers, so fast typing never scores one
      // criterion twice; the kernel's state then checks the radio.
      const group = groups[criterion];
      if (/^[0-9]$/.test(event.key) && group && Number(event.key) < group.inputs.length) {
        const input = group.inputs[Number(event.key)];
        input.checked = true;
        const next = groups[Math.min(criterion + 1, groups.length - 1)];
        (next.inputs.find((i) => i.checked) || next.inputs[0]).focus();
      }
    } else if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", " ", "Enter"].includes(event.key)) {
      event.stopPropagation();
    }
  });

  model.on("change:criteria", build);
  model.on("change:instructions", build);
  model.on("change:levels", sync);
  model.on("change:active", sync);
  model.on("change:disabled", sync);
  model.on("change:focus_request", () => { sync(); focusActive(); });
  build();
  return () => {
    model.off("change:criteria", build);
    model.off("change:instructions", build);
    model.off("change:levels", sync);
    model.off("change:active", sync);
    model.off("change:disabled", sync);
  };
}

export default { render };
