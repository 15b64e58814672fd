// Tokenizes test/sample.flow with the extension's grammar, as VS Code does, and checks the
// scopes of the tokens that matter. Run with `npm test`.
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));

async function tokenize(text) {
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      if (scope !== "source.flow") return null;
      const file = path.join(root, "syntaxes", "flow.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.flow");
  const tokens = [];
  let stack = vsctm.INITIAL;
  text.split("\n").forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      tokens.push({ line: i + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    stack = r.ruleStack;
  });
  return tokens;
}

// The scopes of the first token on `line` whose text is `text` (trimmed).
function scopesOf(tokens, line, text) {
  const t = tokens.find((t) => t.line === line && t.text.trim() === text);
  assert.ok(t, `no token ${JSON.stringify(text)} on line ${line}: ` +
    JSON.stringify(tokens.filter((t) => t.line === line).map((t) => t.text)));
  return t.scopes;
}

const cases = [
  // [line, token text, a scope it must carry]
  [1, "// A sample for the grammar test.", "comment.line.double-slash.flow"],
  [2, "import", "keyword.control.import.flow"],
  [4, "/*", "comment.block.flow"],
  [5, "comment", "comment.block.flow"],
  [5, "*/", "comment.block.flow"],
  [6, "type", "storage.type.type.flow"],
  [6, "Row", "entity.name.type.flow"],
  [6, "String", "support.type.primitive.flow"],
  [6, "Decimal", "support.type.primitive.flow"],
  [8, "lookup", "storage.type.lookup.flow"],
  [8, "lookups/carriers.csv", "string.quoted.double.flow"],
  [10, "fn", "storage.type.function.flow"],
  [10, "clean", "entity.name.function.flow"],
  [10, "if", "keyword.control.conditional.flow"],
  [10, "??", "keyword.operator.coalesce.flow"],
  [10, "null", "constant.language.null.flow"],
  [10, "trim", "entity.name.function.method.flow"],
  [12, "flow", "storage.type.flow.flow"],
  [12, "demo", "entity.name.section.flow"],
  [13, "source", "keyword.other.flow"],
  [13, "file", "support.type.connector.flow"],
  [13, "shopify", "entity.name.namespace.flow"],
  [13, "Order", "entity.name.type.flow"],
  [15, "dedupe", "keyword.other.stage.flow"],
  [15, "${", "punctuation.section.interpolation.begin.flow"],
  [15, "record", "variable.language.record.flow"],
  [15, "updated_at", "variable.other.property.flow"],
  [15, "within", "keyword.other.stage.flow"],
  [15, "1h30m", "constant.numeric.duration.flow"],
  [16, "filter", "keyword.other.stage.flow"],
  [16, "cancelled_at", "variable.other.property.flow"],
  [16, "and", "keyword.operator.logical.flow"],
  [16, "not", "keyword.operator.logical.flow"],
  [17, "let", "storage.type.let.flow"],
  [17, "email", "variable.other.definition.flow"],
  [17, "?.", "punctuation.accessor.flow"],
  [17, "hold", "keyword.control.hold.flow"],
  [17, "no_email", "string.quoted.double.flow"],
  [17, "name", "meta.interpolation.flow"],
  [19, "map", "keyword.other.stage.flow"],
  [21, "round", "entity.name.function.call.flow"],
  [21, "2", "constant.numeric.integer.flow"],
  [21, "half_even", "support.constant.rounding.flow"],
  [22, "\\\"", "constant.character.escape.flow"],
  [22, "total_price", "meta.interpolation.flow"],
  [22, "at 0.5", "string.quoted.double.flow"],
  [25, "sink", "keyword.other.flow"],
  [25, "erp", "entity.name.connector.flow"],
  [25, "http.post", "support.type.connector.flow"],
  [27, "1s", "constant.numeric.duration.flow"],
  [27, "5m", "constant.numeric.duration.flow"],
  [27, "429", "constant.numeric.integer.flow"],
  [27, "5xx", "constant.numeric.status-class.flow"],
  [28, "10/s", "constant.numeric.rate.flow"],
];

(async () => {
  const text = fs.readFileSync(path.join(__dirname, "sample.flow"), "utf8");
  const tokens = await tokenize(text);
  let failed = 0;
  for (const [line, text, scope] of cases) {
    try {
      const scopes = scopesOf(tokens, line, text);
      assert.ok(scopes.includes(scope), `line ${line} ${JSON.stringify(text)}: ${scopes.join(" ")} lacks ${scope}`);
    } catch (e) {
      failed += 1;
      console.error(`FAILED ${e.message}`);
    }
  }
  // Nothing in the sample is marked invalid.
  for (const t of tokens) {
    if (t.scopes.some((s) => s.startsWith("invalid"))) {
      failed += 1;
      console.error(`FAILED line ${t.line} ${JSON.stringify(t.text)} is marked invalid`);
    }
  }
  console.log(`${cases.length - failed} of ${cases.length} token checks passed`);
  process.exit(failed ? 1 : 0);
})();
