// socket.io-client 2.4 itself (what crisp-api 5.x and node-crisp-api 4.x are built on),
// with options the Crisp clients do not use: polling first and the websocket upgrade,
// polling only, the relay's own path. Argument (JSON): {url, options, identifier, key,
// password?, events, listen? (the events to record, if not only `events`), auth_after_upgrade?,
// emits_after_auth?, count, until_disconnect?, until_error?, timeout_ms}. Prints {received,
// authenticated, unauthorized, errors, transports, disconnect, timed_out}.
"use strict";

const io = require("socket.io-client");

const a = JSON.parse(process.argv[2] || "{}");
const result = {
  received: [], authenticated: null, unauthorized: null, errors: [], transports: [],
  disconnect: null, timed_out: false,
};

function done() {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

const socket = io(a.url, Object.assign({ reconnection: false, forceNew: true }, a.options));
const engine = socket.io.engine;
result.transports.push(engine.transport.name);
engine.on("upgrade", (transport) => result.transports.push(transport.name));
function authenticate() {
  socket.emit("authentication", {
    username: a.identifier,
    password: a.password === undefined ? a.key : a.password,
    tier: "plugin",
    events: a.events,
  });
}
socket.on("connect", () => {
  // auth_after_upgrade: authenticate once the websocket took over from polling, so
  // the test knows the upgrade is done when the relay shows the socket authenticated.
  if (a.auth_after_upgrade && engine.transport.name !== "websocket") {
    engine.once("upgrade", authenticate);
  } else {
    authenticate();
  }
});
socket.on("authenticated", (value) => {
  result.authenticated = value;
  for (const [name, data] of a.emits_after_auth || []) socket.emit(name, data);
});
socket.on("unauthorized", (data) => { result.unauthorized = data; });
socket.on("error", (error) => {
  result.errors.push(String(error));
  if (a.until_error) done();
});
socket.on("disconnect", (reason) => {
  result.disconnect = reason;
  if (a.until_disconnect) done();
});
for (const name of a.listen || a.events) {
  socket.on(name, (data) => {
    result.received.push({ name, data, transport: engine.transport.name });
    if (result.received.length >= a.count && !a.until_disconnect) done();
  });
}
setTimeout(() => { result.timed_out = true; done(); }, a.timeout_ms);
