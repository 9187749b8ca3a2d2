// One message as Discord draws it: author, content, embeds, files, components. Whatever this page
// cannot draw is listed in a labelled fallback with its raw JSON; nothing is dropped silently.

import { escapeHtml, markdown, timeHtml } from "./markdown.js";

const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const SUPPRESS_EMBEDS = 1 << 2;
const COMPONENTS_V2 = 1 << 15;
const SHOWN_TYPES = new Set([0, 19, 20, 21, 23]);
const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp)$/i;
const AUDIO = /\.(ogg|oga|opus|mp3|wav|flac|m4a)$/i;
const MIDI = /\.(mid|midi)$/i;
const TEXT = /\.(txt|md|json|csv|abc|log)$/i;
const SELECTS = new Set([3, 5, 6, 7, 8]);
// Message fields the page draws or that carry nothing to draw.
const KNOWN_FIELDS = new Set([
  "id", "type", "channel_id", "guild_id", "author", "member", "content", "timestamp", "edited_timestamp", "tts",
  "mention_everyone", "mentions", "mention_roles", "mention_channels", "attachments", "embeds", "components",
  "pinned", "flags", "webhook_id", "application_id", "interaction_metadata", "interaction", "nonce",
  "message_reference", "referenced_message", "ephemeral_for", "reactions", "position", "enforce_nonce",
  "allowed_mentions", "thread",
]);

const el = (tag, attrs = {}, html) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  if (html !== undefined) node.innerHTML = html;
  return node;
};

export function isEphemeral(message) { return Boolean((message.flags || 0) & EPHEMERAL); }
export function isLoading(message) { return Boolean((message.flags || 0) & LOADING); }

const COLOURS = ["#5865f2", "#eb459e", "#3ba55c", "#faa61a", "#ed4245", "#00a8fc", "#9b59b6"];
export function colourFor(id) {
  let sum = 0;
  for (const ch of String(id)) sum = (sum * 31 + ch.charCodeAt(0)) % 9973;
  return COLOURS[sum % COLOURS.length];
}

export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function hex(colour) { return `#${Number(colour).toString(16).padStart(6, "0")}`; }

/**
 * ctx: { locale, viewer, user(id)→name, channel(id)→name, role(id)→name, displayName(user),
 *        onButton(message, custom_id, node), onSelect(message, custom_id, values, node), onDismiss(message) }
 */
export function renderMessage(message, ctx) {
  const item = el("li", { class: "message", id: `msg-${message.id}`, "data-message-id": message.id });
  const unsupported = [];
  if (isEphemeral(message)) item.classList.add("ephemeral");
  if (isLoading(message)) item.classList.add("loading");
  const author = message.author || {};
  const name = ctx.displayName(author);
  const avatar = el("div", { class: "avatar", "aria-hidden": "true", text: name.slice(0, 1).toUpperCase() });
  avatar.style.setProperty("background", colourFor(author.id || "0"));
  item.append(avatar);
  const body = el("div", { class: "body" });
  item.append(body);

  const meta = message.interaction_metadata;
  if (meta && meta.user) {
    const who = ctx.displayName(meta.user);
    const what = meta.name ? `<code>/${escapeHtml(meta.name)}</code>` : "a button";
    body.append(el("p", { class: "invoked" }, `↳ <b>${escapeHtml(who)}</b> used ${what}`));
  }
  const header = el("div", { class: "msg-header" });
  header.append(el("span", { class: "author", text: name }));
  if (author.bot) header.append(el("span", { class: "app-tag", text: "APP" }));
  if (message.timestamp) {
    const unix = Math.floor(new Date(message.timestamp).getTime() / 1000);
    header.insertAdjacentHTML("beforeend", timeHtml(unix, "f", ctx.locale, "sent"));
  }
  if (message.edited_timestamp && !isLoading(message)) header.append(el("span", { class: "edited", text: "(edited)" }));
  body.append(header);

  if (!SHOWN_TYPES.has(message.type ?? 0)) unsupported.push({ label: `a message of type ${message.type}`, raw: { type: message.type } });

  if (isLoading(message)) {
    body.append(el("p", { class: "thinking", role: "status" }, `${escapeHtml(ctx.botName)} is thinking<span class="dots"></span>`));
  }
  if (message.content) body.append(el("div", { class: "content" }, markdown(message.content, ctx)));

  const embedded = new Set();
  if (!((message.flags || 0) & SUPPRESS_EMBEDS)) {
    for (const embed of message.embeds || []) body.append(renderEmbed(embed, message, ctx, embedded, unsupported));
  }
  const files = renderAttachments((message.attachments || []).filter((a) => !embedded.has(a.filename)), ctx);
  if (files) body.append(files);
  if ((message.components || []).length) {
    const box = el("div", { class: "components" });
    for (const component of message.components) box.append(renderComponent(component, message, ctx, unsupported));
    body.append(box);
  }
  if ((message.reactions || []).length) {
    const row = el("div", { class: "reactions", "aria-label": "Reactions" });
    for (const reaction of message.reactions) {
      const emoji = reaction.emoji?.name || "?";
      row.append(el("span", { class: "reaction", text: `${emoji} ${reaction.count ?? 1}` }));
    }
    body.append(row);
  }
  for (const [key, value] of Object.entries(message)) {
    if (!KNOWN_FIELDS.has(key) && value !== null && value !== undefined && !(Array.isArray(value) && !value.length)) {
      unsupported.push({ label: key.replace(/_/g, " "), raw: { [key]: value } });
    }
  }
  if (unsupported.length) body.append(renderFallback(unsupported));
  if (isEphemeral(message)) {
    const note = el("p", { class: "ephemeral-note" }, `<span aria-hidden="true">👁</span> Only you can see this · `);
    const dismiss = el("button", { type: "button", text: "Dismiss message" });
    dismiss.addEventListener("click", () => ctx.onDismiss(message));
    note.append(dismiss);
    body.append(note);
  }
  return item;
}

function renderFallback(parts) {
  const box = el("details", { class: "fallback", role: "note" });
  const labels = parts.map((p) => p.label).join(", ");
  box.append(el("summary", { text: `⚠ This page cannot show: ${labels}` }));
  box.append(el("pre", { text: JSON.stringify(Object.assign({}, ...parts.map((p) => p.raw)), null, 2) }));
  return box;
}

function resolveMedia(url, message) {
  if (!url) return null;
  if (url.startsWith("attachment://")) {
    const name = url.slice("attachment://".length);
    const found = (message.attachments || []).find((a) => a.filename === name);
    return found ? { url: found.url, filename: name } : null;
  }
  return { url, filename: null };
}

function external(url) { return /^https?:\/\//i.test(url) && !url.startsWith(location.origin); }

function mediaImage(url, message, alt, unsupported, embedded, klass) {
  const media = resolveMedia(url, message);
  if (!media) {
    unsupported.push({ label: "an image whose file is missing", raw: { url } });
    return null;
  }
  if (media.filename) embedded?.add(media.filename);
  if (external(media.url)) {
    unsupported.push({ label: "an image on another server (this page talks only to the local server)", raw: { url } });
    return null;
  }
  const wrap = el("div", { class: klass });
  const link = el("a", { href: media.url, target: "_blank", rel: "noopener" });
  link.append(el("img", { src: media.url, alt: alt || media.filename || "image", loading: "lazy" }));
  wrap.append(link);
  return wrap;
}

function renderEmbed(embed, message, ctx, embedded, unsupported) {
  const box = el("article", { class: "embed", "aria-label": embed.title ? `Embed: ${embed.title}` : "Embed" });
  if (embed.color !== undefined && embed.color !== null) box.style.setProperty("border-left-color", hex(embed.color));
  if (embed.type && !["rich", "image", "article", "link"].includes(embed.type)) {
    unsupported.push({ label: `an embed of type ${embed.type}`, raw: { embed } });
  }
  const main = el("div", { class: "embed-main" });
  if (embed.author?.name) {
    const author = el("div", { class: "embed-author" });
    author.append(el("span", { text: embed.author.name }));
    main.append(author);
  }
  if (embed.title) {
    const title = el("div", { class: "embed-title" });
    if (embed.url && /^https?:|^\//.test(embed.url)) title.append(el("a", { href: embed.url, target: "_blank", rel: "noopener", text: embed.title }));
    else title.innerHTML = markdown(embed.title, ctx);
    main.append(title);
  }
  if (embed.description) main.append(el("div", { class: "content embed-description" }, markdown(embed.description, ctx)));
  if ((embed.fields || []).length) {
    const fields = el("div", { class: "embed-fields" });
    for (const field of embed.fields) {
      const item = el("div", { class: field.inline ? "embed-field inline" : "embed-field" });
      item.append(el("div", { class: "name" }, markdown(field.name, ctx)));
      item.append(el("div", { class: "value content" }, markdown(field.value, ctx)));
      fields.append(item);
    }
    main.append(fields);
  }
  if (embed.thumbnail?.url) {
    const thumb = mediaImage(embed.thumbnail.url, message, "thumbnail", unsupported, embedded, "embed-thumb");
    if (thumb) {
      const grid = el("div", { class: "embed-with-thumb" });
      grid.append(main, thumb);
      box.append(grid);
    } else box.append(main);
  } else box.append(main);
  if (embed.image?.url) {
    const image = mediaImage(embed.image.url, message, embed.title || "image", unsupported, embedded, "embed-image");
    if (image) box.append(image);
  }
  if (embed.video?.url) unsupported.push({ label: "an embedded video", raw: { video: embed.video } });
  if (embed.footer?.text || embed.timestamp) {
    const footer = el("div", { class: "embed-footer" });
    footer.textContent = embed.footer?.text || "";
    if (embed.timestamp) {
      const unix = Math.floor(new Date(embed.timestamp).getTime() / 1000);
      footer.insertAdjacentHTML("beforeend", `${embed.footer?.text ? " • " : ""}${timeHtml(unix, "f", ctx.locale, "sent")}`);
    }
    box.append(footer);
  }
  return box;
}

function fileCard(attachment, icon, kind) {
  const card = el("div", { class: "file" });
  card.append(el("span", { class: "file-icon", "aria-hidden": "true", text: icon }));
  const text = el("div");
  text.append(el("div", { class: "file-name", text: attachment.filename }));
  text.append(el("div", { class: "file-meta", text: `${kind} · ${humanSize(attachment.size || 0)}` }));
  card.append(text);
  card.append(el("a", { class: "download btn style-2", href: attachment.url, download: attachment.filename,
    "aria-label": `Download ${attachment.filename}`, text: "Download" }));
  return card;
}

function isKind(attachment, pattern, mime) {
  return pattern.test(attachment.filename || "") || (attachment.content_type || "").startsWith(mime);
}

function renderAttachments(attachments, ctx) {
  if (!attachments.length) return null;
  const box = el("div", { class: "attachments" });
  const images = attachments.filter((a) => isKind(a, IMAGE, "image/"));
  if (images.length) {
    const grid = el("div", { class: images.length === 1 ? "image-grid single" : "image-grid", role: "group",
      "aria-label": `${images.length} image${images.length === 1 ? "" : "s"}` });
    for (const image of images) {
      const link = el("a", { href: image.url, target: "_blank", rel: "noopener" });
      link.append(el("img", { src: image.url, alt: image.description || image.filename, loading: "lazy",
        width: image.width, height: image.height }));
      grid.append(link);
    }
    box.append(grid);
  }
  for (const attachment of attachments) {
    if (images.includes(attachment)) continue;
    if (MIDI.test(attachment.filename || "") || /midi/.test(attachment.content_type || "")) {
      box.append(fileCard(attachment, "🎹", "MIDI file"));
    } else if (isKind(attachment, AUDIO, "audio/")) {
      const figure = el("figure", { class: "audio" });
      figure.append(el("figcaption", { text: `🎵 ${attachment.filename} · ${humanSize(attachment.size || 0)}` }));
      figure.append(el("audio", { controls: true, preload: "metadata", src: attachment.url, "data-key": attachment.id,
        "aria-label": `Play ${attachment.filename}` }));
      box.append(figure);
    } else if (isKind(attachment, TEXT, "text/")) {
      const card = fileCard(attachment, "📄", "Text file");
      const details = el("details", { class: "text-file" });
      details.append(el("summary", { text: "Show the text" }));
      const pre = el("pre", { class: "text-preview" });
      details.addEventListener("toggle", async () => {
        if (details.open && !pre.textContent) pre.textContent = await (await fetch(attachment.url)).text();
      });
      details.append(pre);
      box.append(card, details);
    } else {
      box.append(fileCard(attachment, "📎", attachment.content_type || "File"));
    }
  }
  return box;
}

function renderButton(component, message, ctx) {
  const label = `${component.emoji?.name ? component.emoji.name + " " : ""}${component.label || ""}`.trim() || "…";
  if (component.style === 5 && component.url) {
    return el("a", { class: "btn style-5", href: component.url, target: "_blank", rel: "noopener", text: `${label} ↗` });
  }
  const button = el("button", { type: "button", class: `btn style-${component.style || 2}`, text: label,
    disabled: Boolean(component.disabled) || !component.custom_id, "data-custom-id": component.custom_id });
  button.addEventListener("click", () => ctx.onButton(message, component.custom_id, button));
  return button;
}

function selectOptions(component, ctx) {
  if (component.type === 3) return (component.options || []).map((o) => ({ value: o.value, label: o.label, selected: o.default }));
  if (component.type === 5) return ctx.members().map((m) => ({ value: m.id, label: m.name }));
  if (component.type === 6) return ctx.roles().map((r) => ({ value: r.id, label: r.name }));
  if (component.type === 7) return [...ctx.members().map((m) => ({ value: m.id, label: `@${m.name}` })), ...ctx.roles().map((r) => ({ value: r.id, label: `@${r.name}` }))];
  return ctx.channels().map((c) => ({ value: c.id, label: `#${c.name}` }));
}

function renderSelect(component, message, ctx) {
  const wrap = el("div", { class: "row" });
  const many = (component.max_values || 1) > 1;
  const select = el("select", { class: "select", multiple: many, disabled: Boolean(component.disabled),
    "aria-label": component.placeholder || "Make a selection", "data-custom-id": component.custom_id });
  if (!many) select.append(el("option", { value: "", text: component.placeholder || "Make a selection" }));
  for (const option of selectOptions(component, ctx)) {
    select.append(el("option", { value: option.value, text: option.label, selected: Boolean(option.selected) && many }));
  }
  const send = () => {
    const values = [...select.selectedOptions].map((o) => o.value).filter(Boolean);
    if (values.length) ctx.onSelect(message, component.custom_id, values, select);
  };
  wrap.append(select);
  if (many) {
    const choose = el("button", { type: "button", class: "btn style-1", text: "Choose" });
    choose.addEventListener("click", send);
    wrap.append(choose);
  } else select.addEventListener("change", send);
  return wrap;
}

function renderComponent(component, message, ctx, unsupported) {
  switch (component.type) {
    case 1: {
      const row = el("div", { class: "row" });
      for (const child of component.components || []) row.append(renderComponent(child, message, ctx, unsupported));
      return row;
    }
    case 2: return renderButton(component, message, ctx);
    case 9: {
      const section = el("div", { class: "section" });
      const text = el("div");
      for (const child of component.components || []) text.append(renderComponent(child, message, ctx, unsupported));
      section.append(text);
      if (component.accessory) section.append(renderComponent(component.accessory, message, ctx, unsupported));
      return section;
    }
    case 10: return el("div", { class: "content" }, markdown(component.content, ctx));
    case 11: return mediaImage(component.media?.url, message, component.description, unsupported, null, "embed-thumb") || el("span");
    case 12: {
      const grid = el("div", { class: "image-grid" });
      for (const item of component.items || []) {
        const image = mediaImage(item.media?.url, message, item.description, unsupported, null, "gallery-item");
        if (image) grid.append(image);
      }
      return grid;
    }
    case 13: {
      const media = resolveMedia(component.file?.url, message);
      const attachment = (message.attachments || []).find((a) => a.url === media?.url);
      return attachment ? renderAttachments([attachment], ctx) : el("span");
    }
    case 14: return el("hr", { class: "separator" });
    case 17: {
      const box = el("div", { class: "container" });
      if (component.accent_color !== undefined && component.accent_color !== null) box.style.setProperty("border-left-color", hex(component.accent_color));
      for (const child of component.components || []) box.append(renderComponent(child, message, ctx, unsupported));
      return box;
    }
    default:
      if (SELECTS.has(component.type)) return renderSelect(component, message, ctx);
      unsupported.push({ label: `a component of type ${component.type}`, raw: { component } });
      return el("span");
  }
}

export { COMPONENTS_V2, el };
