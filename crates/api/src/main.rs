//! The `kenshu` binary: serve (default), migrate, token, org.

use std::process::ExitCode;

mod import_command;

use clap::{Parser, Subcommand};
use kenshu_api::auth::{mint, parse_ttl};
use kenshu_api::config::Config;
use kenshu_api::{app, build_state, demo};
use kenshu_domain::auth::Role;
use kenshu_persistence::repo::org;
use kenshu_persistence::Db;

#[derive(Parser)]
#[command(name = "kenshu", version, about = "Staff-training management API (職員研修管理)")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default); applies pending migrations first.
    Serve {
        /// Create the demo organisation `isehara` (roster and the published FY2023 plan) if missing
        /// and print a token per role.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print a signed HS256 token (needs KENSHU_JWT_SECRET).
    Token {
        #[arg(long)]
        org: String,
        /// Employee number (職員番号) or service-account name.
        #[arg(long)]
        sub: String,
        /// employee, section_head, department_head, hr_admin, importer, auditor; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Manage organisations (tenants).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Ask a running service whether it is ready (GET /readyz on the port of KENSHU_BIND, or
    /// --url): exit status 0 when it is, 1 otherwise. For container health checks.
    Probe {
        #[arg(long)]
        url: Option<String>,
    },
    /// Copy the database to a new FILE while the service runs (SQLite: VACUUM INTO; PostgreSQL:
    /// pg_dump, custom format).
    Backup { file: std::path::PathBuf },
    /// Restore a backup FILE into the new, empty database at KENSHU_DATABASE_URL, then migrate.
    Restore { file: std::path::PathBuf },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The staff directory from the portal (desknet's NEO), set up by KENSHU_DIRECTORY_*.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Import a file through a running service's API with a bearer token (KENSHU_TOKEN or
    /// --token-file): progress on stderr, the report or the rows' errors on stdout, exit status 1
    /// on any failure. Needs nothing but the service's address (--url or KENSHU_URL).
    Import(import_command::ImportArgs),
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Read the portal's organisation tree and users and apply them (prints the report as JSON).
    Sync {
        /// Read and report what would change, without writing.
        #[arg(long)]
        dry_run: bool,
        /// full: staff the portal no longer lists are marked inactive; upsert: only add and
        /// update. Defaults to KENSHU_DIRECTORY_MODE.
        #[arg(long, value_parser = ["full", "upsert"])]
        mode: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check each organisation's hash chain and print the first broken link (exit status 1
    /// when one is broken).
    Verify {
        /// Only this organisation (its code); all of them by default.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation with the default grade ladder.
    Create {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kenshu: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    // A client of the API: it needs none of the service's own settings.
    if let Command::Import(args) = command {
        return Ok(import_command::run(args).await?);
    }
    let mut config = Config::from_env()?;
    match command {
        Command::Serve { demo } => {
            app::init_logging(config.log_format);
            let generated_secret = demo && config.jwt.secret.is_none() && config.jwt.public_keys.is_empty();
            if generated_secret {
                // A demo needs tokens; a secret made for this run only keeps it zero-setup.
                config.jwt.secret = Some(random_secret());
            }
            let state = build_state(config.clone()).await?;
            if demo {
                let people = demo::seed(&state.db).await?;
                demo::seed_catalogue(&state.db).await?;
                demo::seed_joint(&state.db).await?;
                print_demo_tokens(&config, &people, generated_secret)?;
            }
            if config.delivery_interval_secs > 0 {
                let interval = std::time::Duration::from_secs(config.delivery_interval_secs);
                tokio::spawn(kenshu_api::scheduler::run_forever(state.clone(), interval));
            }
            let listener = std::net::TcpListener::bind(config.bind)?;
            tracing::info!(address = %listener.local_addr()?, "listening");
            let server = app::serve(listener, state.clone())?;
            let handle = server.handle();
            let mut running = tokio::spawn(server);
            tokio::select! {
                done = &mut running => done??,
                signal = stop_signal() => {
                    tracing::info!(signal, "shutting down");
                    app::shutdown(handle, &state).await;
                    running.await??;
                }
            }
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            println!("migrations applied");
        }
        Command::Token { org, sub, roles, ttl } => {
            let secret = config.jwt.secret.as_deref().ok_or("set KENSHU_JWT_SECRET to sign tokens")?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| format!("unknown role '{r}'")))
                .collect::<Result<Vec<_>, _>>()?;
            let ttl = parse_ttl(&ttl)?;
            println!("{}", mint(secret, &config.jwt.issuer, &config.jwt.audience, &org, &sub, &roles, ttl)?);
        }
        Command::Directory { command: DirectoryCommand::Sync { dry_run, mode } } => {
            use kenshu_api::routes::import::ImportMode;
            let cfg = config.directory.clone().ok_or("set KENSHU_DIRECTORY_URL (and its settings) first")?;
            let full = mode.map_or(cfg.full, |m| m == "full");
            let state = build_state(config).await?;
            let actor = kenshu_api::directory::service_actor(&state, &cfg).await?;
            let mode = if full { ImportMode::Full } else { ImportMode::Upsert };
            match kenshu_api::directory::sync(&state, &actor, mode, dry_run).await {
                Ok(report) => println!("{}", serde_json::to_string_pretty(&report)?),
                Err(e) => {
                    // The problem as the API gives it: every record that does not read.
                    eprintln!("{}", serde_json::to_string_pretty(&e.problem())?);
                    return Err(e.into());
                }
            }
        }
        Command::Import(_) => unreachable!("answered before the configuration is read"),
        Command::Probe { url } => {
            let url = url.unwrap_or_else(|| format!("http://127.0.0.1:{}/readyz", config.bind.port()));
            let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).build()?;
            let status = client.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?.status();
            if !status.is_success() {
                return Err(format!("{url}: {status}").into());
            }
            println!("ready");
        }
        Command::Backup { file } => {
            kenshu_persistence::backup::backup(&config.database_url, &file).await?;
            println!("backup written to {}", file.display());
        }
        Command::Restore { file } => {
            kenshu_persistence::backup::restore(&file, &config.database_url).await?;
            println!("restored {} and applied migrations", file.display());
        }
        Command::Audit { command: AuditCommand::Verify { org: only } } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let orgs: Vec<_> = org::list(db.conn())
                .await?
                .into_iter()
                .filter(|o| only.as_ref().is_none_or(|c| *c == o.code))
                .collect();
            if let (Some(code), true) = (&only, orgs.is_empty()) {
                return Err(format!("no organisation '{code}'").into());
            }
            let mut broken = 0;
            for o in orgs {
                let v = kenshu_persistence::repo::audit::verify(db.conn(), o.id).await?;
                broken += usize::from(v.broken.is_some());
                println!("{}", serde_json::json!({ "org": o.code, "result": v }));
            }
            if broken > 0 {
                return Err(format!("{broken} organisation(s) with a broken audit chain").into());
            }
        }
        Command::Org { command } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            match command {
                OrgCommand::Create { code, name } => {
                    let code = kenshu_domain::org::Code::parse(&code).map_err(|e| format!("code {e}"))?;
                    let name = kenshu_domain::org::parse_name("name", &name).map_err(|e| e.reason)?;
                    let txn = db.begin_write().await?;
                    let o = org::create(&txn, "cli", code.as_str(), &name).await?;
                    txn.commit().await?;
                    println!("{}\t{}\t{}", o.id, o.code, o.name);
                }
                OrgCommand::List => {
                    for o in org::list(db.conn()).await? {
                        println!("{}\t{}\t{}", o.id, o.code, o.name);
                    }
                }
            }
        }
    }
    Ok(())
}

/// SIGTERM (an orchestrator stopping the service) or SIGINT (Ctrl-C).
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn print_demo_tokens(
    config: &Config,
    people: &demo::DemoPeople,
    generated: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let Some(secret) = config.jwt.secret.as_deref() else {
        println!("demo: tokens are not printed because the service verifies with public keys only");
        return Ok(());
    };
    let ttl = std::time::Duration::from_secs(8 * 3600);
    let sign = |sub: &str, roles: &[Role]| {
        mint(secret, &config.jwt.issuer, &config.jwt.audience, demo::DEMO_ORG, sub, roles, ttl)
    };
    println!("Demo organisation '{}' is ready. Tokens (valid 8 hours):", demo::DEMO_ORG);
    let rows: [(&str, &str, Vec<Role>); 6] = [
        ("employee", &people.employee, vec![Role::Employee]),
        ("section_head", &people.section_head, vec![Role::Employee, Role::SectionHead]),
        ("department_head", &people.department_head, vec![Role::Employee, Role::DepartmentHead]),
        ("hr_admin", &people.hr_admin, vec![Role::Employee, Role::HrAdmin]),
        ("importer", "personnel-system", vec![Role::Importer]),
        ("auditor", "auditor", vec![Role::Auditor]),
    ];
    for (label, sub, roles) in rows {
        println!("{label:16} sub={sub:17} {}", sign(sub, &roles)?);
    }
    // 合同研修: the training office of 厚木市, which takes part in Isehara's 地域別研修.
    let joint_hr = mint(
        secret,
        &config.jwt.issuer,
        &config.jwt.audience,
        demo::JOINT_ORG,
        demo::JOINT_HR,
        &[Role::Employee, Role::HrAdmin],
        ttl,
    )?;
    println!("{:16} sub={:17} {joint_hr}", format!("hr_admin@{}", demo::JOINT_ORG), demo::JOINT_HR);
    if generated {
        println!(
            "(signed with a secret made for this run; set KENSHU_JWT_SECRET to keep tokens across restarts)"
        );
    }
    Ok(())
}
