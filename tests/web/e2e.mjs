// The head-office web app end to end, in Debian's headless Chromium driven by playwright-core:
// sign-in per role, the dashboard's figures, an edit reaching a Python SDK phone and a phone's
// edit reaching the open page, a CSV import with a bad row (twice), what guides and reps may
// not see, sign-out and CSRF. Saves a screenshot of every screen. Run by tests/tests/web_app.rs,
// which starts the server with the demo company and passes what this needs in ITINERA_*.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('ITINERA_BASE');
const shots = env('ITINERA_SCREENSHOTS');
const lakeside = env('ITINERA_LAKESIDE');
const harbour = env('ITINERA_HARBOUR');
mkdirSync(shots, { recursive: true });

const figures = {};
const profiles = [];

async function browse() {
  const profile = mkdtempSync(join(tmpdir(), 'itinera-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.ITINERA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'en-GB',
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Refused requests (401 before sign-in, the 403 and 404 the test provokes) are logged by the
  // browser too; script errors are what must not happen.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return { context, page, problems };
}

async function step(name, work) {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    console.error(`not ok - ${name}`);
    throw error;
  }
  console.log(`ok - ${name} (${Date.now() - started} ms)`);
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

// A screen fills in from several requests (a document, then the names from the catalog or the
// employees' list), so what it shows is awaited: the text must come to match within the
// timeout, and a mismatch fails with the text last shown.
async function shows(page, selector, pattern) {
  try {
    await page.waitForFunction(
      ([selector, source, flags]) => new RegExp(source, flags).test(document.querySelector(selector)?.textContent ?? ''),
      [selector, pattern.source, pattern.flags],
      { timeout: 10_000 },
    );
  } catch {
    // Fall through: the assertion below names what was shown instead.
  }
  assert.match(await page.textContent(selector), pattern);
}

async function signIn(page, user) {
  await page.goto(`${base}/`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', 'demo');
  await page.click('form.sign-in button[type=submit]');
  await page.waitForSelector('[data-testid=who]');
}

/** A request from the page itself: its cookie, its CSRF rules. */
const fromPage = (page, path, init = {}) => page.evaluate(async ([path, init]) => {
  const response = await fetch(path, init);
  return { status: response.status, body: await response.text() };
}, [path, init]);

function device(...args) {
  const python = process.env.ITINERA_PYTHON || 'python3';
  const output = execFileSync(python, [join(import.meta.dirname, 'device.py'), ...args], { encoding: 'utf8', env: process.env });
  return JSON.parse(output.trim().split('\n').pop());
}

const office = await browse();
const { page } = office;

await step('the sign-in page loads from the server', async () => {
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.waitForSelector('form.sign-in');
  figures.signInPageMs = Date.now() - started;
  const sizes = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => /\/assets\//.test(r.name))
    .map((r) => ({ name: r.name, transfer: r.transferSize, decoded: r.decodedBodySize })));
  figures.assetsOverTheWireBytes = sizes.reduce((sum, r) => sum + r.transfer, 0);
  figures.assetsDecodedBytes = sizes.reduce((sum, r) => sum + r.decoded, 0);
  assert.ok(figures.assetsOverTheWireBytes < figures.assetsDecodedBytes, 'assets are sent compressed');
  await shot(page, '01-sign-in');
});

await step('a wrong password is refused', async () => {
  await page.fill('input[name=user]', 'olga');
  await page.fill('input[name=password]', 'wrong');
  await page.click('form.sign-in button[type=submit]');
  await page.waitForSelector('form.sign-in [role=alert]');
});

await step('office signs in and the dashboard shows the demo company', async () => {
  const started = Date.now();
  await signIn(page, 'olga');
  await page.waitForSelector('[data-testid=kpi-open-pipeline]');
  figures.dashboardAfterSignInMs = Date.now() - started;
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  await shows(page, '[data-testid=kpi-open-pipeline]', /€7,800\.00/);
  await shows(page, '[data-testid=kpi-weighted]', /€4,680\.00/);
  await shows(page, '[data-testid=pipeline-by-stage]', /Proposal/);
  await shows(page, '[data-testid=pipeline-by-rep]', /sam/);
  await shows(page, '[data-testid=revenue-per-tour]', /Danube Bend, 3 days/);
  await shows(page, '[data-testid=revenue-per-tour]', /Alpine Villages, 5 days/);
  assert.equal(await page.locator('.chart canvas').count() >= 2, true, 'the charts with figures are drawn');
  await page.waitForSelector('[data-testid=live-status]:has-text("live")');
  await shot(page, '02-dashboard');
});

await step('the dashboard in Hungarian', async () => {
  await page.selectOption('.topbar select[aria-label=language]', 'hu');
  await page.waitForSelector('h1:has-text("Áttekintés")');
  // Hungarian as CLDR writes it: no grouping below five digits, and the euro as "EUR".
  await shows(page, '[data-testid=kpi-open-pipeline]', /7800,00\sEUR/);
  await shot(page, '03-dashboard-hu');
  await page.selectOption('.topbar select[aria-label=language]', 'en');
  await page.waitForSelector('h1:has-text("Dashboard")');
});

await step('every screen of the office opens', async () => {
  for (const [name, path, ready] of [
    ['04-accounts', '/accounts', '[data-testid=list-accounts] tbody tr'],
    ['05-leads', '/leads', '[data-testid=list-leads] tbody tr'],
    ['06-campaigns', '/leads?tab=campaigns', '[data-testid=list-campaigns] tbody tr'],
    ['07-tickets', '/tickets', '[data-testid=list-tickets]'],
    ['08-departures', '/departures', '[data-testid=list-departures] tbody tr'],
    ['10-stock', '/stock', '[data-testid=list-stock] tbody tr'],
    ['12-alerts', '/alerts?status=', '[data-testid=alerts]'],
    ['13-invoices', '/invoices', '[data-testid=drafts]'],
    ['14-import', '/import', '[data-testid=import]'],
  ]) {
    await page.goto(`${base}${path}`);
    await page.waitForSelector(ready);
    await shot(page, name);
  }
  await shows(page, 'body', /CSV/);
  await page.goto(`${base}/invoices`);
  await page.waitForSelector('[data-testid=list-drafts] tbody tr');
  await shows(page, '[data-testid=list-drafts]', /Harbour Travel/);
  // Receivables come a page at a time; the page says how many there are in all.
  await shows(page, '[data-testid=receivables-total]', /\d+ in all/);
  await page.goto(`${base}/departures`);
  await page.click('[data-testid=list-departures] a:has-text("Danube Bend")');
  await page.waitForSelector('[data-testid=seat-plan] .seat');
  assert.equal(await page.locator('[data-testid=seat-plan] .seats .seat').count(), 20);
  await shows(page, '[data-testid=assignments]', /Gusztáv Horváth/);
  await shot(page, '09-departure');
  // The item names come from the catalog, a request of its own: answered late here, as on a
  // slow line, the screen must still come to show them.
  const lateCatalog = async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await route.continue();
  };
  await page.route('**/api/v1/lists/catalogs*', lateCatalog);
  await page.goto(`${base}/stock`);
  await page.click('[data-testid=list-stock] a:has-text("Tour kit 1")');
  await page.waitForSelector('[data-testid=movements] tbody tr');
  await shows(page, '[data-testid=on-hand]', /Water 0\.5 l/);
  await page.unroute('**/api/v1/lists/catalogs*', lateCatalog);
  await shot(page, '11-stock-location');
});

await step('an edit in the page reaches a phone', async () => {
  await page.goto(`${base}/accounts`);
  await page.fill('[data-testid=list-accounts] input[type=search]', 'lakeside');
  await page.waitForSelector('[data-testid=list-total]:has-text("1 in all")');
  await page.click('[data-testid=list-accounts] a:has-text("Lakeside Schools")');
  await page.waitForSelector('[data-testid=account-form]');
  assert.equal(new URL(page.url()).pathname, `/accounts/${lakeside}`);
  await page.fill('[data-testid=account-form] input[name="address.city"]', 'Esztergom');
  await page.click('[data-testid=account-form] button[type=submit]');
  await page.waitForSelector('[data-testid=account-form] [role=status]');
  const onPhone = device('show', lakeside);
  assert.equal(onPhone.city, 'Esztergom');
  assert.equal(onPhone.name, 'Lakeside Schools');
});

await step('an opportunity in forints is shown without decimals', async () => {
  const form = page.locator('[data-testid=opportunities] form');
  await form.locator('input').nth(0).fill('Autumn choir tour');
  await form.locator('input').nth(1).fill('150000');
  await form.locator('select').selectOption('HUF');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('[data-testid=opportunities] td:has-text("Autumn choir tour")');
  await shows(page, '[data-testid=opportunities]', /HUF\s150,000(?![.,]\d)/);
  await page.selectOption('.topbar select[aria-label=language]', 'hu');
  await page.waitForSelector('[data-testid=opportunities] h2:has-text("Lehetőségek")');
  await shows(page, '[data-testid=opportunities]', /150\s000\sFt/);
  await page.selectOption('.topbar select[aria-label=language]', 'en');
  await page.waitForSelector('[data-testid=opportunities] h2:has-text("Opportunities")');
  await shot(page, '15-account');
});

await step('a change made on a phone appears on the open page', async () => {
  const started = Date.now();
  device('rename', lakeside, 'Lakeside School Trust');
  const synced = Date.now();
  await page.waitForSelector('[data-testid=account-title]:has-text("Lakeside School Trust")');
  figures.phoneEditOnPageMs = Date.now() - synced;
  figures.phoneEditWithSyncMs = Date.now() - started;
  assert.equal(await page.inputValue('[data-testid=account-form] input[name=name]'), 'Lakeside School Trust');
});

const crm = [
  'Account ID,Account Name,Type,Account Owner,Billing City,Billing Country,First Name,Last Name,Title,Email,Phone',
  'ACC-100,Budai Általános Iskola,Customer,sam,Budapest,HU,Anna,Kiss,Igazgató,anna.kiss@budai.example,+36 1 555 1234',
  'ACC-100,Budai Általános Iskola,Customer,sam,Budapest,HU,Béla,Tóth,Tanár,bela.toth@budai.example,',
  'ACC-101,Pécsi Kórus Egyesület,Customer,sofia,Pécs,HU,Csilla,Varga,Elnök,csilla@pecsikorus.example,+36 72 555 000',
  'ACC-102,Győri Utazási Iroda,Partner,,Győr,HU,Dénes,Fehér,,denes(at)gyori.example,',
  'ACC-103,Soproni Borbarát Kör,Customer,,Sopron,HU,,,,,',
].join('\n');

async function importOnce(expected) {
  await page.goto(`${base}/import`);
  await page.setInputFiles('[data-testid=import] input[type=file]', { name: 'crm-export.csv', mimeType: 'text/csv', buffer: Buffer.from(crm) });
  await page.waitForSelector('[data-testid=dry-run-summary]');
  assert.equal(await page.textContent('[data-testid=bad-count]'), '1');
  assert.equal(await page.textContent('[data-testid=to-create]'), String(expected.create));
  assert.equal(await page.textContent('[data-testid=unchanged]'), String(expected.unchanged));
  const bad = await page.textContent('[data-testid=bad-rows]');
  assert.match(bad, /5/);
  assert.match(bad, /"denes\(at\)gyori\.example" is not an e-mail address/);
  assert.equal(await page.inputValue('select[aria-label=name]'), 'Account Name');
  await shot(page, expected.create ? '16-import-dry-run' : '18-import-again');
  await page.click('[data-testid=run-import]');
  await page.waitForSelector('[data-testid=import-status][data-finished=true]');
  return page.textContent('[data-testid=import-status]');
}

await step('a CSV import: the dry run shows the bad row, the import takes the rest', async () => {
  const before = JSON.parse((await fromPage(page, '/api/v1/lists/accounts?limit=1')).body).total;
  const done = await importOnce({ create: 3, unchanged: 0 });
  assert.match(done, /3 new, 0 changed, 0 unchanged, 1 left out/);
  await shot(page, '17-import-done');
  const after = JSON.parse((await fromPage(page, '/api/v1/lists/accounts?limit=1')).body).total;
  assert.equal(after, before + 3);
  const budai = JSON.parse((await fromPage(page, '/api/v1/lists/accounts?q=budai')).body);
  assert.equal(budai.items.length, 1);
  assert.equal(budai.items[0].contacts, 2);
  assert.equal(budai.items[0].owner, 'sam');
});

await step('importing the same file again changes nothing', async () => {
  const before = JSON.parse((await fromPage(page, '/api/v1/lists/accounts?limit=1')).body).total;
  const done = await importOnce({ create: 0, unchanged: 3 });
  assert.match(done, /0 new, 0 changed, 3 unchanged, 1 left out/);
  const after = JSON.parse((await fromPage(page, '/api/v1/lists/accounts?limit=1')).body).total;
  assert.equal(after, before);
});

await step('a write without the CSRF token is refused, with it accepted', async () => {
  const patch = { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ territory: 'north' }) };
  const refused = await fromPage(page, `/api/v1/documents/${lakeside}`, patch);
  assert.equal(refused.status, 403);
  const session = JSON.parse((await fromPage(page, '/api/v1/session')).body);
  const accepted = await fromPage(page, `/api/v1/documents/${lakeside}`, { ...patch, headers: { ...patch.headers, 'X-CSRF-Token': session.csrf_token } });
  assert.equal(accepted.status, 200);
});

await step('two people rename the account at once: the page shows the conflict', async () => {
  device('rename-offline', lakeside, 'Lakeside (renamed on the phone)');
  await page.goto(`${base}/accounts/${lakeside}`);
  await page.fill('[data-testid=account-form] input[name=name]', 'Lakeside (renamed in the office)');
  await page.click('[data-testid=account-form] button[type=submit]');
  await page.waitForSelector('[data-testid=account-title]:has-text("renamed in the office")');
  device('sync');
  await page.waitForSelector('[data-testid=conflicts]');
  const shown = await page.textContent('[data-testid=conflicts]');
  assert.match(shown, /\/name/);
  assert.match(shown, /renamed on the phone/);
  assert.match(shown, /renamed in the office/);
  await shot(page, '19-conflict');
});

await step('signing out ends the session on the server', async () => {
  const [cookie] = (await office.context.cookies()).filter((c) => c.name === 'itinera_session');
  assert.ok(cookie?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Strict');
  await page.click('.topbar button:has-text("Sign out")');
  await page.waitForSelector('form.sign-in');
  const after = await fetch(`${base}/api/v1/me`, { headers: { Cookie: `itinera_session=${cookie.value}` } });
  assert.equal(after.status, 401);
});
assert.deepEqual(office.problems, []);
await office.context.close();

await step('a guide sees their departure and kit, and no price anywhere', async () => {
  const guide = await browse();
  await signIn(guide.page, 'gus');
  const nav = await guide.page.locator('.sidebar a').allTextContents();
  assert.deepEqual(nav, ['Departures', 'Stock']);
  const noPrices = async () => {
    const text = await guide.page.textContent('main');
    assert.doesNotMatch(text, /€|\bEUR\b|\bHUF\b|\bFt\b|price|amount|budget|gross/i, `a price on ${guide.page.url()}`);
  };
  await guide.page.waitForSelector('[data-testid=list-departures] tbody tr');
  await noPrices();
  await shot(guide.page, '20-guide-departures');
  await guide.page.click('[data-testid=list-departures] tbody a');
  await guide.page.waitForSelector('[data-testid=seat-plan] .seat');
  await guide.page.waitForSelector('[data-testid=answers]');
  await noPrices();
  await shot(guide.page, '21-guide-departure');
  await guide.page.goto(`${base}/stock`);
  await guide.page.click('[data-testid=list-stock] a:has-text("Tour kit 1")');
  await guide.page.waitForSelector('[data-testid=movements] tbody tr');
  await noPrices();
  await shot(guide.page, '22-guide-stock');
  for (const list of ['bookings', 'invoices', 'campaigns', 'accounts']) {
    const answer = JSON.parse((await fromPage(guide.page, `/api/v1/lists/${list}`)).body);
    assert.equal(answer.total, 0, `a guide listed ${list}`);
  }
  assert.equal((await fromPage(guide.page, '/api/v1/reports/revenue')).status, 403);
  assert.equal(JSON.parse((await fromPage(guide.page, '/api/v1/lists/catalogs')).body).total, 0, 'the catalog holds prices');
  assert.deepEqual(guide.problems, []);
  await guide.context.close();
});

await step("a rep cannot open another rep's account by its URL", async () => {
  const rep = await browse();
  await signIn(rep.page, 'sam');
  await rep.page.waitForSelector('[data-testid=list-accounts] tbody tr');
  assert.doesNotMatch(await rep.page.textContent('[data-testid=list-accounts]'), /Harbour Travel/);
  await rep.page.goto(`${base}/accounts/${harbour}`);
  await rep.page.waitForSelector('[role=alert]');
  assert.match(await rep.page.textContent('main'), /does not exist, or it is not yours to see/);
  assert.doesNotMatch(await rep.page.textContent('main'), /Harbour Travel/);
  assert.equal((await fromPage(rep.page, `/api/v1/documents/${harbour}`)).status, 404);
  await shot(rep.page, '23-rep-foreign-account');
  await rep.page.goto(`${base}/accounts/${lakeside}`);
  await rep.page.waitForSelector('[data-testid=account-title]:has-text("Lakeside")');
  await rep.context.close();
});

await step('the admin screen lists the users', async () => {
  const admin = await browse();
  await signIn(admin.page, 'admin');
  await admin.page.goto(`${base}/admin`);
  await admin.page.waitForSelector('[data-testid=admin] tr[data-user=gus]');
  await shot(admin.page, '24-admin');
  await admin.context.close();
});

for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
console.log(`figures ${JSON.stringify(figures)}`);
