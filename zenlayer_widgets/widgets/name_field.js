// Image-name and description fields (anywidget ES module).
//
// The feedback is computed here, on every keystroke, from the rule the kernel sends in the `rule`
// trait (zenlayer_widgets.rules.browser_rule / browser_description_rule): pattern, limits,
// invisible categories and message templates are data, never constants in this file. Every edit
// is also synced to the kernel's `value`, whose own verdict decides what may be submitted.

/** Python's str.format for the plain `{name}` fields the templates use. */
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

/** Python's `text[0].upper() + text[1:]`, by code point. */
function capitalised(text) {
  const [first = "", ...rest] = Array.from(text);
  return first.toUpperCase() + rest.join("");
}

/** A RegExp matching one character of any of these Unicode general categories. */
function categories(names) {
  return new RegExp(`^[${names.map((name) => `\\p{gc=${name}}`).join("")}]$`, "u");
}

/** Turn a rule (as data) into `text -> {ok, problems, length, limit}`, like rules.validate_*. */
function compile(kind, rule) {
  const messages = rule.messages;
  const invisible = categories(rule.invisible_categories);
  const limit = rule.max_length;

  const describe = (char) => {
    if (char === " ") return messages.space;
    const code = `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    return invisible.test(char) ? fill(messages.invisible, { code }) : fill(messages.visible, { char, code });
  };
  const tooLong = (length) => {
    const over = length - limit;
    const noun = over === 1 ? messages.one_character : messages.many_characters;
    return fill(messages.too_long, { length, over, noun, limit });
  };

  if (kind === "description") {
    const forbidden = categories(rule.forbidden_categories);
    const controls = Array.from(rule.allowed_controls);
    return (text) => {
      const chars = Array.from(text);
      const problems = [];
      if (chars.length > limit) problems.push(messages.description_prefix + tooLong(chars.length));
      const index = chars.findIndex((char) => forbidden.test(char) && !controls.includes(char));
      if (index >= 0) {
        problems.push(capitalised(fill(messages.description_bad_char, { char: describe(chars[index]), position: index + 1 })));
      }
      return { ok: problems.length === 0, problems, length: chars.length, limit };
    };
  }

  const allowed = new RegExp(`^${rule.char_class}$`, "u");
  const whole = new RegExp(rule.pattern, "u");
  return (text) => {
    const chars = Array.from(text);
    const problems = [];
    if (chars.length === 0) problems.push(fill(messages.empty, { limit }));
    else if (chars.length > limit) problems.push(tooLong(chars.length));
    const index = chars.findIndex((char) => !allowed.test(char));
    if (index >= 0) {
      const bad = fill(messages.bad_char, { char: describe(chars[index]), position: index + 1, allowed: rule.allowed_text });
      problems.push(capitalised(bad));
    }
    return { ok: problems.length === 0 && whole.test(text), problems, length: chars.length, limit };
  };
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  const kind = model.get("kind");
  const id = `zw-${kind}-${Math.random().toString(36).slice(2)}`;
  const root = element("div", "zw-field", el);
  const head = element("div", "zw-field-head", root);
  const label = element("label", "zw-field-label", head);
  const counter = element("span", `zw-field-counter zw-${kind}-counter`, head);
  const input = element(kind === "description" ? "textarea" : "input", "zw-field-input", root);
  const feedback = element("div", `zw-field-feedback zw-${kind}-feedback`, root);
  if (input.tagName === "INPUT") input.type = "text";
  input.id = id;
  input.autocomplete = "off";
  input.spellcheck = false;
  input.setAttribute("aria-describedby", `${id}-feedback`);
  label.htmlFor = id;
  feedback.id = `${id}-feedback`;
  feedback.setAttribute("aria-live", "polite");

  let check = compile(kind, model.get("rule"));
  let composing = false;

  /** Show the verdict on what is in the input: counter, feedback, zw-invalid. */
  const show = () => {
    const verdict = check(input.value);
    // a problem only the kernel knows (the name is taken in the zone), while the input still holds that text
    const conflict = model.get("conflict") || {};
    const taken = conflict.value === input.value && input.value !== "" ? conflict.message || "" : "";
    const empty = input.value === "";
    const flagged = !empty && (!verdict.ok || taken !== "");
    counter.textContent = `${verdict.length}/${verdict.limit}`;
    counter.classList.toggle("zw-over", verdict.length > verdict.limit);
    if (empty && model.get("hint")) feedback.textContent = model.get("hint");
    else feedback.textContent = !verdict.ok ? verdict.problems.join(" ") : taken || model.get("ok_text");
    feedback.classList.toggle("zw-hint", empty);
    el.classList.toggle("zw-invalid", flagged);
    input.setAttribute("aria-invalid", String(flagged));
  };
  const edited = () => {
    show();
    model.set("value", input.value);
    model.save_changes();
  };
  const fromModel = () => {
    label.textContent = model.get("label");
    input.placeholder = model.get("placeholder");
    input.disabled = model.get("disabled");
    show();
  };

  input.addEventListener("compositionstart", () => {
    composing = true;
  });
  input.addEventListener("compositionend", () => {
    composing = false;
    edited();
  });
  input.addEventListener("input", (event) => {
    if (!composing && !event.isComposing) edited();
  });

  model.on("change:value", () => {
    const value = model.get("value");
    if (!composing && value !== input.value) {
      input.value = value;
      show();
    }
  });
  model.on("change:rule", () => {
    check = compile(kind, model.get("rule"));
    show();
  });
  model.on("change:label change:placeholder change:disabled change:ok_text change:hint change:conflict", fromModel);
  // The kernel's _dom_classes lag behind typing; the local verdict on what is in the input wins.
  model.on("change:_dom_classes", show);

  input.value = model.get("value");
  fromModel();
}

export default { render };

// For the parity check with rules.py under node (tests/widgets/test_name_rule_parity.py); anywidget uses `default`.
export { compile };
