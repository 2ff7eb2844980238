// Browser check of the monitor page (driven by tests/e2e/test_mon_browser.c): headless Chromium
// (Debian's /usr/bin/chromium) through playwright-core (npm, web/package.json) opens the page served by
// a monitor that has replayed a simulated file, waits until JSROOT has drawn the dashboard (SVG in
// every dashboard cell), reads an entry count through the JSON the page itself reads, checks the
// event display drew drift circles, calorimeter cells and one square per Micromegas/GEM strip cluster
// of the displayed event, and saves a screenshot.
// Usage: node browser_check.js WEBDIR PORT SCREENSHOT EXPECTED_ECAL_ENTRIES   (exit 0 on success)
'use strict';
const path = require('path');
const [webdir, port, shot, expected] = process.argv.slice(2);
const { chromium } = require(path.join(webdir, 'node_modules', 'playwright-core'));

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.NA64_CHROMIUM || '/usr/bin/chromium',
                                          args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 30000 });
    // the dashboard: six key histograms drawn by JSROOT (each cell gets an <svg>)
    await page.waitForFunction(() => {
      const cells = document.querySelectorAll('#dash .cell');
      return cells.length >= 6 && Array.from(cells).every(c => c.querySelector('svg'));
    }, null, { timeout: 60000 });
    await page.waitForFunction(() => document.querySelectorAll('#top .drift, #side .drift').length > 0,
                               null, { timeout: 30000 });
    const entries = await page.evaluate(async () => {
      const h = await JSROOT.httpRequest('ECAL/energy/root.json', 'object');
      return h.fEntries;
    });
    const cells = await page.evaluate(() => document.querySelectorAll('#top .cellhit').length);
    const alarms = await page.evaluate(() => document.querySelectorAll('#alarms span').length);
    // Micromegas/GEM clusters: one square per cluster of the event, in the view of its plane
    const strips = await page.evaluate(async () => {
      const n = document.body.dataset.event;
      const ev = await JSROOT.httpRequest('event.json?n=' + n, 'object');
      return { json: ev.strips.length, drawn: document.querySelectorAll('#top .strip, #side .strip').length };
    });
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`ECAL/energy entries ${entries} (expected ${expected}), calorimeter cells drawn ${cells}, ` +
                `alarm lines ${alarms}, strip clusters drawn ${strips.drawn} of ${strips.json}, page errors ${errors.length}`);
    if (String(entries) !== String(expected)) throw new Error('entry count differs');
    if (cells === 0) throw new Error('no calorimeter cell drawn');
    if (alarms === 0) throw new Error('no alarm line');
    if (strips.json === 0 || strips.drawn !== strips.json) throw new Error('strip clusters not drawn');
    if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  } finally {
    await browser.close();
  }
}
main().then(() => process.exit(0), e => { console.error('browser_check: ' + e.message); process.exit(1); });
