// Any generation of the official Node client, unchanged, listening on the relay.
// Argument (JSON): {client_dir, package, rest_host, rtm_host?, identifier, key, events,
// count, timeout_ms}. It subscribes to `events` with the client's own `on`, then prints
// {version, received: [{name, data, after_ms}], timed_out} once `count` events came (or the time ran out).
// The test drives the sandbox meanwhile: it waits until the relay shows this socket
// authenticated, then makes the events happen.
"use strict";

const path = require("path");

function done(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

async function main() {
  const a = JSON.parse(process.argv[2] || "{}");
  const where = path.join(a.client_dir, "node_modules", a.package);
  const version = require(path.join(where, "package.json")).version;
  const lib = require(where);
  const Crisp = lib.Crisp || lib;
  const crisp = new Crisp();
  crisp.setRestHost(a.rest_host);
  if (a.rtm_host) {
    crisp.setRtmHost(a.rtm_host);
  }
  crisp.authenticateTier("plugin", a.identifier, a.key);
  const received = [];
  const started = Date.now();
  setTimeout(() => done({ version, received, timed_out: true }), a.timeout_ms);
  for (const name of a.events) {
    // crisp-api >= 10 returns a promise (it discovers the relay first); 5.x returns nothing.
    await crisp.on(name, (data) => {
      received.push({ name, data, after_ms: Date.now() - started });
      if (received.length >= a.count) done({ version, received, timed_out: false });
    });
  }
}

main().catch((error) => done({ crashed: String((error && error.stack) || error) }));
