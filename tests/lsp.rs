//! `flowgate lsp` driven as an editor drives it: Content-Length framed JSON-RPC over the
//! child's stdin and stdout. Every read has a deadline, so a server that hangs fails the
//! test instead of blocking it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const DEADLINE: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    stdin: ChildStdin,
    out: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start(root: &Path) -> Server {
        Server::with_debounce(root, 5)
    }

    fn with_debounce(root: &Path, ms: u64) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
            .args(["lsp", "--debounce-ms", &ms.to_string()])
            .env("FLOWGATE_CACHE_DIR", root.join("cache"))
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowgate lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, out) = channel();
        std::thread::spawn(move || loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("a Content-Length header")];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).expect("a JSON body")).is_err() {
                return;
            }
        });
        let mut s = Server { child, stdin, out, next_id: 0 };
        let root_uri = uri(root);
        s.request("initialize", json!({ "capabilities": {}, "rootUri": root_uri }));
        s.notify("initialized", json!({}));
        s
    }

    fn write(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.write(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The first message that `pick` accepts, within the deadline.
    fn wait_for(&mut self, what: &str, mut pick: impl FnMut(&Value) -> bool) -> Value {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(msg) if pick(&msg) => return msg,
                Ok(_) => {}
                Err(_) => panic!("no {what} from the server within {DEADLINE:?}"),
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let reply = self.wait_for(method, |m| m["id"] == id);
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "flowgate", "version": 1, "text": text } }),
        );
        self.diagnostics(uri, 1)
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) -> Value {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        self.diagnostics(uri, version)
    }

    /// The diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Value {
        let msg = self.wait_for("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        msg["params"]["diagnostics"].clone()
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }),
        )
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "flowgate lsp exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("flowgate lsp did not exit after `exit`");
    }
}

fn uri(path: &Path) -> String {
    let dir = path.parent().unwrap().canonicalize().unwrap();
    let full = if path.is_dir() { path.canonicalize().unwrap() } else { dir.join(path.file_name().unwrap()) };
    flowgate::lsp::path_to_uri(&full).unwrap().as_str().to_string()
}

/// The line and UTF-16 column of the first `needle` in `text`.
fn pos(text: &str, needle: &str) -> (u32, u32) {
    let at = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u32, text[line_start..at].encode_utf16().count() as u32)
}

const ORDERS: &str = r#"import shopify

flow orders {
  source orders: stdin {} : shopify.Order
  filter record.line_items.count() > 0
  let total = record.total_price
  filter total > 0
  sink out: stdout {}
}
"#;

#[test]
fn diagnostics_match_check_with_utf16_positions() {
    let dir = tempfile::tempdir().unwrap();
    // Non-ASCII text before the mistake: a comment with a two-unit emoji and an accent.
    let text = "// Bestellungen für 😀 Shopify\nimport shopify\n\nflow orders {\n  source orders: stdin {} : shopify.Order\n  filter record.totl_price > 0\n  sink out: stdout {}\n}\n";
    let path = dir.path().join("orders.flow");
    std::fs::write(&path, text).unwrap();
    let mut s = Server::start(dir.path());
    let u = uri(&path);
    let diags = s.open(&u, text);
    let d = diags.as_array().unwrap().first().expect("a diagnostic").clone();

    // The same as `flowgate check --format json` says of the same file.
    let out = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .args(["check", "--format", "json", "orders.flow"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let check = String::from_utf8(out.stdout).unwrap();
    let code = d["code"].as_str().unwrap();
    assert!(check.contains(&format!("\"{code}\"")), "{code} not in {check}");
    let message = d["message"].as_str().unwrap();
    let first_line = message.lines().next().unwrap();
    assert!(check.contains(first_line), "`{first_line}` not in {check}");
    assert!(message.contains("\nhelp: did you mean `total_price`?"), "{message}");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "flowgate");

    let (line, col) = pos(text, "totl_price");
    assert_eq!(d["range"]["start"], json!({ "line": line, "character": col }));
    assert_eq!(d["range"]["end"], json!({ "line": line, "character": col + "totl_price".len() as u32 }));

    // A mistake on the line with the emoji: columns count UTF-16 units, so the emoji is two.
    let text2 = "import shopify\nflow orders { source orders: stdin {} : shopify.Order\n  filter \"😀\" == record.nam\n  sink out: stdout {}\n}\n";
    let diags = s.change(&u, 2, text2);
    let d = &diags[0];
    assert_eq!(d["range"]["start"]["line"], 2);
    // `  filter "😀" == ` is 9 + 4 + 4 = 17 units (the emoji counts two; it is 4 bytes
    // and 1 character): the field name starts at 24, its end at 27.
    let (_, col) = pos(text2, "record.nam");
    assert_eq!(col, 17);
    assert_eq!(d["range"]["end"], json!({ "line": 2, "character": 27 }), "{d}");

    // Fixed: the diagnostics are cleared.
    let diags = s.change(&u, 3, ORDERS);
    assert_eq!(diags, json!([]), "{diags}");
    s.stop();
}

#[test]
fn local_imports_resolve_beside_the_document() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("util.flow"), "fn twice(x: Int) -> Int = x * 2\n").unwrap();
    let text = "import util\nimport shopify\nflow f {\n  source o: stdin {} : shopify.Order\n  filter util.twice(record.id) > \"x\"\n  sink out: stdout {}\n}\n";
    let path = dir.path().join("main.flow");
    let mut s = Server::start(dir.path());
    let u = uri(&path);
    // Not saved yet: the text comes from the editor, imports from beside its path.
    let diags = s.open(&u, text);
    let codes: Vec<&str> = diags.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(!codes.is_empty(), "comparing Int with String is an error");
    assert!(!codes.contains(&"E0001") && diags.to_string().find("unknown module").is_none(), "{diags}");
    // Without util.flow beside it, the import is unknown.
    std::fs::remove_file(dir.path().join("util.flow")).unwrap();
    let diags = s.change(&u, 2, text);
    assert!(diags.to_string().contains("unknown module `util`"), "{diags}");
    s.stop();
}

#[test]
fn edits_in_a_burst_are_checked_once_and_requests_see_the_latest_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.flow");
    let u = uri(&path);
    // Long enough that the hover and the next edit come before it ends on a loaded
    // machine (a debug build checks the text for the hover), short enough to wait for.
    let mut s = Server::with_debounce(dir.path(), 3000);
    s.open(&u, ORDERS);
    let broken = ORDERS.replace("total_price", "totl_price");
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    // A request before the debounce ends answers about the text just sent.
    let (line, col) = pos(&broken, "totl_price");
    let hover = s.at("textDocument/hover", &u, line, col + 1);
    assert_eq!(hover, Value::Null, "an unknown field has no type: {hover}");
    let fixed = ORDERS.replace("record.total_price", "record.subtotal_price");
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 3 }, "contentChanges": [{ "text": fixed }] }),
    );
    let published = s.wait_for("diagnostics", |m| m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(published["params"]["version"], 3, "version 2 was replaced before its debounce ended: {published}");
    assert_eq!(published["params"]["diagnostics"], json!([]));
    let (line, col) = pos(&fixed, "subtotal_price");
    let hover = s.at("textDocument/hover", &u, line, col + 1);
    assert!(hover["contents"]["value"].as_str().unwrap().contains("subtotal_price: Decimal"), "{hover}");
    s.stop();
}

#[test]
fn formatting_uses_the_formatter_and_leaves_broken_text_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.flow");
    let u = uri(&path);
    let mut s = Server::start(dir.path());
    let messy = "import shopify\nflow orders {   source orders: stdin {} : shopify.Order\n filter record.line_items.count()>0  // keep\n  sink out: stdout {}}\n";
    s.open(&u, messy);
    let options = json!({ "tabSize": 2, "insertSpaces": true });
    let edits = s.request("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options }));
    let expected = flowgate::fmt::format_text("orders.flow", messy).unwrap();
    assert_eq!(edits.as_array().unwrap().len(), 1, "{edits}");
    assert_eq!(edits[0]["newText"], expected);
    assert_eq!(edits[0]["range"]["start"], json!({ "line": 0, "character": 0 }));
    assert_eq!(edits[0]["range"]["end"], json!({ "line": 4, "character": 0 }));
    assert!(expected.contains("// keep"));

    // Already formatted: nothing to change.
    s.change(&u, 2, &expected);
    let edits = s.request("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options }));
    assert_eq!(edits, json!([]));

    // Does not parse: no edits, whatever the layout.
    let broken = "import shopify\nflow orders {   source orders: stdin {} : shopify.Order\n filter (record.id\n}\n";
    let diags = s.change(&u, 3, broken);
    assert!(!diags.as_array().unwrap().is_empty());
    let edits = s.request("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options }));
    assert_eq!(edits, json!([]));
    s.stop();
}

#[test]
fn hover_shows_types_bindings_and_builtin_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prices.flow");
    let u = uri(&path);
    let text = r#"type Line = { sku: String, price: Decimal(2)? }

flow prices {
  source lines: stdin {} : Line
  let net = record.price ?? 0.00
  filter net.round(2, half_even) > 1.00
  sink out: stdout {}
}
"#;
    let mut s = Server::start(dir.path());
    let diags = s.open(&u, text);
    assert_eq!(diags, json!([]), "{diags}");
    let hover_text = |s: &mut Server, needle: &str, within: u32| {
        let (line, col) = pos(text, needle);
        let h = s.at("textDocument/hover", &u, line, col + within);
        h["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    assert!(hover_text(&mut s, "price ??", 1).contains("price: Decimal(2)?"));
    assert!(hover_text(&mut s, "record.price", 1).contains("record: Line"));
    assert!(hover_text(&mut s, "net =", 0).contains("let net: Decimal(2)"));
    let round = hover_text(&mut s, "round(", 1);
    let builtin = flowgate::builtins::lookup("round").unwrap();
    let used = builtin.iter().find(|b| round.contains(b.signature)).expect("the signature of the overload used");
    assert!(round.contains(used.doc), "{round}");
    assert!(round.contains("Here: `Decimal(2)`"), "{round}");
    // Inside the arguments it is the argument that is shown.
    assert!(hover_text(&mut s, "half_even", 2).contains("RoundingMode"));
    s.stop();
}

/// The line of the first `needle` in `text` after line `from`.
fn line_of(text: &str, needle: &str, from: usize) -> u32 {
    text.lines().enumerate().skip(from).find(|(_, l)| l.contains(needle)).map(|(i, _)| i as u32).unwrap()
}

#[test]
fn definitions_reach_types_fields_functions_lookups_bindings_and_the_stdlib() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("util.flow"), "// helpers\nfn twice(x: Int) -> Int = x * 2\n").unwrap();
    let path = dir.path().join("main.flow");
    let u = uri(&path);
    let text = r#"import shopify
import util

type Batch = { id: Int, lines: [{ sku: String, qty: Int }] }

lookup codes: String -> String = { "A" => "1" }

flow main {
  source batches: stdin {} : Batch
  split record.lines
  let doubled = util.twice(record.qty)
  filter codes[record.sku] != null and doubled > 0
  sink out: stdout {}
}

flow orders {
  source orders: stdin {} : shopify.Order
  filter record.total_price > 0
  sink out: stdout {}
}
"#;
    let mut s = Server::start(dir.path());
    let diags = s.open(&u, text);
    assert_eq!(diags, json!([]), "{diags}");
    let mut go = |needle: &str, within: u32| {
        let (line, col) = pos(text, needle);
        s.at("textDocument/definition", &u, line, col + within)
    };
    let line = |l: &Value| l["range"]["start"]["line"].as_u64().unwrap() as usize;

    // A nested record's field: the field in the record type written inside `Batch`.
    let d = go("sku]", 1);
    assert_eq!(d["uri"], u.as_str());
    assert_eq!(d["range"]["start"], json!({ "line": 3, "character": 34 }), "{d}");
    // A type of the document.
    let d = go("Batch\n", 1);
    assert_eq!(d["range"]["start"], json!({ "line": 3, "character": 5 }), "{d}");
    // A lookup, a binding, a function in a module beside the document, an import.
    let d = go("codes[", 1);
    assert_eq!(d["range"]["start"], json!({ "line": 5, "character": 7 }), "{d}");
    let d = go("doubled >", 2);
    assert_eq!(d["range"]["start"], json!({ "line": 10, "character": 6 }), "{d}");
    let util = uri(&dir.path().join("util.flow"));
    let d = go("twice(", 1);
    assert_eq!(
        d,
        json!({ "uri": util, "range": { "start": { "line": 1, "character": 3 }, "end": { "line": 1, "character": 8 } } })
    );
    let d = go("import util", 8);
    assert_eq!(d["uri"], util.as_str());

    // Into the stdlib: a read-only file with the embedded text.
    let d = go("shopify.Order", 9);
    let target = d["uri"].as_str().unwrap().to_string();
    let stdlib_path = flowgate::lsp::uri_to_path(&target.parse().unwrap()).unwrap();
    assert!(stdlib_path.starts_with(dir.path().join("cache").canonicalize().unwrap()), "{target}");
    let stdlib = std::fs::read_to_string(&stdlib_path).unwrap();
    assert_eq!(stdlib, flowgate::modules::stdlib_module("shopify").unwrap().text.as_ref());
    assert!(std::fs::metadata(&stdlib_path).unwrap().permissions().readonly());
    let order_line = line_of(&stdlib, "type Order =", 0);
    assert_eq!(d["range"]["start"]["line"], order_line);
    let d = go("shopify.Order", 2);
    assert_eq!(d["uri"], target.as_str());
    assert_eq!(d["range"]["start"], json!({ "line": 0, "character": 0 }));
    // A field of a stdlib type: the field in `type Order`.
    let d = go("total_price", 2);
    assert_eq!(d["uri"], target.as_str());
    let field_line = line(&d);
    assert!(stdlib.lines().nth(field_line).unwrap().trim_start().starts_with("total_price:"));
    let next_type = line_of(&stdlib, "type ", order_line as usize + 1) as usize;
    assert!(field_line > order_line as usize && field_line < next_type, "{field_line} not in Order");

    // The text is also served by request and by command, for clients that ask.
    let by_request = s.request("flowgate/stdlib", json!({ "module": "shopify" }));
    assert_eq!(by_request, stdlib.as_str());
    let by_command =
        s.request("workspace/executeCommand", json!({ "command": "flowgate.stdlib", "arguments": ["shopify.flow"] }));
    assert_eq!(by_command, stdlib.as_str());
    s.stop();
}

/// The labels offered at the end of the first `needle` in `text`.
fn completions(s: &mut Server, u: &str, text: &str, needle: &str) -> Vec<(String, String)> {
    let (line, col) = pos(text, needle);
    let items = s.at("textDocument/completion", u, line, col + needle.encode_utf16().count() as u32);
    let items = if items.is_array() { items } else { items["items"].clone() };
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["label"].as_str().unwrap().to_string(), i["detail"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn has(items: &[(String, String)], label: &str) -> bool {
    items.iter().any(|(l, _)| l == label)
}

#[test]
fn completion_offers_fields_modules_stages_options_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.flow");
    let u = uri(&path);
    let mut s = Server::start(dir.path());

    // Half-typed: the text does not parse, yet the fields come from the inferred type.
    let text = "import shopify\nlookup codes: String -> String = { \"A\" => \"1\" }\nflow orders {\n  source orders: stdin {} : shopify.Order\n  filter record.to\n  sink out: stdout {}\n}\n";
    s.open(&u, text);
    let items = completions(&mut s, &u, text, "record.to");
    assert!(items.contains(&("total_price".to_string(), "Decimal".to_string())), "{items:?}");
    assert!(has(&items, "line_items") && has(&items, "shipping_address"));
    assert!(!has(&items, "first_name"), "an Address field is not an Order field");

    let text2 = text.replace("record.to", "record.shipping_address?.");
    s.change(&u, 2, &text2);
    let items = completions(&mut s, &u, &text2, "shipping_address?.");
    assert!(has(&items, "first_name") && !has(&items, "total_price"), "{items:?}");

    // A module's declarations after its name.
    let text3 = text.replace("shopify.Order", "shopify.");
    s.change(&u, 3, &text3);
    let items = completions(&mut s, &u, &text3, "shopify.");
    assert!(has(&items, "Order") && has(&items, "Refund"), "{items:?}");

    // The start of a stage line: the stage words, not expressions.
    let text4 = text.replace("  filter record.to\n", "  fi\n");
    s.change(&u, 4, &text4);
    let items = completions(&mut s, &u, &text4, "  fi");
    assert!(has(&items, "filter") && has(&items, "dedupe by") && has(&items, "hold when"), "{items:?}");
    assert!(!has(&items, "upper"));

    // In a sink block: its connector's options, less those written.
    let text5 = text.replace(
        "  sink out: stdout {}\n",
        "  sink erp: http.post {\n    url: \"https://erp.example/orders\"\n    ret\n  }\n",
    );
    s.change(&u, 5, &text5);
    let items = completions(&mut s, &u, &text5, "    ret");
    assert!(has(&items, "retry") && has(&items, "headers") && has(&items, "idempotency_key"), "{items:?}");
    assert!(!has(&items, "url"), "url is already written");
    assert!(!has(&items, "path") && !has(&items, "filter"));
    let text6 = text5.replace("stdin {}", "http.poll {\n    ev\n  }");
    s.change(&u, 6, &text6);
    let items = completions(&mut s, &u, &text6, "    ev");
    assert!(has(&items, "every") && has(&items, "url") && !has(&items, "body"), "{items:?}");

    // In an expression: builtins with their signatures, lookups, the record.
    let text7 = text.replace("record.to", "up");
    s.change(&u, 7, &text7);
    let items = completions(&mut s, &u, &text7, "filter up");
    assert!(items.contains(&("upper".to_string(), "upper(s: String) -> String".to_string())), "{items:?}");
    assert!(has(&items, "codes") && has(&items, "record") && has(&items, "shopify"));
    s.stop();
}

#[test]
fn document_symbols_outline_types_lookups_functions_and_flows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outline.flow");
    let u = uri(&path);
    let text = r#"type Line = { sku: String, qty: Int }
lookup codes: String -> String = { "A" => "1" }
fn double(x: Int) -> Int = x * 2

flow lines {
  source input: stdin {} : Line
  filter record.qty > 0
  let code = codes[record.sku] ?? hold "unknown_sku"
  map { sku: code, qty: double(record.qty) }
  sink out: stdout {}
}
"#;
    let mut s = Server::start(dir.path());
    s.open(&u, text);
    let symbols = s.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": u } }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Line", "codes", "double", "lines"]);
    let fields: Vec<&str> =
        symbols[0]["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(fields, ["sku", "qty"]);
    let parts: Vec<&str> =
        symbols[3]["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(parts, ["input", "filter", "let code", "map", "out"]);
    assert_eq!(symbols[3]["children"][2]["selectionRange"]["start"], json!({ "line": 7, "character": 6 }));
    assert_eq!(symbols[3]["range"]["start"]["line"], 4);
    assert_eq!(symbols[3]["range"]["end"]["line"], 10);
    s.stop();
}

/// `text` with one code action's edit applied.
fn apply(text: &str, action: &Value, u: &str) -> String {
    let edit = &action["edit"]["changes"][u][0];
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let units = p["character"].as_u64().unwrap() as usize;
        let mut n = 0;
        start
            + text[start..]
                .chars()
                .take_while(|c| {
                    n += c.len_utf16();
                    n <= units
                })
                .map(char::len_utf8)
                .sum::<usize>()
    };
    let (a, b) = (offset(&edit["range"]["start"]), offset(&edit["range"]["end"]));
    format!("{}{}{}", &text[..a], edit["newText"].as_str().unwrap(), &text[b..])
}

#[test]
fn code_actions_apply_the_fixes_diagnostics_spell_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixes.flow");
    let u = uri(&path);
    let mut s = Server::start(dir.path());
    let cases = [
        // A misspelt field: replaced by the one meant.
        ("  filter record.totl > 0\n", "record.", "Replace with `total`"),
        // An optional value where one is required: held when absent.
        (
            "  map : Out { total: record.total, note: record.note }\n",
            "record.note",
            "Hold the record when it is absent",
        ),
        // An unrounded Decimal into Decimal(2): rounded, naming the mode.
        ("  map : Out { total: record.total * 1.2, note: \"\" }\n", "record.total *", "Round it"),
    ];
    for (v, (stage, at, title)) in cases.iter().enumerate() {
        let text = format!(
            "type In = {{ total: Decimal(2), note: String? }}\ntype Out = {{ total: Decimal(2), note: String }}\n\
             flow fixes {{\n  source input: stdin {{}} : In\n{stage}  sink out: stdout {{}}\n}}\n"
        );
        let version = v as i64 + 1;
        let diags = if v == 0 { s.open(&u, &text) } else { s.change(&u, version, &text) };
        assert_eq!(diags.as_array().unwrap().iter().filter(|d| d["severity"] == 1).count(), 1, "{text}: {diags}");
        let (line, col) = pos(&text, at);
        let range =
            json!({ "start": { "line": line, "character": col }, "end": { "line": line, "character": col + 8 } });
        let actions = s.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": u }, "range": range, "context": { "diagnostics": [] } }),
        );
        let action = actions.as_array().unwrap().iter().find(|a| a["title"].as_str().unwrap().starts_with(title));
        let action = action.unwrap_or_else(|| panic!("no `{title}` in {actions}"));
        assert_eq!(action["kind"], "quickfix");
        let fixed = apply(&text, action, &u);
        let diags = s.change(&u, version + 100, &fixed);
        assert_eq!(diags, json!([]), "the fix left diagnostics:\n{fixed}\n{diags}");
    }
    s.stop();
}
