// Shared set-up of the Node contenders: an official client pointed at the sandbox.
// Credentials and addresses come from the environment the harness sets:
// CRISP_API_URL, CRISP_IDENTIFIER, CRISP_KEY (and CRISP_HOOK_SECRET for hooks).
"use strict";

const { Crisp } = require("crisp-api");

function client(mode) {
  const crisp = new Crisp();
  crisp.setRestHost(process.env.CRISP_API_URL);
  crisp.authenticateTier("plugin", process.env.CRISP_IDENTIFIER, process.env.CRISP_KEY);
  if (mode === "hooks") {
    crisp.setRtmMode(Crisp.RTM_MODES.WebHooks);
  }
  return crisp;
}

// The client has no public "authenticated" signal; wait for the relay's answer on
// its socket so the harness starts only once events can flow.
function whenAuthenticated(crisp, timeoutMs) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const socket = crisp._socket;
      if (socket) {
        socket.once("authenticated", resolve);
        socket.once("unauthorized", (e) => reject(new Error("unauthorized: " + JSON.stringify(e))));
        return;
      }
      if (Date.now() - started > timeoutMs) {
        reject(new Error("no socket after " + timeoutMs + " ms"));
        return;
      }
      setTimeout(poll, 10);
    };
    poll();
  });
}

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function onTerm(fn) {
  process.on("SIGTERM", () => {
    try {
      if (fn) fn();
    } finally {
      process.exit(0);
    }
  });
}

module.exports = { client, whenAuthenticated, say, onTerm };
