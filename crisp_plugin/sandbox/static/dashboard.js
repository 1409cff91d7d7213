/* The sandbox dashboard: what a website's admin and operators see of a plugin.
 *
 * Plain script, no build step. It talks to the sandbox's control API (/_sandbox/...):
 * lists the websites with their install state (install / uninstall), embeds the
 * plugin's settings page in an iframe at <Settings URL>?website_id=<w>&token=<t> as
 * Crisp does, lists a website's conversations, shows one's messages and renders the
 * plugin's Generic widget for it. A widget click goes to the sandbox
 * (POST .../widget/action), which posts the action to the plugin's Action URL server
 * side (signed, as Crisp posts it) and hands back the answer shown here.
 */
"use strict";

const $ = (id) => document.getElementById(id);

const api = {
  call: controlCall, // control_api.js
  conv: convPath,
  plugin: () => api.call("GET", "/plugin"),
  websites: () => api.call("GET", "/websites"),
  setInstalled: (w, on) => api.call("POST", `/websites/${enc(w)}/${on ? "install" : "uninstall"}`),
  conversations: (w) => api.call("GET", `/websites/${enc(w)}/conversations`),
  transcript: (w, s) => api.call("GET", `${api.conv(w, s)}/transcript`),
  widget: (w, s) => api.call("GET", `${api.conv(w, s)}/widget`),
  action: (w, s, body) => api.call("POST", `${api.conv(w, s)}/widget/action`, body),
};

const view = {
  sites: [],
  website: null,
  session: null,
  frameSrc: null, // the iframe is reloaded only when its URL changes
  rendered: { sites: "", conversations: "", messages: "", widget: "" },
  values: new Map(), // "session/section/item" -> a data item's value from the Action URL
  fetched: new Set(), // "session/section/item" data items already fetched
};

function setStatus(text) {
  $("status").textContent = text || "";
}

async function act(fn) {
  try {
    setStatus("");
    await fn();
  } catch (err) {
    setStatus(err.message);
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "testid") node.dataset.testid = value;
    else if (key === "className") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function changed(key, data) {
  const snapshot = JSON.stringify(data);
  if (view.rendered[key] === snapshot) return false;
  view.rendered[key] = snapshot;
  return true;
}

/* ---------- plugin and websites ---------- */

async function loadPlugin() {
  const plugin = await api.plugin();
  const list = $("plugin");
  list.replaceChildren();
  const rows = [
    ["plugin_id", plugin.plugin_id],
    ["urn", plugin.urn],
    ["Settings URL", plugin.settings_url || "none"],
    ["Action URL", plugin.action_url || "none"],
    ["settings schema", plugin.settings_schema ? "registered" : "none"],
    ["widget schema", plugin.widget_schema ? "registered" : "none"],
  ];
  for (const [name, value] of rows) list.append(el("dt", {}, name), el("dd", {}, value));
}

function installButton(site) {
  const label = site.subscribed ? "Uninstall" : "Install";
  return el(
    "button",
    {
      type: "button",
      className: "small",
      testid: `install-${site.website_id}`,
      onclick: (ev) => {
        ev.stopPropagation();
        act(() => setInstalled(site.website_id, !site.subscribed));
      },
    },
    label,
  );
}

async function setInstalled(websiteId, on) {
  await api.setInstalled(websiteId, on);
  await loadSites();
}

async function loadSites() {
  view.sites = await api.websites();
  if (!view.website && view.sites.length) view.website = view.sites[0].website_id;
  if (changed("sites", view.sites)) {
    const list = $("websites");
    list.replaceChildren();
    for (const site of view.sites) {
      const li = el(
        "li",
        { "data-website": site.website_id, onclick: () => act(() => selectSite(site.website_id)) },
        el("span", { className: "name" }, site.name || site.website_id),
        el("small", {}, site.subscribed ? "installed" : "not installed"),
        installButton(site),
      );
      li.dataset.installed = String(site.subscribed);
      if (site.website_id === view.website) li.classList.add("current");
      list.append(li);
    }
    showSite();
  }
}

function currentSite() {
  return view.sites.find((s) => s.website_id === view.website) || null;
}

function showSite() {
  const site = currentSite();
  if (!site) return;
  $("site-title").textContent = `${site.name || site.website_id} (${site.website_id})`;
  $("site-state").textContent = site.subscribed ? "plugin installed" : "plugin not installed";
  const button = $("install");
  button.textContent = site.subscribed ? "Uninstall" : "Install";
  button.dataset.installed = String(site.subscribed);
  $("settings-stored").textContent = JSON.stringify(site.settings || {}, null, 2);
  const frame = $("settings-frame");
  const note = $("settings-note");
  let src = null;
  if (!site.subscribed) {
    note.textContent = "Install the plugin to edit its settings.";
  } else if (!site.settings_page) {
    note.textContent =
      "The plugin has no Settings URL: start the sandbox with --settings-url, or PUT /_sandbox/plugin.";
  } else {
    note.textContent = "The plugin's settings page, as Crisp embeds it:";
    src = site.settings_page;
  }
  frame.hidden = src === null;
  if (src !== view.frameSrc) {
    view.frameSrc = src;
    if (src === null) frame.removeAttribute("src");
    else frame.src = src;
  }
}

async function selectSite(websiteId) {
  view.website = websiteId;
  view.session = null;
  view.rendered.conversations = "";
  for (const li of $("websites").children) {
    li.classList.toggle("current", li.dataset.website === websiteId);
  }
  showSite();
  clearConversation();
  await loadConversations();
}

/* ---------- conversations and messages ---------- */

async function loadConversations() {
  if (!view.website) return;
  const items = await api.conversations(view.website);
  if (!view.session && items.length) {
    await selectConversation(items[0].session_id);
    return;
  }
  if (!changed("conversations", items)) return;
  const list = $("conversations");
  list.replaceChildren();
  for (const item of items) {
    const li = el(
      "li",
      { "data-session": item.session_id, onclick: () => act(() => selectConversation(item.session_id)) },
      item.session_id.replace(/^session_/, "").slice(0, 8),
      el("small", {}, item.last_message || item.state || ""),
    );
    if (item.session_id === view.session) li.classList.add("current");
    list.append(li);
  }
}

function clearConversation() {
  $("conversation-title").textContent = "No conversation";
  $("messages").replaceChildren();
  $("widget-sections").replaceChildren();
  $("widget-note").textContent = "";
  view.rendered.messages = "";
  view.rendered.widget = "";
}

async function selectConversation(sessionId) {
  view.session = sessionId;
  view.rendered.conversations = "";
  clearConversation();
  $("conversation-title").textContent = sessionId;
  await loadConversations();
  await loadMessages();
  await loadWidget();
}

function textOf(message) {
  const c = message.content;
  if (typeof c === "string") return c;
  if (c && typeof c === "object") return c.text || c.name || c.url || JSON.stringify(c);
  return "";
}

async function loadMessages() {
  if (!view.session) return;
  const messages = await api.transcript(view.website, view.session);
  if (!changed("messages", messages)) return;
  const list = $("messages");
  list.replaceChildren(
    ...messages.map((m) => {
      const from = m.from === "user" ? "user" : "operator";
      const li = el("li", { className: `message ${m.type === "note" ? "note" : from}`, testid: "message" });
      li.textContent = textOf(m);
      return li;
    }),
  );
  list.scrollTop = list.scrollHeight;
}

/* ---------- the widget ---------- */

async function loadWidget() {
  if (!view.session) return;
  const note = $("widget-note");
  let widget;
  try {
    widget = await api.widget(view.website, view.session);
  } catch (err) {
    if (changed("widget", err.message)) {
      $("widget-sections").replaceChildren();
      note.textContent = err.message.includes("404")
        ? "The plugin has no widget schema: start the sandbox with --widget-schema, or PUT /_sandbox/plugin."
        : err.message;
    }
    return;
  }
  if (!widget.installed) note.textContent = "The plugin is not installed on this website.";
  else if (!widget.action_url) note.textContent = "The plugin has no Action URL: clicks have nowhere to go.";
  else note.textContent = "";
  if (!changed("widget", widget)) return;
  if (widget.installed) renderWidget(widget);
  else $("widget-sections").replaceChildren(); // Crisp shows no widget of a plugin not installed
}

function renderWidget(widget) {
  const box = $("widget-sections");
  // Keep what the operator is typing across a re-render.
  const drafts = new Map();
  for (const input of box.querySelectorAll("input[data-item]")) drafts.set(input.dataset.key, input.value);
  box.replaceChildren();
  for (const section of widget.sections) {
    if (!section.visible) continue;
    const node = el("section", { className: "w-section", "data-section": section.id }, el("h3", {}, section.title));
    for (const item of section.items) {
      if (!item.visible) continue;
      node.append(item.type === "button" ? renderButton(section, item) : renderData(section, item, drafts));
    }
    box.append(node);
  }
  for (const section of widget.sections) {
    for (const item of section.items) {
      if (item.type === "data" && item.fetch && item.visible && section.visible) fetchData(section, item);
    }
  }
}

function renderButton(section, item) {
  const testid = `widget-${item.id}`;
  const color = `w-${item.color || "black"}`;
  if (item.kind === "link") {
    return el("a", { className: `w-button ${color}`, href: item.url, target: "_blank", rel: "noopener", testid }, item.label);
  }
  if (item.kind === "modal") {
    return el("button", { type: "button", className: `w-button ${color}`, testid, onclick: () => openModal(item) }, item.label);
  }
  return el(
    "button",
    {
      type: "button",
      className: `w-button ${color}`,
      testid,
      onclick: () => act(() => click(section, item, item.kind === "submit" ? groupValues(section, item.group) : undefined)),
    },
    item.label,
  );
}

function groupValues(section, group) {
  const values = {};
  const selector = `section[data-section="${CSS.escape(section.id)}"] input[data-item]`;
  for (const input of document.querySelectorAll(selector)) {
    if ((input.dataset.group || null) === (group || null)) values[input.dataset.item] = input.value;
  }
  return values;
}

function renderData(section, item, drafts) {
  const key = `${section.id}/${item.id}`;
  const known = `${view.session}/${key}`;
  const value = view.values.has(known) ? view.values.get(known) : item.value;
  const row = el("div", { className: "w-data", testid: `widget-${item.id}` }, el("label", {}, item.label));
  if (item.editable) {
    const input = el("input", {
      type: "text",
      placeholder: item.placeholder || "",
      "data-item": item.id,
      "data-key": key,
      "aria-label": item.label,
    });
    if (item.group) input.dataset.group = item.group;
    input.value = drafts.has(key) ? drafts.get(key) : value;
    if (item.immediate) {
      input.addEventListener("change", () => act(() => click(section, item, input.value)));
    }
    row.append(input);
  } else {
    row.append(el("span", { className: "w-value", "data-key": key }, value || ""));
  }
  return row;
}

function fetchData(section, item) {
  const key = `${view.session}/${section.id}/${item.id}`;
  if (view.fetched.has(key)) return;
  view.fetched.add(key);
  act(() => click(section, item, undefined));
}

async function click(section, item, value) {
  const body = { section_id: section.id, item_id: item.id };
  if (value !== undefined) body.value = value;
  const session = view.session; // the answer belongs to this one, whatever is shown by then
  const record = await api.action(view.website, session, body);
  showResult(record);
  const data = record.ok && record.answer && record.answer.data;
  if (item.type === "data" && data && "value" in data) {
    const key = `${section.id}/${item.id}`;
    view.values.set(`${session}/${key}`, String(data.value));
    if (session !== view.session) return;
    for (const node of document.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) {
      if (node.tagName === "INPUT") node.value = String(data.value);
      else node.textContent = String(data.value);
    }
  }
  await loadMessages();
}

function showResult(record) {
  const out = $("widget-result");
  const head = `POST ${record.url || "(no Action URL)"} -> ${record.status ?? "no answer"}`;
  const lines = [head];
  if (record.error) lines.push(`error: ${record.error}`);
  if (record.answer !== null && record.answer !== undefined) lines.push(JSON.stringify(record.answer, null, 2));
  out.textContent = lines.join("\n");
  out.dataset.ok = String(Boolean(record.ok));
  out.dataset.item = record.request ? record.request.body.widget.item_id : "";
}

function openModal(item) {
  const dialog = el("dialog", { className: "w-modal", testid: "widget-modal" });
  const close = el("button", { type: "button", className: "small", onclick: () => dialog.close() }, "Close");
  dialog.append(close, el("iframe", { src: item.url, title: item.label }));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/* ---------- start ---------- */

async function tick() {
  await loadSites();
  await loadConversations();
  await loadMessages();
  await loadWidget();
}

async function start() {
  $("install").addEventListener("click", () => {
    const site = currentSite();
    if (site) act(() => setInstalled(site.website_id, !site.subscribed));
  });
  try {
    await loadPlugin();
    await loadSites();
    if (view.website) await selectSite(view.website);
    document.body.dataset.ready = "true";
  } catch (err) {
    setStatus(err.message);
  }
  let ticks = 0;
  setInterval(() => {
    act(tick);
    if (++ticks % 5 === 0) act(loadPlugin);
  }, 1500);
}

start();
