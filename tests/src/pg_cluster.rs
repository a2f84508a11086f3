//! A PostgreSQL cluster of a test's own. Standalone (std and uuid only): the binary's own fault
//! tests in `crates/api/tests` include this file too.

use std::net::TcpListener;

/// A PostgreSQL cluster of the test's own (initdb in a temporary directory, on a free loopback
/// port, trust auth for `postgres`), to stop and start under a running service. The shared
/// server is never touched. As root it runs as the `postgres` user, as PostgreSQL requires.
pub struct PgCluster {
    pub port: u16,
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    /// Server options beyond the port and address (TLS).
    extra: String,
}

impl PgCluster {
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A cluster that also speaks TLS, with a certificate for `localhost` and `127.0.0.1`
    /// signed by a CA of its own ([`PgCluster::ca_file`]), made with the `openssl` command.
    pub fn start_with_tls() -> Self {
        Self::start_with(true)
    }

    /// The CA that signed a TLS cluster's certificate (PEM).
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.dir.join("ca.pem")
    }

    fn start_with(tls: bool) -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("kenshu-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cluster = Self { port, dir, bin, extra: String::new() };
        if cluster.as_root() {
            let ok = std::process::Command::new("chown").arg("postgres:").arg(&cluster.dir).status().unwrap();
            assert!(ok.success(), "chown the cluster's directory");
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        );
        if tls {
            cluster.make_certificates();
        }
        cluster.resume();
        cluster
    }

    /// A CA and a server key and certificate signed by it, the key readable by the server only.
    fn make_certificates(&mut self) {
        let d = |name: &str| self.dir.join(name).to_str().unwrap().to_string();
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl").args(args).output().expect("the openssl command");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        openssl(
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Kenshu test CA"]
                .iter()
                .copied()
                .chain(["-keyout", &d("ca.key"), "-out", &d("ca.pem")])
                .collect::<Vec<_>>(),
        );
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &d("server.key"),
            "-out",
            &d("server.csr"),
        ]);
        std::fs::write(self.dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            &d("server.csr"),
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &d("san.ext"),
            "-out",
            &d("server.pem"),
        ]);
        let key = self.dir.join("server.key");
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        if self.as_root() {
            for file in ["server.key", "server.pem"] {
                let ok = std::process::Command::new("chown")
                    .arg("postgres:")
                    .arg(self.dir.join(file))
                    .status()
                    .unwrap();
                assert!(ok.success());
            }
        }
        self.extra =
            format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", d("server.pem"), d("server.key"));
    }

    fn as_root(&self) -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            std::process::Command::new(&path)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().unwrap(), "-w"];
        all.extend(args);
        self.run("pg_ctl", &all);
    }

    /// Start (again), waiting until it accepts connections.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off{}",
            self.port,
            self.dir.display(),
            self.extra
        );
        let log = self.dir.join("log");
        self.pg_ctl(&["-o", &options, "-l", log.to_str().unwrap(), "start"]);
    }

    /// Stop it as an administrator would for a restart (fast: sessions are ended).
    pub fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]);
    }

    /// Stop it as a crash would (immediate: no checkpoint, recovery on the next start).
    pub fn crash(&self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }

    /// A database URL on this cluster, creating the database.
    pub fn database(&self, name: &str) -> String {
        self.run("createdb", &["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", name]);
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let path = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap(), "-m", "immediate", "stop"];
        let _ = if self.as_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            std::process::Command::new(&path).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
