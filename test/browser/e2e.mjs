// End-to-end test of the login flow and the trader page in headless Chromium.
//
// The partner registers a trader, opens an account and asks for a login link; the link is read
// from the email in the SMTP sink's directory; the browser opens it, confirms, lands on the trader
// page, places a market and a limit order, cancels the limit order, and signs out. The partner API
// must show the same fill and account state. Screenshots of each step go to PP_ARTIFACTS_DIR.
//
// Environment (test/harness/run-browser-test sets all of it):
//   POLYPARTNER_URL   the server (its PolyPartnerPublicURL), e.g. http://127.0.0.1:8080
//   DEMO_KEY          a key of tenant "demo" with users:write accounts:read accounts:write
//   MAIL_DIR          the SMTP sink's directory (one .eml file per message)
//   PP_ARTIFACTS_DIR  screenshots (default: run/artifacts/browser in the repository)
//   PP_CHROMIUM       the browser (default /usr/bin/chromium)
//   PP_BROWSER_TIMEOUT_MS  per-wait timeout (default 15000)
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`e2e: ${name} is not set (run test/harness/run-browser-test)`);
    process.exit(2);
  }
  return v;
}

const BASE = need('POLYPARTNER_URL').replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const DEMO_KEY = need('DEMO_KEY');
const MAIL_DIR = need('MAIL_DIR');
const ART = path.resolve(process.env.PP_ARTIFACTS_DIR || path.join(repoRoot, 'run', 'artifacts', 'browser'));
const CHROMIUM = process.env.PP_CHROMIUM || '/usr/bin/chromium';
const T = Number(process.env.PP_BROWSER_TIMEOUT_MS || 15000);
const CSP = "default-src 'self'";

// The demo market of sql/seed/demo-markets.sql (tick 0.01), kept priced by the feed's replay.
const MARKET_Q = 'Will the demo index close above 5,000 on Friday?';
const OTHER_Q = 'Will it rain in the demo city tomorrow?';

const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
const EMAIL = `e2e-${run}@example.com`;
const EXTERNAL_USER = `e2e-user-${run}`;
// Markup in a partner-chosen name must show as text, never be parsed.
const EXTERNAL_ACCOUNT = `e2e-acct-${run}-<i>&amp;</i>`;

// ------------------------------------------------------------------ helpers

let shotNo = 0;
const shots = [];
async function shot(page, name) {
  shotNo += 1;
  const file = path.join(ART, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
  console.log(`   screenshot ${file}`);
}

async function partner(method, p, body) {
  const headers = { 'X-API-Key': DEMO_KEY, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + p, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* reported by the caller */ }
  return { status: res.status, json, text };
}

function expectStatus(r, status, what) {
  assert.equal(r.status, status, `${what}: expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 400)}`);
  return r.json;
}

// "9995.70" -> 999570 (integer cents; the test's own arithmetic never uses floats)
function cents(s) {
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(String(s));
  assert.ok(m, `not a 2-decimal money string: ${s}`);
  const v = Number(m[2]) * 100 + Number(m[3]);
  return m[1] ? -v : v;
}
function money(c) {
  const neg = c < 0;
  const a = Math.abs(c);
  return `${neg ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

async function waitText(page, selector, expected, what) {
  try {
    await page.waitForFunction(([sel, want]) => {
      const n = document.querySelector(sel);
      return !!n && (Array.isArray(want)
        ? want.every((w) => n.textContent.includes(w))
        : n.textContent.trim() === want);
    }, [selector, expected], { timeout: T });
  } catch (e) {
    const actual = await page.locator(selector).first().textContent().catch(() => '(missing)');
    throw new Error(`${what}: ${selector} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

async function waitUntil(fn, what, timeout = T) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// --- the email in the sink: a tiny MIME reader (multipart, quoted-printable, base64)

function parseEntity(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      if (!(k in headers)) headers[k] = line.slice(i + 1).trim();
    }
  }
  return { headers, body };
}

function decodeBody(ent) {
  const cte = (ent.headers['content-transfer-encoding'] || '7bit').toLowerCase();
  let bytes;
  if (cte === 'quoted-printable') {
    const s = ent.body.replace(/=\r?\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    bytes = Buffer.from(s, 'latin1');
  } else if (cte === 'base64') {
    bytes = Buffer.from(ent.body.replace(/\s+/g, ''), 'base64');
  } else {
    bytes = Buffer.from(ent.body, 'latin1');
  }
  return bytes.toString('utf8');
}

function findPart(ent, type) {
  const ct = ent.headers['content-type'] || 'text/plain';
  if (/^multipart\//i.test(ct)) {
    const b = /boundary="?([^";]+)"?/i.exec(ct);
    if (!b) return null;
    const chunks = ent.body.split(`--${b[1]}`);
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      const found = findPart(parseEntity(chunk.replace(/^[ \t]*\r?\n/, '')), type);
      if (found !== null) return found;
    }
    return null;
  }
  return ct.toLowerCase().startsWith(type) ? decodeBody(ent) : null;
}

async function mailFiles() {
  try {
    return (await fs.readdir(MAIL_DIR)).filter((f) => f.endsWith('.eml')).sort();
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

async function waitForMail(to, before) {
  return waitUntil(async () => {
    for (const f of await mailFiles()) {
      if (before.has(f)) continue;
      const raw = await fs.readFile(path.join(MAIL_DIR, f), 'latin1');
      const ent = parseEntity(raw);
      const rcpt = `${ent.headers['delivered-to'] || ''} ${ent.headers.to || ''}`.toLowerCase();
      if (rcpt.includes(to)) return { file: f, ent };
    }
    return null;
  }, `the login email to ${to} in ${MAIL_DIR}`);
}

// ------------------------------------------------------------------ the test

const problems = [];   // page errors, CSP violations, requests to other origins
const consoleLog = [];

async function main() {
  await fs.mkdir(ART, { recursive: true });
  for (const f of await fs.readdir(ART)) {
    if (f.endsWith('.png')) await fs.rm(path.join(ART, f));
  }
  console.log(`e2e: server ${BASE}, mail ${MAIL_DIR}`);
  console.log(`e2e: screenshots in ${ART}`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  console.log(`e2e: ${CHROMIUM} (Chromium ${browser.version()})`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(T);

  // The page must work under the production Content-Security-Policy. When the server does not
  // send one for the page itself, add it here so that inline code would still be caught.
  let serverCsp = null;
  await context.route((url) => url.origin === ORIGIN && (url.pathname === '/' || url.pathname === '/index.html'),
    async (route) => {
      const res = await route.fetch();
      const headers = res.headers();
      serverCsp = headers['content-security-policy'] || null;
      if (!serverCsp) headers['content-security-policy'] = CSP;
      await route.fulfill({ response: res, headers });
    });

  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`uncaught exception in the page: ${e.message}`));
  page.on('console', (m) => {
    consoleLog.push(`[${m.type()}] ${m.text()}`);
    // Failed fetches (401 before sign-in, refused orders) are logged by Chromium as errors.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== ORIGIN) {
      problems.push(`request to another origin: ${r.url()}`);
    }
  });
  let orderPosts = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/v1\/trader\/accounts\/[^/]+\/orders$/.test(new URL(r.url()).pathname)) {
      orderPosts += 1;
      const h = r.headers();
      if (!h['x-csrf-token']) problems.push('an order POST without X-CSRF-Token');
      if (!/^application\/json/.test(h['content-type'] || '')) problems.push('an order POST without Content-Type: application/json');
    }
  });

  let stepNo = 0;
  const step = (what) => console.log(`-- step ${++stepNo}: ${what}`);
  try {
    // --------------------------------------------------------------------
    step('the page signed out');
    const first = await page.goto(`${BASE}/`);
    assert.equal(first.status(), 200, `GET / answered ${first.status()}`);
    await page.getByRole('heading', { name: 'You are not signed in' }).waitFor();
    assert.match(await page.locator('#signed-out').textContent(), /sign-in link that comes by email/);
    assert.equal(await page.locator('#app').isHidden(), true, 'the trading UI is hidden when signed out');
    console.log(`   Content-Security-Policy of / from the server: ${serverCsp === null ? '(none: the test added ' + CSP + ')' : serverCsp}`);
    await shot(page, 'signed-out');

    // --------------------------------------------------------------------
    step('the partner registers a trader and opens an account');
    const user = expectStatus(await partner('POST', '/v1/partner/users',
      { external_id: EXTERNAL_USER, email: EMAIL }), 201, 'POST /v1/partner/users');
    const account = expectStatus(await partner('POST', '/v1/partner/accounts', {
      user_id: user.user_id, external_id: EXTERNAL_ACCOUNT, stage: 'challenge', starting_balance: '10000.00',
    }), 201, 'POST /v1/partner/accounts');
    const acctId = account.account_id;
    console.log(`   user ${user.user_id} (${EMAIL}), account ${acctId}`);

    // --------------------------------------------------------------------
    step('the partner requests a login link; the email arrives in the sink');
    const before = new Set(await mailFiles());
    const link202 = expectStatus(await partner('POST', `/v1/partner/users/${user.user_id}/login-link`, {}),
      202, 'POST login-link');
    assert.deepEqual(link202, { status: 'accepted' }, 'the 202 body never contains the link');
    const mail = await waitForMail(EMAIL, before);
    const text = findPart(mail.ent, 'text/plain');
    const html = findPart(mail.ent, 'text/html');
    assert.ok(text !== null, `the email ${mail.file} has no text/plain part`);
    assert.ok(html !== null, `the email ${mail.file} has no text/html part`);
    const lm = /(https?:\/\/[^\s<>"']+\/auth\/login\?token=([A-Za-z0-9_-]+))/.exec(text);
    assert.ok(lm, `no /auth/login?token= link in the text part:\n${text}`);
    const link = lm[1];
    assert.ok(link.startsWith(`${BASE}/auth/login?token=`), `the link points at ${link}, not at ${BASE}`);
    assert.equal(lm[2].length, 43, 'the token is 256 bits in base64url (43 characters)');
    assert.ok(html.includes(link), 'the HTML part carries the same link');
    console.log(`   email ${mail.file}: ${link.replace(/token=.*/, 'token=…')}`);

    // --------------------------------------------------------------------
    step('a mail scanner prefetches the link: nothing is consumed');
    for (let i = 0; i < 2; i++) {
      const r = await fetch(link, { redirect: 'manual' });
      assert.equal(r.status, 200, `prefetch GET ${i + 1} answered ${r.status}`);
      assert.equal(r.headers.get('set-cookie'), null, 'the confirmation page sets no cookie');
    }

    // --------------------------------------------------------------------
    step('the browser opens the link and sees the confirmation page');
    const conf = await page.goto(link);
    assert.equal(conf.status(), 200, `GET /auth/login answered ${conf.status()}`);
    const confirm = page.locator('form[method="post" i] button, form[method="post" i] input[type="submit"]').first();
    await confirm.waitFor();
    assert.equal((await context.cookies()).filter((c) => c.name === 'pp_session').length, 0,
      'no session before the confirmation');
    await shot(page, 'confirmation-page');

    // --------------------------------------------------------------------
    step('confirming signs in and lands on the trader page');
    const [signin] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/auth/login'),
      confirm.click(),
    ]);
    if (signin.status() !== 303) {
      const sent = await signin.request().allHeaders();
      const page410 = (await signin.text()).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
      assert.fail(`POST /auth/login answered ${signin.status()}, expected 303 (the browser sent Origin: ` +
        `${sent.origin === undefined ? '(none)' : sent.origin}): ${page410.slice(0, 300)}`);
    }
    await page.waitForURL((u) => u.origin === ORIGIN && u.pathname === '/');
    await waitText(page, '#user-email', EMAIL, 'signed in as the trader');
    const cookie = (await context.cookies()).find((c) => c.name === 'pp_session');
    assert.ok(cookie, 'a pp_session cookie is set');
    assert.equal(cookie.httpOnly, true, 'the session cookie is HttpOnly');
    assert.equal(cookie.sameSite, 'Lax', 'the session cookie is SameSite=Lax');
    const reused = await fetch(link, { redirect: 'manual' });
    assert.equal(reused.status, 410, `the used link answers ${reused.status}, expected 410`);
    await reused.text();

    const option = page.locator('#account-select option', { hasText: EXTERNAL_ACCOUNT });
    await option.waitFor({ state: 'attached' });
    const label = await option.textContent();
    assert.ok(label.includes(EXTERNAL_ACCOUNT), `the account's external_id is shown literally: ${label}`);
    assert.equal(await page.locator('#app i').count(), 0, 'no markup from API data is parsed');
    for (const part of ['demo', 'challenge', 'active']) {
      assert.ok(label.includes(part), `the account switcher shows ${part}: ${label}`);
    }
    await waitText(page, '#acct-balance', '10000.00', 'balance of the new account');
    await waitText(page, '#acct-equity', '10000.00', 'equity of the new account');
    await waitText(page, '#acct-status', 'active', 'status');
    assert.notEqual(await page.locator('#wallet-balance').textContent(), '—', 'the personal wallet is shown');
    await shot(page, 'signed-in');

    // --------------------------------------------------------------------
    step('search markets with the keyboard');
    await page.getByLabel('Search markets').focus();
    await page.keyboard.type('demo index');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: MARKET_Q }).waitFor();
    await waitUntil(async () => (await page.getByRole('heading', { name: OTHER_Q }).count()) === 0,
      'the search to leave out the other markets');
    const tradeYes = page.getByRole('button', { name: `Trade Yes: ${MARKET_Q}` });
    const yesRow = page.locator('article', { has: page.getByRole('heading', { name: MARKET_Q }) })
      .locator('tbody tr', { hasText: 'Yes' });
    const cells = await yesRow.locator('td').allTextContents();
    assert.match(cells[0], /^0\.\d{4}$|^—$/, `bid shown: ${cells}`);
    assert.match(cells[1], /^0\.\d{4}$/, `ask shown: ${cells}`);
    // Keyboard: the Trade button takes focus with a visible focus style.
    await tradeYes.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    assert.equal(await tradeYes.evaluate((b) => b === document.activeElement), true, 'Trade button focusable');
    const outline = await tradeYes.evaluate((b) => getComputedStyle(b).outlineStyle);
    assert.notEqual(outline, 'none', 'a focused button shows a focus outline');
    await page.keyboard.press('Enter');
    await waitText(page, '#ticket-outcome-name', 'Yes', 'the ticket shows the outcome');
    await waitText(page, '#ticket-question', MARKET_Q, 'the ticket shows the market');
    assert.equal(await page.getByLabel('Quantity (shares)').evaluate((n) => n === document.activeElement), true,
      'choosing an outcome moves focus to the quantity');
    await shot(page, 'market-search');

    // --------------------------------------------------------------------
    step('client-side validation refuses a quantity with 5 decimals without a request');
    await page.getByLabel('Quantity (shares)').fill('1.23456');
    await page.getByRole('button', { name: 'Place order' }).click();
    await waitText(page, '#qty-error', 'Quantity can have at most 4 decimals.', 'quantity error');
    assert.equal(await page.getByLabel('Quantity (shares)').getAttribute('aria-invalid'), 'true');
    assert.equal(orderPosts, 0, 'nothing was sent');
    await shot(page, 'validation-error');

    // --------------------------------------------------------------------
    step('the API refuses a SELL without shares; its message is shown');
    await page.getByLabel('Sell', { exact: true }).check();
    await page.getByLabel('Quantity (shares)').fill('5');
    let [refusal] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/v1/trader/accounts/${acctId}/orders`)),
      page.getByRole('button', { name: 'Place order' }).click(),
    ]);
    const refusalBody = await refusal.json();
    assert.equal(refusal.status(), 400, `SELL without shares: ${JSON.stringify(refusalBody)}`);
    assert.equal(refusalBody.error, 'INSUFFICIENT_SHARES');
    await waitText(page, '#ticket-error', [refusalBody.message, 'INSUFFICIENT_SHARES'], 'the API error message');
    await shot(page, 'api-error');

    // --------------------------------------------------------------------
    step('a market BUY of 10 Yes fills');
    await page.getByLabel('Buy', { exact: true }).check();
    await page.getByLabel('Market', { exact: true }).check();
    await page.getByLabel('Quantity (shares)').fill('10');
    const [marketRes] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/v1/trader/accounts/${acctId}/orders`)),
      page.getByRole('button', { name: 'Place order' }).click(),
    ]);
    const marketOrder = await marketRes.json();
    assert.equal(marketRes.status(), 201, `market order: ${JSON.stringify(marketOrder)}`);
    assert.equal(marketOrder.status, 'filled');
    assert.ok(marketOrder.fill, 'the market order carries its fill');
    await waitText(page, '#ticket-result', [`Order #${marketOrder.order_id} filled`, marketOrder.fill.price], 'fill shown');
    await page.locator('#fills-body tr', { hasText: marketOrder.fill.notional }).waitFor();
    await page.locator('#positions-body tr', { hasText: '10.0000' }).waitFor();
    await shot(page, 'market-order');

    // --------------------------------------------------------------------
    step('a limit BUY of 20 Yes at 0.05 rests (a price off the tick is refused first)');
    await page.getByLabel('Limit', { exact: true }).check();
    await page.getByLabel('Quantity (shares)').fill('20');
    await page.getByLabel('Limit price').fill('0.055');
    await page.getByRole('button', { name: 'Place order' }).click();
    await waitText(page, '#limit-error', 'Limit price must be a multiple of the tick size 0.01.', 'tick check');
    await page.getByLabel('Limit price').fill('1.5');
    await page.getByRole('button', { name: 'Place order' }).click();
    await waitText(page, '#limit-error', 'Limit price must be between 0 and 1 (both excluded).', 'range check');
    assert.equal(orderPosts, 2, 'the invalid limit prices were not sent');
    await page.getByLabel('Limit price').fill('0.05');
    const [limitRes] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/v1/trader/accounts/${acctId}/orders`)),
      page.getByRole('button', { name: 'Place order' }).click(),
    ]);
    const limitOrder = await limitRes.json();
    assert.equal(limitRes.status(), 201, `limit order: ${JSON.stringify(limitOrder)}`);
    assert.equal(limitOrder.status, 'open', 'the limit order rests');
    const openRow = page.locator('#orders-body tr', { hasText: '0.0500' });
    await openRow.waitFor();
    assert.match(await openRow.textContent(), /20\.0000/);
    await shot(page, 'limit-order');

    // --------------------------------------------------------------------
    step("the partner's trades feed and account state show the trader's orders");
    const trades = expectStatus(await partner('GET', `/v1/partner/accounts/${acctId}/trades`), 200, 'GET trades');
    assert.equal(trades.data.length, 1, `one fill (the market order): ${JSON.stringify(trades.data)}`);
    const t0 = trades.data[0];
    assert.equal(t0.order_id, marketOrder.order_id);
    assert.equal(t0.side, 'BUY');
    assert.equal(t0.outcome, 'Yes');
    assert.equal(t0.quantity, '10.0000');
    assert.equal(t0.price, marketOrder.fill.price);
    assert.equal(t0.notional, marketOrder.fill.notional);
    const state1 = expectStatus(await partner('GET', `/v1/partner/accounts/${acctId}`), 200, 'GET account');
    assert.equal(state1.status, 'active');
    const reserved = cents(limitOrder.reserved_cash);
    assert.equal(reserved, 100, `20 × 0.05 = 1.00 reserved (fee 0): ${limitOrder.reserved_cash}`);
    assert.equal(state1.balance, money(1000000 - cents(t0.notional) - cents(t0.fee) - reserved),
      'balance = starting − notional − fee − reservation');
    const pos = state1.open_positions.find((p) => p.outcome === 'Yes');
    assert.ok(pos, `a Yes position: ${JSON.stringify(state1.open_positions)}`);
    assert.equal(pos.quantity, '10.0000');
    assert.equal(pos.avg_entry_price, t0.price);
    const orders = expectStatus(await partner('GET', `/v1/partner/accounts/${acctId}/orders`), 200, 'GET orders');
    assert.equal(orders.data.find((o) => o.order_id === limitOrder.order_id)?.status, 'open');
    await waitText(page, '#acct-balance', state1.balance, 'the page shows the same balance');

    // --------------------------------------------------------------------
    step('cancel the limit order in the page');
    const cancel = page.getByRole('button', { name: new RegExp(`^Cancel order #${limitOrder.order_id}:`) });
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/orders/${limitOrder.order_id}/cancel`) && r.status() === 200),
      cancel.click(),
    ]);
    await waitText(page, '#orders-empty', 'No open orders.', 'the open orders list is empty');
    await waitText(page, '#status', [`Order #${limitOrder.order_id} cancelled`, `${limitOrder.reserved_cash} released`],
      'the page reports the release');
    assert.equal(await page.locator('#orders-empty').isVisible(), true);
    const orders2 = expectStatus(await partner('GET', `/v1/partner/accounts/${acctId}/orders`), 200, 'GET orders');
    assert.equal(orders2.data.find((o) => o.order_id === limitOrder.order_id)?.status, 'cancelled');
    const state2 = expectStatus(await partner('GET', `/v1/partner/accounts/${acctId}`), 200, 'GET account');
    assert.equal(cents(state2.balance), cents(state1.balance) + reserved, 'the reservation is released');
    await waitText(page, '#acct-balance', state2.balance, 'the page shows the released balance');
    await shot(page, 'cancelled');

    // --------------------------------------------------------------------
    step('a closed account is read-only in the page');
    const closedAcct = expectStatus(await partner('POST', '/v1/partner/accounts', {
      user_id: user.user_id, external_id: `${EXTERNAL_ACCOUNT}-closed`, stage: 'demo', starting_balance: '500.00',
    }), 201, 'POST /v1/partner/accounts (second)');
    expectStatus(await partner('POST', `/v1/partner/accounts/${closedAcct.account_id}/close`), 200, 'close');
    await page.reload();
    await waitText(page, '#user-email', EMAIL, 'still signed in after a reload');
    await page.getByLabel('Trading account').selectOption(closedAcct.account_id);
    await waitText(page, '#acct-status', 'closed', 'the closed account');
    await waitText(page, '#acct-balance', '500.00', 'its balance');
    assert.equal(await page.locator('#closed-note').isVisible(), true, 'a note says the account is closed');
    assert.match(await page.locator('#ticket-closed').textContent(), /closed: it is read-only/);
    assert.equal(await page.getByRole('button', { name: 'Place order' }).isDisabled(), true, 'the ticket is disabled');
    assert.equal(await page.getByLabel('Quantity (shares)').isDisabled(), true, 'the quantity is disabled');
    await shot(page, 'closed-account');
    await page.getByLabel('Trading account').selectOption(acctId);
    await waitText(page, '#acct-status', 'active', 'back on the active account');
    assert.equal(await page.getByRole('button', { name: 'Place order' }).isDisabled(), false, 'the ticket works again');

    // --------------------------------------------------------------------
    step('equity follows the prices while the page is visible; no polling while hidden');
    const eq0 = await page.locator('#acct-equity').textContent();
    await waitUntil(async () => (await page.locator('#acct-equity').textContent()) !== eq0,
      `the equity (${eq0}) to change as the replay moves the Yes price`, 30000);
    let polls = 0;
    const onRequest = (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === `/v1/trader/accounts/${acctId}`) polls += 1;
    };
    page.on('request', onRequest);
    await page.waitForTimeout(4500);
    assert.ok(polls >= 2 && polls <= 4, `about one account read per 2 s while visible: ${polls} in 4.5 s`);
    const setHidden = (hidden) => page.evaluate((h) => {
      if (h) {
        Object.defineProperty(document, 'hidden', { value: true, configurable: true });
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      } else {
        delete document.hidden;
        delete document.visibilityState;
      }
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    await page.waitForTimeout(1000);   // a read already in flight may still land
    polls = 0;
    await page.waitForTimeout(5000);
    assert.equal(polls, 0, 'no account reads while the page is hidden');
    await setHidden(false);
    await waitUntil(async () => polls > 0, 'a refresh as soon as the page is visible again', 1500);
    page.off('request', onRequest);

    // --------------------------------------------------------------------
    step('a 375×667 phone screen');
    await page.setViewportSize({ width: 375, height: 667 });
    await page.waitForTimeout(300);
    const widths = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
    }));
    assert.ok(widths.doc <= 375 && widths.body <= 375, `no sideways scrolling at 375 px: ${JSON.stringify(widths)}`);
    for (const [name, loc] of [
      ['Place order', page.getByRole('button', { name: 'Place order' })],
      ['Sign out', page.getByRole('button', { name: 'Sign out' })],
      ['Search markets', page.getByLabel('Search markets')],
      ['account switcher', page.getByLabel('Trading account')],
    ]) {
      await loc.scrollIntoViewIfNeeded();
      const box = await loc.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${name} fits the screen: ${JSON.stringify(box)}`);
      assert.ok(box.height >= 36, `${name} is big enough to tap: ${box.height}px`);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'phone-375x667');
    await page.setViewportSize({ width: 1280, height: 900 });

    // --------------------------------------------------------------------
    step('sign out');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/v1/trader/logout') && r.status() === 200),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await page.getByRole('heading', { name: 'You are not signed in' }).waitFor();
    const after = await page.evaluate(async () => (await fetch('/v1/trader/me')).status);
    assert.equal(after, 401, 'the session has ended');
    await shot(page, 'signed-out-again');

    assert.deepEqual(problems, [], 'no page errors, CSP violations or foreign requests');
    console.log(`e2e: PASSED (${shots.length} screenshots in ${ART})`);
    return 0;
  } catch (e) {
    console.error(`e2e: FAILED: ${e.stack || e.message}`);
    if (problems.length) console.error(`e2e: page problems:\n  ${problems.join('\n  ')}`);
    try { await shot(page, 'FAILED'); } catch { /* the page may be gone */ }
    console.error(`e2e: page URL ${page.url()}`);
    console.error(`e2e: last console lines:\n  ${consoleLog.slice(-20).join('\n  ')}`);
    return 1;
  } finally {
    await browser.close();
  }
}

main().then((rc) => process.exit(rc), (e) => {
  console.error(`e2e: ${e.stack || e}`);
  process.exit(1);
});
