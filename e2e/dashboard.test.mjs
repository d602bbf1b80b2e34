// The operator's path through the dashboard, in headless Chromium at a
// phone's width (375 px): sign in (after a wrong key), register a webhook
// (after a bad URL), watch a failing delivery appear, open its attempts,
// redrive it from the explorer, fix the receiver, press retry, see it
// succeed; edit a webhook, preview a filter and save it, delete
// one, register a generic platform. Run by TestDashboardEndToEnd (cmd/hookgate), which starts a real
// `hookgate serve` and a receiver and passes them in the environment. On
// failure a screenshot and the page's HTML go to $ARTIFACTS; with
// HOOKGATE_E2E_SCREENSHOTS set, a screenshot of every page checked at
// 375 px goes there too.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("HOOKGATE_URL");
const key = env("HOOKGATE_KEY");
const receiver = env("RECEIVER_URL");
const artifacts = process.env.ARTIFACTS || "artifacts";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// webhooks counts the project's webhooks through the API.
async function webhooks() {
  const res = await fetch(`${base}/api/v1/projects/shop/webhooks?limit=100`, { headers: { Authorization: `Bearer ${key}` } });
  check(res.ok, `listing webhooks: ${res.status}`);
  return (await res.json()).data.length;
}

// inside reports whether the box of inner lies within the box of outer.
async function inside(inner, outer) {
  const a = await inner.boundingBox();
  const b = await outer.boundingBox();
  return a && b && a.x >= b.x - 0.5 && a.x + a.width <= b.x + b.width + 0.5;
}

// until reloads url until the page shows what test finds, for up to 20 s.
async function until(page, url, what, test) {
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(url);
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} at ${url}`);
    await sleep(300);
  }
}

// overflowing names the innermost elements that reach past the viewport's
// right edge, leaving out those a scrolling box clips, to say what makes a
// page too wide.
async function overflowing(page) {
  return page.evaluate(() => {
    const edge = document.documentElement.clientWidth;
    const past = (el) => el.getBoundingClientRect().right > edge + 0.5;
    // clipped: a box with overflow clips el, which an absolutely
    // positioned element escapes unless the box is its containing block
    // or holds it.
    const clipped = (el) => {
      let free = ["absolute", "fixed"].includes(getComputedStyle(el).position);
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const cs = getComputedStyle(a);
        if (free && cs.position === "static") continue;
        if (cs.overflowX !== "visible" && !past(a)) return true;
        free = ["absolute", "fixed"].includes(cs.position);
      }
      return false;
    };
    return [...document.querySelectorAll("body *")]
      .filter((el) => past(el) && !clipped(el))
      .filter((el) => ![...el.children].some(past))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).replace(/ /g, ".") : ""} (right edge ${Math.round(el.getBoundingClientRect().right)} px)`)
      .join(", ") || "no element";
  });
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
page.on("dialog", (d) => d.accept()); // data-confirm buttons ask first
let step = "start";
const pages = []; // more pages to check at 375 px, found on the way
try {
  step = "sign in";
  await page.goto(base + "/ui/");
  check(page.url().endsWith("/ui/sign-in"), `not sent to sign in: ${page.url()}`);
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 800 });
    await page.getByLabel("API key").fill("hgk_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    const problem = page.locator("#key-error");
    await problem.waitFor();
    check((await problem.textContent()) === "That key is not valid.", `the sign-in problem: ${await problem.textContent()}`);
    check(await inside(problem, page.locator("form.card")), `at ${width} px the sign-in problem is wider than its card`);
  }
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ui\/p\/shop\/webhooks$/);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "hookgate_session");
  check(session && session.httpOnly && session.sameSite === "Strict", `session cookie: ${JSON.stringify(session)}`);
  check(!(await page.evaluate(() => document.cookie)).includes("hookgate_session"), "the session cookie is readable by scripts");
  check(!(await page.evaluate(() => JSON.stringify(localStorage))).includes(key), "the key is in localStorage");

  step = "a bad URL, shown next to its field";
  await page.getByLabel("URL").fill("ftp://example.com/hook");
  await page.getByLabel("uid (optional)").fill("orders");
  await page.getByLabel("Description (optional)").fill("Orders to the shop's receiver");
  await page.getByRole("button", { name: "Register" }).click();
  await page.locator("#url-error").waitFor();
  check((await page.locator("#url-error").textContent()).includes("http or https"), "the URL's problem is not shown");
  check((await page.getByLabel("uid (optional)").inputValue()) === "orders", "the uid typed is lost");
  check((await page.getByLabel("Description (optional)").inputValue()) === "Orders to the shop's receiver", "the description typed is lost");
  const bad = await page.evaluate(() => document.documentElement.scrollWidth);
  check(bad <= 375, `the refused form is ${bad} px wide at a 375 px viewport`);

  step = "register a webhook";
  await page.getByLabel("URL").fill(receiver + "/hook");
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByText("Registered.").waitFor();
  check((await page.locator("code.secret").first().textContent()).startsWith("whsec_"), "no secret shown after registering");
  check(/\/webhooks\/wh_[a-z0-9]+\/secret\?done=created$/.test(page.url()), `not redirected after registering: ${page.url()}`);
  await page.reload();
  await page.getByText("Registered.").waitFor();
  check((await webhooks()) === 1, "reloading the page after registering registered another webhook");

  step = "send a test event";
  await page.goto(base + "/ui/p/shop/webhooks/orders");
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByText("Sent a webhook.test event").waitFor();

  step = "watch the failing delivery appear";
  let delivery = "";
  await until(page, base + "/ui/p/shop/deliveries?status=failed", "a failed delivery", async () => {
    const link = page.locator("tbody a[href*='/deliveries/msg_']").first();
    if ((await link.count()) === 0) return false;
    delivery = await link.getAttribute("href");
    return true;
  });

  step = "open its attempts";
  await page.goto(base + delivery);
  await page.getByText("Attempt 2").waitFor();
  check(await page.getByText("upstream down for maintenance").first().isVisible(), "the receiver's answer is not shown");
  // Issue 22, item 11: the request sent, headers and body, a click away.
  await page.getByText("Request", { exact: true }).first().click();
  const sent = await page.locator("details[open] pre").first().textContent();
  const id = delivery.split("/").pop();
  check(sent.includes(`Webhook-Id: ${id}`) && sent.includes('"type":"webhook.test"'), `the request shown: ${sent}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 375, `the page is ${width} px wide at a 375 px viewport: ${await overflowing(page)}`);

  // Issue 24, item 5: the failed delivery is a dead letter; Redrive… on
  // the explorer's filter confirms it with the count, starts the redrive
  // and leads to its page, which reloads itself until it is finished.
  step = "redrive the dead letters from the explorer";
  await page.goto(base + "/ui/p/shop/deliveries?status=exhausted&webhook=orders");
  await page.getByRole("link", { name: "Redrive…" }).click();
  await page.getByText("1 delivery matches this filter now.").waitFor();
  await page.getByRole("button", { name: "Redrive", exact: true }).click();
  await page.getByText("Redrive started").waitFor();
  const redrive = page.url().replace(base + "/ui/p/shop/", "").replace(/\?.*$/, "");
  check(/^redrives\/rdr_[a-z0-9]+$/.test(redrive), `not sent to the redrive's page: ${page.url()}`);
  await page.locator(".badge.finished").waitFor({ timeout: 20000 });
  check((await page.locator("#redrive-progress").textContent()).replace(/\s+/g, " ").match(/Requeued ?1 /), "the redrive did not requeue the dead letter");
  pages.push(redrive, "deliveries/redrive?status=exhausted&webhook=orders");
  await page.goto(base + delivery);

  step = "fix the receiver and retry";
  const fixed = await fetch(receiver + "/fix", { method: "POST" });
  check(fixed.ok, `fixing the receiver: ${fixed.status}`);
  await page.getByRole("button", { name: "Retry now" }).click();
  await page.getByText("Queued for one more attempt now.").waitFor();

  step = "see it succeed";
  await until(page, base + delivery, "the delivery to succeed", async () =>
    (await page.locator(".fields .badge.succeeded").count()) === 1);
  check(await page.getByText("thanks").first().isVisible(), "the successful answer is not shown");

  step = "edit the webhook";
  await page.goto(base + "/ui/p/shop/webhooks/orders");
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByLabel("Description").fill("Orders, edited");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved: the webhook's settings below are the new ones.").waitFor();
  check(await page.getByText("Orders, edited").isVisible(), "the new description is not shown");

  // Issue 29, item 3: the editor's preview runs the filter typed on the
  // sample event, without saving; Save saves it.
  step = "preview a filter, then save it";
  await page.getByRole("link", { name: "Edit" }).click();
  const filter = page.getByLabel("Filter: only the events for which it is true are delivered");
  await page.getByLabel("Sample event").fill('{"type": "order.created", "data": {"total": 149.5, "region": "eu"}}');
  for (const [expr, want] of [["data.total > 100.0", "matched: true"], ["data.total > 200.0", "matched: false"]]) {
    await filter.fill(expr);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.locator("#preview-results").waitFor();
    const shown = await page.locator("#preview-results").textContent();
    check(shown.includes(want) && /cost [1-9][0-9]* of 1,000,000, in /.test(shown), `the preview of ${expr}: ${shown}`);
    check((await filter.inputValue()) === expr, "the filter typed is lost after the preview");
  }
  const preview = await page.evaluate(() => document.documentElement.scrollWidth);
  check(preview <= 375, `the edit page with a preview is ${preview} px wide at a 375 px viewport: ${await overflowing(page)}`);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved: the webhook's settings below are the new ones.").waitFor();
  check(await page.locator("pre.expression").getByText("data.total > 200.0").isVisible(), "the saved filter is not shown on the webhook's page");

  step = "delete a webhook after its confirmation page";
  await page.goto(base + "/ui/p/shop/webhooks");
  await page.getByLabel("URL").fill(receiver + "/spare");
  await page.getByLabel("uid (optional)").fill("spare");
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByText("Registered.").waitFor();
  await page.getByRole("link", { name: "Delete…" }).click();
  await page.getByText("Delete this webhook?").waitFor();
  check((await webhooks()) === 2, "the confirmation page deleted the webhook");
  await page.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByText("Deleted: the webhook is gone").waitFor();
  check((await webhooks()) === 1, "the webhook was not deleted");

  step = "every page fits a phone";
  for (const path of ["webhooks", "webhooks/orders", "webhooks/orders/secret", "webhooks/orders/edit", "webhooks/orders/delete",
    "deliveries", delivery.replace("/ui/p/shop/", ""), "events", "event-types", "platforms", "live", ...pages]) {
    await page.goto(`${base}/ui/p/shop/${path}`);
    check((await page.locator("h1").count()) === 1, `${path}: no heading`);
    if (process.env.HOOKGATE_E2E_SCREENSHOTS) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: `${artifacts}/${path.replaceAll("/", "_")}.png`, fullPage: true });
    }
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 375, `${path} is ${w} px wide at a 375 px viewport: ${await overflowing(page)}`);
    // Issue 22, item 21: the navigation stays compact on a phone.
    const top = await page.evaluate(() => document.querySelector("header.top").getBoundingClientRect().height);
    check(top <= 100, `${path}: the header with the navigation is ${top} px high at 375 px`);
    if (path === "events") {
      // Issue 22, item 21: events are compact rows, not a card each.
      const rows = await page.evaluate(() => [...document.querySelectorAll("table.events tbody tr")].map((tr) => tr.getBoundingClientRect().height));
      check(rows.length > 0 && rows.every((h) => h <= 64), `events: rows of ${JSON.stringify(rows)} px at 375 px`);
    }
    if (path === "live") {
      // Issue 22, item 12: the charts have a legend, and their labels stay
      // readable on a phone (an SVG's text shrinks with the drawing).
      const legend = await page.locator(".legend li").allTextContents();
      check(["succeeded", "failed", "p50", "p95"].every((k) => legend.some((l) => l.includes(k))), `live: the legend is ${JSON.stringify(legend)}`);
      const tiny = await page.evaluate(() => [...document.querySelectorAll("svg text, .plot .ymax, .plot .xaxis span, .legend li")]
        .map((el) => ({ text: el.textContent, px: el.tagName === "text" ? el.getBoundingClientRect().height : parseFloat(getComputedStyle(el).fontSize) }))
        .filter((l) => l.px < 10));
      check(tiny.length === 0, `live: chart labels smaller than 10 px at 375 px: ${JSON.stringify(tiny)}`);
    }
    const unlabeled = await page.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select")]
      .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.name));
    check(unlabeled.length === 0, `${path}: inputs without a label: ${unlabeled}`);
  }

  step = "register a generic platform: not registered, as the API says";
  await page.goto(base + "/ui/p/shop/platforms");
  await page.getByLabel("Provider").selectOption("generic");
  await page.getByLabel("Credentials (JSON)").fill('{"preset": "github", "secret": "gh-secret-0123456789"}');
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByText("Connected").waitFor();
  await page.getByRole("row", { name: "generic: generic" }).getByRole("button", { name: "Register webhook" }).click();
  await page.getByText("is not registered").waitFor();
  check(await page.getByText("Configure the source to POST to inboundUrl").isVisible(), "the API's instructions are not shown");
  check((await page.getByText("Registered Hookgate's inbound URL").count()) === 0, "the page says the platform was registered");

  step = "sign out";
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/ui\/sign-in$/);
  await page.goto(base + "/ui/projects");
  check(page.url().endsWith("/ui/sign-in"), "still signed in after signing out");
  console.log("dashboard end to end: ok");
} catch (err) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: `${artifacts}/failure.png`, fullPage: true }).catch(() => {});
  writeFileSync(`${artifacts}/failure.html`, await page.content().catch(() => ""));
  console.error(`dashboard end to end failed at "${step}" (${page.url()}): ${err.message}`);
  console.error(`screenshot and HTML in ${artifacts}/`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
