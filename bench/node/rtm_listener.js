// W2 contender: the official Node client on the RTM relay, counting message:send
// events; prints {"done": N, "first_ms", "last_ms"} (wall clock) once it has seen N.
//
// usage: node rtm_listener.js N
"use strict";

const { client, whenAuthenticated, say, onTerm } = require("./common");

const want = Number(process.argv[2]);
const crisp = client("rtm");
let seen = 0;
let first = 0;

crisp.on("message:send", () => {
  seen += 1;
  if (seen === 1) first = Date.now();
  if (seen === want) say({ done: seen, first_ms: first, last_ms: Date.now() });
});

whenAuthenticated(crisp, 10000)
  .then(() => say({ ready: true }))
  .catch((e) => {
    process.stderr.write(String(e) + "\n");
    process.exit(1);
  });

onTerm(() => say({ seen }));
