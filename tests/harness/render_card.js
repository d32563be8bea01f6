#!/usr/bin/env node
// Renders Adaptive Cards with Microsoft's Adaptive Cards JS renderer (npm `adaptivecards`) in headless
// Chromium, with Microsoft's Teams host configs (light and dark, npm `adaptivecards-designer`), for
// the tests.
//
// A long-lived worker: one browser (Debian's /usr/bin/chromium, driven by npm `playwright-core`;
// CHROMIUM_PATH overrides the path) and one page per theme, kept open. One JSON request per line on
// stdin, `{"id": 1, "cards": [{...}, ...]}`, one JSON answer per line on stdout,
// `{"id": 1, "results": [["problem", ...], ...]}` (one list per card, [] when the card renders
// whole). On start it writes `{"ready": true, "sdk": "<version>", "browser": "<version>"}`; if the
// renderer, the host configs or the browser cannot be loaded it writes the reason to stderr and exits
// with status 2, so the Python side fails loudly instead of skipping.
//
// Problems (each prefixed `render (<themes>):`):
//   dropped:   an element or action of the card JSON that the renderer left out of the rendered
//              card (an unknown type, or a known type whose properties give it nothing to show,
//              such as a TextBlock without text or a seventh action past Teams' maxActions);
//   too wide:  the rendered card is wider than CARD_WIDTH, the width of a Teams card.
"use strict";

const path = require("path");
const readline = require("readline");

// Microsoft's Adaptive Cards designer lays a Teams card out in `.teams-inner-frame`, whose narrowest
// width is 400 px (adaptivecards-designer dist/containers/teams-container-*.css: min-width 400px,
// max-width 726px): a card that fits 400 px fits every width the Teams frame takes.
const CARD_WIDTH = 400;
const THEMES = ["light", "dark"];
// Keys whose values are opaque data or are not rendered as elements of their own.
const SKIP_KEYS = new Set([
  "data", "msteams", "metadata", "authentication", "choices", "fallback", "selectAction", "refresh",
  "backgroundImage", "inlines",
]);

let chromium;
let files;
try {
  ({ chromium } = require("playwright-core"));
  const designer = path.dirname(require.resolve("adaptivecards-designer/package.json"));
  const sdk = path.dirname(require.resolve("adaptivecards/package.json"));
  files = {
    sdkVersion: require("adaptivecards/package.json").version,
    script: path.join(sdk, "dist", "adaptivecards.min.js"),
    hostConfig: (theme) => require(path.join(designer, "lib", "hostConfigs", `microsoft-teams-${theme}.json`)),
    css: (theme) => path.join(designer, "dist", "containers", `teams-container-${theme}.css`),
  };
} catch (error) {
  process.stderr.write(
    "cannot load Microsoft's Adaptive Cards renderer (npm `adaptivecards`, `adaptivecards-designer`, " +
      "`playwright-core`): " + String(error && error.message ? error.message : error) +
      "\nrun `npm ci` in the project root\n",
  );
  process.exit(2);
}

// Runs in the page: renders each card into the host element and compares it with its JSON.
function pageCheck({ cards, width, skipKeys }) {
  const AC = window.AdaptiveCards;
  const skip = new Set(skipKeys);
  const host = document.getElementById("host");

  // A copy of the card with a synthetic id on each element and action that has none, and what the
  // renderer is expected to show: [{path, type, id, action}]. Action.ShowCard cards are checked as
  // cards of their own (the renderer draws them only when the button is clicked).
  function tag(card, prefix, subcards) {
    const expected = [];
    let counter = 0;
    function walk(node, where, key) {
      if (Array.isArray(node)) return node.map((item, index) => walk(item, `${where}[${index}]`, key));
      if (node === null || typeof node !== "object") return node;
      const copy = {};
      for (const [name, value] of Object.entries(node)) {
        if (skip.has(name)) copy[name] = value;
        else if (name === "card" && node.type === "Action.ShowCard") {
          subcards.push({ card: value, path: `${where}.card` });
          copy[name] = { type: "AdaptiveCard", body: [] };
        } else copy[name] = walk(value, `${where}.${name}`, name);
      }
      if (where !== prefix && typeof node.type === "string" && node.type !== "AdaptiveCard" && node.type !== "TextRun") {
        if (typeof copy.id !== "string" || !copy.id) copy.id = `__render_check_${++counter}`;
        const action = node.type.startsWith("Action.");
        expected.push({ path: where, type: node.type, id: copy.id, action });
      }
      return copy;
    }
    return { tagged: walk(card, prefix, ""), expected };
  }

  function check(card, prefix) {
    const problems = [];
    const subcards = [];
    const { tagged, expected } = tag(card, prefix, subcards);
    const parsed = new AC.AdaptiveCard();
    parsed.hostConfig = window.teamsHostConfig;
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    parsed.parse(tagged, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
    host.innerHTML = "";
    const rendered = parsed.render();
    if (!rendered) return [`dropped: ${prefix}: the whole card renders as nothing`];
    host.appendChild(rendered);
    const hostBox = host.getBoundingClientRect();
    const shown = [];
    for (const item of expected) {
      const object = item.action ? parsed.getActionById(item.id) : parsed.getElementById(item.id);
      const element = object ? object.renderedElement : undefined;
      if (!object) {
        const said = events.filter((message) => message.includes(item.type));
        const why = said.length ? ` (the renderer said: ${said.join("; ")})` : "";
        problems.push(`dropped: ${item.path} (${item.type}): the renderer does not know it${why}`);
      } else if (!element || !host.contains(element)) {
        problems.push(`dropped: ${item.path} (${item.type}): it renders as nothing`);
      } else shown.push({ item, element });
    }
    let right = hostBox.left;
    for (const element of host.querySelectorAll("*")) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && box.height > 0) right = Math.max(right, box.right);
    }
    const cardWidth = Math.ceil(right - hostBox.left);
    if (cardWidth > width + 1) {
      const wide = shown.filter(({ element }) => element.getBoundingClientRect().right > hostBox.right + 1);
      const deepest = wide.filter(({ element }) => !wide.some((other) => other.element !== element && element.contains(other.element)));
      const where = deepest.slice(0, 4).map(({ item, element }) =>
        `${item.path} (${item.type}) ends at ${Math.ceil(element.getBoundingClientRect().right - hostBox.left)} px`);
      problems.push(`too wide: ${prefix}: the card is ${cardWidth} px wide, a Teams card ${width} px` +
        (where.length ? `: ${where.join("; ")}` : ""));
    }
    host.innerHTML = "";
    for (const sub of subcards) {
      const inner = Object.assign({ type: "AdaptiveCard", version: card.version }, sub.card);
      problems.push(...check(inner, sub.path));
    }
    return problems;
  }

  return cards.map((card) => {
    try {
      return check(card, "$");
    } catch (error) {
      return [`the renderer threw: ${String(error && error.message ? error.message : error)}`];
    }
  });
}

async function openPage(browser, theme) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.setContent(
    `<!DOCTYPE html><html><body style="margin:0"><div class="teams-frame"><div class="teams-inner-frame" ` +
      `style="min-width:0;padding:0"><div id="host" class="teams-card" style="box-sizing:border-box;` +
      `width:${CARD_WIDTH}px"></div></div></div></body></html>`,
  );
  await page.addStyleTag({ path: files.css(theme) });
  await page.addScriptTag({ path: files.script });
  await page.evaluate((hostConfig) => {
    window.teamsHostConfig = new window.AdaptiveCards.HostConfig(hostConfig);
  }, files.hostConfig(theme));
  return page;
}

async function main() {
  let browser;
  let pages;
  try {
    // Chromium runs at the real time even when the tests run under libfaketime (make test-anytime):
    // rendering does not read the clock, and Chromium under an LD_PRELOAD clock is not a tested setup.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name !== "LD_PRELOAD" && !name.startsWith("FAKETIME")),
    );
    browser = await chromium.launch({
      env,
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    pages = await Promise.all(THEMES.map((theme) => openPage(browser, theme)));
  } catch (error) {
    process.stderr.write(
      "cannot start headless Chromium for the card rendering check: " +
        String(error && error.message ? error.message : error) +
        "\ninstall Debian's chromium (`apt-get install chromium`) or set CHROMIUM_PATH\n",
    );
    if (browser) await browser.close().catch(() => {});
    process.exit(2);
  }
  process.stdout.write(JSON.stringify({ ready: true, sdk: files.sdkVersion, browser: browser.version() }) + "\n");

  async function answer(cards) {
    const byTheme = await Promise.all(
      pages.map((page) => page.evaluate(pageCheck, { cards, width: CARD_WIDTH, skipKeys: [...SKIP_KEYS] })),
    );
    return cards.map((_, index) => {
      // The same problem in both themes is reported once, naming both.
      const themesOf = new Map();
      byTheme.forEach((results, themeIndex) => {
        for (const problem of results[index]) {
          if (!themesOf.has(problem)) themesOf.set(problem, []);
          themesOf.get(problem).push(THEMES[themeIndex]);
        }
      });
      return [...themesOf].map(([problem, themes]) => `render (${themes.join(", ")}): ${problem}`);
    });
  }

  // Requests are answered one at a time, in order.
  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let request;
      try {
        request = JSON.parse(line);
      } catch (error) {
        process.stdout.write(JSON.stringify({ id: null, error: "the request line is not JSON" }) + "\n");
        return;
      }
      try {
        const results = await answer(Array.isArray(request.cards) ? request.cards : []);
        process.stdout.write(JSON.stringify({ id: request.id, results }) + "\n");
      } catch (error) {
        process.stdout.write(JSON.stringify({ id: request.id, error: String(error && error.message ? error.message : error) }) + "\n");
      }
    });
  });
  lines.on("close", () => {
    queue.then(() => browser.close()).finally(() => process.exit(0));
  });
}

main();
