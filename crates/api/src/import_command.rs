//! `kenshu import KIND FILE`: an import through the HTTP API, for scripts and cron. It talks to a
//! running service (local or remote) with a bearer token, so it needs no database access and no
//! signing key: only what any other client has.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::Value;

/// What to import, and where it goes in the API.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKind {
    /// 職員名簿: POST /api/v1/employees/import
    Roster,
    /// 組織表: POST /api/v1/organisation/structure/import
    Structure,
    /// 研修計画 (CSV or JSON): POST /api/v1/plans/{year}/import
    Catalogue,
    /// 受講者 (推薦・指名): POST /api/v1/plans/{year}/nominations/import
    Nominations,
    /// 出席簿: POST /api/v1/courses/{course}/sessions/{session}/attendance/import
    Attendance,
    /// 通信教育講座: POST /api/v1/subsidies/{year}/correspondence/courses/import
    CorrespondenceCourses,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub kind: ImportKind,
    /// The file: CSV (UTF-8 or Shift_JIS), or JSON for a catalogue.
    pub file: PathBuf,
    /// The service's base address.
    #[arg(long, env = "KENSHU_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Read the bearer token from this file; otherwise it comes from KENSHU_TOKEN (never from
    /// the command line, where other users of the machine could read it).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// The fiscal year (catalogue, nominations, correspondence-courses).
    #[arg(long)]
    pub year: Option<i32>,
    /// The course (attendance).
    #[arg(long)]
    pub course: Option<uuid::Uuid>,
    /// The session (attendance).
    #[arg(long)]
    pub session: Option<uuid::Uuid>,
    /// Roster only: `full` marks staff missing from the file inactive; `upsert` (the default)
    /// only adds and updates.
    #[arg(long, value_parser = ["upsert", "full"])]
    pub mode: Option<String>,
    /// Check the file and report what would change, without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// The file's encoding when it cannot be told from the file itself.
    #[arg(long, value_parser = ["utf8", "shift_jis"])]
    pub encoding: Option<String>,
}

/// Why the command failed; printed on stderr, and the exit status is 1.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailed {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Service(String),
    #[error("{rows} row(s) of the file have errors (listed above); nothing was written")]
    Rejected { rows: usize },
}

impl ImportArgs {
    fn path(&self) -> Result<String, ImportFailed> {
        let need = |what: &str| ImportFailed::Usage(format!("{what} is needed for this import"));
        let year = || self.year.ok_or_else(|| need("--year"));
        Ok(match self.kind {
            ImportKind::Roster => "/api/v1/employees/import".into(),
            ImportKind::Structure => "/api/v1/organisation/structure/import".into(),
            ImportKind::Catalogue => format!("/api/v1/plans/{}/import", year()?),
            ImportKind::Nominations => format!("/api/v1/plans/{}/nominations/import", year()?),
            ImportKind::Attendance => format!(
                "/api/v1/courses/{}/sessions/{}/attendance/import",
                self.course.ok_or_else(|| need("--course"))?,
                self.session.ok_or_else(|| need("--session"))?
            ),
            ImportKind::CorrespondenceCourses => {
                format!("/api/v1/subsidies/{}/correspondence/courses/import", year()?)
            }
        })
    }

    fn query(&self) -> Result<Vec<(&'static str, String)>, ImportFailed> {
        let mut query = vec![("dry_run", self.dry_run.to_string())];
        match (&self.mode, self.kind) {
            (mode, ImportKind::Roster) => {
                query.push(("mode", mode.clone().unwrap_or_else(|| "upsert".into())))
            }
            (Some(_), _) => return Err(ImportFailed::Usage("--mode is for the roster only".into())),
            (None, _) => {}
        }
        if let Some(encoding) = &self.encoding {
            query.push(("encoding", encoding.clone()));
        }
        Ok(query)
    }

    fn content_type(&self) -> Result<&'static str, ImportFailed> {
        let ext = self.file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match (ext.as_deref(), self.kind) {
            (Some("csv" | "txt"), _) => Ok("text/csv"),
            (Some("json"), ImportKind::Catalogue) => Ok("application/json"),
            _ => Err(ImportFailed::Usage(format!(
                "{}: expected a .csv file{}",
                self.file.display(),
                if matches!(self.kind, ImportKind::Catalogue) { " or a .json file" } else { "" }
            ))),
        }
    }

    fn token(&self) -> Result<String, ImportFailed> {
        let token = match &self.token_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| ImportFailed::Usage(format!("{}: {e}", path.display())))?,
            None => std::env::var("KENSHU_TOKEN")
                .map_err(|_| ImportFailed::Usage("set KENSHU_TOKEN or pass --token-file".into()))?,
        };
        Ok(token.trim().to_string())
    }
}

/// How progress is shown: a bar on a terminal, plain lines otherwise (a cron log).
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { total: u64, next_quarter: u64 },
}

impl Progress {
    fn new(total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
                    .expect("a fixed template")
                    .progress_chars("=> "),
            );
            bar.set_message("sending");
            Self::Bar(bar)
        } else {
            Self::Lines { total, next_quarter: 1 }
        }
    }

    fn sent(&mut self, bytes: u64) {
        match self {
            Self::Bar(bar) => bar.set_position(bytes),
            Self::Lines { total, next_quarter } => {
                while *next_quarter <= 4 && bytes * 4 >= *total * *next_quarter {
                    eprintln!("sent {}%", *next_quarter * 25);
                    *next_quarter += 1;
                }
            }
        }
    }

    fn waiting(&mut self) {
        match self {
            Self::Bar(bar) => {
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("fixed"),
                );
                bar.set_message("the service is importing");
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            Self::Lines { .. } => eprintln!("the service is importing"),
        }
    }

    fn done(&mut self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Run the import; prints the report (or the rows' errors) on stdout.
pub async fn run(args: ImportArgs) -> Result<(), ImportFailed> {
    let path = args.path()?;
    let query = args.query()?;
    let content_type = args.content_type()?;
    let token = args.token()?;
    let body = std::fs::read(&args.file)
        .map_err(|e| ImportFailed::Usage(format!("{}: {e}", args.file.display())))?;
    let total = body.len() as u64;
    let url = format!("{}{path}", args.url.trim_end_matches('/'));
    eprintln!(
        "importing {} ({total} bytes) into {url}{}",
        args.file.display(),
        if args.dry_run { " (dry run)" } else { "" }
    );

    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    // Sent in pieces so that progress can be told as the service reads them.
    let chunks: Vec<Vec<u8>> = body.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    drop(body);
    let mut sent = 0u64;
    let stream = futures_util::stream::iter(chunks.into_iter().map(move |chunk| {
        sent += chunk.len() as u64;
        let _ = tx.send(sent);
        Ok::<_, std::io::Error>(chunk)
    }));
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ImportFailed::Service(e.to_string()))?;
    let request = client
        .post(&url)
        .query(&query)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .header(reqwest::header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    tokio::pin!(request);
    let mut progress = Progress::new(total);
    let mut waiting = false;
    let response = loop {
        tokio::select! {
            response = &mut request => break response,
            Some(bytes) = rx.recv() => {
                progress.sent(bytes);
                if bytes == total && !waiting {
                    waiting = true;
                    progress.waiting();
                }
            }
        }
    };
    progress.done();
    let response = response.map_err(|e| ImportFailed::Service(format!("{url}: {e}")))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| ImportFailed::Service(format!("{url}: {e}")))?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    eprintln!("answered {status} after {:.1} s", started.elapsed().as_secs_f64());
    if status.is_success() {
        print_report(&answer);
        return Ok(());
    }
    if answer["code"] == "import-rejected" {
        let rows = answer["rows"].as_array().cloned().unwrap_or_default();
        for row in &rows {
            println!("line {}, {}: {}", row["line"], text_of(&row["column"]), text_of(&row["reason"]));
        }
        let lines: std::collections::BTreeSet<String> = rows.iter().map(|r| r["line"].to_string()).collect();
        return Err(ImportFailed::Rejected { rows: lines.len() });
    }
    let detail = [&answer["title"], &answer["detail"]]
        .iter()
        .map(|v| text_of(v))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    Err(ImportFailed::Service(format!(
        "{status}: {}",
        if detail.is_empty() { answer.to_string() } else { detail.join(": ") }
    )))
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The report as `name: value` lines (nested counts as `counts.created: 12`), warnings as lines.
fn print_report(report: &Value) {
    fn walk(prefix: &str, v: &Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&name, v);
                }
            }
            Value::Array(items) if prefix.ends_with("warnings") => {
                for w in items {
                    println!(
                        "warning: line {}, {}: {}",
                        w["line"],
                        text_of(&w["column"]),
                        text_of(&w["reason"])
                    );
                }
            }
            Value::Array(items) => {
                println!("{prefix}: {}", items.iter().map(text_of).collect::<Vec<_>>().join(", "))
            }
            other => println!("{prefix}: {}", text_of(other)),
        }
    }
    walk("", report);
}
