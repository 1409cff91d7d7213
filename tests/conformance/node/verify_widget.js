// The official client's verifyWidget on widget actions the sandbox posted to an Action URL.
"use strict";

const { Crisp } = require("crisp-api");
const { args, done } = require("./common");

function main() {
  const a = args();
  const crisp = new Crisp();
  const results = a.actions.map((x) =>
    crisp.verifyWidget(x.secret || a.secret, JSON.parse(x.body), Number(x.timestamp), x.signature)
  );
  done({ results });
}

try {
  main();
} catch (error) {
  done({ crashed: String(error && error.stack || error) });
}
