// Validate a Teams app manifest with Microsoft's own validator and the schema it ships, offline.
// Usage: node validate_manifest.js <manifest.json>. Prints a JSON list of errors (empty when valid).
"use strict";
const fs = require("fs");
const { AppManifestUtils } = require("@microsoft/app-manifest");

async function main() {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const version = manifest.manifestVersion;
  // The bundled schema for the manifest's own version; never fetched from the network.
  const schemaPath = require.resolve(
    `@microsoft/app-manifest/build/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`
  );
  const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  process.stdout.write(JSON.stringify({ schema: schemaPath, errors }) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(3);
});
