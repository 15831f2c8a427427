// Drives Fidus's GraphiQL page in Debian's headless Chromium (playwright-core, no browser
// download): records every request, runs a query with a Bearer token put in the headers
// editor and a mutation, starts a ticks subscription and waits for a live tick, saves a screenshot.
// Prints JSON lines; waits for the test to post ticks after {"subscribed": true}.
// Usage: node graphiql.mjs BASE_URL ACCESS_TOKEN SCREENSHOT_PATH
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [baseUrl, token, screenshot] = process.argv.slice(2);
const print = (value) => console.log(JSON.stringify(value));
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const profile = mkdtempSync(join(tmpdir(), "fidus-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const requests = [];
const problems = [];
context.on("request", (request) => requests.push(request.url()));
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(15000);
page.on("websocket", (socket) => requests.push(socket.url()));
page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console: ${message.text()}`);
});
await page.addInitScript(() => {
  document.addEventListener("securitypolicyviolation", (event) => {
    console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
  });
});

async function editorValue(selector) {
  return page.$eval(`${selector} .CodeMirror`, (element) => element.CodeMirror.getValue());
}
async function setEditor(selector, value) {
  await page.$eval(`${selector} .CodeMirror`, (element, text) => element.CodeMirror.setValue(text), value);
  await page.waitForTimeout(500); // GraphiQL reads the operation name from edits, debounced
}
async function waitForResponse(predicate, timeout = 20000) {
  const started = Date.now();
  for (;;) {
    const text = await editorValue(".graphiql-response");
    if (predicate(text)) return text;
    if (Date.now() - started > timeout) throw new Error(`no matching response; last: ${text}`);
    await page.waitForTimeout(100);
  }
}

try {
  const response = await page.goto(`${baseUrl}/graphql`, { waitUntil: "load" });
  print({ page: response.status(), csp: response.headers()["content-security-policy"] });
  await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 20000 });

  // The headers editor, as an analyst would use it: open the Headers tab, put the token in.
  await page.getByRole("button", { name: "Headers", exact: true }).click();
  const headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
  await setEditor(headers, JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
  print({ headers: JSON.parse(await editorValue(headers)).Authorization.startsWith("Bearer ") });

  await setEditor(".graphiql-query-editor", "query Me {\n  me {\n    email\n    role\n  }\n}\n");
  await page.click(".graphiql-execute-button");
  const result = JSON.parse(await waitForResponse((text) => text.includes('"data"') || text.includes('"errors"')));
  print({ query: result });

  await setEditor(
    ".graphiql-query-editor",
    'mutation Create {\n  createPortfolio(name: "From GraphiQL", baseCurrency: "CHF") {\n    name\n    baseCurrency\n  }\n}\n',
  );
  await page.click(".graphiql-execute-button");
  const created = JSON.parse(await waitForResponse((text) => text.includes("From GraphiQL") || text.includes('"errors"')));
  print({ mutation: created });

  await setEditor(
    ".graphiql-query-editor",
    'subscription Ticks {\n  ticks(symbols: ["XAUUSD"]) {\n    symbol\n    bid\n    ask\n    time\n  }\n}\n',
  );
  await page.click(".graphiql-execute-button");
  print({ subscribed: true });
  const tick = JSON.parse(await waitForResponse((text) => text.includes('"XAUUSD"'), 30000));
  print({ tick });

  await page.screenshot({ path: screenshot, fullPage: true });
  print({ screenshot });
  await page.click(".graphiql-execute-button"); // stop the subscription
  print({ requests, problems });
} catch (error) {
  await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  const tools = await page.$eval(".graphiql-editor-tool", (e) => e.outerHTML.replace(/<div class="CodeMirror-code".*?<\/div><\/div><\/div>/g, "")).catch(() => "");
  print({ error: String(error?.stack ?? error), requests, problems, tools: tools.slice(0, 3000) });
  process.exitCode = 2;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
