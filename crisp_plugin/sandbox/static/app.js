/* The sandbox chat page: play the visitor of a sandbox conversation.
 *
 * Plain script, no build step. It talks to the sandbox's control API (/_sandbox/...):
 * lists websites and conversations, starts one, sends the visitor's messages, picks
 * picker choices, fills fields, resolves as an operator, and follows a conversation
 * live through the sandbox's event stream (falling back to polling the transcript).
 */
"use strict";

const api = {
  call: controlCall, // control_api.js
  conv: convPath,
  websites: () => api.call("GET", "/websites"),
  conversations: (w) => api.call("GET", `/websites/${enc(w)}/conversations`),
  create: (w) => api.call("POST", `/websites/${enc(w)}/conversations`, {}),
  transcript: (w, s) => api.call("GET", `${api.conv(w, s)}/transcript`),
  say: (w, s, text) => api.call("POST", `${api.conv(w, s)}/messages`, { text }),
  choose: (w, s, fingerprint, value) =>
    api.call("POST", `${api.conv(w, s)}/choose`, { fingerprint, value }),
  answer: (w, s, fingerprint, value) =>
    api.call("POST", `${api.conv(w, s)}/field`, { fingerprint, value }),
  resolve: (w, s) => api.call("POST", `${api.conv(w, s)}/resolve`, {}),
  setInstalled: (w, on) => api.call("POST", `/websites/${enc(w)}/${on ? "install" : "uninstall"}`),
  streamUrl: (w, s) => `${API}${api.conv(w, s)}/events`,
};

const $ = (id) => document.getElementById(id);

const view = {
  website: null,
  session: null,
  stream: null,
  poller: null,
  typingTimer: null,
  listTimer: null,
  refreshing: false,
  again: false,
  rendered: "",
  installed: true,
};

/* ---------- rendering ---------- */

function sessionIdOf(item) {
  return typeof item === "string" ? item : item.session_id;
}

function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

function renderConversations(items) {
  const list = $("conversations");
  list.replaceChildren();
  for (const item of items) {
    const sid = sessionIdOf(item);
    const li = document.createElement("li");
    li.dataset.session = sid;
    li.textContent = sid.replace(/^session_/, "").slice(0, 8);
    const excerpt = typeof item === "object" && (item.last_message || item.state);
    if (excerpt) {
      const small = document.createElement("small");
      small.textContent = excerpt;
      li.append(small);
    }
    if (sid === view.session) li.classList.add("current");
    li.addEventListener("click", () => openConversation(sid));
    list.append(li);
  }
}

function textOf(message) {
  const c = message.content;
  if (typeof c === "string") return c;
  if (c && typeof c === "object") return c.text || c.name || c.url || "";
  return "";
}

function renderMessage(message) {
  const li = document.createElement("li");
  const from = message.from === "user" ? "user" : "operator";
  li.className = `message ${message.type === "note" ? "note" : from}`;
  li.dataset.type = message.type || "text";
  li.dataset.from = from;
  li.dataset.fingerprint = String(message.fingerprint);
  li.dataset.testid = "message";
  if (from === "operator") {
    const who = document.createElement("span");
    who.className = "who";
    const user = message.user || {};
    who.textContent = user.nickname || (message.origin && message.origin.startsWith("urn:") ? "bot" : "operator");
    li.append(who);
  }
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = textOf(message);
  li.append(body);

  const c = message.content;
  if (message.type === "picker" && c && Array.isArray(c.choices)) {
    const box = document.createElement("div");
    box.className = "choices";
    for (const choice of c.choices) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = choice.label || choice.value;
      b.dataset.value = choice.value;
      if (choice.selected) b.classList.add("selected");
      b.addEventListener("click", () =>
        act(() => api.choose(view.website, view.session, message.fingerprint, choice.value)),
      );
      box.append(b);
    }
    li.append(box);
  }
  if (message.type === "field" && c && typeof c === "object") {
    const form = document.createElement("form");
    form.className = "field";
    const input = document.createElement("input");
    input.type = "text";
    input.placeholder = c.explain || "";
    input.value = c.value || "";
    input.setAttribute("aria-label", c.text || "answer");
    input.dataset.fingerprint = String(message.fingerprint);
    const b = document.createElement("button");
    b.type = "submit";
    b.textContent = "Send";
    form.append(input, b);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (value) act(() => api.answer(view.website, view.session, message.fingerprint, value));
    });
    li.append(form);
  }
  return li;
}

function renderTranscript(messages) {
  const list = $("messages");
  const snapshot = JSON.stringify(messages);
  if (snapshot === view.rendered) return; // nothing new: keep the page as it is
  view.rendered = snapshot;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  // Keep what the visitor is typing into a field message across the re-render.
  const drafts = new Map();
  for (const input of list.querySelectorAll(".field input")) {
    drafts.set(input.dataset.fingerprint, input.value);
  }
  const focused = document.activeElement;
  const focusedField =
    focused && focused.matches && focused.matches(".field input") ? focused.dataset.fingerprint : null;
  list.replaceChildren(...messages.map(renderMessage));
  for (const input of list.querySelectorAll(".field input")) {
    const draft = drafts.get(input.dataset.fingerprint);
    if (draft) input.value = draft;
    if (input.dataset.fingerprint === focusedField) input.focus();
  }
  const last = messages[messages.length - 1];
  if (last && last.from !== "user") setTyping(false);
  if (atBottom || (last && last.from === "user")) list.scrollTop = list.scrollHeight;
}

function setTyping(on) {
  $("typing").hidden = !on;
  clearTimeout(view.typingTimer);
  if (on) view.typingTimer = setTimeout(() => setTyping(false), 10000);
}

function setStatus(text) {
  $("status").textContent = text || "";
}

/* ---------- actions ---------- */

async function act(fn) {
  try {
    setStatus("");
    await fn();
    await refresh();
  } catch (err) {
    setStatus(err.message);
  }
}

async function refresh() {
  if (!view.session) return;
  if (view.refreshing) {
    view.again = true;
    return;
  }
  view.refreshing = true;
  try {
    const data = await api.transcript(view.website, view.session);
    renderTranscript(listOf(data, "messages"));
  } catch (err) {
    setStatus(err.message);
  } finally {
    view.refreshing = false;
    if (view.again) {
      view.again = false;
      refresh();
    }
  }
}

async function loadConversations() {
  const data = await api.conversations(view.website);
  const items = listOf(data, "conversations");
  renderConversations(items);
  const current = items.find((i) => sessionIdOf(i) === view.session);
  if (current && current.state) showState(current.state);
  return items;
}

// The conversation's state, and the operator's Resolve button: done once resolved.
function showState(state) {
  $("conversation-state").textContent = state;
  const button = $("resolve");
  button.disabled = state === "resolved";
  button.textContent = state === "resolved" ? "Resolved" : "Resolve";
}

function follow() {
  if (view.stream) view.stream.close();
  clearInterval(view.poller);
  view.stream = null;
  // Polling is the safety net (and keeps the conversation list fresh); the stream
  // makes updates instant.
  let ticks = 0;
  view.poller = setInterval(() => {
    refresh();
    if (++ticks % 3 === 0) loadConversations().catch((err) => setStatus(err.message));
  }, 1500);
  if (!window.EventSource) return;
  const stream = new EventSource(api.streamUrl(view.website, view.session));
  view.stream = stream;
  stream.onmessage = (ev) => onEvent(ev.data);
  for (const name of [
    "message:send",
    "message:received",
    "message:updated",
    "message:removed",
    "message:compose:receive",
    "session:set_state",
  ]) {
    stream.addEventListener(name, (ev) => onEvent(ev.data, name));
  }
}

function onEvent(raw, name) {
  let event = {};
  try {
    event = JSON.parse(raw);
  } catch {
    return;
  }
  const kind = name || event.event || event.name;
  const data = event.data || event;
  if (kind === "message:compose:receive") {
    setTyping(data.type === "start");
    return;
  }
  if (kind === "session:set_state") showState(data.state || "");
  refresh();
  clearTimeout(view.listTimer); // the sidebar's excerpt and state, a moment later
  view.listTimer = setTimeout(() => loadConversations().catch(() => {}), 300);
}

async function openConversation(sessionId) {
  view.session = sessionId;
  view.rendered = "";
  $("conversation-title").textContent = sessionId;
  showState("");
  for (const li of $("conversations").children) {
    li.classList.toggle("current", li.dataset.session === sessionId);
  }
  history.replaceState(null, "", `#${enc(view.website)}/${enc(sessionId)}`);
  setTyping(false);
  follow();
  await refresh();
  await loadConversations();
  $("text").focus();
}

async function newConversation() {
  const created = await api.create(view.website);
  const sid = sessionIdOf(created);
  await loadConversations();
  await openConversation(sid);
  return sid;
}

async function send(ev) {
  ev.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  await act(async () => {
    if (!view.session) await newConversation();
    await api.say(view.website, view.session, text);
  });
}

// Whether the plugin is installed on the chosen website, and the admin's button.
async function showInstalled() {
  const sites = listOf(await api.websites(), "websites");
  const site = sites.find((s) => s.website_id === view.website);
  if (!site) return;
  view.installed = site.subscribed;
  $("installed").textContent = site.subscribed ? "Plugin installed" : "Plugin not installed: the bot hears nothing";
  $("installed").dataset.installed = String(site.subscribed);
  $("install").textContent = site.subscribed ? "Uninstall the plugin" : "Install the plugin";
}

async function toggleInstalled() {
  await api.setInstalled(view.website, !view.installed);
  await showInstalled();
}

async function chooseWebsite(websiteId) {
  view.website = websiteId;
  await showInstalled();
  const items = await loadConversations();
  if (items.length) await openConversation(sessionIdOf(items[0])); // newest first
  else await newConversation();
}

async function start() {
  $("composer").addEventListener("submit", send);
  $("new-conversation").addEventListener("click", () => act(newConversation));
  $("resolve").addEventListener("click", () => {
    if (view.session) act(() => api.resolve(view.website, view.session));
  });
  $("website").addEventListener("change", (ev) => act(() => chooseWebsite(ev.target.value)));
  $("install").addEventListener("click", () => act(toggleInstalled));
  try {
    const sites = listOf(await api.websites(), "websites");
    const select = $("website");
    for (const site of sites) {
      const opt = document.createElement("option");
      opt.value = site.website_id;
      opt.textContent = site.name || site.website_id;
      select.append(opt);
    }
    const [hashSite, hashSession] = location.hash.slice(1).split("/").map(decodeURIComponent);
    const first = sites.find((s) => s.website_id === hashSite) || sites[0];
    if (!first) {
      setStatus("The sandbox has no website.");
      return;
    }
    select.value = first.website_id;
    view.website = first.website_id;
    await showInstalled();
    const items = await loadConversations();
    if (hashSession && items.some((i) => sessionIdOf(i) === hashSession)) {
      await openConversation(hashSession);
    } else if (items.length) {
      await openConversation(sessionIdOf(items[0]));
    } else {
      await newConversation();
    }
    document.body.dataset.ready = "true";
  } catch (err) {
    setStatus(err.message);
  }
}

start();
