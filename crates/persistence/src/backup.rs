//! Backups that restore: `kenshu backup FILE` and `kenshu restore FILE`, the same command names
//! on both backends.
//!
//! - SQLite: `VACUUM INTO` copies the database as of one moment while the service keeps running
//!   (a read transaction; writers go on in the WAL). The copy holds only live pages, so data an
//!   erasure removed before the backup is not in it. Restoring checks the copy's integrity and
//!   puts it in place of a database that does not exist yet.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot, compressed) and `pg_restore` into an
//!   empty database, in one transaction. A password in the URL goes to the tools through
//!   `PGPASSWORD`, never on their command line.
//!
//! Either way the file is written under a temporary name and renamed when complete, and a
//! restore finishes by applying this version's migrations, so a backup of an older version
//! comes forward.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use crate::Db;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The request cannot be carried out as asked (the target is not empty, the file exists).
    #[error("{0}")]
    Refused(String),
    /// `pg_dump` or `pg_restore` failed; their own message follows.
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
}

/// Where a database URL points.
enum Target {
    Sqlite(PathBuf),
    /// The URL without its password, and the password.
    Postgres {
        url: String,
        password: Option<String>,
    },
}

fn target(url: &str) -> Result<Target, BackupError> {
    match crate::db::backend_of(url) {
        Some(DatabaseBackend::Sqlite) => {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| BackupError::Refused(format!("the SQLite URL does not read: {e}")))?;
            Ok(Target::Sqlite(opts.get_filename().to_path_buf()))
        }
        Some(_) => {
            let (url, password) = split_password(url);
            Ok(Target::Postgres { url, password })
        }
        None => Err(BackupError::Refused("the database URL is neither sqlite: nor postgres://".into())),
    }
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret` decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| i + scheme_end);
    let Some(at) = url[scheme_end..authority_end].rfind('@').map(|i| i + scheme_end) else {
        return (url.to_string(), None);
    };
    let Some(colon) = url[scheme_end..at].find(':').map(|i| i + scheme_end) else {
        return (url.to_string(), None);
    };
    let password = percent_decode(&url[colon + 1..at]);
    (format!("{}{}", &url[..colon], &url[at..]), Some(password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn refuse_existing(path: &Path) -> Result<(), BackupError> {
    if path.exists() {
        return Err(BackupError::Refused(format!("{} exists; choose a new file name", path.display())));
    }
    Ok(())
}

fn run(tool: &'static str, password: Option<&str>, args: &[&std::ffi::OsStr]) -> Result<(), BackupError> {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out =
        cmd.output().map_err(|e| BackupError::Tool { tool, message: format!("cannot start it: {e}") })?;
    if !out.status.success() {
        return Err(BackupError::Tool {
            tool,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Copy the database at `url` to the new file `to`, while the service runs.
pub async fn backup(url: &str, to: &Path) -> Result<(), BackupError> {
    refuse_existing(to)?;
    let work = partial(to);
    let _ = std::fs::remove_file(&work);
    match target(url)? {
        Target::Sqlite(_) => {
            let db = Db::connect(url, 1).await?;
            let into =
                work.to_str().ok_or_else(|| BackupError::Refused("the file name is not UTF-8".into()))?;
            let done = db
                .conn()
                .execute(Statement::from_sql_and_values(db.backend(), "VACUUM INTO ?", [into.into()]))
                .await;
            db.close().await?;
            done?;
        }
        Target::Postgres { url, password } => {
            let file = work.as_os_str();
            let args = [
                "--format=custom".as_ref(),
                "--no-owner".as_ref(),
                "--file".as_ref(),
                file,
                "--dbname".as_ref(),
                url.as_ref(),
            ];
            run("pg_dump", password.as_deref(), &args)?;
        }
    }
    std::fs::rename(&work, to)?;
    Ok(())
}

/// Restore the backup `from` into the database at `url`, which must be new (a SQLite file that
/// does not exist yet, an empty PostgreSQL database), then apply this version's migrations.
pub async fn restore(from: &Path, url: &str) -> Result<(), BackupError> {
    if !from.is_file() {
        return Err(BackupError::Refused(format!("{} is not a backup file", from.display())));
    }
    match target(url)? {
        Target::Sqlite(path) => {
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                return Err(BackupError::Refused(format!(
                    "{} exists; restore into a new database file and point the service at it",
                    path.display()
                )));
            }
            let work = partial(&path);
            std::fs::copy(from, &work)?;
            let checked = integrity(&work).await;
            if let Err(e) = checked {
                let _ = std::fs::remove_file(&work);
                return Err(e);
            }
            std::fs::rename(&work, &path)?;
        }
        Target::Postgres { url: bare, password } => {
            let db = Db::connect(url, 1).await?;
            let tables = db
                .conn()
                .query_one(Statement::from_string(
                    db.backend(),
                    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or_default();
            db.close().await?;
            if tables > 0 {
                return Err(BackupError::Refused(
                    "the target database is not empty; create a new one".into(),
                ));
            }
            let args = [
                "--exit-on-error".as_ref(),
                "--single-transaction".as_ref(),
                "--no-owner".as_ref(),
                "--dbname".as_ref(),
                bare.as_ref(),
                from.as_os_str(),
            ];
            run("pg_restore", password.as_deref(), &args)?;
        }
    }
    let db = Db::connect(url, 1).await?;
    let migrated = db.migrate().await;
    db.close().await?;
    Ok(migrated?)
}

/// SQLite's own check of a copied file, before it is put in place.
async fn integrity(path: &Path) -> Result<(), BackupError> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    let db = Db::connect(&url, 1).await?;
    let row = db.conn().query_one(Statement::from_string(db.backend(), "PRAGMA integrity_check")).await;
    db.close().await?;
    let verdict: String = row?.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or_default();
    if verdict != "ok" {
        return Err(BackupError::Refused(format!("the backup is damaged: {verdict}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://kenshu:s%40cret@db.local:5432/kenshu?sslmode=require"),
            (
                "postgres://kenshu@db.local:5432/kenshu?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".into(), None)
        );
        assert_eq!(split_password("postgres://127.0.0.1/x"), ("postgres://127.0.0.1/x".into(), None));
    }
}
