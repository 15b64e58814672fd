//! Secrets stay secret: a token in a header and a password in an `env()` URL are sent
//! where they must go, and found nowhere else: not in text or JSON logs (retries
//! included), dry-run output, hold messages, `holds show` and `holds export`, nor in the
//! bytes of the state database, even when the receiver echoes them back.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;

mod common;

const TOKEN: &str = "tok-Sec9-QQ7wXv";
const KEY: &str = "key/9+Zr\"ab";
const PASSWORD: &str = "pw-Zq81xLm";

/// Every text a secret could be recognised by: as written, base64 (a Basic header
/// echoed back), and as a URL writes it.
fn forms() -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        TOKEN.into(),
        KEY.into(),
        "key%2F9%2BZr%22ab".into(),
        PASSWORD.into(),
        b64(TOKEN),
        b64(&format!("svc:{PASSWORD}")),
    ]
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for f in forms() {
        assert!(!text.contains(&f), "{what} contains the secret `{f}`:\n{text}");
    }
}

/// The request's headers, one per line, as an ERP's error page may quote them.
fn echo(headers: &HeaderMap) -> String {
    headers.iter().map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes()))).collect()
}

/// `A` is refused with 422, `B` fails with 503 until the retries run out; both answers
/// quote the request's headers.
async fn orders(headers: HeaderMap, body: String) -> Response {
    let status =
        if body.contains("\"A\"") { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, format!("bad request; you sent:\n{}", echo(&headers))).into_response()
}

async fn shop(headers: HeaderMap) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, echo(&headers)).into_response()
}

fn start() -> std::net::SocketAddr {
    common::serve(Router::new().route("/orders", post(orders)).route("/orders.json", get(shop)))
}

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").unwrap()
}

fn setup(flow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(format!("tests/fixtures/secrets/{flow}"), dir.path().join(flow)).unwrap();
    let input = "{\"ref\": \"A\", \"amount\": \"1.00\"}\n{\"ref\": \"B\", \"amount\": \"2.00\"}\n";
    fs::write(dir.path().join("in.ndjson"), input).unwrap();
    dir
}

fn run(dir: &Path, flow: &str, addr: std::net::SocketAddr, extra: &[&str]) -> std::process::Output {
    flowgate()
        .arg("run")
        .arg(dir.join(flow))
        .args(extra)
        .env("ERP_URL", format!("http://svc:{PASSWORD}@{addr}"))
        .env("SHOP_URL", format!("http://svc:{PASSWORD}@{addr}"))
        .env("ERP_TOKEN", TOKEN)
        .env("ERP_KEY", KEY)
        .env("SHOP_TOKEN", TOKEN)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap()
}

/// Every file of the state, the write-ahead log included, as bytes.
fn state_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in fs::read_dir(dir.join(".flowgate")).unwrap() {
        all.extend(fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn an_erp_that_echoes_secrets_back_does_not_leak_them() {
    let addr = start();
    for format in ["text", "json"] {
        let dir = setup("echo.flow");
        let out = run(dir.path(), "echo.flow", addr, &["--log-format", format]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("retrying"), "the 503 is retried and logged: {stderr}");
        assert!(stderr.contains("svc:<redacted>@127.0.0.1"), "the URL is shown without its password: {stderr}");
        assert!(stderr.contains("<redacted>"), "{stderr}");
        assert_clean(&format!("stderr ({format} logs)"), &out.stderr);
        assert_clean("stdout", &out.stdout);
        let state = dir.path().join(".flowgate/state.db");
        let export = flowgate().args(["holds", "export", "--state"]).arg(&state).output().unwrap();
        assert!(export.status.success());
        let holds: Vec<serde_json::Value> =
            String::from_utf8_lossy(&export.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(holds.len(), 2, "{holds:#?}");
        // The answer is still quoted, so an operator sees why: only the secrets are gone.
        assert!(holds.iter().any(|h| h["message"].as_str().unwrap().contains("you sent")), "{holds:#?}");
        assert_clean("holds export", &export.stdout);
        for h in &holds {
            for show in [vec!["holds", "show"], vec!["holds", "show", "--format", "json"]] {
                let id = h["id"].to_string();
                let shown = flowgate().args(&show).arg(&id).arg("--state").arg(&state).output().unwrap();
                assert!(shown.status.success());
                assert_clean("holds show", &shown.stdout);
            }
        }
        assert_clean("the state database", &state_bytes(dir.path()));
    }
}

#[test]
fn a_dry_run_shows_neither_the_secrets_nor_the_url_password() {
    let addr = start();
    let dir = setup("echo.flow");
    let out = run(dir.path(), "echo.flow", addr, &["--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("http://svc:<redacted>@"), "{stdout}");
    assert_clean("the dry run", &out.stdout);
    assert_clean("the dry run's stderr", &out.stderr);
}

#[test]
fn a_failing_poll_logs_neither_the_token_nor_the_url_password() {
    let addr = start();
    let dir = setup("poll.flow");
    for format in ["text", "json"] {
        let out = run(dir.path(), "poll.flow", addr, &["--log-format", format]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("poll failed"), "{stderr}");
        assert_clean(&format!("stderr ({format} logs)"), &out.stderr);
    }
    assert_clean("the state database", &state_bytes(dir.path()));
}
