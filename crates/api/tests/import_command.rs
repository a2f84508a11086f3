//! `kenshu import` against a running service, as a cron job runs it: no terminal (progress as
//! plain lines), a token from the environment, nothing else of the service's settings; the
//! report on stdout, rows' errors readably, and the exit status saying whether it worked.

mod support;

use std::process::{Command, Output};

const HEADER: &str = "職員番号,氏名,フリガナ,メールアドレス,所属コード,職級,採用日,雇用形態\n";

/// `kenshu import ARGS…` as a client would run it: none of the service's own settings.
fn import(token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kenshu"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("KENSHU_")) {
        cmd.env_remove(name);
    }
    if let Some(token) = token {
        cmd.env("KENSHU_TOKEN", token);
    }
    cmd.arg("import").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_roster_imports_through_the_api_with_progress_and_a_report() {
    let (server, addr) = support::start();
    let url = format!("http://{addr}");
    let token = server.bearer("10035", &["employee", "hr_admin"]);
    let token = token.trim_start_matches("Bearer ");
    let file = server.dir.join("roster.csv");
    let rows = |nos: &[&str]| {
        let mut csv = String::from(HEADER);
        for no in nos {
            csv.push_str(&format!(
                "{no},試験 太郎,シケン タロウ,{no}@city.isehara.example.jp,S0101,一般,2024-04-01,正規\n"
            ));
        }
        csv
    };

    // A dry run reports what would change and writes nothing.
    std::fs::write(&file, rows(&["90001", "90002"])).unwrap();
    let path = file.to_str().unwrap();
    let dry = import(Some(token), &["roster", path, "--url", &url, "--dry-run"]);
    assert!(dry.status.success(), "{}{}", text(&dry.stdout), text(&dry.stderr));
    assert!(text(&dry.stdout).contains("dry_run: true"), "{}", text(&dry.stdout));
    assert!(text(&dry.stdout).contains("created: 2"), "{}", text(&dry.stdout));

    // For real: progress as lines (no terminal here), then the report.
    let done = import(Some(token), &["roster", path, "--url", &url]);
    let (out, err) = (text(&done.stdout), text(&done.stderr));
    assert!(done.status.success(), "{out}{err}");
    assert!(out.contains("created: 2") && out.contains("dry_run: false"), "the dry run wrote nothing: {out}");
    for line in ["(dry run)", "sent 25%", "sent 100%", "the service is importing", "answered 200 OK"] {
        let wanted = line != "(dry run)";
        assert_eq!(err.contains(line), wanted, "{line} in {err}");
    }
    assert!(!err.contains(token) && !out.contains(token), "the token is never printed");

    // A file with errors: each row's error on its own line, nothing written, exit status 1.
    let mut bad = rows(&["90003"]);
    bad.push_str("90004,試験 花子,シケン ハナコ,90004@city.isehara.example.jp,S9999,一般,2024-04-01,正規\n");
    bad.push_str("90005,試験 次郎,シケン ジロウ,not-a-mail,S0101,一般,2024-04-01,正規\n");
    std::fs::write(&file, bad).unwrap();
    let rejected = import(Some(token), &["roster", path, "--url", &url]);
    let (out, err) = (text(&rejected.stdout), text(&rejected.stderr));
    assert_eq!(rejected.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("line 3, 所属コード:") && out.contains("line 4, メールアドレス:"), "{out}{err}");
    assert!(err.contains("2 row(s) of the file have errors") && err.contains("nothing was written"), "{err}");
    let again = import(Some(token), &["roster", path, "--url", &url, "--dry-run"]);
    assert_eq!(again.status.code(), Some(1));

    // What it needs, said plainly, and failures of the service passed on: all exit status 1.
    let cases: [(Option<&str>, Vec<&str>, &str); 5] = [
        (None, vec!["roster", path, "--url", &url], "set KENSHU_TOKEN"),
        (Some("not-a-token"), vec!["roster", path, "--url", &url], "401"),
        (Some(token), vec!["catalogue", path, "--url", &url], "--year is needed"),
        (
            Some(token),
            vec!["structure", path, "--url", &url, "--mode", "full"],
            "--mode is for the roster only",
        ),
        (Some(token), vec!["roster", "/nonexistent/roster.csv", "--url", &url], "/nonexistent/roster.csv"),
    ];
    for (token, args, says) in cases {
        let failed = import(token, &args);
        assert_eq!(failed.status.code(), Some(1), "{args:?}");
        assert!(text(&failed.stderr).contains(says), "{args:?}: {}", text(&failed.stderr));
    }
    // A service that is not there.
    let gone = import(Some(token), &["roster", path, "--url", "http://127.0.0.1:9"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(text(&gone.stderr).contains("127.0.0.1:9"), "{}", text(&gone.stderr));
    drop(server);
}
