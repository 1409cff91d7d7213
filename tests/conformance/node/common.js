// Shared helpers for the conformance scripts: read the JSON argument, print one JSON result.
"use strict";

const { Crisp } = require("crisp-api");

function args() {
  return JSON.parse(process.argv[2] || "{}");
}

function done(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

function client(a) {
  const crisp = new Crisp();
  crisp.setRestHost(a.rest_host);
  if (a.rtm_host) {
    crisp.setRtmHost(a.rtm_host);
  }
  crisp.authenticateTier("plugin", a.identifier, a.key);
  return crisp;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { args, client, done, sleep };
