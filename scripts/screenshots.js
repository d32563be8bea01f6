#!/usr/bin/env node
// `make screenshots`: every card a person meets, as Microsoft 365 Agents Playground shows it, saved
// to docs/screenshots/*.png (each cropped to the card).
//
// It drives the Playground's web page in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) exactly as a person does: it types into the message box, picks from the cards'
// lists, types into their fields and clicks their buttons. It never calls the Playground's own
// endpoints. The Playground's page (0.2.28) cannot switch user, so each role is a fresh start of
// `scripts/playground.sh` as that person (PLAYGROUND_AS, what `make playground ROLE=<role>` does)
// on one demo database, var/screenshots.sqlite3, emptied first. Cards are found by their visible
// text and buttons, so a card that is updated in place is followed as well as a new one.
//
// Environment: SCREENSHOTS_BOT_PORT (3987) and SCREENSHOTS_PLAYGROUND_PORT (56171 and up), so it runs
// beside `make playground`; SCREENSHOTS_ONLY=a,b runs only the named scenes (for debugging).
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const BOT_PORT = process.env.SCREENSHOTS_BOT_PORT || '3987';
const PLAYGROUND_PORT = process.env.SCREENSHOTS_PLAYGROUND_PORT || '56171';
const DATABASE = path.join(ROOT, 'var', 'screenshots.sqlite3');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 20000;
const CARD = '.ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)';

// What the officer types into the script, by the field's label (the first pattern that matches
// wins). Every value is an obvious fiction. A required field this list does not know gets the
// first choice, "No", or "Example (fictional)", so a new question does not stop the run.
const ANSWERS = [
  [/^Source/, /phone/i],
  [/^Contact type/, /^Referral/],
  [/^Referrer type/, /professional/i],
  [/^Referrer name/, 'Rita Referrerexample'],
  [/^Referrer agency/, 'Example Primary School'],
  [/^Referrer role/, 'Head teacher'],
  [/^Referrer phone/, '0191 498 0123'],
  [/^Referrer e-?mail/i, 'head@school.example'],
  [/^Child 1 name|^Child 1 full name/, 'Zebedee Example'],
  [/^Child 1 date of birth/, '2019-05-04'],
  [/^Child 1 address/, '1 Example Street, Testtown'],
  [/^Child 1 postcode/, 'SW1A 1AA'],
  [/^Child 1 gender/, /^(Male|Boy)/],
  [/^Child 1 school/, 'Example Primary School'],
  [/^Parent 1 name/, 'Parker Example'],
  [/relationship/i, 'Mother'],
  [/^Consent/, /given/i],
  [/^What are we worried about/, 'The children are often left alone in the evenings (fictional).'],
  [/^What is working well/, 'A grandparent visits every day.'],
  [/^What needs to happen/, 'Check the evenings are covered.'],
  [/^Presenting needs/, [/neglect/i]],
  [/^Chronology/, 'Two earlier contacts, both closed with advice.'],
  [/child.*(name|description)/i, 'Boy, about 6, called Zebedee'],
  [/^Where the child is now/, 'Example Primary School office'],
  [/phone/i, '0191 498 0000'],
  [/^(Does|Has|Is) the child/, 'No'],
];

const written = [];

// -- the Playground, as one or more people ------------------------------------------------------

function startPlayground(role, port, only, extra = {}) {
  const env = {
    ...process.env,
    ...extra,
    PLAYGROUND_AS: role,
    PLAYGROUND_ONLY: only ? '1' : '',
    FRONTDOOR_PORT: BOT_PORT,
    PLAYGROUND_PORT: String(port),
    FRONTDOOR_DEMO_DATABASE_URL: `sqlite+aiosqlite:///${DATABASE}`,
  };
  const child = spawn(path.join(ROOT, 'scripts', 'playground.sh'), [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let output = '';
  const url = new Promise((resolve, reject) => {
    const read = (chunk) => {
      output += chunk;
      const found = /Open (http\S+)/.exec(output);
      if (found) resolve(found[1]);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    exited.then((code) => reject(new Error(`playground.sh as ${role} ended (${code}) before printing the URL:\n${output}`)));
  });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { url, stop };
}

/** One session: the first role's Playground starts the bot (its Playground receives the channel
 * posts); each other role gets a Playground of its own for the same bot, on the next port. */
async function session(browser, roles, scene, env = {}) {
  const started = [];
  const chats = {};
  try {
    for (const [index, role] of roles.entries()) {
      const playground = startPlayground(role, Number(PLAYGROUND_PORT) + index, index > 0, env);
      started.push(playground);
      const url = await playground.url;
      const context = await browser.newContext({ viewport: { width: 1280, height: 4400 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.goto(url);
      chats[role] = new Chat(page, role);
      await chats[role].card(/Front door bot/); // the welcome card: the bot is there
    }
    try {
      await scene(chats);
    } catch (error) {
      // what each page showed, for whoever debugs the run
      for (const [role, chat] of Object.entries(chats)) {
        const base = path.join(ROOT, 'var', `screenshots-failure-${role}`);
        await chat.page.screenshot({ path: `${base}.png` }).catch(() => {});
        fs.writeFileSync(`${base}.html`, await chat.page.content());
      }
      throw error;
    }
  } finally {
    for (const chat of Object.values(chats)) await chat.page.context().close();
    for (const playground of started.reverse()) await playground.stop();
  }
}

// -- a person on the page ------------------------------------------------------------------------

class Chat {
  constructor(page, role) {
    this.page = page;
    this.role = role;
    this.inChannel = false;
  }

  /** Open a conversation from the left-hand list: 'Personal Chat', 'General' or 'Decisions'. */
  async open(name) {
    await this.page.getByRole('treeitem', { name: new RegExp(`(^| - )${name}$`) }).first().click();
    this.inChannel = name !== 'Personal Chat' && name !== 'Demo group chat';
    await this.page.waitForTimeout(500);
  }

  /** Type a message and send it, as a person does (a new post in a channel); waits for the
   * bot's answer to add a card, so that no card from before is taken for it. */
  async say(text) {
    const before = await this.page.locator(CARD).count();
        if (this.inChannel) {
      await this.page.getByText('Start a new post').click();
      await this.page.keyboard.type(text);
      await this.page.getByRole('button', { name: 'Post' }).click();
    } else {
      const box = this.page.getByRole('textbox').last();
      await box.click();
      await box.fill(text);
      await this.page.keyboard.press('Enter');
    }
    await this.page.waitForFunction(
      ([selector, count]) => document.querySelectorAll(selector).length > count,
      [CARD, before],
    );
  }

  /** The last card on the page whose text matches; waits for it (``timeout`` ms). */
  async card(text, timeout = TIMEOUT) {
    // a card's own show-card panels are cards too: only the outermost, visible ones count
    const card = this.page.locator(CARD).filter({ hasText: text, visible: true }).last();
    await card.waitFor({ state: 'visible', timeout });
    return card;
  }

  /** Save a PNG of the card (docs/screenshots/<name>.png). */
  async shot(card, name) {
    // the whole card inside the chat's scrolling pane
    await card.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await this.page.waitForTimeout(300); // let images and fonts settle
    const file = path.join(OUT, `${name}.png`);
    // the page's pixels where the card is (an element screenshot draws some cards, the queue's,
    // without the Playground's styles)
    const box = await card.boundingBox();
    await this.page.screenshot({ path: file, animations: 'disabled', clip: box });
    written.push(path.relative(ROOT, file));
    console.log(`  ${path.relative(ROOT, file)}`);
  }

  /** Click the button of one line of a list card (a `queue` line): the line whose own text block
   * is ``reference``. */
  async pressFor(card, reference, title) {
    const line = card
      .locator('.ac-container')
      .filter({ has: this.page.getByText(reference, { exact: true }) })
      .filter({ has: this.page.getByRole('button', { name: title }) })
      .last();
    await line.getByRole('button', { name: title }).first().click();
  }

  /** Click a button on a card (by its visible title). */
  async press(card, title) {
    const button = card.getByRole('button', { name: title }).first();
    await button.click();
  }

  /** Fill every field of a card from ANSWERS (plus ``extra``, tried first). */
  async fill(card, extra = []) {
    const labels = card.locator('label[for^="__ac-"]');
    const count = await labels.count();
    for (let i = 0; i < count; i += 1) {
      const label = labels.nth(i);
      const text = (await label.innerText()).replace(/\s*\*\s*$/, '').trim();
      const required = (await label.locator('span[aria-hidden="true"]').count()) > 0;
      const target = card.locator(`[id="${await label.getAttribute('for')}"]`);
      const answer = [...extra, ...ANSWERS].find(([pattern]) => pattern.test(text));
      if (!answer && !required) continue;
      await this.answer(target, answer ? answer[1] : undefined, text);
    }
  }

  async answer(target, value, label) {
    const page = this.page;
    const role = await target.getAttribute('role');
    const placeholder = (await target.getAttribute('placeholder')) || '';
    if (role === 'radiogroup') {
      const wanted = value === undefined ? /^No$/ : exact(value);
      const options = target.locator('label');
      const titles = await options.allInnerTexts();
      const index = Math.max(0, titles.findIndex((title) => wanted.test(title.trim())));
      await options.nth(index).click();
    } else if ((await target.locator('input[type=checkbox]').count()) > 0) {
      for (const wanted of [].concat(value === undefined ? [/./] : value)) {
        await target.locator('label').filter({ hasText: wanted }).first().click();
      }
    } else if (role === 'combobox' && (await target.getAttribute('aria-haspopup')) === 'dialog') {
      await target.click();
      await page.keyboard.press('Escape');
      await target.fill(value || '2026-01-05');
      await page.keyboard.press('Tab');
    } else if (role === 'combobox' && placeholder.startsWith('Select a time')) {
      await target.fill(value || '09:00');
      await page.keyboard.press('Tab');
    } else if (role === 'combobox') {
      const wanted = [].concat(value === undefined ? [/./] : value);
      await target.click();
      // a single choice lists options; a multiple choice lists check boxes (a menu)
      const options = page.locator('[role=listbox] [role=option], [role=menu] [role=menuitemcheckbox]');
      for (const one of wanted) {
        await options.filter({ hasText: typeof one === 'string' ? exact(one) : one }).first().click();
      }
      if ((await page.locator('[role=listbox], [role=menu]').count()) > 0) await page.keyboard.press('Escape');
    } else {
      await target.fill(typeof value === 'string' ? value : 'Example (fictional)');
    }
    if (label) await page.waitForTimeout(50);
  }

  /** Walk the contact script: fill each step, save its picture, Next until the receipt. */
  async script(prefix, extra = []) {
    let step = 1;
    for (;;) {
      const card = await this.card(new RegExp(`Step ${step} of \\d+`));
      const [, of] = /Step \d+ of (\d+)/.exec(await card.innerText());
      await this.fill(card, extra);
      if (prefix) await this.shot(card, `${prefix}-${String(step).padStart(2, '0')}`);
      const last = step === Number(of);
      const next = card.getByRole('button', { name: last ? /^(Submit|Finish)$/ : /^Next/ });
      await next.first().click();
      if (last) return;
      step += 1;
    }
  }
}

function exact(text) {
  return text instanceof RegExp ? text : new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

// -- the scenes ----------------------------------------------------------------------------------
// Each scene gets the session's people by role. A scene's pictures are named after who sees the card.

const REFERENCE = /CT-\d\d-\d{6}/;

/** The officer records a contact; returns its reference (pictures only when ``prefix`` is given).
 * The script is one card redrawn in place, step by step; at the end the receipt replaces it. */
async function recordContact(officer, prefix, extra = []) {
  const receipt = /(Contact submitted|Urgent contact finished)\s*CT-\d\d-\d{6}/;
  const done = officer.page.locator(CARD).filter({ hasText: receipt });
  const before = await done.count();
  await officer.say('new contact');
  await officer.script(prefix, extra);
  await officer.page.waitForFunction(
    ([selector, count, pattern]) => [...document.querySelectorAll(selector)].filter((e) => new RegExp(pattern).test(e.innerText)).length > count,
    [CARD, before, receipt.source],
  );
  const card = done.last();
  const [reference] = REFERENCE.exec(await card.innerText());
  if (prefix) await officer.shot(card, `${prefix.replace('-script', '')}-receipt`);
  return reference;
}

/** The channel card of a contact in the Decisions channel: the newest, which the Playground's
 * channel shows at the top (a card the bot had to post again, as it could not update the first, is
 * above the first). */
async function channelCard(chat, reference) {
  await chat.open('Decisions');
  await chat.card(new RegExp(reference));
  const cards = chat.page.locator(CARD).filter({ hasText: new RegExp(reference), visible: true });
  let newest = cards.first();
  let top = Infinity;
  for (let i = 0; i < (await cards.count()); i += 1) {
    const box = await cards.nth(i).boundingBox();
    if (box && box.y < top) [newest, top] = [cards.nth(i), box.y];
  }
  return newest;
}

const SCENES = {
  async officerContacts({ officer, consultant }) {
    await officer.shot(await officer.card(/new contact/), 'officer-help');
    const routine = await recordContact(officer, 'officer-script-routine');
    const urgent = await recordContact(officer, 'officer-script-urgent', [[/^Does the child have an injury/, 'Yes']]);
    // the urgent contact's "created" receipt is on the script's card from the step after the
    // immediate-risk questions (officer-script-urgent-04); its last step becomes the receipt

    // the consultant on duty, in the decisions channel
    let card = await channelCard(consultant, urgent);
    await consultant.shot(card, 'channel-contact-urgent');
    card = await channelCard(consultant, routine);
    await consultant.shot(card, 'channel-contact');
    await consultant.press(card, 'Decide or sign off');
    card = await consultant.card(new RegExp(`${routine}[\\s\\S]*Rationale`));
    await consultant.fill(card, [[/^Rationale/, 'Further work first: speak to the school and to the parents (fictional).'], [/^Route III/, /Olive/]]);
    await consultant.shot(card, 'consultant-decide');
    await consultant.press(card, /^Route III/);
    card = await consultant.card(new RegExp(`${routine}[\\s\\S]*Decided`));
    await consultant.shot(card, 'channel-contact-decided');

    // the officer gets the contact on their personal card
    card = await officer.card(new RegExp(`${routine}[\\s\\S]*Record the outcome`));
    await officer.shot(card, 'officer-work-card');
    await officer.say('my work');
    await officer.shot(await officer.card(new RegExp(`${routine}`)), 'officer-my-work');

    // the consultant's own lists, in their personal chat
    await consultant.open('Personal Chat');
    await consultant.say('status');
    await consultant.shot(await consultant.card(/[Oo]pen contacts|band/), 'consultant-status');
    await consultant.say('figures');
    await consultant.shot(await consultant.card(/[Ff]igures|week/), 'consultant-figures');
  },

  async signOff({ team_manager, officer, consultant }) {
    // a contact the consultant screens from their personal chat (queue, View, Decide or sign off)
    // while the team manager's Playground holds the decisions channel; the team manager then signs
    // it off there (nobody signs off their own decision)
    const reference = await recordContact(officer, null);
    await consultant.say('queue');
    const queue = await consultant.card(/Awaiting screening/);
    // (here rather than in the first session, where this card comes out drawn without the
    // Playground's styles, as the first card after coming back from the channel)
    await consultant.shot(queue, 'consultant-queue');
    await consultant.pressFor(queue, reference, 'View');
    let card = await consultant.card(new RegExp(`${reference}[\\s\\S]*Decide or sign off`));
    await consultant.shot(card, 'consultant-full-record');
    await consultant.press(card, 'Decide or sign off');
    card = await consultant.card(new RegExp(`${reference}[\\s\\S]*Rationale`));
    await consultant.fill(card, [
      [/^Rationale/, 'No role for children\'s social care: advice to the school (fictional).'],
      [/^Consent for a service \(required for route II\)/, /./],
    ]);
    await consultant.shot(card, 'consultant-decide-personal');
    await consultant.press(card, /^Route II/);
    await consultant.card(new RegExp(`${reference}[\\s\\S]*Decided`));
    card = await channelCard(team_manager, reference);
    await team_manager.shot(card, 'channel-contact-awaiting-sign-off');
    await team_manager.press(card, 'Decide or sign off');
    card = await team_manager.card(new RegExp(`${reference}[\\s\\S]*Sign off and close`));
    await team_manager.shot(card, 'team-manager-sign-off');
    await team_manager.press(card, 'Sign off and close');
    await team_manager.shot(await team_manager.card(new RegExp(`${reference}[\\s\\S]*[Ss]igned off`)), 'channel-contact-closed');
    await team_manager.open('Personal Chat');
    await team_manager.say('handover');
    await team_manager.shot(await team_manager.card(/[Hh]andover/), 'team-manager-handover');
  },

  async breach({ duty_manager }) {
    // the bot restarted three hours on (FRONTDOOR_CLOCK_START): the urgent contact's 2-hour
    // child-protection clock has run out, and the alert tick posts it to the duty channel (the
    // first alert comes before the page is open, so the page shows the reminders after it)
    await duty_manager.open('General');
    let card = await duty_manager.card(/[Bb]reached[\s\S]*Record the reason/, 180000);
    await duty_manager.fill(card, [[/./, /./]]);
    await duty_manager.shot(card, 'duty-manager-breach-alert');
    await duty_manager.press(card, 'Record the reason');
    card = await duty_manager.card(/[Bb]reached[\s\S]*Why it ran late: /);
    await duty_manager.shot(card, 'duty-manager-breach-reason');
  },

  async consultation({ professional }) {
    await professional.shot(await professional.card(/roles grant/), 'professional-help');
    await professional.say('consultation');
    let card = await professional.card(/What is the worry/);
    await professional.fill(card, [
      [/^Agency/, 'Example Health Visiting Team'],
      [/^Role/, 'Health visitor'],
      [/^What is the worry/, 'A parent at the baby clinic seems low and withdrawn; should I refer? (fictional)'],
    ]);
    await professional.shot(card, 'professional-consultation');
    await professional.press(card, 'Save');
    card = await professional.card(/PC-\d\d-\d{5}/);
    await professional.shot(card, 'professional-consultation-saved');
  },
};

// Who is at a Playground in each session (the first receives the channel posts), and the scenes.
const PLAN = [
  { people: ['consultant', 'officer'], scenes: ['officerContacts'] },
  { people: ['team_manager', 'officer', 'consultant'], scenes: ['signOff'] },
  { people: ['professional'], scenes: ['consultation'] },
  // three hours on: a breached clock's alert in the duty channel, and its late reason
  { people: ['duty_manager'], scenes: ['breach'], env: { FRONTDOOR_CLOCK_START: new Date(Date.now() + 3 * 3600 * 1000).toISOString() } },
];

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(path.join(ROOT, 'var'), { recursive: true });
  fs.rmSync(DATABASE, { force: true });
  const only = process.env.SCREENSHOTS_ONLY ? process.env.SCREENSHOTS_ONLY.split(',') : null;
  if (!only) {
    // a full run writes every picture afresh: none is left from a card that has gone
    for (const name of fs.readdirSync(OUT)) if (name.endsWith('.png')) fs.rmSync(path.join(OUT, name));
  }
  const began = Date.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    for (const { people, scenes, env } of PLAN) {
      const wanted = scenes.filter((name) => !only || only.includes(name));
      if (wanted.length === 0) continue;
      console.log(`${people.join(' and ')}: ${wanted.join(', ')}`);
      await session(
        browser,
        people,
        async (chats) => {
          for (const name of wanted) await SCENES[name](chats);
        },
        env,
      );
    }
  } finally {
    await browser.close();
  }
  console.log(`${written.length} screenshots in ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
