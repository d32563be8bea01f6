#!/usr/bin/env node
// Opens the URL `make playground` printed in headless Chromium, as a newcomer does, and checks that
// the page reaches the bot's help card for a member of staff (the demo officer: `new contact` is
// listed) in demo mode. Used by scripts/playground-check.sh; exits non-zero when it does not.
'use strict';

const { chromium } = require('playwright-core');

async function main(url) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    await page.goto(url);
    const card = page.locator('.ac-adaptiveCard').filter({ hasText: /new contact/ }).last();
    await card.waitFor({ state: 'visible', timeout: 30000 });
    const text = await card.innerText();
    for (const wanted of ['new contact', 'my work', 'queue', 'Demo mode is on']) {
      if (!text.includes(wanted)) throw new Error(`the help card does not say ${JSON.stringify(wanted)}:\n${text}`);
    }
    if (text.includes('You have no role yet')) throw new Error(`the Playground's user has no role:\n${text}`);
    const user = await page.locator('[role=img][aria-label]').first().getAttribute('aria-label');
    console.log(`the help card reached ${user} as a member of staff`);
  } finally {
    await browser.close();
  }
}

main(process.argv[2]).catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
