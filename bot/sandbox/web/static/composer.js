// The message box: plain messages, and slash commands built from what the bot registered — names,
// descriptions, options, choices, ranges, autocomplete, attachments and localisations — plus the
// modals the bot answers with. Nothing here is hard-coded per command, so it cannot drift.

import { el } from "./render.js";

const SUB_COMMAND = 1, SUB_COMMAND_GROUP = 2, STRING = 3, INTEGER = 4, BOOLEAN = 5, USER = 6, CHANNEL = 7;
const ROLE = 8, MENTIONABLE = 9, NUMBER = 10, ATTACHMENT = 11;
const INLINE_OPTION = /(?:^|\s)([\p{Ll}\p{Lo}\p{N}_-]+):/gu;
const CHANNEL_TYPES = { text: 0, dm: 1, announcement: 5, forum: 15, thread: 11 };

const localised = (item, key, locale) => (item[`${key}_localizations`] || {})[locale] || item[key] || "";

/** Every runnable command: `/config modality` is its own entry, as in Discord's picker. */
export function flatten(commands, locale) {
  const entries = [];
  for (const command of commands) {
    const options = command.options || [];
    const subs = options.filter((o) => o.type === SUB_COMMAND || o.type === SUB_COMMAND_GROUP);
    if (!subs.length) {
      entries.push({ path: [command.name], label: localised(command, "name", locale), description: localised(command, "description", locale), options, command });
      continue;
    }
    for (const sub of subs) {
      if (sub.type === SUB_COMMAND) {
        entries.push({ path: [command.name, sub.name], label: `${localised(command, "name", locale)} ${localised(sub, "name", locale)}`,
          description: localised(sub, "description", locale), options: sub.options || [], command });
      } else {
        for (const leaf of sub.options || []) {
          entries.push({ path: [command.name, sub.name, leaf.name],
            label: `${localised(command, "name", locale)} ${localised(sub, "name", locale)} ${localised(leaf, "name", locale)}`,
            description: localised(leaf, "description", locale), options: leaf.options || [], command });
        }
      }
    }
  }
  return entries;
}

/** Locales any command is localised in (for the language picker). */
export function localesOf(commands) {
  const found = new Set();
  const walk = (item) => {
    for (const key of ["name_localizations", "description_localizations"]) Object.keys(item[key] || {}).forEach((l) => found.add(l));
    (item.options || []).forEach(walk);
    (item.choices || []).forEach(walk);
  };
  commands.forEach(walk);
  return [...found].sort();
}

export class Composer {
  /** app: { state, api(path, body), channel(), openModal(interaction), notice(text), members(), roles(), channels() } */
  constructor(app) {
    this.app = app;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.list = document.getElementById("command-list");
    this.fieldset = document.getElementById("command-options");
    this.legend = document.getElementById("command-legend");
    this.fields = document.getElementById("option-fields");
    this.error = document.getElementById("composer-error");
    this.sendButton = document.getElementById("composer-send");
    this.entries = [];
    this.matches = [];
    this.active = -1;
    this.selected = null;
    this.autocompleteTimers = new Map();
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
  }

  setCommands(commands, locale) {
    this.entries = flatten(commands, locale);
    this.locale = locale;
    if (this.selected) {
      const same = this.entries.find((e) => e.path.join(" ") === this.selected.path.join(" "));
      if (!same) this.clear();
    }
    if (!this.list.hidden) this.onInput();
  }

  setChannel(channel) {
    const writable = channel && channel.kind !== "forum" && channel.can_send !== false;
    this.input.disabled = !writable;
    this.sendButton.disabled = !writable;
    this.input.placeholder = !channel ? "" : channel.kind === "forum" ? "Open a post to write in it"
      : `Message ${channel.kind === "dm" ? "@" + this.app.botName() : "#" + channel.name} — type / for commands`;
    this.input.setAttribute("aria-label", channel ? `Message ${channel.kind === "dm" ? "the bot" : "#" + channel.name}, or / for a command` : "Message");
  }

  clear() {
    for (const timer of this.autocompleteTimers.values()) clearTimeout(timer);
    this.autocompleteTimers.clear();
    this.selected = null;
    this.input.value = "";
    this.fieldset.hidden = true;
    this.fields.replaceChildren();
    this.closeList();
    this.error.textContent = "";
  }

  // --- the command picker -------------------------------------------------------------------

  onInput() {
    const text = this.input.value;
    this.error.textContent = "";
    if (this.selected && !text.startsWith(`/${this.selected.label} `)) {
      this.selected = null;
      this.fieldset.hidden = true;
      this.fields.replaceChildren();
    }
    if (!text.startsWith("/") || this.selected) return this.closeList();
    const typed = text.slice(1).trim().toLowerCase();
    this.matches = this.entries.filter((e) => !typed || e.label.toLowerCase().startsWith(typed) || e.path.join(" ").startsWith(typed)
      || e.label.toLowerCase().split(" ").some((w) => w.startsWith(typed))).slice(0, 25);
    this.active = this.matches.length ? 0 : -1;
    this.drawList();
  }

  drawList() {
    this.list.replaceChildren();
    if (!this.matches.length) {
      this.list.append(el("li", { class: "muted", role: "option", "aria-disabled": "true", text: this.entries.length ? "No command matches" : "The bot has not registered any command yet" }));
    }
    this.matches.forEach((entry, index) => {
      const item = el("li", { id: `cmd-${index}`, role: "option", "aria-selected": String(index === this.active), "data-command": entry.path.join(" ") });
      item.append(el("span", { class: "cmd", text: `/${entry.label}` }), el("span", { class: "desc", text: entry.description }));
      item.addEventListener("mousedown", (event) => { event.preventDefault(); this.choose(entry); });
      this.list.append(item);
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `cmd-${this.active}`);
  }

  closeList() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  onKey(event) {
    if (this.list.hidden) {
      if (event.key === "Escape" && this.selected) { this.clear(); event.preventDefault(); }
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.matches.length) % Math.max(this.matches.length, 1);
      this.drawList();
      this.list.querySelector(`#cmd-${this.active}`)?.scrollIntoView({ block: "nearest" });
    } else if ((event.key === "Enter" || event.key === "Tab") && this.active >= 0) {
      event.preventDefault();
      this.choose(this.matches[this.active]);
    } else if (event.key === "Escape") {
      this.closeList();
    }
  }

  choose(entry) {
    this.selected = entry;
    this.input.value = `/${entry.label} `;
    this.closeList();
    this.drawOptions(entry);
    const first = this.fields.querySelector("input, select");
    (first || this.input).focus();
  }

  // --- options -----------------------------------------------------------------------------

  drawOptions(entry) {
    this.fields.replaceChildren();
    this.legend.replaceChildren(el("span", { text: `/${entry.label} ` }), el("span", { class: "desc", text: entry.description }));
    const ordered = [...entry.options].sort((a, b) => Number(Boolean(b.required)) - Number(Boolean(a.required)));
    for (const option of ordered) this.fields.append(this.field(option));
    this.fieldset.hidden = false;
  }

  field(option) {
    const id = `opt-${option.name}`;
    const wrap = el("div", { class: "option-field", "data-option": option.name });
    const label = el("label", { for: id, text: localised(option, "name", this.locale) });
    if (option.required) label.append(el("span", { class: "req", "aria-hidden": "true", text: " *" }));
    wrap.append(label);
    const described = localised(option, "description", this.locale);
    const hint = el("span", { class: "hint", id: `${id}-hint`, text: described === "…" ? "" : described });  // "…": discord.py's "none given"
    let control;
    const common = { id, name: option.name, "aria-describedby": `${id}-hint`, required: Boolean(option.required), "data-type": option.type };
    if (option.choices?.length) {
      control = el("select", common);
      control.append(el("option", { value: "", text: option.required ? "Choose…" : "—" }));
      for (const choice of option.choices) control.append(el("option", { value: String(choice.value), text: localised(choice, "name", this.locale) }));
    } else if (option.type === BOOLEAN) {
      control = el("select", common);
      control.append(el("option", { value: "", text: "—" }), el("option", { value: "true", text: "True" }), el("option", { value: "false", text: "False" }));
    } else if (option.type === INTEGER || option.type === NUMBER) {
      control = el("input", { ...common, type: "number", step: option.type === INTEGER ? "1" : "any", min: option.min_value, max: option.max_value,
        placeholder: rangeText(option) });
    } else if ([USER, CHANNEL, ROLE, MENTIONABLE].includes(option.type)) {
      control = el("select", common);
      control.append(el("option", { value: "", text: "—" }));
      for (const choice of this.mentionables(option)) control.append(el("option", { value: choice.value, text: choice.label }));
    } else if (option.type === ATTACHMENT) {
      control = el("input", { ...common, type: "file" });
    } else {
      control = el("input", { ...common, type: "text", minlength: option.min_length, maxlength: option.max_length, placeholder: " " });
      if (option.autocomplete) {
        const list = el("datalist", { id: `${id}-choices` });
        control.setAttribute("list", list.id);
        control.setAttribute("data-autocomplete", "true");
        const ask = () => this.autocomplete(option, list);
        control.addEventListener("input", ask);
        control.addEventListener("focus", ask);
        wrap.append(list);
      }
    }
    wrap.append(control, hint);
    return wrap;
  }

  mentionables(option) {
    const members = this.app.members().map((m) => ({ value: m.id, label: `@${m.name}` }));
    const roles = this.app.roles().map((r) => ({ value: r.id, label: `@${r.name}` }));
    if (option.type === USER) return members;
    if (option.type === ROLE) return roles;
    if (option.type === MENTIONABLE) return [...members, ...roles];
    const allowed = option.channel_types;
    return this.app.channels().filter((c) => !allowed || allowed.includes(c.type ?? CHANNEL_TYPES[c.kind]))
      .map((c) => ({ value: c.id, label: `#${c.name}` }));
  }

  autocomplete(option, list) {
    clearTimeout(this.autocompleteTimers.get(option.name));
    const entry = this.selected;
    this.autocompleteTimers.set(option.name, setTimeout(async () => {
      if (this.selected !== entry) return;
      const { options } = await this.values({ partial: true });
      const result = await this.app.api("autocomplete", {
        channel_id: this.app.channel().id, name: entry.path.join(" "), options, focused: option.name, locale: this.locale,
      });
      if (!result.ok || this.selected !== entry) return;
      list.replaceChildren(...(result.data.choices || []).map((c) => el("option", { value: String(c.value), label: localised(c, "name", this.locale) })));
    }, 200));
  }

  inlineValues() {
    // `/write prompt:a haiku kind:poem` typed straight into the box, as in Discord.
    const rest = this.input.value.slice(this.selected.label.length + 1);
    const found = {};
    const matches = [...rest.matchAll(INLINE_OPTION)];
    matches.forEach((match, index) => {
      const end = index + 1 < matches.length ? matches[index + 1].index : rest.length;
      found[match[1]] = rest.slice(match.index + match[0].length, end).trim();
    });
    return found;
  }

  async values({ partial = false } = {}) {
    const options = {};
    const typed = this.selected ? this.inlineValues() : {};
    for (const option of this.selected.options) {
      const control = this.fields.querySelector(`[name="${CSS.escape(option.name)}"]`);
      if (!control) continue;
      if (option.type === ATTACHMENT) {
        if (control.files?.length && !partial) options[option.name] = await this.upload(control.files[0]);
        continue;
      }
      const raw = control.value !== "" ? control.value : typed[option.name] ?? "";
      if (raw === "") continue;
      if (option.type === INTEGER) options[option.name] = partial ? raw : parseInt(raw, 10);
      else if (option.type === NUMBER) options[option.name] = partial ? raw : parseFloat(raw);
      else if (option.type === BOOLEAN) options[option.name] = raw === "true";
      else options[option.name] = raw;
    }
    return { options };
  }

  async upload(file) {
    const response = await fetch(`/_sandbox/attachments?filename=${encodeURIComponent(file.name)}`, {
      method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
    });
    return response.json();
  }

  // --- sending -----------------------------------------------------------------------------------

  async submit() {
    const channel = this.app.channel();
    if (!channel) return;
    if (!this.selected) {
      const text = this.input.value.trim();
      if (!text) return;
      if (text.startsWith("/")) {
        const exact = this.matches[this.active] || this.entries.find((e) => text.slice(1).startsWith(e.label));
        if (exact) return this.choose(exact);
        this.error.textContent = `No command /${text.slice(1).split(" ")[0]} — type / to see them.`;
        return;
      }
      const posted = await this.app.api("post", { channel_id: channel.id, content: text });
      if (posted.ok) this.clear(); else this.error.textContent = posted.data.message;
      return;
    }
    for (const control of this.fields.querySelectorAll("input, select")) {
      const typed = this.inlineValues()[control.name];
      if (control.required && control.value === "" && !(typed && control.type !== "file")) {
        control.focus();
        this.error.textContent = `${control.name} is required.`;
        return;
      }
      if (control.value !== "" && !control.checkValidity()) {
        control.reportValidity();
        this.error.textContent = `${control.name}: ${control.validationMessage}`;
        return;
      }
    }
    this.sendButton.disabled = true;
    try {
      const { options } = await this.values();
      const result = await this.app.api("command", { channel_id: channel.id, name: this.selected.path.join(" "), options, locale: this.locale });
      if (!result.ok) { this.error.textContent = result.data.message; return; }
      this.clear();
      this.app.answered(result.data);
    } finally {
      this.sendButton.disabled = false;
    }
  }
}

function rangeText(option) {
  const low = option.min_value, high = option.max_value;
  if (low !== undefined && high !== undefined) return `${low}–${high}`;
  if (low !== undefined) return `≥ ${low}`;
  if (high !== undefined) return `≤ ${high}`;
  return "";
}

/** The modal a bot answered with: text inputs (in rows or labels), selects and text. */
export function openModal(app, interaction) {
  const modal = interaction.modal;
  const dialog = document.getElementById("modal");
  const fields = document.getElementById("modal-fields");
  const error = document.getElementById("modal-error");
  document.getElementById("modal-title").textContent = modal.title || "Form";
  fields.replaceChildren();
  error.textContent = "";
  const inputs = [];
  const add = (component, labelText, description) => {
    const id = `modal-field-${component.custom_id}`;
    const wrap = el("div", { class: "modal-field" });
    wrap.append(el("label", { for: id, text: labelText || component.label || component.placeholder || component.custom_id }));
    if (description) wrap.append(el("span", { class: "hint", text: description }));
    let control;
    if (component.type === 4) {
      const attrs = { id, name: component.custom_id, required: component.required !== false, minlength: component.min_length,
        maxlength: component.max_length, placeholder: component.placeholder };
      control = component.style === 2 ? el("textarea", { ...attrs, rows: 4 }) : el("input", { ...attrs, type: "text" });
      control.value = component.value || "";
    } else if (component.type === 3) {
      control = el("select", { id, name: component.custom_id, multiple: (component.max_values || 1) > 1, required: component.required !== false });
      for (const option of component.options || []) control.append(el("option", { value: option.value, text: option.label, selected: Boolean(option.default) }));
    } else {
      wrap.append(el("p", { class: "fallback", text: `⚠ This page cannot show a modal part of type ${component.type}.` }));
      fields.append(wrap);
      return;
    }
    wrap.append(control);
    fields.append(wrap);
    inputs.push({ component, control });
  };
  for (const component of modal.components || []) {
    if (component.type === 1) (component.components || []).forEach((child) => add(child));
    else if (component.type === 18 && component.component) add(component.component, component.label, component.description);
    else if (component.type === 10) fields.append(el("p", { class: "content", text: component.content }));
    else add(component);
  }
  const form = document.getElementById("modal-form");
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const values = {};
    for (const { component, control } of inputs) {
      values[component.custom_id] = component.type === 3 ? [...control.selectedOptions].map((o) => o.value) : control.value;
    }
    const result = await app.api("modal", { interaction_id: interaction.id, values });
    if (!result.ok) { error.textContent = result.data.message; return; }
    dialog.close();
    app.answered(result.data);
  };
  document.getElementById("modal-cancel").onclick = () => dialog.close();
  dialog.showModal();
  fields.querySelector("input, textarea, select")?.focus();
}
