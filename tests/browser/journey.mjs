// The quarterly return's whole journey in Debian's chromium (headless),
// with JavaScript switched off (every step is a plain form), driven by the
// labels and button names of the contract, and from the keyboard where it
// matters.  Usage: node journey.mjs BASE_URL SCREENSHOT_DIR SETUP_JSON
// SETUP_JSON: {"setup_link": "/setup/...", "email": "...", "password": "...",
//              "approver_email": "...", "approver_password": "...",
//              "period": "2025-26 Q2", "authority": "E06..."}
// Prints one JSON line of facts for tests/integration/test_browser_journey.py.
import { launchChromium } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [base, shotDir, setupJson] = process.argv.slice(2);
const cfg = JSON.parse(setupJson);
fs.mkdirSync(shotDir, { recursive: true });
const origin = new URL(base).origin;
const browser = await launchChromium();
const out = { steps: {}, blocked: [], console_errors: [] };
const formPath = '/returns/' + encodeURIComponent(cfg.period);

async function newPage(name) {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('data:')) return route.continue();
    out.blocked.push(u);
    return route.abort();
  });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push({ page: name, text: m.text() }); });
  return { ctx, page };
}

async function shot(page, name) {
  const file = path.join(shotDir, 'journey-' + name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function labelsWithoutControl(page) {
  // Every input, textarea and select (not hidden) has a visible label.
  return page.$$eval('input:not([type=hidden]):not([hidden]), textarea, select', (els) => els
    .filter((e) => !(e.labels && e.labels.length && e.labels[0].offsetParent !== null))
    .map((e) => e.id || e.name));
}

try {
  // 1. The set-up link: a new officer sets a password.
  const a = await newPage('submitter');
  let r = await a.page.goto(base + cfg.setup_link);
  out.steps.setup_status = r.status();
  await a.page.getByLabel('New password', { exact: true }).fill(cfg.password);
  await a.page.getByLabel('Confirm new password').fill(cfg.password);
  out.steps.setup_unlabelled = await labelsWithoutControl(a.page);
  await shot(a.page, '1-setup');
  await a.page.getByRole('button', { name: 'Set password' }).click();
  out.steps.after_setup_url = a.page.url();

  // 2. Sign in from the keyboard: type the email, Tab to the password, Enter.
  await a.page.goto(base + '/login');
  await a.page.getByLabel('Email').focus();
  await a.page.keyboard.type(cfg.email);
  await a.page.keyboard.press('Tab');
  out.steps.tab_reaches_password = await a.page.evaluate(() => document.activeElement.id);
  await a.page.keyboard.type(cfg.password);
  await shot(a.page, '2-login');
  await Promise.all([a.page.waitForNavigation(), a.page.keyboard.press('Enter')]);
  out.steps.after_login_url = a.page.url();
  const cookies = await a.ctx.cookies();
  const sc = cookies.find((c) => c.name === 'sb_session');
  out.steps.cookie = sc ? { httpOnly: sc.httpOnly, sameSite: sc.sameSite, secure: sc.secure } : null;
  await shot(a.page, '3-returns');
  out.steps.returns_rows = await a.page.$$eval('#returns tbody tr', (trs) => trs.map((tr) => ({
    period: tr.dataset.period, state: tr.dataset.state })));

  // 3. The form: prefilled, a figure typed with an extra zero, Check.
  r = await a.page.goto(base + formPath);
  out.steps.form_status = r.status();
  out.steps.prefilled = await a.page.getByLabel('EHC plans in place', { exact: true }).inputValue();
  out.steps.form_unlabelled = await labelsWithoutControl(a.page);
  // The same as an .xlsx workbook fills the form too; a damaged one is refused.
  const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  await a.page.getByLabel('Upload the figures as CSV').setInputFiles(
    { name: 'return.xlsx', mimeType: xlsxType, buffer: Buffer.from(cfg.xlsx_b64, 'base64') });
  await a.page.getByRole('button', { name: 'Upload' }).click();
  out.steps.uploaded_xlsx = {
    caseload: await a.page.getByLabel('EHC plans in place', { exact: true }).inputValue(),
    requests: await a.page.getByLabel('Requests for EHC needs assessment', { exact: true }).inputValue(),
    note: await a.page.locator('#note').textContent() };
  await shot(a.page, '3a-uploaded-xlsx');
  await a.page.getByLabel('Upload the figures as CSV').setInputFiles(
    { name: 'broken.xlsx', mimeType: xlsxType, buffer: Buffer.from('PK\x03\x04 not really a zip') });
  await a.page.getByRole('button', { name: 'Upload' }).click();
  out.steps.uploaded_junk_xlsx = (await a.page.content()).includes('not an .xlsx workbook');
  // The tidy CSV uploaded through the file input fills the form (nothing stored).
  const csv = 'time_period,new_la_code,ehcp_caseload,requests_received\r\n' +
    cfg.period + ',' + cfg.authority + ',3160,265\r\n';
  await a.page.getByLabel('Upload the figures as CSV').setInputFiles(
    { name: 'return.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await a.page.getByRole('button', { name: 'Upload' }).click();
  out.steps.uploaded = {
    caseload: await a.page.getByLabel('EHC plans in place', { exact: true }).inputValue(),
    requests: await a.page.getByLabel('Requests for EHC needs assessment', { exact: true }).inputValue(),
    note: await a.page.locator('#note').textContent() };
  await shot(a.page, '3b-uploaded');
  await a.page.getByLabel('EHC plans in place', { exact: true }).fill('31500');
  await a.page.getByRole('button', { name: 'Check' }).click();
  out.steps.queries = await a.page.$$eval('#query-summary li', (lis) => lis.map((li) => ({
    rule: li.dataset.rule, href: li.querySelector('a').getAttribute('href') })));
  out.steps.query_targets_exist = await a.page.$$eval('#query-summary li a', (as) =>
    as.every((x) => !!document.getElementById(x.getAttribute('href').slice(1))));
  await shot(a.page, '4-queried');
  // Submitting without explaining is refused.
  await a.page.getByRole('button', { name: 'Submit for approval' }).click();
  out.steps.unexplained_refused = await a.page.locator('#note').textContent();
  // Explain every query and submit.
  for (const q of out.steps.queries) {
    const box = a.page.locator(q.href);
    const label = await a.page.locator('label[for="' + q.href.slice(1) + '"]').textContent();
    if (q.rule === 'about_ten_times') out.steps.explanation_label = label;
    await a.page.getByLabel(label, { exact: true }).fill('Checked with the caseload team: ' + q.rule);
  }
  await a.page.getByRole('button', { name: 'Submit for approval' }).click();
  out.steps.after_submit_url = a.page.url();
  out.steps.after_submit_state = await a.page.locator('#status').getAttribute('data-state');
  out.steps.submitter_sees_approve = await a.page.getByRole('button', { name: 'Approve' }).count();
  await shot(a.page, '5-submitted');

  // 4. A colleague, the approver, signs it off.
  const b = await newPage('approver');
  await b.page.goto(base + '/login');
  await b.page.getByLabel('Email').fill(cfg.approver_email);
  await b.page.getByLabel('Password').fill(cfg.approver_password);
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.goto(base + formPath);
  out.steps.approver_sees_explanations = await b.page.locator('#explanations').textContent();
  await shot(b.page, '6-to-approve');
  await b.page.getByRole('button', { name: 'Approve' }).click();
  out.steps.after_approve_state = await b.page.locator('#status').getAttribute('data-state');
  await shot(b.page, '7-approved');

  // 5. The council's own profile and evidence pack, signed in.
  r = await a.page.goto(base + '/authorities/' + cfg.authority);
  out.steps.profile_status = r.status();
  out.steps.profile_has_own = (await a.page.content()).includes('31,500');
  out.steps.profile_banner = await a.page.locator('#own-banner').count();
  out.steps.profile_caseload_rank = (await a.page.locator(
    'tr[data-metric="ehcp_caseload"] td[data-rank]').textContent()).trim();
  out.steps.profile_rank_note = await a.page.locator('#rank-note').count();
  // Its quarters on a quarterly axis of their own; no annual chart draws a quarter.
  out.steps.quarterly_points = await a.page.$$eval(
    'figure[data-axis="quarterly"][data-metric="ehcp_caseload"] [data-period]',
    (els) => els.map((e) => [e.dataset.period, e.dataset.value]));
  out.steps.annual_quarters = await a.page.$$eval(
    'figure.chart-figure:not([data-axis="quarterly"]) [data-period]',
    (els) => els.map((e) => e.dataset.period).filter((p) => p.includes(' Q')));
  await a.page.locator('figure[data-axis="quarterly"][data-metric="ehcp_caseload"]').screenshot(
    { path: path.join(shotDir, 'journey-8b-quarterly-chart.png') });
  await shot(a.page, '8-profile');
  r = await a.page.goto(base + '/api/v1/authorities/' + cfg.authority + '/evidence');
  out.steps.evidence_status = r.status();
  out.steps.evidence_has_own = (await a.page.content()).includes('31,500');
  out.steps.evidence_banner = await a.page.locator('#own-banner').count();
  // Printed with published figures only: the banner's link, still signed in.
  r = await a.page.goto(base + '/api/v1/authorities/' + cfg.authority + '/evidence?published=only');
  out.steps.published_only_has_own = (await a.page.content()).includes('31,500');
  await shot(a.page, '9-evidence');
  // Its tables too: the metric page and the tables API for the quarter, signed in.
  const metricPath = '/metrics/ehcp_caseload?period=' + encodeURIComponent(cfg.period) +
    '&authority=' + cfg.authority;
  const tablePath = '/api/v1/tables/ehcp_caseload?group=england&period=' +
    encodeURIComponent(cfg.period);
  r = await a.page.goto(base + metricPath);
  out.steps.metric_page_has_own = (await a.page.content()).includes('31,500');
  // (a request with the context's cookie jar: a JSON page would make chromium ask for
  // /favicon.ico, a 404 in the console)
  out.steps.table_has_own = (await (await a.ctx.request.get(base + tablePath)).text()).includes('31500');
  // The same pages for someone not signed in: the unpublished figure is not there.
  const anon = await newPage('anonymous');
  await anon.page.goto(base + metricPath);
  out.steps.public_metric_page_has_own = (await anon.page.content()).includes('31,500');
  out.steps.public_table_has_own = (await (await anon.ctx.request.get(base + tablePath)).text()).includes('31500');
  await anon.page.goto(base + '/authorities/' + cfg.authority);
  out.steps.public_profile_has_own = (await anon.page.content()).includes('31,500');
  out.steps.public_profile_banner = await anon.page.locator('#own-banner').count();
  out.steps.public_quarterly_charts = await anon.page.locator('figure[data-axis="quarterly"]').count();
  await anon.page.goto(base + '/api/v1/authorities/' + cfg.authority + '/evidence');
  out.steps.public_evidence_has_own = (await anon.page.content()).includes('31,500');
  await anon.ctx.close();

  // 6. Sign out (a form with the CSRF token), then the form is out of reach.
  await a.page.goto(base + '/returns');
  await a.page.getByRole('button', { name: 'Sign out' }).click();
  out.steps.after_signout_url = a.page.url();
  r = await a.page.goto(base + formPath);
  out.steps.form_after_signout_url = a.page.url();
  await a.ctx.close();
  await b.ctx.close();
} catch (e) {
  out.error = String(e && e.stack || e);
}
await browser.close();
console.log(JSON.stringify(out));
