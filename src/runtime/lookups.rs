//! Loading lookup tables once, before the first record: inline tables, CSV, YAML or
//! JSON files, and answers fetched over HTTP, keyed by the canonical key text of the
//! declared key type. An HTTP lookup with `refresh` is fetched again on its schedule
//! while the run lasts.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::eval::{compile, Frame, Shared};
use crate::connectors::call::{excerpt, Caller, Recordings, Request, Via};
use crate::connectors::http::HttpTarget;
use crate::connectors::retry::RetryPolicy;
use crate::ir::{HttpLookup, Lookup, LookupData};
use crate::lookup_file::{cell, file_rows, row_keys, FileRow, KeyError, RowAt};
use crate::value::{decode_json_value, Value};

/// A loaded lookup: fixed for the run, or fetched and replaced on a schedule.
pub enum Table {
    Fixed(HashMap<String, Value>),
    Live(Arc<RwLock<HashMap<String, Value>>>),
}

impl Table {
    pub fn get(&self, key: &str) -> Option<Value> {
        match self {
            Table::Fixed(t) => t.get(key).cloned(),
            Table::Live(t) => t.read().unwrap_or_else(|e| e.into_inner()).get(key).cloned(),
        }
    }
}

impl From<HashMap<String, Value>> for Table {
    fn from(t: HashMap<String, Value>) -> Table {
        Table::Fixed(t)
    }
}

/// An HTTP lookup to fetch again every `every` while the run lasts.
pub(crate) struct Refresh {
    name: String,
    lookup: Lookup,
    request: Request,
    caller: Caller,
    every: Duration,
    table: Arc<RwLock<HashMap<String, Value>>>,
}

/// The answers of the HTTP lookups, fetched before the first record (from `recordings`
/// in a dry run), by lookup index.
pub(crate) async fn fetch_http(
    lookups: &[Lookup],
    shared: &Shared,
    dry_run: bool,
    recordings: &Arc<Recordings>,
) -> Result<HashMap<usize, (String, Request, Caller)>, String> {
    let mut requests = Vec::new();
    for (i, l) in lookups.iter().enumerate() {
        if let LookupData::Http(h) = &l.data {
            let req = request(h, shared).map_err(|e| format!("lookup `{}`: {e}", l.name))?;
            requests.push((i, req));
        }
    }
    let mut out = HashMap::new();
    for (i, req) in requests {
        let via = if dry_run {
            Via::Recorded(recordings.clone())
        } else {
            Via::Network { client: HttpTarget::client(None, None)?, policy: RetryPolicy::default(), limiter: None }
        };
        let caller = Caller::new(via, None);
        let text = caller.call(&req).await.map_err(|e| format!("lookup `{}`: {}", lookups[i].name, e.message()))?;
        out.insert(i, (text.to_string(), req, caller));
    }
    Ok(out)
}

fn request(h: &HttpLookup, shared: &Shared) -> Result<Request, String> {
    let frame = Frame::new(Value::Null, Vec::new(), shared);
    let eval = |e: &crate::ir::Expr| compile(e)(&frame).map_err(|e| super::stage::Stop::from_eval(e).message);
    let url = eval(&h.url)?.to_string();
    let headers = match &h.headers {
        Some(e) => eval(e)?.text_pairs(true),
        None => Vec::new(),
    };
    Ok(Request { method: "GET".into(), url, headers, body: None })
}

/// Loads every lookup; `fetched` holds the HTTP lookups' answers. Those with `refresh`
/// (outside dry runs) come back as `Refresh`es to run beside the flow.
pub(crate) fn load_all(
    lookups: &[Lookup],
    shared: &Shared,
    mut fetched: HashMap<usize, (String, Request, Caller)>,
    dry_run: bool,
) -> Result<(Vec<Table>, Vec<Refresh>), String> {
    let mut tables = Vec::with_capacity(lookups.len());
    let mut refreshes = Vec::new();
    for (i, l) in lookups.iter().enumerate() {
        let named = |e: String| format!("lookup `{}`: {e}", l.name);
        let LookupData::Http(h) = &l.data else {
            tables.push(Table::Fixed(load_one(l, shared).map_err(named)?));
            continue;
        };
        let (text, request, caller) = fetched.remove(&i).ok_or_else(|| named("its answer was not fetched".into()))?;
        let table = http_table(l, h, &text).map_err(named)?;
        match h.refresh_ms.filter(|_| !dry_run) {
            Some(ms) => {
                let table = Arc::new(RwLock::new(table));
                let every = Duration::from_millis(ms.max(1));
                let lookup = l.clone();
                refreshes.push(Refresh { name: l.name.clone(), lookup, request, caller, every, table: table.clone() });
                tables.push(Table::Live(table));
            }
            None => tables.push(Table::Fixed(table)),
        }
    }
    Ok((tables, refreshes))
}

/// Fetches the table again every `every`; a failed fetch or a table that does not load
/// keeps the one before, with a warning, so a WMS that is down does not stop the flow.
pub(crate) async fn refresh(r: Refresh) {
    let LookupData::Http(h) = &r.lookup.data else { return };
    loop {
        tokio::time::sleep(r.every).await;
        let loaded = match r.caller.call(&r.request).await {
            Ok(text) => http_table(&r.lookup, h, &text),
            Err(e) => Err(e.message()),
        };
        match loaded {
            Ok(t) => {
                tracing::info!(lookup = %r.name, rows = t.len(), "lookup refreshed");
                *r.table.write().unwrap_or_else(|e| e.into_inner()) = t;
            }
            Err(e) => tracing::warn!(lookup = %r.name, error = %e, "lookup not refreshed; the previous table stays"),
        }
    }
}

/// The table an HTTP lookup's answer gives: the rows `select` picks (or the answer's
/// elements), keyed as a lookup file's rows are.
fn http_table(l: &Lookup, h: &HttpLookup, text: &str) -> Result<HashMap<String, Value>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the answer is not JSON ({e}): {}", excerpt(text)))?;
    let rows: Vec<serde_json::Value> = match &h.select {
        Some(path) => crate::connectors::poll::select(&json, Some(path))?,
        None => match json {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        },
    };
    let rows: Vec<FileRow> =
        rows.into_iter().enumerate().map(|(i, row)| FileRow { at: RowAt::Index(i), row }).collect();
    table_of(l, &rows, &h.key, h.value.as_deref(), "the answer")
}

fn table_of(
    l: &Lookup,
    rows: &[FileRow],
    key: &str,
    value: Option<&str>,
    whence: &str,
) -> Result<HashMap<String, Value>, String> {
    let keys = row_keys(rows, key, &l.key).map_err(|e| match e {
        KeyError::Cell(at, e) => format!("{at}: {e}"),
        KeyError::Duplicate(d) => format!("{whence}: {d}"),
    })?;
    let mut table = HashMap::with_capacity(rows.len());
    for (row, k) in rows.iter().zip(keys) {
        let v = match value {
            Some(col) => cell(&row.row, col, &l.value),
            None => decode_json_value(&row.row, &l.value).map_err(|e| e.to_string()),
        }
        .map_err(|e| format!("{}: {e}", row.at))?;
        table.insert(k, v);
    }
    Ok(table)
}

fn load_one(l: &Lookup, shared: &Shared) -> Result<HashMap<String, Value>, String> {
    let mut table = HashMap::new();
    match &l.data {
        LookupData::Table(rows) => {
            let frame = Frame::new(Value::Null, Vec::new(), shared);
            for (k, v) in rows {
                let key = compile(k)(&frame).map_err(|e| format!("{e:?}"))?;
                let value = compile(v)(&frame).map_err(|e| format!("{e:?}"))?;
                table.insert(key.key().into_owned(), value);
            }
        }
        LookupData::File { format, path, key, value } => {
            let text = crate::confine::read_text(path, crate::confine::MAX_LOOKUP_BYTES)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let rows = file_rows(format, &text)?;
            table = table_of(l, &rows, key, value.as_deref(), &path.display().to_string())?;
        }
        LookupData::Http(_) => return Err("an http lookup is loaded from its fetched answer".into()),
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Lookup, LookupData};
    use crate::types::Type;

    /// Loads a lookup `t` from a file of `format` holding `text`, keyed by column `k`.
    fn load_file(format: &str, text: &str, key: Type) -> Result<HashMap<String, Value>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{format}"));
        std::fs::write(&path, text).unwrap();
        let data = LookupData::File { format: format.into(), path, key: "k".into(), value: Some("v".into()) };
        let lookup = Lookup { name: "t".into(), module: "m".into(), key, value: Type::String, data };
        let shared =
            Shared { functions: Vec::new(), lookups: Vec::new(), ctx: Box::new(crate::builtins::testing::ctx()) };
        let (mut tables, _) = load_all(&[lookup], &shared, HashMap::new(), false)?;
        match tables.remove(0) {
            Table::Fixed(t) => Ok(t),
            Table::Live(_) => unreachable!("a file lookup is fixed"),
        }
    }

    #[test]
    fn a_csv_key_given_twice_names_both_lines() {
        let err = load_file("csv", "k,v\nDHL,D1\nUPS,U1\nDHL,D2\n", Type::String).unwrap_err();
        assert!(err.starts_with("lookup `t`: "), "{err}");
        assert!(err.ends_with("the key `DHL` is given twice, by line 2 and by line 4"), "{err}");
    }

    #[test]
    fn keys_are_compared_as_the_key_type_reads_them() {
        let err = load_file("csv", "k,v\n1,a\n01,b\n", Type::Int).unwrap_err();
        assert!(err.contains("the key `1` is given twice, by line 2 and by line 3"), "{err}");
        assert_eq!(load_file("csv", "k,v\n1,a\n01,b\n", Type::String).unwrap().len(), 2);
    }

    #[test]
    fn a_json_or_yaml_key_given_twice_names_both_entries() {
        let list = r#"[{"k": "GB", "v": "a"}, {"k": "DE", "v": "b"}, {"k": "GB", "v": "c"}]"#;
        let err = load_file("json", list, Type::String).unwrap_err();
        assert!(err.contains("the key `GB` is given twice, by item [0] and by item [2]"), "{err}");
        let mapping = r#"{"first": {"k": "GB", "v": "a"}, "second": {"k": "GB", "v": "b"}}"#;
        let err = load_file("json", mapping, Type::String).unwrap_err();
        assert!(err.contains("by entry `first` and by entry `second`"), "{err}");
        let yaml = "- k: A\n  v: a\n- k: A\n  v: b\n";
        let err = load_file("yaml", yaml, Type::String).unwrap_err();
        assert!(err.contains("the key `A` is given twice, by item [0] and by item [1]"), "{err}");
    }

    #[test]
    fn distinct_keys_load() {
        let table = load_file("csv", "k,v\nDHL,D1\nUPS,U1\n", Type::String).unwrap();
        assert!(matches!(table.get("UPS"), Some(Value::Str(s)) if s == "U1"));
    }
}

#[cfg(test)]
mod refresh_tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A WMS whose carrier code for DPD changes with every request: `DPD1`, `DPD2`, ...
    async fn wms() -> std::net::SocketAddr {
        let served = Arc::new(AtomicU32::new(0));
        let app =
            axum::Router::new().route(
                "/carriers",
                axum::routing::get(move || {
                    let n = served.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        format!(r#"{{"carriers":[{{"name":"DPD","code":"DPD{n}"}},{{"name":"UPS","code":"UPS"}}]}}"#)
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_http_lookup_is_fetched_at_start_and_replaced_on_its_schedule() {
        let addr = wms().await;
        let text = format!(
            "lookup carriers: String -> String = http(\"http://{addr}/carriers\", select: \"$.carriers[*]\", key: \"name\", value: \"code\", refresh: 50ms)\n\
             fn code(c: String) -> String = carriers[c] ?? \"none\"\n"
        );
        let outcome = crate::check_text("lookups.flow", &text);
        let program = outcome.ir().unwrap_or_else(|| panic!("{:?}", outcome.diagnostics));
        let shared =
            Shared { functions: Vec::new(), lookups: Vec::new(), ctx: Box::new(crate::builtins::testing::ctx()) };
        let none = Arc::new(Recordings::default());
        let fetched = fetch_http(&program.lookups, &shared, false, &none).await.unwrap();
        let (tables, refreshes) = load_all(&program.lookups, &shared, fetched, false).unwrap();
        let dpd = || match tables[0].get("DPD") {
            Some(Value::Str(s)) => s.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(dpd(), "DPD1");
        assert!(matches!(tables[0].get("UPS"), Some(Value::Str(s)) if s == "UPS"));
        let tasks: Vec<_> = refreshes.into_iter().map(|r| tokio::spawn(refresh(r))).collect();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let later: u32 = dpd().trim_start_matches("DPD").parse().unwrap();
        assert!(later >= 3, "refreshed every 50ms, found DPD{later}");
        tasks.iter().for_each(|t| t.abort());
    }

    #[tokio::test]
    async fn a_dry_run_reads_an_http_lookup_from_its_recording_and_never_refreshes_it() {
        let dir = tempfile::tempdir().unwrap();
        let rec = r#"{ "request": { "method": "GET", "url": "https://wms.example/carriers" }, "status": 200,
                       "body": { "carriers": [{ "name": "DPD", "code": "DPD-REC" }] } }"#;
        std::fs::write(dir.path().join("carriers.json"), rec).unwrap();
        let text = "lookup carriers: String -> String = http(\"https://wms.example/carriers\", select: \"$.carriers[*]\", key: \"name\", value: \"code\", refresh: 1h)\n\
                    fn code(c: String) -> String = carriers[c] ?? \"none\"\n";
        let program = crate::check_text("lookups.flow", text).ir().unwrap();
        let shared =
            Shared { functions: Vec::new(), lookups: Vec::new(), ctx: Box::new(crate::builtins::testing::ctx()) };
        let recordings = Arc::new(Recordings::load(dir.path()).unwrap());
        let fetched = fetch_http(&program.lookups, &shared, true, &recordings).await.unwrap();
        let (tables, refreshes) = load_all(&program.lookups, &shared, fetched, true).unwrap();
        assert!(matches!(tables[0].get("DPD"), Some(Value::Str(s)) if s == "DPD-REC"));
        assert!(refreshes.is_empty());
        let missing = Arc::new(Recordings::default());
        let err = fetch_http(&program.lookups, &shared, true, &missing).await.err().unwrap();
        assert!(err.contains("lookup `carriers`: no recorded response for GET https://wms.example/carriers"), "{err}");
    }
}
