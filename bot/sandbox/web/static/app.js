// The sandbox page: one live stream from the local server (server-sent events), a channel view, the
// composer and the jobs panel. State lives in this page only; it stores nothing anywhere.

import { Composer, localesOf, openModal } from "./composer.js";
import { formatTimestamp, viewerTimeZone } from "./markdown.js";
import { renderPanel } from "./panel.js";
import { el, isEphemeral, renderMessage } from "./render.js";

const $ = (id) => document.getElementById(id);
const state = {
  member: null,
  world: null,
  channelId: null,
  locale: "en-US",
  messages: new Map(),
  status: null,
  ageConfirmed: new Set(),
  dismissed: new Set(),
  unread: new Set(),
  stream: null,
  connectedOnce: false,
  failures: 0,
};
// What the browser tests and `make bench` read: when the page was ready, and how long each pushed
// change took from the server receiving it to the frame that shows it.
const probe = { ready: false, readyAt: null, latencies: [], events: 0, snapshots: 0, seen: {} };
window.atelier = probe;

const byId = (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
const now = () => performance.timeOrigin + performance.now();

// --- the address bar holds who and where (shareable; nothing is stored) -----------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.member = params.get("member") || state.member;
  state.channelId = params.get("channel") || state.channelId;
  state.locale = params.get("locale") || state.locale;
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.member) params.set("member", state.member);
  if (state.channelId) params.set("channel", state.channelId);
  if (state.locale !== "en-US") params.set("locale", state.locale);
  history.replaceState(null, "", `#${params}`);
}

// --- talking to the local server -----------------------------------------------------------------

async function api(path, body) {
  try {
    const response = await fetch(`/_sandbox/web/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, member: state.member }),
    });
    const data = await response.json().catch(() => ({ message: response.statusText }));
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { message: "The sandbox server is not answering." } };
  }
}

function connect() {
  state.stream?.close();
  const stream = new EventSource(`/_sandbox/web/live?member=${encodeURIComponent(state.member || "")}`);
  state.stream = stream;
  stream.addEventListener("snapshot", (event) => { state.failures = 0; onSnapshot(JSON.parse(event.data)); });
  stream.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
  stream.addEventListener("delete", (event) => onDelete(JSON.parse(event.data)));
  stream.addEventListener("world", (event) => onWorld(JSON.parse(event.data)));
  stream.addEventListener("status", (event) => { state.status = JSON.parse(event.data); drawPanel(); });
  stream.onerror = () => {
    setPresence("connecting", "Reconnecting to the sandbox…");
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (a sandbox restarted with new ids?): start over as its default member.
      state.failures += 1;
      if (state.failures > 1) state.member = null;
      setTimeout(connect, Math.min(500 * state.failures, 3000));
    }
  };
}

// --- events from the server ----------------------------------------------------------------------

function onSnapshot(snapshot) {
  const { messages, status, ...world } = snapshot;
  state.messages = new Map(messages.map((m) => [m.id, m]));
  state.unread.clear();
  state.status = status;
  applyWorld(world);
  drawPanel();
  drawChannel();
  if (!probe.ready) {
    probe.ready = true;
    probe.readyAt = performance.now();
    performance.mark("atelier:ready");
  }
  state.connectedOnce = true;
  probe.snapshots += 1;
}

function onWorld(world) {
  applyWorld(world);
  const channel = currentChannel();
  if (channel) drawHeader(channel);
}

function applyWorld(world) {
  const firstTime = !state.world;
  state.world = world;
  state.member = world.viewer;
  const visible = new Set(world.channels.map((c) => c.id));
  if (!state.channelId || !visible.has(state.channelId)) state.channelId = world.default_channel_id;
  $("guild-name").textContent = world.guild.name;
  drawMembers();
  drawLocales();
  drawChannels();
  setPresence(world.bot.online ? "online" : "offline",
    world.bot.online ? `${world.bot.name} is online` : `${world.bot.name} is offline — messages wait until it is back`);
  composer.setCommands(world.commands, state.locale);
  composer.setChannel(currentChannel());
  writeHash();
  if (firstTime) $("timezone").textContent = `Times are shown in ${viewerTimeZone()}`;
}

function onMessage({ message, t }) {
  probe.events += 1;
  const previous = state.messages.get(message.id);
  state.messages.set(message.id, message);
  const here = message.channel_id === state.channelId && channelOpen();
  if (here) upsertNode(message, previous);
  else if (!previous && !isEphemeral(message)) { state.unread.add(message.channel_id); drawChannels(); }
  requestAnimationFrame(() => {
    const latency = now() - t;
    probe.latencies.push({ id: message.id, ms: latency, shown: here, edit: Boolean(previous) });
    (probe.seen[message.id] ||= []).push(summary(message));
  });
}

function onDelete({ id }) {
  state.messages.delete(id);
  document.getElementById(`msg-${id}`)?.remove();
}

function summary(message) {
  const embed = (message.embeds || [])[0] || {};
  return { flags: message.flags, content: message.content, description: embed.description || "", attachments: (message.attachments || []).length };
}

// --- drawing ------------------------------------------------------------------------------------

const members = () => (state.world?.members || []).filter((m) => !m.bot);
const memberById = (id) => state.world?.members.find((m) => m.id === id);
const channelById = (id) => state.world?.channels.find((c) => c.id === id);
const currentChannel = () => channelById(state.channelId);
const channelOpen = () => {
  const channel = currentChannel();
  return channel && channel.kind !== "forum" && (!channel.nsfw || state.ageConfirmed.has(channel.id));
};

function displayName(user) {
  if (!user) return "unknown";
  const known = memberById(user.id);
  return known?.name || user.global_name || user.username || "unknown";
}

function drawMembers() {
  const select = $("member-select");
  select.replaceChildren(...members().map((m) => {
    const role = m.owner ? " (owner)" : m.moderator ? " (moderator)" : "";
    return el("option", { value: m.id, text: `${m.name}${role}`, selected: m.id === state.member });
  }));
}

function drawLocales() {
  const select = $("locale-select");
  const wanted = ["en-US", ...localesOf(state.world.commands).filter((l) => l !== "en-US")];
  const names = new Intl.DisplayNames(["en"], { type: "language" });
  const label = (l) => { try { return names.of(l); } catch { return l; } };
  if ([...select.options].map((o) => o.value).join() === wanted.join()) return;
  select.replaceChildren(...wanted.map((l) => el("option", { value: l, text: label(l), selected: l === state.locale })));
}

function channelIcon(channel) {
  if (channel.kind === "forum") return "💬";
  if (channel.kind === "dm") return "@";
  if (channel.kind === "thread") return "↳";
  return "#";
}

function drawChannels() {
  const list = $("channels");
  const items = [];
  const groups = [["Text channels", (c) => !["forum", "thread", "dm"].includes(c.kind)], ["Forums", (c) => c.kind === "forum"],
    ["Direct messages", (c) => c.kind === "dm"]];
  for (const [title, test] of groups) {
    const channels = state.world.channels.filter(test);
    if (!channels.length) continue;
    items.push(el("li", { class: "group", role: "presentation", text: title }));
    for (const channel of channels) {
      items.push(channelItem(channel));
      if (channel.kind === "forum") {
        for (const thread of state.world.channels.filter((c) => c.kind === "thread" && c.parent_id === channel.id)) items.push(channelItem(thread, "thread"));
      }
    }
  }
  for (const thread of state.world.channels.filter((c) => c.kind === "thread" && !channelById(c.parent_id))) items.push(channelItem(thread, "thread"));
  list.replaceChildren(...items);
}

function channelItem(channel, klass) {
  const item = el("li", { class: klass });
  const button = el("button", { type: "button", "data-channel": channel.id, "aria-current": channel.id === state.channelId ? "page" : false });
  button.append(el("span", { class: "icon", "aria-hidden": "true", text: channelIcon(channel) }));
  button.append(el("span", { text: channel.kind === "dm" ? state.world.bot.name : channel.name }));
  if (channel.nsfw) button.append(el("span", { class: "tag", title: "age-restricted", text: "18+" }));
  if (channel.private && channel.kind !== "dm") button.append(el("span", { class: "tag", title: "visible to some members only", text: "🔒" }));
  if (state.unread.has(channel.id)) button.append(el("span", { class: "unread", "aria-label": "unread messages" }));
  button.addEventListener("click", () => openChannel(channel.id));
  item.append(button);
  return item;
}

function openChannel(id) {
  if (!channelById(id)) return;
  state.channelId = id;
  state.unread.delete(id);
  writeHash();
  drawChannels();
  composer.clear();
  composer.setChannel(currentChannel());
  drawChannel();
}

function drawHeader(channel) {
  $("channel-title").textContent = channel.kind === "dm" ? state.world.bot.name : channel.name;
  document.querySelector("#channel-name .hash").textContent = channelIcon(channel);
  $("channel-topic").textContent = channel.topic || "";
}

function drawChannel() {
  const channel = currentChannel();
  if (!channel) return;
  drawHeader(channel);
  const list = $("messages");
  $("gate").hidden = !(channel.nsfw && !state.ageConfirmed.has(channel.id));
  $("forum").hidden = channel.kind !== "forum";
  list.hidden = !channelOpen();
  $("composer").hidden = !channelOpen();
  if (channel.kind === "forum") drawForum(channel);
  if (!channelOpen()) return;
  const shown = [...state.messages.values()].filter((m) => m.channel_id === channel.id && !state.dismissed.has(m.id)).sort((a, b) => byId(a.id, b.id));
  list.replaceChildren(...shown.map((m) => renderMessage(m, context())));
  if (!shown.length) list.append(el("li", { class: "empty", text: channel.kind === "dm" ? "No messages with the bot yet." : `This is the start of #${channel.name}. Type / to run a command.` }));
  list.scrollTop = list.scrollHeight;
}

function drawForum(forum) {
  const box = $("forum");
  const posts = state.world.channels.filter((c) => c.kind === "thread" && c.parent_id === forum.id);
  box.replaceChildren(el("h3", { text: forum.name }));
  if (!posts.length) box.append(el("p", { class: "muted", text: "No posts yet. When a challenge runs, each entry becomes a post here." }));
  for (const post of posts) {
    const button = el("button", { type: "button", class: "forum-post", "data-channel": post.id });
    const first = [...state.messages.values()].filter((m) => m.channel_id === post.id).sort((a, b) => byId(a.id, b.id))[0];
    button.append(el("strong", { text: post.name }));
    if (first) button.append(el("div", { class: "muted small", text: `${displayName(first.author)}: ${(first.content || first.embeds?.[0]?.title || "").slice(0, 120)}` }));
    button.addEventListener("click", () => openChannel(post.id));
    box.append(button);
  }
}

function upsertNode(message, previous) {
  const list = $("messages");
  if (state.dismissed.has(message.id)) return;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  const node = renderMessage(message, context());
  const old = document.getElementById(`msg-${message.id}`);
  if (old) {
    keepPlayingAudio(old, node);
    old.replaceWith(node);
  } else {
    list.querySelector(".empty")?.remove();
    const after = [...list.children].find((child) => child.dataset.messageId && byId(child.dataset.messageId, message.id) > 0);
    list.insertBefore(node, after || null);
  }
  if (previous) node.classList.add("latest-change");
  if (nearBottom || !previous) list.scrollTop = list.scrollHeight;
}

function keepPlayingAudio(old, node) {
  for (const audio of old.querySelectorAll("audio[data-key]")) {
    const fresh = node.querySelector(`audio[data-key="${CSS.escape(audio.dataset.key)}"]`);
    if (fresh) fresh.replaceWith(audio);
  }
}

function context() {
  return {
    locale: state.locale,
    viewer: state.member,
    botName: state.world?.bot.name || "The bot",
    displayName,
    user: (id) => displayName({ id }) !== "unknown" ? displayName({ id }) : null,
    channel: (id) => channelById(id)?.name,
    role: (id) => state.world?.roles.find((r) => r.id === id)?.name,
    members: () => state.world?.members || [],
    roles: () => state.world?.roles || [],
    channels: () => (state.world?.channels || []).filter((c) => c.kind !== "dm"),
    onButton: async (message, customId, button) => {
      button.disabled = true;
      button.classList.add("busy");
      const result = await api("click", { message_id: message.id, custom_id: customId });
      button.classList.remove("busy");
      button.disabled = false;
      answered(result.ok ? result.data : { error: result.data.message });
    },
    onSelect: async (message, customId, values) => {
      const result = await api("select", { message_id: message.id, custom_id: customId, values });
      answered(result.ok ? result.data : { error: result.data.message });
    },
    onDismiss: (message) => {
      state.dismissed.add(message.id);
      document.getElementById(`msg-${message.id}`)?.remove();
    },
  };
}

/** What the bot did with an interaction the page sent: a modal opens; no answer is an error, as in Discord. */
function answered(interaction) {
  if (interaction.error) return notice(interaction.error);
  if (interaction.modal) return openModal(app, interaction);
  if (!interaction.responded) notice(`${state.world.bot.name} did not respond in time: "This interaction failed".`);
  else if (interaction.rejections?.length) notice(`Discord refused the bot's answer: ${interaction.rejections.join("; ")}`);
}

function notice(text) {
  const box = el("p", { class: "notice", role: "alert", text });
  $("composer").before(box);
  setTimeout(() => box.remove(), 8000);
}

function drawPanel() {
  renderPanel($("panel-body"), state.status, (id) => (id ? memberById(id)?.name : null));
}

function setPresence(kind, text) {
  const presence = $("bot-presence");
  presence.dataset.state = kind;
  presence.textContent = text;
}

// --- wiring --------------------------------------------------------------------------------------

const app = {
  api,
  answered,
  notice,
  channel: currentChannel,
  members: () => state.world?.members || [],
  roles: () => state.world?.roles || [],
  channels: () => (state.world?.channels || []).filter((c) => c.kind !== "dm"),
  botName: () => state.world?.bot.name || "bot",
};
const composer = new Composer(app);

$("member-select").addEventListener("change", (event) => {
  state.member = event.target.value;
  state.dismissed.clear();
  composer.clear();
  writeHash();
  connect();
});
$("locale-select").addEventListener("change", (event) => {
  state.locale = event.target.value;
  writeHash();
  composer.clear();
  composer.setCommands(state.world.commands, state.locale);
  drawChannel();
});
$("gate-continue").addEventListener("click", () => { state.ageConfirmed.add(state.channelId); drawChannel(); $("composer-input").focus(); });
$("gate-back").addEventListener("click", () => openChannel(state.world.default_channel_id));
$("panel-toggle").addEventListener("click", (event) => {
  const open = event.currentTarget.getAttribute("aria-expanded") !== "true";
  event.currentTarget.setAttribute("aria-expanded", String(open));
  $("app").classList.toggle("panel-closed", !open);
  $("app").classList.toggle("panel-open-small", open);
});
$("messages").addEventListener("click", (event) => {
  const channel = event.target.closest("[data-channel]");
  if (channel) openChannel(channel.dataset.channel);
  const spoiler = event.target.closest(".spoiler");
  if (spoiler) spoiler.classList.add("shown");
});
setInterval(() => {
  for (const node of document.querySelectorAll('time.ts[data-style="R"]')) node.textContent = formatTimestamp(node.dataset.unix, "R", state.locale);
}, 30000);
window.addEventListener("hashchange", () => {
  const before = state.member;
  readHash();
  if (state.member !== before) connect();
  else if (state.world) openChannel(state.channelId);
});

readHash();
connect();
