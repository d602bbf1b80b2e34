// The consumer portal embedded in a producer's app, in headless Chromium.
// APP_URL is the producer's page (on http://localhost:PORT, another site
// than Hookgate's http://127.0.0.1:PORT): each load creates a fresh portal
// link server-side and frames it, 375 px wide. The customer registers a
// webhook in the frame, sends it a test event and sees the delivery
// succeed; each portal page fits the frame. Then again in a browser that
// refuses Hookgate's cookies (their Set-Cookie headers are dropped), where
// the session travels in the path. Last, OTHER_URL, an origin the project
// does not allow, cannot frame the portal. Run by TestPortalEndToEnd
// (cmd/hookgate); on failure a screenshot and the frame's HTML go to
// $ARTIFACTS.
import { chromium, request } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("HOOKGATE_URL");
const appURL = env("APP_URL");
const otherURL = env("OTHER_URL");
const receiver = env("RECEIVER_URL");
const product = env("PRODUCT");
const accent = env("ACCENT");
const artifacts = process.env.ARTIFACTS || "artifacts/portal";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// portalFrame returns the page's iframe once it shows a portal page whose
// path matches re, for up to 20 s.
async function portalFrame(page, re) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const f = page.frames().find((f) => f !== page.mainFrame() && re.test(new URL(f.url() || "about:blank", base).pathname));
    if (f) {
      await f.waitForLoadState("load");
      return f;
    }
    if (Date.now() > deadline) throw new Error(`no frame at ${re}: ${page.frames().map((f) => f.url()).join(", ")}`);
    await sleep(100);
  }
}

// fits checks that the frame's page, once loaded whole, is no wider than
// the frame (a page measured while it still arrives can be any width).
async function fits(frame, what) {
  await frame.waitForLoadState("load");
  if (process.env.HOOKGATE_E2E_SCREENSHOTS) {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}/${what.replaceAll(" ", "_").replaceAll("'", "")}.png`, fullPage: true });
  }
  const w = await frame.evaluate(() => document.documentElement.scrollWidth);
  check(w <= 375, `${what} is ${w} px wide in a 375 px frame`);
  check((await frame.locator("h1").count()) === 1, `${what}: no heading`);
}

const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

let step = "start";
let page;
let frame;
try {
  for (const refuseCookies of [false, true]) {
    const mode = refuseCookies ? "a browser that refuses the cookie" : "a browser that keeps the cookie";
    const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
    if (refuseCookies) {
      // Hookgate's answers reach the page without their Set-Cookie: each
      // is fetched by a request context of its own, apart from the
      // browser's jar (route.fetch would keep the cookies there).
      await context.route((url) => url.href.startsWith(base + "/ui/"), async (route) => {
        const outside = await request.newContext();
        try {
          const res = await outside.fetch(route.request(), { maxRedirects: 0 });
          const headers = { ...res.headers() };
          delete headers["set-cookie"];
          await route.fulfill({ status: res.status(), headers, body: await res.body() });
        } finally {
          await outside.dispose();
        }
      });
    }
    page = await context.newPage();
    page.on("dialog", (d) => d.accept());

    step = `${mode}: the producer's app frames a fresh link`;
    await page.goto(appURL);
    check(await page.locator("#app").isVisible(), "the producer's page did not load");
    frame = await portalFrame(page, /\/p\/[^/]+\/webhooks$/);
    const inPath = /\/ui\/s\/[A-Za-z0-9_-]{43}\//.test(frame.url());
    check(inPath === refuseCookies, `${mode}: the session is ${inPath ? "in the path" : "in a cookie"}: ${frame.url()}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "hookgate_session");
    if (refuseCookies) {
      check(!session, `a session cookie where cookies are refused: ${JSON.stringify(session)}`);
    } else {
      check(session && session.sameSite === "None" && session.secure && session.httpOnly, `session cookie: ${JSON.stringify(session)} among ${JSON.stringify(cookies)}`);
    }
    check((await frame.getByRole("link", { name: "Back" }).getAttribute("target")) === "_top", "the Back link does not leave the frame");

    step = `${mode}: the portal wears the project's theme`;
    check((await frame.locator(".brand").textContent()).trim() === product, `the header says ${await frame.locator(".brand").textContent()}`);
    check((await frame.title()).endsWith(`· ${product}`), `the title is ${await frame.title()}`);
    const logo = frame.locator(".brand img");
    await logo.waitFor();
    check(await logo.evaluate((img) => img.complete && img.naturalWidth === 64), "the logo did not load");
    const rgb = (hex) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;
    const button = await frame.getByRole("button", { name: "Register" }).evaluate((b) => getComputedStyle(b).backgroundColor);
    check(button === rgb(accent), `the Register button is ${button}, want the applied accent ${rgb(accent)}`);
    await fits(frame, "webhooks");

    step = `${mode}: a bad URL is refused beside its field`;
    await frame.getByLabel("URL").fill("ftp://example.com/hook");
    await frame.getByRole("button", { name: "Register" }).click();
    await frame.locator("#url-error").waitFor();
    await fits(frame, "the refused form");

    // Issue 29, item 3: the portal has the expression editor and its
    // preview, on a sample event (a portal session sees no stored events).
    step = `${mode}: preview a filter`;
    const filter = frame.getByLabel("Filter: only the events for which it is true are delivered");
    await filter.fill("data.total > 100.0");
    await frame.getByLabel("Sample event").fill('{"type": "invoice.paid", "data": {"total": 149.5}}');
    await frame.getByRole("button", { name: "Preview" }).click();
    await frame.locator("#preview-results").waitFor();
    const shown = await frame.locator("#preview-results").textContent();
    check(shown.includes("matched: true") && shown.includes("of 1,000,000"), `the preview: ${shown}`);
    check((await frame.locator("#sampleEventId").count()) === 0, "the portal offers a stored event's ID");
    await fits(frame, "the preview");
    await filter.fill("");

    step = `${mode}: register a webhook`;
    await frame.getByLabel("URL").fill(`${receiver}/customer-${refuseCookies ? "b" : "a"}`);
    await frame.getByRole("button", { name: "Register" }).click();
    await frame.getByText("Registered.").waitFor();
    check((await frame.locator("code.secret").first().textContent()).startsWith("whsec_"), "no secret shown after registering");
    await fits(frame, "the new webhook's secret");
    const webhook = frame.url().replace(/\/secret\?.*$/, "");
    check(/\/webhooks\/wh_[a-z0-9]+$/.test(webhook), `not on the new webhook's secret page: ${frame.url()}`);

    step = `${mode}: send a test event`;
    await frame.goto(webhook);
    await frame.getByRole("button", { name: "Send test event" }).click();
    await frame.getByText("Sent a webhook.test event").waitFor();
    await fits(frame, "the webhook");

    step = `${mode}: see its delivery succeed`;
    await frame.getByRole("link", { name: "Deliveries", exact: true }).click();
    await frame.waitForURL(/\/deliveries$/);
    await fits(frame, "deliveries");
    const deadline = Date.now() + 20000;
    for (;;) {
      const link = frame.locator("tbody a[href*='/deliveries/msg_']").first();
      if ((await link.count()) > 0) {
        await link.click();
        await frame.waitForURL(/\/deliveries\/msg_[a-z0-9]+$/);
        if ((await frame.locator(".fields .badge.succeeded").count()) === 1) break;
      }
      check(Date.now() < deadline, "the test event's delivery did not succeed within 20 s");
      await sleep(300);
      await frame.goto(frame.url().replace(/\/deliveries\/.*$/, "/deliveries"));
    }
    check(await frame.getByText("received by the customer").first().isVisible(), "the receiver's answer is not shown");
    await fits(frame, "the delivery");

    step = `${mode}: the event types`;
    await frame.getByRole("link", { name: "Event types", exact: true }).click();
    await frame.getByText("invoice.paid").first().waitFor();
    await fits(frame, "event types");

    step = `${mode}: the operator's pages are not there`;
    await frame.goto(frame.url().replace(/\/p\/.*$/, "/projects"));
    check((await frame.getByText("There is no such page.").count()) === 1, `the projects page in the portal: ${frame.url()}`);
    await context.close();
  }

  step = "an origin the project does not allow cannot frame the portal";
  const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
  page = await context.newPage();
  await page.goto(otherURL);
  await page.waitForLoadState("load");
  frame = page.frames().find((f) => f !== page.mainFrame());
  check(frame, "the other page has no frame");
  const shown = await frame.evaluate(() => document.body ? document.body.innerText : "").catch(() => "");
  check(!shown.includes("Opening your webhooks portal") && !shown.includes("Webhooks portal"), `the portal shows in a frame of ${otherURL}: ${shown}`);
  check(!/\/ui\/(p|s)\//.test(frame.url()), `the frame of ${otherURL} reached the portal: ${frame.url()}`);
  await context.close();
  console.log("portal end to end: ok");
} catch (err) {
  mkdirSync(artifacts, { recursive: true });
  if (page) await page.screenshot({ path: `${artifacts}/failure.png`, fullPage: true }).catch(() => {});
  if (frame) writeFileSync(`${artifacts}/failure.html`, await frame.content().catch(() => ""));
  console.error(`portal end to end failed at "${step}" (${frame ? frame.url() : page ? page.url() : ""}): ${err.message}`);
  console.error(`screenshot and HTML in ${artifacts}/`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
