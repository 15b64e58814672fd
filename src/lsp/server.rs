//! The server loop: messages in, documents updated, checks run when their debounce
//! ends, answers out. One thread: a check of a 1,000-line flow takes milliseconds, and
//! a request about a document whose edit is still waiting checks it first, so answers
//! always describe the text the editor has.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CompletionOptions, CompletionResponse, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse,
    ExecuteCommandOptions, ExecuteCommandParams, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents,
    HoverParams, HoverProviderCapability, InitializeParams, Location, MarkupContent, MarkupKind, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::documents::{uri_to_path, Document, LineIndex};
use super::stdlib::{self, StdlibFiles};
use super::{completion, definition, diagnostics, formatting, hover, symbols, Options};

/// The custom request returning a stdlib module's text: `{"module": "shopify"}`.
pub const STDLIB_REQUEST: &str = "flowgate/stdlib";
/// The same as a command for `workspace/executeCommand`, with the module as argument.
pub const STDLIB_COMMAND: &str = "flowgate.stdlib";

/// Serves one client over stdin and stdout until it says `exit`.
pub fn serve(options: &Options) -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    serve_on(&connection, options)?;
    drop(connection);
    io.join().map_err(|e| e.to_string())
}

/// Serves one client over a connection.
pub fn serve_on(connection: &Connection, options: &Options) -> Result<(), String> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![STDLIB_COMMAND.to_string()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let init = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo { name: "flowgate".to_string(), version: Some(env!("CARGO_PKG_VERSION").to_string()) },
    });
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    connection.initialize_finish(id, init).map_err(|e| e.to_string())?;
    let mut roots: Vec<PathBuf> =
        params.workspace_folders.unwrap_or_default().iter().filter_map(|f| uri_to_path(&f.uri)).collect();
    #[allow(deprecated)]
    if let Some(root) = params.root_uri.as_ref().and_then(uri_to_path) {
        roots.push(root);
    }
    let mut server = Server { connection, options, docs: HashMap::new(), roots, stdlib: StdlibFiles::from_env() };
    server.run()
}

struct Server<'c> {
    connection: &'c Connection,
    options: &'c Options,
    docs: HashMap<Uri, Document>,
    roots: Vec<PathBuf>,
    stdlib: StdlibFiles,
}

impl Server<'_> {
    fn run(&mut self) -> Result<(), String> {
        loop {
            let due = self.docs.values().filter_map(|d| d.due).min();
            let msg = match due {
                Some(due) => match self.connection.receiver.recv_deadline(due) {
                    Ok(msg) => Some(msg),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(()),
                },
                None => match self.connection.receiver.recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => return Ok(()),
                },
            };
            match msg {
                Some(Message::Request(req)) => {
                    if self.connection.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    let response = self.request(req);
                    self.send(response.into());
                }
                Some(Message::Notification(n)) => self.notification(n),
                Some(Message::Response(_)) => {}
                None => {}
            }
            self.publish_due();
        }
    }

    fn send(&self, msg: Message) {
        let _ = self.connection.sender.send(msg);
    }

    /// Checks every document whose debounce has ended and publishes its diagnostics.
    fn publish_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Uri> =
            self.docs.values().filter(|d| d.due.is_some_and(|t| t <= now)).map(|d| d.uri.clone()).collect();
        for uri in due {
            self.publish(&uri);
        }
    }

    fn publish(&mut self, uri: &Uri) {
        let Some(doc) = self.docs.get_mut(uri) else { return };
        doc.due = None;
        let version = doc.version;
        let analysis = doc.analysis(&self.roots);
        let diagnostics = diagnostics::of_document(analysis, uri, &mut self.stdlib);
        let params = PublishDiagnosticsParams { uri: uri.clone(), diagnostics, version: Some(version) };
        self.send(Notification::new("textDocument/publishDiagnostics".to_string(), params).into());
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else { return };
                let d = p.text_document;
                self.docs.insert(d.uri.clone(), Document::new(d.uri.clone(), d.text, d.version));
                self.publish(&d.uri);
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else { return };
                let Some(doc) = self.docs.get_mut(&p.text_document.uri) else { return };
                // Full sync: the last change holds the whole text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    doc.text = change.text;
                }
                doc.version = p.text_document.version;
                doc.analysis = None;
                doc.due = Some(Instant::now() + self.options.debounce);
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else { return };
                if self.docs.remove(&p.text_document.uri).is_some() {
                    let params =
                        PublishDiagnosticsParams { uri: p.text_document.uri, diagnostics: Vec::new(), version: None };
                    self.send(Notification::new("textDocument/publishDiagnostics".to_string(), params).into());
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            "textDocument/formatting" => params(req).map(|p: DocumentFormattingParams| {
                let doc = self.docs.get(&p.text_document.uri);
                let edits = doc.map(|d| formatting::edits(&file_name(d), &d.text)).unwrap_or_default();
                serde_json::to_value(edits)
            }),
            "textDocument/hover" => params(req).map(|p: HoverParams| {
                let at = p.text_document_position_params;
                serde_json::to_value(self.hover(&at.text_document.uri, at.position))
            }),
            "textDocument/definition" => params(req).map(|p: GotoDefinitionParams| {
                let at = p.text_document_position_params;
                serde_json::to_value(self.definition(&at.text_document.uri, at.position))
            }),
            "textDocument/completion" => params(req).map(|p: lsp_types::CompletionParams| {
                let at = p.text_document_position;
                serde_json::to_value(self.completion(&at.text_document.uri, at.position))
            }),
            "textDocument/documentSymbol" => {
                params(req).map(|p: DocumentSymbolParams| serde_json::to_value(self.symbols(&p.text_document.uri)))
            }
            "textDocument/codeAction" => params(req).map(|p: lsp_types::CodeActionParams| {
                let uri = p.text_document.uri;
                let actions = self.docs.get_mut(&uri).map(|doc| {
                    let analysis = doc.analysis(&self.roots);
                    super::actions::at(analysis, &uri, p.range)
                });
                serde_json::to_value(actions.unwrap_or_default())
            }),
            STDLIB_REQUEST => params(req).map(|p: Value| {
                let name = p.get("module").and_then(Value::as_str).unwrap_or("");
                Ok(stdlib::text_of(name).map_or(Value::Null, Value::from))
            }),
            "workspace/executeCommand" => params(req).map(|p: ExecuteCommandParams| {
                let name = p.arguments.first().and_then(Value::as_str).unwrap_or("");
                Ok(match p.command.as_str() {
                    STDLIB_COMMAND => stdlib::text_of(name).map_or(Value::Null, Value::from),
                    _ => Value::Null,
                })
            }),
            _ => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("unknown method {}", req.method),
                )
            }
        };
        match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(e)) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
            Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e),
        }
    }

    fn hover(&mut self, uri: &Uri, pos: lsp_types::Position) -> Option<Hover> {
        let doc = self.docs.get_mut(uri)?;
        let offset = doc.index().offset(pos);
        let analysis = doc.analysis(&self.roots);
        let (text, span) = hover::at(analysis, offset)?;
        let range = LineIndex::new(&analysis.file.text).range(span);
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
            range: Some(range),
        })
    }

    fn definition(&mut self, uri: &Uri, pos: lsp_types::Position) -> Option<GotoDefinitionResponse> {
        let doc = self.docs.get_mut(uri)?;
        let offset = doc.index().offset(pos);
        let analysis = doc.analysis(&self.roots);
        let (file, span) = definition::at(analysis, offset)?;
        let target = self.stdlib.uri_of(&file, uri)?;
        let range = LineIndex::new(&file.text).range(span);
        Some(GotoDefinitionResponse::Scalar(Location::new(target, range)))
    }

    fn completion(&mut self, uri: &Uri, pos: lsp_types::Position) -> Option<CompletionResponse> {
        let doc = self.docs.get_mut(uri)?;
        let offset = doc.index().offset(pos);
        doc.analysis(&self.roots);
        let analysis = doc.analysis.as_ref()?;
        let items = completion::at(&doc.text, offset, doc.path.as_deref(), &self.roots, analysis);
        Some(CompletionResponse::Array(items))
    }

    fn symbols(&mut self, uri: &Uri) -> Option<DocumentSymbolResponse> {
        let doc = self.docs.get(uri)?;
        let (module, _) = crate::syntax::parse_errors(&doc.text);
        Some(DocumentSymbolResponse::Nested(symbols::of_module(&module, &doc.index())))
    }
}

/// The name a document's formatting errors would show.
fn file_name(doc: &Document) -> String {
    doc.path.as_deref().map_or_else(|| "untitled.flow".to_string(), crate::modules::display_path)
}

fn params<P: DeserializeOwned>(req: Request) -> Result<P, String> {
    serde_json::from_value(req.params).map_err(|e| format!("invalid params for {}: {e}", req.method))
}
