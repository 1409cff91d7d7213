// The official client on the relay: connect, authenticate, receive a visitor's message:send.
"use strict";

const { args, client, done, sleep } = require("./common");

async function control(a, method, path, body) {
  const response = await fetch(a.control_url + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return response.json();
}

async function main() {
  const a = args();
  const crisp = client(a);
  let resolveEvent;
  const received = new Promise((resolve) => { resolveEvent = resolve; });
  await crisp.on("message:send", (data) => resolveEvent(data));
  // Wait until the sandbox's relay has this socket authenticated.
  // Keep what the relay says of the subscription while this socket is still on it.
  let authenticated = false;
  let subscriptions = [];
  for (let i = 0; i < 200 && !authenticated; i++) {
    const relay = await control(a, "GET", "/relay");
    subscriptions = relay.authenticated;
    authenticated = subscriptions.length > 0;
    if (!authenticated) await sleep(20);
  }
  if (!authenticated) {
    return done({ authenticated: false });
  }
  const started = Date.now();
  const sent = await control(
    a, "POST", `/websites/${a.website_id}/conversations/${a.session_id}/messages`, { text: a.text }
  );
  const timeout = sleep(5000).then(() => null);
  const data = await Promise.race([received, timeout]);
  done({ authenticated, subscriptions, sent, data, elapsed_ms: Date.now() - started });
}

main().catch((error) => done({ crashed: String(error && error.stack || error) }));
