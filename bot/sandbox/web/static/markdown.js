// Discord's markdown, mentions and timestamps, as safe HTML. Everything is escaped first; only the
// tags below are ever produced, and only http(s) and same-server links become anchors.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

const STYLES = {
  t: { timeStyle: "short" },
  T: { timeStyle: "medium" },
  d: { dateStyle: "short" },
  D: { dateStyle: "long" },
  f: { dateStyle: "long", timeStyle: "short" },
  F: { dateStyle: "full", timeStyle: "short" },
};

export function viewerTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function intlLocale(locale) {
  try { return Intl.getCanonicalLocales(locale)[0]; } catch { return "en-US"; }
}

export function relativeTime(date, locale = "en-US", now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const format = new Intl.RelativeTimeFormat(intlLocale(locale), { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, "second");
}

/** A Discord timestamp (`<t:unix:style>`) in the viewer's own time zone. */
export function formatTimestamp(unix, style = "f", locale = "en-US") {
  const date = new Date(Number(unix) * 1000);
  if (Number.isNaN(date.getTime())) return String(unix);
  if (style === "R") return relativeTime(date, locale);
  return new Intl.DateTimeFormat(intlLocale(locale), STYLES[style] || STYLES.f).format(date);
}

export function timeHtml(unix, style, locale, klass = "ts") {
  const date = new Date(Number(unix) * 1000);
  const full = new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: "full", timeStyle: "long" }).format(date);
  return `<time class="${klass}" datetime="${escapeHtml(date.toISOString())}" data-unix="${escapeHtml(unix)}" data-style="${escapeHtml(style || "f")}" title="${escapeHtml(full)}">${escapeHtml(formatTimestamp(unix, style || "f", locale))}</time>`;
}

function safeUrl(url) {
  const trimmed = String(url).trim();
  if (/^https?:\/\//i.test(trimmed) || trimmed.startsWith("/")) return trimmed;
  return null;
}

/**
 * Render Discord markdown to HTML. `ctx` resolves mentions: user(id) → name, channel(id) → name,
 * role(id) → name, and `locale` formats timestamps.
 */
export function markdown(text, ctx = {}) {
  if (!text) return "";
  const held = [];
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  let source = String(text).replace(/\u0000/g, "");

  source = source.replace(/```(?:([\w+.-]+)\n)?([\s\S]*?)```/g, (_, lang, code) =>
    hold(`<pre><code${lang ? ` data-lang="${escapeHtml(lang)}"` : ""}>${escapeHtml(code.replace(/^\n|\n$/g, ""))}</code></pre>`));
  source = source.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHtml(code)}</code>`));
  source = source.replace(/<t:(-?\d{1,13})(?::([tTdDfFR]))?>/g, (_, unix, style) => hold(timeHtml(unix, style, ctx.locale)));
  source = source.replace(/<@!?(\d+)>/g, (_, id) => hold(`<span class="mention" data-user="${id}">@${escapeHtml(ctx.user?.(id) ?? "unknown-user")}</span>`));
  source = source.replace(/<@&(\d+)>/g, (_, id) => hold(`<span class="mention" data-role="${id}">@${escapeHtml(ctx.role?.(id) ?? "unknown-role")}</span>`));
  source = source.replace(/<#(\d+)>/g, (_, id) => hold(`<button type="button" class="mention" data-channel="${id}">#${escapeHtml(ctx.channel?.(id) ?? "unknown")}</button>`));
  source = source.replace(/<\/([\w -]+):\d+>/g, (_, name) => hold(`<span class="mention">/${escapeHtml(name)}</span>`));
  source = source.replace(/<a?:(\w+):\d+>/g, (_, name) => hold(`:${escapeHtml(name)}:`));
  source = source.replace(/\[([^\]\n]+)\]\(<?([^)\s>]+)>?\)/g, (whole, label, url) => {
    const href = safeUrl(url);
    return href ? hold(`<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${inline(escapeHtml(label))}</a>`) : whole;
  });
  source = source.replace(/<?(https?:\/\/[^\s<>]+[^\s<>.,:;"')\]])>?/g, (_, url) =>
    hold(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(url)}</a>`));

  const html = blocks(escapeHtml(source));
  return html.replace(/\u0000(\d+)\u0000/g, (_, index) => held[Number(index)]);
}

function inline(html) {
  return html
    .replace(/\*\*\*([^*]+?)\*\*\*/g, "<strong><em>$1</em></strong>")
    .replace(/\*\*([^*]+?)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_]+?)__/g, "<u>$1</u>")
    .replace(/(^|[^\w*])\*([^*\n]+?)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~([^~]+?)~~/g, "<s>$1</s>")
    .replace(/\|\|([^|]+?)\|\|/g, '<span class="spoiler" tabindex="0" role="button" aria-label="spoiler, press to reveal">$1</span>');
}

function blocks(escaped) {
  const out = [];
  let lines = escaped.split("\n");
  let quote = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.map(inline).join("<br>")}</blockquote>`);
    quote = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("&gt;&gt;&gt; ")) {
      flushQuote();
      const rest = [line.slice(13), ...lines.slice(i + 1)];
      out.push(`<blockquote>${rest.map(inline).join("<br>")}</blockquote>`);
      lines = [];
      break;
    }
    if (line.startsWith("&gt; ")) { quote.push(line.slice(5)); continue; }
    flushQuote();
    const heading = /^(#{1,3}) (.+)$/.exec(line);
    const sub = /^-# (.+)$/.exec(line);
    const item = /^\s*[-*] (.+)$/.exec(line);
    if (heading) out.push(`<strong class="md-h md-h${heading[1].length}">${inline(heading[2])}</strong>`);
    else if (sub) out.push(`<small class="md-sub">${inline(sub[1])}</small>`);
    else if (item) out.push(`<span class="md-li">• ${inline(item[1])}</span><br>`);
    else out.push(inline(line) + (i < lines.length - 1 ? "<br>" : ""));
  }
  flushQuote();
  return out.join("");
}
