// Loads sendbench pages in Debian's chromium (headless) and reports what the
// DOM holds, as JSON on stdout, for tests/integration/test_browser.py to
// assert on.  Usage: node check.mjs BASE_URL SCREENSHOT_DIR PAGES_JSON
// PAGES_JSON: [{"name": "home", "path": "/?q=x", "print": false}, ...]; "headers"
// ({"Authorization": "Bearer ..."}) are sent with every request of the page;
// "width" is the viewport's width in CSS pixels (default 1100).
// Every request that would leave 127.0.0.1 is blocked and reported; every
// console message of level error, page error and failed request is reported.
import { launchChromium, browserDied, RETRIES } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [base, shotDir, pagesJson] = process.argv.slice(2);
const pages = JSON.parse(pagesJson);
fs.mkdirSync(shotDir, { recursive: true });
const origin = new URL(base).origin;

let browser = await launchChromium();

// Facts about the page that the Python test asserts on.
function facts() {
  const txt = (e) => (e ? e.textContent.replace(/\s+/g, ' ').trim() : null);
  const tables = [...document.querySelectorAll('table')].map((t) => ({
    id: t.id,
    caption: txt(t.querySelector('caption')),
    rows: t.querySelectorAll('tbody tr').length,
    col_headers: [...t.querySelectorAll('thead th')].map((th) => th.getAttribute('scope')),
    row_headers: [...t.querySelectorAll('tbody th')].map((th) => th.getAttribute('scope')),
    first_cells: [...t.querySelectorAll('tbody tr')].map((tr) => txt(tr.querySelector('th,td'))),
    bands: [...t.querySelectorAll('tbody .band')].map((b) => ({ band: b.dataset.band, text: txt(b),
      bg: getComputedStyle(b).backgroundColor })),
    row_codes: [...t.querySelectorAll('tbody tr')].map((tr) => tr.dataset.code || tr.dataset.metric || null),
    focus_rows: [...t.querySelectorAll('tbody tr.focus')].map((tr) => tr.dataset.code),
  }));
  const charts = [...document.querySelectorAll('svg.chart')].map((s) => {
    const ids = (s.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    const series = {};
    for (const p of s.querySelectorAll('.pt')) {
      const k = p.dataset.series;
      (series[k] = series[k] || []).push({ period: p.dataset.period, value: p.dataset.value,
        lo80: p.dataset.lo80, hi80: p.dataset.hi80, lo95: p.dataset.lo95, hi95: p.dataset.hi95 });
    }
    const r = s.getBoundingClientRect();
    return {
      id: s.id, role: s.getAttribute('role'),
      labelled: ids.map((i) => txt(document.getElementById(i))),
      title: txt(s.querySelector('title')), desc: txt(s.querySelector('desc')),
      metric: s.closest('figure') ? s.closest('figure').dataset.metric || null : null,
      series,
      bars: [...s.querySelectorAll('g.bar')].map((g) => ({ code: g.dataset.code, name: g.dataset.name,
        value: g.dataset.value, rank: g.dataset.rank, highlight: g.dataset.highlight })),
      ticks: s.querySelectorAll('text.tick').length,
      axis_labels: [...s.querySelectorAll('text.axis-label')].map(txt),
      width: r.width, height: r.height,
      text: s.textContent.includes('NaN') || /\bnan\b/.test(s.innerHTML) ? 'has-nan' : 'ok',
    };
  });
  return {
    title: document.title, lang: document.documentElement.lang, h1: txt(document.querySelector('h1')),
    skip_link: !!document.querySelector('a.skip[href="#main"]'), main: !!document.getElementById('main'),
    tables, charts,
    results: [...document.querySelectorAll('#results li a')].map((a) => ({ href: a.getAttribute('href'), text: txt(a) })),
    scripts: document.querySelectorAll('script').length,
    external_refs: [...document.querySelectorAll('[src],[href]')].map((e) => e.getAttribute('src') || e.getAttribute('href'))
      .filter((u) => /^(https?:)?\/\//.test(u)).length,
    text_has: {
      own_banner: !!document.getElementById('own-banner'),
      ogl: document.body.textContent.includes('Contains public sector information licensed under the Open Government Licence v3.0 (Department for Education)'),
      accuracy: txt(document.querySelector('#accuracy')) || txt(document.querySelector('.accuracy')),
      growth: txt(document.querySelector('#growth-summary')),
      staffing_none: txt(document.querySelector('#staffing-none')),
      focal_note: txt(document.querySelector('#focal-note')),
      error_code: document.querySelector('[data-error-code]') ? document.querySelector('[data-error-code]').dataset.errorCode : null,
    },
    alert_fired: window.__alerted === true,
    // Layout: whether the page scrolls sideways, and each table's width
    // against the width its container gives it (a table wider than that
    // has a column cut off or scrolling out of view).
    layout: {
      viewport: document.documentElement.clientWidth,
      page_width: document.documentElement.scrollWidth,
      tables: [...document.querySelectorAll('table')].map((t) => ({ id: t.id,
        width: Math.round(t.scrollWidth),
        room: Math.round(t.parentElement.clientWidth) })),
    },
  };
}

const out = { pages: {}, blocked: [], console_errors: [], failed: [], browser_restarts: [] };

// Loads one page in its own context and returns what the test asserts on.
// Findings (blocked requests, console errors, failed requests) are collected
// per attempt and kept only for the attempt that completed.
async function visit(spec, found) {
  const context = await browser.newContext({ javaScriptEnabled: spec.js !== false,
    viewport: { width: spec.width || 1100, height: 900 }, extraHTTPHeaders: spec.headers || {} });
  try {
    const page = await context.newPage();
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(origin + '/') || u === origin || u.startsWith('data:')) return route.continue();
      found.blocked.push({ page: spec.name, url: u });
      return route.abort();
    });
    page.on('console', (m) => { if (m.type() === 'error') found.console_errors.push({ page: spec.name, text: m.text() }); });
    page.on('pageerror', (e) => found.console_errors.push({ page: spec.name, text: String(e) }));
    page.on('requestfailed', (r) => found.failed.push({ page: spec.name, url: r.url(), why: r.failure() && r.failure().errorText }));
    page.on('dialog', (d) => { found.console_errors.push({ page: spec.name, text: 'dialog: ' + d.message() }); d.dismiss(); });
    const resp = await page.goto(base + spec.path, { waitUntil: 'load' });
    const rec = { status: resp.status(), content_type: resp.headers()['content-type'],
                  csp: resp.headers()['content-security-policy'] };
    if (spec.search) {
      // Keyboard only: Tab to the skip link, then to the search box, type, Enter.
      await page.keyboard.press('Tab');
      rec.first_tab = await page.evaluate(() => ({ cls: document.activeElement.className,
        text: document.activeElement.textContent,
        outline: getComputedStyle(document.activeElement).outlineStyle }));
      await page.focus('#q');
      await page.keyboard.type(spec.search);
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      rec.url_after_search = page.url();
    }
    if (spec.print) await page.emulateMedia({ media: 'print' });
    rec.facts = await page.evaluate(facts);
    const shot = path.join(shotDir, spec.name + '.png');
    await page.screenshot({ path: shot, fullPage: !!spec.full });
    rec.screenshot = shot;
    if (spec.pdf) {
      const pdf = path.join(shotDir, spec.name + '.pdf');
      await page.pdf({ path: pdf, format: 'A4', printBackground: true });
      const bytes = fs.readFileSync(pdf, 'latin1');
      rec.pdf_pages = (bytes.match(/\/Type\s*\/Page[^s]/g) || []).length;
    }
    return rec;
  } finally {
    await context.close().catch(() => {});
  }
}

for (const spec of pages) {
  for (let attempt = 0; ; attempt++) {
    const found = { blocked: [], console_errors: [], failed: [] };
    try {
      out.pages[spec.name] = await visit(spec, found);
      for (const k of Object.keys(found)) out[k].push(...found[k]);
      break;
    } catch (err) {
      if (attempt >= RETRIES || !browserDied(browser, err)) throw err;
      out.browser_restarts.push({ page: spec.name, error: String(err.message).split('\n')[0] });
      process.stderr.write('chromium went away on ' + spec.name + ', starting it again: ' + err.message + '\n');
      await browser.close().catch(() => {});
      browser = await launchChromium();
    }
  }
}
await browser.close();
process.stdout.write(JSON.stringify(out) + '\n');
