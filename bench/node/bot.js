// W3 contender: an auto-reply bot written with the official Node client, the way its
// README shows: on each visitor message (message:send), send a text reply as operator.
// Over the RTM relay (default), or over web hooks (http server + verifyHook +
// receiveHook) with MODE=hooks.
//
// usage: node bot.js rtm
//        node bot.js hooks PORT PATH     (secret in CRISP_HOOK_SECRET)
"use strict";

const http = require("http");
const { client, whenAuthenticated, say, onTerm } = require("./common");

const mode = process.argv[2] || "rtm";
const crisp = client(mode);
const urn = process.env.CRISP_URN || "urn:crisp-plugin:bench:1";
let replied = 0;
let failed = 0;

const bound = crisp.on("message:send", (message) => {
  if (message.from !== "user") return;
  crisp.website.sendMessageInConversation(message.website_id, message.session_id, {
    type: "text",
    from: "operator",
    origin: urn,
    content: "auto-reply to " + message.fingerprint
  }).then(() => {
    replied += 1;
  }).catch((e) => {
    failed += 1;
    if (failed < 5) process.stderr.write("send failed: " + JSON.stringify(e) + "\n");
  });
});

onTerm(() => say({ replied, failed }));

if (mode === "hooks") {
  const port = Number(process.argv[3]);
  const path = process.argv[4];
  const secret = process.env.CRISP_HOOK_SECRET;
  bound.then(() => {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
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
        res.writeHead(crisp.receiveHook(body) ? 400 : 200);
        res.end();
      });
    });
    server.listen(port, "127.0.0.1", () => say({ ready: true, port }));
  });
} else {
  whenAuthenticated(crisp, 10000)
    .then(() => say({ ready: true }))
    .catch((e) => {
      process.stderr.write(String(e) + "\n");
      process.exit(1);
    });
}
