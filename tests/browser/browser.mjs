// One way to start Debian's chromium (headless) for the browser tests, and a
// guard against the browser process dying under a page: on a shared 2-core
// CI machine chromium has been seen to exit mid-run ("Target page, context
// or browser has been closed") before the page under test had loaded.  That
// is the browser failing, not the server; the page is loaded again in a
// fresh browser (at most RETRIES times) and each restart is reported, so the
// test still asserts on a page that really loaded, and says that it retried.
import { chromium } from 'playwright-core';

export const RETRIES = 2;

export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
    // playwright gives each launch a fresh, temporary --user-data-dir itself.
  });
}

// True when err says the browser (not the page's content) went away.
export function browserDied(browser, err) {
  return !browser.isConnected() ||
    /Target (page, context or browser|closed)|Browser (has been )?closed|crashed/i.test(String(err && err.message));
}
