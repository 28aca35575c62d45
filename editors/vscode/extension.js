// The leadlang extension: starts `leadlang lsp` (the language server, over stdio) for .lead files and
// adds the command "leadlang: Show compiled SQL". Plain JavaScript: nothing to build.
"use strict";

const vscode = require("vscode");
const { LanguageClient, ExecuteCommandRequest } = require("vscode-languageclient/node");

const DIALECTS = [
  { label: "duckdb", description: "embedded, the default" },
  { label: "postgres", description: "PostgreSQL" },
  { label: "snowflake" },
  { label: "bigquery" },
  { label: "spark", description: "Spark SQL" },
];

let client;

/** The command that starts the server: `leadlang.serverCommand` if set, else `leadlang.path` + `lsp`. */
function serverCommand() {
  const config = vscode.workspace.getConfiguration("leadlang");
  const whole = config.get("serverCommand") || [];
  if (whole.length > 0) {
    return { command: whole[0], args: whole.slice(1) };
  }
  return { command: config.get("path") || "leadlang", args: ["lsp"] };
}

async function start(context) {
  const { command, args } = serverCommand();
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  client = new LanguageClient(
    "leadlang",
    "leadlang",
    { command, args, options: { cwd } },
    {
      documentSelector: [{ language: "lead" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.lead,pyproject.toml}") },
    },
  );
  try {
    await client.start();
  } catch (err) {
    const shown = [command, ...args].join(" ");
    vscode.window.showErrorMessage(
      `leadlang: could not start \`${shown}\` (${err.message || err}). Install leadlang with \`pip install 'leadlang[lsp]'\` ` +
        "or set leadlang.path / leadlang.serverCommand.",
    );
  }
}

async function showCompiledSql() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "lead") {
    vscode.window.showInformationMessage("leadlang: open a .lead policy first.");
    return;
  }
  if (!client || !client.isRunning()) {
    vscode.window.showErrorMessage("leadlang: the language server is not running.");
    return;
  }
  const picked = await vscode.window.showQuickPick(DIALECTS, { placeHolder: "The SQL dialect to compile to" });
  if (!picked) {
    return;
  }
  let sql;
  try {
    sql = await client.sendRequest(ExecuteCommandRequest.type, {
      command: "leadlang.showCompiledSql",
      arguments: [editor.document.uri.toString(), picked.label],
    });
  } catch (err) {
    // the server's one line: the policy's first error, or an unknown dialect
    vscode.window.showErrorMessage(`leadlang: ${err.message || err}`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ language: "sql", content: sql });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("leadlang.showCompiledSql", showCompiledSql),
    vscode.commands.registerCommand("leadlang.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("leadlang.path") || event.affectsConfiguration("leadlang.serverCommand")) {
        await vscode.commands.executeCommand("leadlang.restartServer");
      }
    }),
  );
  await start(context);
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
