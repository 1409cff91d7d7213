// The official client's REST calls against the sandbox: get website, send, list, an error.
"use strict";

const { args, client, done } = require("./common");

async function main() {
  const a = args();
  const crisp = client(a);
  const out = {};
  out.website = await crisp.website.getWebsite(a.website_id);
  out.sent = await crisp.website.sendMessageInConversation(a.website_id, a.session_id, {
    type: "text",
    from: "operator",
    origin: "urn:crisp-plugin:conformance:1",
    content: a.text,
  });
  out.messages = await crisp.website.getMessagesInConversation(a.website_id, a.session_id);
  out.account = await crisp.plugin.getConnectAccount();
  out.endpoints = await crisp.plugin.getConnectEndpoints();
  try {
    await crisp.website.sendMessageInConversation(a.website_id, a.session_id, {
      type: "gif",
      from: "operator",
      origin: "chat",
      content: "x",
    });
    out.invalid = null;
  } catch (error) {
    out.invalid = error;
  }
  try {
    await crisp.website.getConversation(a.website_id, "session_unknown");
    out.unknown = null;
  } catch (error) {
    out.unknown = error;
  }
  done(out);
}

main().catch((error) => done({ crashed: String(error && error.stack || error) }));
