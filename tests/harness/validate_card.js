#!/usr/bin/env node
// Validates Adaptive Cards with Microsoft's Adaptive Cards SDK (npm `adaptivecards`), for the tests.
//
// A long-lived worker: one JSON request per line on stdin, `{"id": 1, "card": {...}}`, one JSON
// answer per line on stdout, `{"id": 1, "problems": ["..."]}`. An empty list means valid. On start
// it writes `{"ready": true, "sdk": "<version>"}`; if the SDK cannot be loaded it writes the reason
// to stderr and exits with status 2, so the Python side can fail loudly instead of skipping.
//
// Problems come from three places:
//   sdk-parse:  events raised while parsing against version 1.5 (unknown element or action types,
//               bad enum values, properties newer than 1.5);
//   sdk-validate: card.validateProperties() (inputs without ids, duplicate ids, empty choice sets,
//               required inputs without a label or an error message);
//   check:      what the SDK does not look at (an Image without a url, a TextBlock without text,
//               the card version, Action.Execute without a verb, Action.Submit without data,
//               @mention entities whose text is not in the card).
"use strict";

const readline = require("readline");

let AC;
let sdkVersion = "unknown";
try {
  // The package's `main` is untranspiled ESM that Node cannot load; the UMD bundle works headless.
  AC = require("adaptivecards/dist/adaptivecards.js");
  sdkVersion = require("adaptivecards/package.json").version;
} catch (error) {
  process.stderr.write(
    "cannot load Microsoft's Adaptive Cards SDK (npm `adaptivecards`): " +
      String(error && error.message ? error.message : error) +
      "\nrun `npm ci` in the project root\n",
  );
  process.exit(2);
}

const TEAMS_VERSION = "1.5";
// Keys whose values are opaque data, not card elements: never walk into them.
const OPAQUE_KEYS = new Set(["data", "msteams", "metadata", "authentication", "choices"]);

function nonEmptyString(value) {
  return typeof value === "string" && value.trim().length > 0;
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function sdkProblems(card) {
  const problems = [];
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    const source = event.source && event.source.getJsonTypeName ? ` (${event.source.getJsonTypeName()})` : "";
    problems.push(`sdk-parse: ${AC.ValidationEvent[event.event]}: ${event.message}${source}`);
  }
  const results = parsed.validateProperties();
  for (const event of results.validationEvents) {
    problems.push(`sdk-validate: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  return problems;
}

function collectTexts(node, texts) {
  if (Array.isArray(node)) {
    for (const item of node) collectTexts(item, texts);
  } else if (isPlainObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (OPAQUE_KEYS.has(key)) continue;
      if ((key === "text" || key === "title" || key === "value") && typeof value === "string") texts.push(value);
      else collectTexts(value, texts);
    }
  }
}

function ownProblems(card) {
  const problems = [];
  if (!isPlainObject(card)) return ["check: the card is not a JSON object"];
  if (card.type !== "AdaptiveCard") problems.push(`check: $: type must be "AdaptiveCard", not ${JSON.stringify(card.type)}`);
  if (card.version !== TEAMS_VERSION) {
    problems.push(`check: $: version must be "${TEAMS_VERSION}" (what Teams renders), not ${JSON.stringify(card.version)}`);
  }
  const inputIds = new Map();

  function walk(node, path) {
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, `${path}[${index}]`));
      return;
    }
    if (!isPlainObject(node)) return;
    const type = node.type;
    const where = typeof type === "string" ? `${path} (${type})` : path;
    if (type === "Image" && !nonEmptyString(node.url)) problems.push(`check: ${where}: an Image must have a url`);
    if (type === "TextBlock" && !nonEmptyString(node.text)) problems.push(`check: ${where}: a TextBlock must have text`);
    if (type === "TextRun" && !nonEmptyString(node.text)) problems.push(`check: ${where}: a TextRun must have text`);
    // Teams' warning text colour is amber or yellow: hard to read on white. Put the words on a
    // warning container instead (bot.cards.common.flag), the words saying what the colour means.
    if ((type === "TextBlock" || type === "TextRun") && typeof node.color === "string" && node.color.toLowerCase() === "warning") {
      problems.push(`check: ${where}: warning-coloured text is hard to read: use a container of style "warning" with default text`);
    }
    if (typeof type === "string" && type.startsWith("Input.")) {
      if (!nonEmptyString(node.id)) problems.push(`check: ${where}: an input must have an id`);
      else if (inputIds.has(node.id)) {
        problems.push(`check: ${where}: input id ${JSON.stringify(node.id)} is already used at ${inputIds.get(node.id)}`);
      } else inputIds.set(node.id, path);
    }
    if (type === "Action.Execute") {
      if (!nonEmptyString(node.verb)) problems.push(`check: ${where}: an Action.Execute must have a verb`);
      if ("data" in node && !isPlainObject(node.data)) problems.push(`check: ${where}: Action.Execute data must be an object`);
    }
    if (type === "Action.Submit" && !isPlainObject(node.data)) {
      problems.push(`check: ${where}: an Action.Submit must carry data (an object) saying what it does`);
    }
    for (const [key, value] of Object.entries(node)) {
      if (!OPAQUE_KEYS.has(key)) walk(value, `${path}.${key}`);
    }
  }

  walk(card, "$");

  const entities = isPlainObject(card.msteams) && Array.isArray(card.msteams.entities) ? card.msteams.entities : [];
  if (entities.length > 0) {
    const texts = [];
    collectTexts(card, texts);
    entities.forEach((entity, index) => {
      if (!isPlainObject(entity) || entity.type !== "mention") return;
      const where = `$.msteams.entities[${index}]`;
      const mentioned = entity.mentioned;
      if (!isPlainObject(mentioned) || !nonEmptyString(mentioned.id) || !nonEmptyString(mentioned.name)) {
        problems.push(`check: ${where}: a mention needs mentioned.id and mentioned.name`);
      }
      if (!nonEmptyString(entity.text)) problems.push(`check: ${where}: a mention needs text like <at>Name</at>`);
      else if (!texts.some((text) => text.includes(entity.text))) {
        problems.push(`check: ${where}: mention text ${JSON.stringify(entity.text)} appears in no text of the card`);
      }
    });
  }
  return problems;
}

function validate(card) {
  const problems = ownProblems(card);
  if (isPlainObject(card)) {
    try {
      problems.push(...sdkProblems(card));
    } catch (error) {
      problems.push(`sdk: the SDK threw while parsing: ${String(error && error.message ? error.message : error)}`);
    }
  }
  return problems;
}

process.stdout.write(JSON.stringify({ ready: true, sdk: sdkVersion }) + "\n");

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: null, problems: ["the request line is not JSON"] }) + "\n");
    return;
  }
  const answer = { id: request.id, problems: validate(request.card) };
  process.stdout.write(JSON.stringify(answer) + "\n");
});
lines.on("close", () => process.exit(0));
