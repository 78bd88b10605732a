// Generates src/openapi.ts, the types of every route and schema, from the
// OpenAPI document assignd serves (openapi/openapi.json at the repository's
// root) with openapi-typescript, pinned in package.json.
//
//   node scripts/generate.mjs          write src/openapi.ts
//   node scripts/generate.mjs --check  fail (exit 1) when src/openapi.ts is
//                                      not what the document generates
//
// The client's own types (src/types.ts) are aliases into this file, so a
// field added to the document reaches the client by running this script.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const spec = new URL("../../../openapi/openapi.json", import.meta.url);
const out = new URL("../src/openapi.ts", import.meta.url);

const document = await readFile(spec);
// The document's hash lets a Go test (client/typescript_test.go) see a stale
// file without node.
const header = `// Generated from openapi/openapi.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the document, then regenerate; \`npm run check-generated\`
// (run by test.sh) and go test ./client/ fail while this file is stale.
// openapi.json sha256 ${createHash("sha256").update(document).digest("hex")}

`;

const ast = await openapiTS(JSON.parse(document.toString("utf8")), {
  // A property with a default stays optional (a request may leave it out);
  // only the document's required properties are required.
  defaultNonNullable: false,
});
const text = header + astToString(ast);

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = await readFile(out, "utf8");
  } catch {
    // missing: stale
  }
  if (current !== text) {
    console.error(
      `${fileURLToPath(out)} is stale: openapi/openapi.json changed since it was generated.\n` +
        "Run `npm run generate` in clients/typescript and commit the result.",
    );
    process.exit(1);
  }
  console.log("src/openapi.ts is up to date with openapi/openapi.json");
} else {
  await writeFile(out, text);
  console.log(`wrote ${fileURLToPath(out)}`);
}
