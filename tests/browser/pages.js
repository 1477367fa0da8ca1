// tests/browser/pages.js - Flux's pages in a real browser, Debian's
// chromium (headless) driven by playwright-core, for tests/browser.bats.
//
//   node pages.js status URL SHOT [KEY]
//       load URL (the status page), print what it shows as JSON, save a
//       screenshot to SHOT; with KEY, also send the page's key form and
//       print the details view (and SHOT with "-detail" before ".png").
//   node pages.js upload URL SHOT FIELDS_JSON [SECONDS]
//       load URL (the upload page), fill its form with FIELDS_JSON (name
//       to value; data_file and info_file are paths), send it, follow the
//       status the page shows until it is final (at most SECONDS, 120 by
//       default), print it as JSON, and save a screenshot.
//
// The machine's network is closed: chromium is started with every
// background connection off, or it waits on them; each run gets a fresh
// profile directory, removed after it.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.FLUX_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

async function withPage(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'flux-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
    // A phone's width: the pages must read there.
    viewport: { width: 412, height: 915 }, deviceScaleFactor: 1,
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const out = await fn(page);
    out.script_errors = errors;
    return out;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// What the status page shows: the verdict, each row of the health table,
// each chart's total, the uploads part, and the page's width.
async function readStatus(page) {
  return page.evaluate(() => {
    const text = (sel) => {
      const e = document.querySelector(sel);
      return e ? e.textContent.trim() : null;
    };
    const rows = {};
    for (const tr of document.querySelectorAll('table.health tr')) {
      rows[tr.id] = tr.querySelector('td').textContent.trim();
    }
    const charts = {};
    for (const f of document.querySelectorAll('figure')) {
      charts[f.id] = Number(f.querySelector('.total').textContent);
    }
    const uploads = [];
    for (const tr of document.querySelectorAll('table.uploads tr')) {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent);
      if (cells.length) uploads.push(cells);
    }
    return {
      title: document.title, status: text('#status'),
      reasons: [...document.querySelectorAll('.reason')].map((e) => e.textContent),
      health: rows, charts, uploads, uploads_text: text('#uploads'),
      scroll_width: document.documentElement.scrollWidth,
      client_width: document.documentElement.clientWidth,
    };
  });
}

async function statusPage(url, shot, key) {
  return withPage(async (page) => {
    const res = await page.goto(url, { waitUntil: 'load' });
    const out = { http_status: res.status(), view: await readStatus(page) };
    await page.screenshot({ path: shot, fullPage: true });
    if (key) {
      await page.fill('input[name=key]', key);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
        page.click('button[type=submit]')]);
      out.detail = await readStatus(page);
      await page.screenshot({ path: shot.replace(/\.png$/, '-detail.png'),
        fullPage: true });
    }
    return out;
  });
}

async function uploadPage(url, shot, fields, seconds) {
  return withPage(async (page) => {
    const res = await page.goto(url, { waitUntil: 'load' });
    const out = { http_status: res.status() };
    out.field_order = await page.evaluate(() =>
      [...document.querySelectorAll('#upload [name]')].map((e) => e.name));
    for (const [name, value] of Object.entries(fields)) {
      const sel = `#upload [name="${name}"]`;
      const tag = await page.$eval(sel, (e) => e.tagName + ':' + e.type);
      if (tag === 'INPUT:file') await page.setInputFiles(sel, value);
      else if (tag.startsWith('SELECT')) await page.selectOption(sel, value);
      else await page.fill(sel, value);
    }
    await page.click('#submit');
    await page.waitForFunction(() => {
      const m = document.querySelector('#message');
      return m && ['complete', 'partial', 'failed', 'error'].includes(m.className);
    }, null, { timeout: seconds * 1000, polling: 250 });
    out.message = await page.textContent('#message');
    out.state = await page.getAttribute('#message', 'class');
    out.record = await page.evaluate(() => {
      const r = {};
      for (const tr of document.querySelectorAll('#record tr')) {
        r[tr.cells[0].textContent] = tr.cells[1].textContent;
      }
      return r;
    });
    out.scroll_width = await page.evaluate(() => document.documentElement.scrollWidth);
    out.client_width = await page.evaluate(() => document.documentElement.clientWidth);
    await page.screenshot({ path: shot, fullPage: true });
    return out;
  });
}

async function main() {
  const [cmd, url, shot, arg, secs] = process.argv.slice(2);
  let out;
  if (cmd === 'status' && url && shot) {
    out = await statusPage(url, shot, arg);
  } else if (cmd === 'upload' && url && shot && arg) {
    out = await uploadPage(url, shot, JSON.parse(arg), Number(secs || 120));
  } else {
    process.stderr.write('usage: node pages.js status URL SHOT [KEY] | ' +
      'upload URL SHOT FIELDS_JSON [SECONDS]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`pages.js: ${e.stack || e}\n`);
  process.exit(1);
});
