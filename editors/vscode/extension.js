// The flowgate extension: starts `flowgate lsp` over stdio for .flow files. Highlighting,
// brackets and snippets are declared in package.json and need no code.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration("flowgate").get("path") || "flowgate";
  const run = { command, args: ["lsp"] };
  return { run, debug: run };
}

async function start(context) {
  client = new LanguageClient(
    "flowgate",
    "flowgate",
    serverOptions(),
    {
      documentSelector: [{ scheme: "file", language: "flow" }, { scheme: "untitled", language: "flow" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{flow,csv}") },
    },
  );
  try {
    await client.start();
  } catch (err) {
    const command = vscode.workspace.getConfiguration("flowgate").get("path") || "flowgate";
    vscode.window.showErrorMessage(
      `flowgate: could not start \`${command} lsp\` (${err.message || err}). ` +
        "Install flowgate (cargo install --path .) or set flowgate.path.",
    );
  }
}

async function stop() {
  if (client) {
    const c = client;
    client = undefined;
    if (c.isRunning()) await c.stop();
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("flowgate.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("flowgate.path")) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
