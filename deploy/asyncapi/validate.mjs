// Validates an AsyncAPI document with the AsyncAPI project's own parser
// (@asyncapi/parser): exit 0 when it has no error-level diagnostic, 1 when it
// has (each printed as "error: path: message"), 2 on a usage or read error.
// Run by tests/unit/schemas/test_asyncapi.py; install with `npm ci --prefix deploy/asyncapi`.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs ASYNCAPI.json");
  process.exit(2);
}
let text;
try {
  text = await readFile(file, "utf8");
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(text, { source: file });
let errors = 0;
for (const d of diagnostics) {
  const level = d.severity === DiagnosticSeverity.Error ? "error" : "warning";
  if (level === "error") errors += 1;
  console.log(`${level}: ${(d.path || []).join("/")}: ${d.message}`);
}
if (errors > 0 || document === undefined) {
  console.log(`INVALID: ${errors} error(s)`);
  process.exit(1);
}
console.log(`valid AsyncAPI ${document.version()}`);
