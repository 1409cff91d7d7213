// The official client's Marketplace calls against the sandbox: installed websites (paged,
// since a date), subscription settings (get, save, merge, a refusal) and a delivered
// widget action.
"use strict";

const { args, client, done } = require("./common");

async function main() {
  const a = args();
  const crisp = client(a);
  const out = {};
  out.page1 = await crisp.plugin.listAllConnectWebsites(1, false, true);
  out.page2 = await crisp.plugin.listAllConnectWebsites(2, false, false);
  out.configured = await crisp.plugin.listAllConnectWebsites(1, true, false);
  out.since = await crisp.plugin.listConnectWebsitesSince(a.since, false, false);
  out.before = await crisp.plugin.getSubscriptionSettings(a.website_id, a.plugin_id);
  await crisp.plugin.saveSubscriptionSettings(a.website_id, a.plugin_id, { message: "Hi" });
  await crisp.plugin.updateSubscriptionSettings(a.website_id, a.plugin_id, { enabled: false });
  out.after = await crisp.plugin.getSubscriptionSettings(a.website_id, a.plugin_id);
  try {
    await crisp.plugin.saveSubscriptionSettings(a.website_id, a.plugin_id, { message: "" });
    out.invalid = null;
  } catch (error) {
    out.invalid = error;
  }
  out.delivered = await crisp.website.deliverWidgetButtonActionForConversation(
    a.website_id, a.session_id, a.plugin_id, "main", "canned", { order: "42" }
  );
  done(out);
}

main().catch((error) => done({ crashed: String(error && error.stack || error) }));
