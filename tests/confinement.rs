//! `flowgate check` runs on pull requests: whatever a flow imports or reads as a lookup,
//! the check reads only regular files, of a bounded size, in the trees being checked (or
//! allowed with `--allow-path`), and quotes nothing of a file that is not a flow.

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

const MARKER: &str = "TOP-SECRET-MARKER-4417";

/// A project directory and, beside it, a directory the project must not reach.
fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("project");
    let outside = root.path().join("outside");
    fs::create_dir_all(&project).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.flow"), format!("type T = {{ a: String }}\n{MARKER} is not a flow\n")).unwrap();
    fs::write(outside.join("codes.csv"), format!("sku,code\nA,{MARKER}\n")).unwrap();
    (root, project, outside)
}

fn check(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = Command::cargo_bin("flowgate")
        .unwrap()
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("CI_DEPLOY_TOKEN", MARKER)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn flow(imports: &str) -> String {
    format!("{imports}\nflow f {{\n  source s: stdin : {{ sku: String }}\n  sink o: stdout\n}}\n")
}

#[test]
fn the_environment_of_the_checker_is_never_quoted() {
    let (_root, project, _) = dirs();
    fs::write(project.join("env.flow"), flow("import \"/proc/self/environ\" as env")).unwrap();
    for format in ["human", "json", "github"] {
        let (code, text) = check(&["--format", format, "."], &project);
        assert_eq!(code, Some(1), "{text}");
        assert!(!text.contains(MARKER), "the environment is quoted:\n{text}");
        assert!(text.contains("E0053") && text.contains("--allow-path"), "{text}");
    }
}

#[test]
fn imports_and_lookups_outside_the_checked_tree_are_refused_unless_allowed() {
    let (_root, project, outside) = dirs();
    let text = flow(
        "import \"../outside/secret.flow\" as s\n\
         lookup codes: String -> String = csv(\"../outside/codes.csv\", key: \"sku\", value: \"code\")",
    );
    fs::write(project.join("main.flow"), text).unwrap();
    let (code, text) = check(&["--format", "json", "."], &project);
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains(MARKER), "{text}");
    assert_eq!(text.matches("E0053").count(), 2, "the import and the lookup: {text}");
    assert!(text.contains("../outside/secret.flow") && text.contains("--allow-path"), "{text}");
    // Allowed, they are read: the module's syntax error is now reported in it.
    let (_, text) = check(&["--format", "json", "--allow-path", outside.to_str().unwrap(), "."], &project);
    assert!(!text.contains("E0053"), "{text}");
    assert!(text.contains("secret.flow") && text.contains("E0001"), "{text}");
}

#[test]
fn a_symlink_out_of_the_tree_is_refused_by_where_it_leads() {
    let (_root, project, outside) = dirs();
    std::os::unix::fs::symlink(outside.join("secret.flow"), project.join("linked.flow")).unwrap();
    std::os::unix::fs::symlink(outside.join("codes.csv"), project.join("codes.csv")).unwrap();
    let text =
        flow("import linked\nlookup codes: String -> String = csv(\"codes.csv\", key: \"sku\", value: \"code\")");
    fs::write(project.join("main.flow"), text).unwrap();
    let (code, text) = check(&["--format", "json", "main.flow"], &project);
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains(MARKER), "{text}");
    assert_eq!(text.matches("E0053").count(), 2, "{text}");
    // A checked directory whose walk finds the link refuses it too.
    let (code, text) = check(&["."], &project);
    assert_eq!(code, Some(2), "{text}");
    assert!(!text.contains(MARKER) && text.contains("outside"), "{text}");
}

#[test]
fn a_file_that_is_not_a_flow_is_not_imported_or_quoted() {
    let (_root, project, _) = dirs();
    fs::write(project.join("notes.txt"), format!("{MARKER}\n")).unwrap();
    fs::write(project.join("main.flow"), flow("import \"notes.txt\" as notes")).unwrap();
    let (code, text) = check(&["."], &project);
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains(MARKER), "{text}");
    assert!(text.contains("E0054") && text.contains("`.flow` file"), "{text}");
    let (code, text) = check(&["notes.txt"], &project);
    assert_eq!(code, Some(2), "{text}");
    assert!(!text.contains(MARKER), "{text}");
}

#[test]
fn special_files_are_refused_without_waiting_or_filling_memory() {
    let (_root, project, _) = dirs();
    let made = std::process::Command::new("mkfifo").arg(project.join("pipe.flow")).status().unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", project.join("zero.flow")).unwrap();
    fs::write(project.join("main.flow"), flow("import pipe\nimport zero")).unwrap();
    let allow = ["--allow-path", "/dev", "--format", "json", "main.flow"];
    let (code, text) = check(&allow, &project);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("a FIFO, not a regular file"), "{text}");
    assert!(text.contains("a character device, not a regular file"), "{text}");
    for root in ["pipe.flow", "/dev/zero"] {
        let (code, text) = check(&[root], &project);
        assert_eq!(code, Some(2), "{root}: {text}");
    }
}

#[test]
fn files_larger_than_the_limit_are_refused() {
    let (_root, project, _) = dirs();
    let big = fs::File::create(project.join("big.flow")).unwrap();
    big.set_len((16 << 20) + 1).unwrap();
    let (code, text) = check(&["big.flow"], &project);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("larger than 16 MiB"), "{text}");
}

#[test]
fn a_flow_that_is_not_utf8_is_named_by_the_byte_not_quoted() {
    let (_root, project, _) = dirs();
    let mut bytes = format!("// {MARKER}\n").into_bytes();
    bytes.extend([0xff, 0xfe]);
    fs::write(project.join("bin.flow"), bytes).unwrap();
    let (code, text) = check(&["bin.flow"], &project);
    assert_eq!(code, Some(2), "{text}");
    assert!(!text.contains(MARKER) && text.contains("not UTF-8"), "{text}");
}
