// W1 contender: the official Node client receiving web hooks the way its README shows:
// Node's http server, JSON.parse, crisp.verifyHook(), crisp.receiveHook(), a no-op
// handler. Answers 403 on a bad signature, 400 on a malformed body, 200 otherwise.
//
// usage: node hook_server.js PORT PATH   (secret in CRISP_HOOK_SECRET)
"use strict";

const http = require("http");
const { Crisp } = require("crisp-api");

const port = Number(process.argv[2]);
const path = process.argv[3];
const secret = process.env.CRISP_HOOK_SECRET;

const crisp = new Crisp();
crisp.setRtmMode(Crisp.RTM_MODES.WebHooks);

let seen = 0;

crisp.on("message:send", () => {
  seen += 1;
}).then(() => {
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== path) {
      res.writeHead(404);
      res.end();
      return;
    }
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        res.writeHead(400);
        res.end();
        return;
      }
      const ok = crisp.verifyHook(
        secret, body,
        req.headers["x-crisp-request-timestamp"],
        req.headers["x-crisp-signature"]
      );
      if (!ok) {
        res.writeHead(403);
        res.end();
        return;
      }
      const error = crisp.receiveHook(body);
      res.writeHead(error ? 400 : 200);
      res.end(error ? "" : "ok");
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(port, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ ready: true, port }) + "\n");
  });
  process.on("SIGTERM", () => {
    process.stdout.write(JSON.stringify({ seen }) + "\n");
    server.close();
    process.exit(0);
  });
});
