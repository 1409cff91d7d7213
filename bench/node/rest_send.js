// W4 contender: N send-message calls through the official Node client, 32 in flight
// (a pool of 32 workers each awaiting its call), the way a Node user would batch.
// Prints {"calls": N, "seconds": s, "per_s": N/s, "errors": e, "cpu_us": its CPU per call}.
//
// usage: node rest_send.js WEBSITE_ID SESSION_ID N [IN_FLIGHT]
"use strict";

const { client, say } = require("./common");

const [websiteId, sessionId] = process.argv.slice(2, 4);
const total = Number(process.argv[4]);
const inFlight = Number(process.argv[5] || 32);
const urn = process.env.CRISP_URN || "urn:crisp-plugin:bench:1";
const crisp = client("rtm");

let next = 0;
let errors = 0;

async function worker() {
  while (next < total) {
    const i = next++;
    try {
      await crisp.website.sendMessageInConversation(websiteId, sessionId, {
        type: "text", from: "operator", origin: urn, content: "message " + i
      });
    } catch (e) {
      errors += 1;
      if (errors < 5) process.stderr.write("send failed: " + JSON.stringify(e) + "\n");
    }
  }
}

async function main() {
  // one call first so connection set-up is not timed
  await crisp.website.sendMessageInConversation(websiteId, sessionId, {
    type: "text", from: "operator", origin: urn, content: "warm-up"
  });
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu); // microseconds, user + system, every thread
  const cpu_us = (used.user + used.system) / total;
  say({ calls: total, seconds, per_s: total / seconds, errors, cpu_us });
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || JSON.stringify(e)) + "\n");
  process.exit(1);
});
