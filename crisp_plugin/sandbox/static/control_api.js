/* The sandbox's control API (/_sandbox/...) as the chat page and the dashboard call it:
 * one JSON request helper, loaded before each page's own script.
 */
"use strict";

const API = "/_sandbox";

function enc(value) {
  return encodeURIComponent(value);
}

/* A JSON call; an answer that is not 2xx throws, naming the call and Crisp's reason. */
async function controlCall(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const reason = data && (data.error || data.message);
    throw new Error(`${method} ${path}: ${res.status} ${reason || ""}`.trim());
  }
  return data;
}

/* The path of one conversation under the control API. */
const convPath = (w, s) => `/websites/${enc(w)}/conversations/${enc(s)}`;
