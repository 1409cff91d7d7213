// The official client's verifyHook on deliveries captured from the sandbox.
"use strict";

const { Crisp } = require("crisp-api");
const { args, done } = require("./common");

async function main() {
  const a = args();
  const crisp = new Crisp();
  crisp.setRtmMode(Crisp.RTM_MODES.WebHooks);
  await crisp.on("message:send", () => {});  // binds the hook loopback verifyHook needs
  const results = a.deliveries.map((d) =>
    crisp.verifyHook(a.secret, JSON.parse(d.body), Number(d.timestamp), d.signature)
  );
  done({ results });
}

main().catch((error) => done({ crashed: String(error && error.stack || error) }));
