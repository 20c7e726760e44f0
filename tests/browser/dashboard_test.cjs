// The web dashboard in a real browser: Debian's Chromium, driven by
// playwright-core, against a real dxbackup-scheduler holding a generated
// fleet of 1,000 deployments and 100,000 sets (make-fleet). Signs in with
// a viewer token, reads the fleet, filters it, opens deployments and a
// set, copies a restore command, signs out; checks what each page says
// and saves a screenshot of each under the output directory.
//
//   node dashboard_test.cjs BIN_DIR OUT_DIR
//
// NODE_PATH must reach playwright-core (tools/install-deps.sh installs it
// under /usr/local/lib/dxbackup-playwright); CHROMIUM overrides
// /usr/bin/chromium. Exits 0 when every check held.
"use strict";
const assert = require("node:assert/strict");
const { spawn, execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const { chromium } = require("playwright-core");

const [binDir, outDir] = process.argv.slice(2);
if (!binDir || !outDir) {
  console.error("usage: node dashboard_test.cjs BIN_DIR OUT_DIR");
  process.exit(2);
}
const DEPLOYMENTS = 1000;
const SETS_EACH = 100;

const sha256 = (s) => crypto.createHash("sha256").update(s).digest("hex");

// Starts the scheduler; resolves with the dashboard's port once it says
// "web dashboard on port N", rejects if it exits first.
function startScheduler(dir) {
  const child = spawn(
    path.join(binDir, "dxbackup-scheduler"),
    ["--insecure-loopback", "--listen", "127.0.0.1:0", "--data-dir",
     path.join(dir, "data"), "--config", path.join(dir, "config.yaml"),
     "--web-listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", fs.openSync(path.join(dir, "scheduler.log"), "w")] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const early = (code) => reject(new Error(
      `the scheduler exited (${code}) before serving the dashboard: ` +
      fs.readFileSync(path.join(dir, "scheduler.log"), "utf8")));
    child.on("exit", early);
    lines.on("line", (line) => {
      const m = /^web dashboard on port (\d+)$/.exec(line);
      if (m) {
        child.off("exit", early);
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

// Stops the scheduler and resolves once it has exited.
function stopScheduler(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.on("exit", resolve);
    child.kill("SIGTERM");
  });
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dxbackup-browser-"));
  fs.mkdirSync(path.join(dir, "data"));
  execFileSync(path.join(binDir, "make-fleet"), [
    "--catalog", path.join(dir, "data", "catalog.db"),
    "--policy-yaml", path.join(dir, "policy.yaml"),
    "--deployments", String(DEPLOYMENTS),
    "--sets-per-deployment", String(SETS_EACH)]);
  fs.writeFileSync(path.join(dir, "tokens.yaml"),
    "tokens:\n" +
    `  - {name: dashboards, role: viewer, sha256: ${sha256("viewer-token")}}\n` +
    `  - {name: agents, role: agent, namespace: dx-t0001, sha256: ${sha256("agent-token")}}\n`);
  fs.writeFileSync(path.join(dir, "config.yaml"),
    `tokens_file: ${path.join(dir, "tokens.yaml")}\n` +
    fs.readFileSync(path.join(dir, "policy.yaml"), "utf8"));
  const { child, port } = await startScheduler(dir);
  const base = `http://127.0.0.1:${port}`;
  let browser;
  try {
    // Who gets in, without a browser.
    assert.equal((await fetch(base + "/")).status, 401, "no token: 401");
    assert.equal((await fetch(base + "/", {
      headers: { Authorization: "Bearer agent-token" } })).status, 403,
      "an agent token: 403");
    assert.equal((await fetch(base + "/", {
      headers: { Authorization: "Bearer viewer-token" } })).status, 200,
      "a viewer token: 200");

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync"],
    });
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"],
                                   { origin: base });
    const page = await context.newPage();
    const problems = [];  // CSP violations, script errors, failed loads
    // The 401s of the sign-in form are expected; any other error is not.
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("requestfailed", (r) => problems.push("failed: " + r.url()));
    const shot = (name) => page.screenshot({
      path: path.join(outDir, name + ".png"), fullPage: true });

    // Not signed in: the sign-in form, with 401.
    let response = await page.goto(base + "/");
    assert.equal(response.status(), 401);
    await shot("sign-in");
    await page.fill("input[name=token]", "wrong-token");
    await page.click("form.sign-in button");
    assert.match(await page.textContent("p.error"), /unknown token/);
    await page.fill("input[name=token]", "viewer-token");
    await Promise.all([page.waitForURL(base + "/"),
                       page.click("form.sign-in button")]);

    // The fleet: counts by health, the worst first, a page at a time.
    assert.equal(await page.textContent("h1"), "Fleet");
    const counts = await page.textContent("p.counts");
    assert.match(counts, /1000 deployments/);
    assert.match(counts, /100 red/);
    assert.match(counts, /200 amber/);
    assert.match(counts, /700 green/);
    assert.match(counts, /0 without an RPO/);
    assert.match(await page.textContent("#running"), /Nothing is running/);
    assert.equal(await page.locator("table.fleet tbody tr").count(), 100);
    assert.equal(await page.locator("table.fleet tbody tr.health-red").count(), 100,
                 "the first page is the 100 red deployments");
    assert.match(await page.textContent("nav.pager"), /page 1 of 10/);
    assert.match(await page.textContent("header"), /dashboards/, "signed in as");
    await shot("fleet");
    await Promise.all([page.waitForURL(/page=2/), page.click("nav.pager a[rel=next]")]);
    assert.match(await page.textContent("nav.pager"), /page 2 of 10/);
    await page.goto(base + "/?page=10");
    assert.equal(await page.locator("table.fleet tbody tr.health-green").count(), 100,
                 "the last page is green");

    // Filtered: the amber ones among dx-t00xx.
    await page.goto(base + "/");
    await page.fill("input[name=q]", "dx-t00");
    await page.selectOption("select[name=health]", "amber");
    await Promise.all([page.waitForURL(/health=amber/), page.click("form.filter button")]);
    assert.equal(await page.locator("table.fleet tbody tr").count(), 20);
    assert.equal(await page.locator("table.fleet tbody tr.health-amber").count(), 20);
    await shot("fleet-filtered");

    // A deployment past its RPO: plots of its 100 sets, its sets 50 a page
    // with why retention keeps each.
    await page.goto(base + "/");
    await Promise.all([page.waitForURL(base + "/d/dx-t0000/dx"),
                       page.click("a[href='/d/dx-t0000/dx']")]);
    assert.equal(await page.textContent("h1"), "dx-t0000/dx");
    assert.match(await page.textContent("dl.facts"), /past its RPO of 24h00m/);
    const plots = page.locator("figure.plot svg");
    assert.equal(await plots.count(), 3, "size, duration, quiesce window");
    assert.equal(await plots.nth(0).locator("circle").count(), SETS_EACH);
    assert.equal(await plots.nth(1).locator("circle").count(), SETS_EACH);
    assert.equal(await plots.nth(2).locator("line.limit").count(), 1,
                 "the liveness limit on the quiesce plot");
    const setRows = page.locator("table.sets tbody tr");
    assert.equal(await setRows.count(), 50);
    assert.match(await page.textContent("#sets nav.pager"), /page 1 of 2/);
    const retention = await page.locator("table.sets td.retention").allTextContents();
    assert.ok(retention.every((t) => /^kept: /.test(t)),
              "every set says why it is kept: " + retention.slice(0, 3));
    assert.ok(retention.some((t) => /within/.test(t)), retention.slice(0, 3));
    await shot("deployment");

    // Drills: one passed, one failed, shown as such.
    await page.goto(base + "/d/dx-t0003/dx");
    assert.match(await page.textContent("dl.facts"), /passed.*restored in/s);
    await page.goto(base + "/d/dx-t0008/dx");
    const failedDrill = await page.textContent("dl.facts");
    assert.match(failedDrill, /failed/);
    assert.match(failedDrill, /3 entries missing/);

    // A set: its restore command (copied), members, jobs and their logs.
    await page.goto(base + "/d/dx-t0003/dx");
    const firstSet = page.locator("table.sets tbody tr td:first-child a").first();
    const setId = await firstSet.textContent();
    await Promise.all([page.waitForURL(base + "/s/" + setId), firstSet.click()]);
    assert.equal(await page.textContent("h1"), "Set " + setId);
    assert.equal(await page.textContent("#restore-in-place"),
                 "dxbackup restore " + setId);
    assert.match(await page.textContent("#restore-aside"),
                 new RegExp(`--target core/profile --to /restore/${setId}`));
    await page.click("button[data-copy=restore-in-place]");
    await page.waitForFunction(() =>
      document.querySelector("button[data-copy=restore-in-place]").textContent === "Copied");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()),
                 "dxbackup restore " + setId);
    const members = await page.locator("#members tbody tr td:first-child").allTextContents();
    assert.deepEqual(members.sort(), ["core/profile", "db/jcrdb"]);
    assert.equal(await page.locator("#jobs tbody tr").count(), 2);
    await page.click("#jobs details summary");
    assert.match(await page.textContent("#jobs details pre.log"), /pg_dump: done/);
    assert.match(await page.textContent("#checks"), /passed/);
    await shot("set");

    // Signed out: back to the form, and the pages are closed again.
    await Promise.all([page.waitForURL(base + "/login"), page.click("form.who button")]);
    response = await page.goto(base + "/d/dx-t0000/dx");
    assert.equal(response.status(), 401);

    assert.deepEqual(problems, [], "no console error, CSP violation or failed load");
    console.log(`dashboard browser test: every check held; screenshots in ${outDir}`);
  } finally {
    if (browser) await browser.close();
    await stopScheduler(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
