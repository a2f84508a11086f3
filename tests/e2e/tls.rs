//! PostgreSQL over TLS (in the PostgreSQL pass, on a cluster the test starts with a certificate
//! of its own CA): `sslmode=verify-full` with `sslrootcert` connects, migrates and runs on an
//! encrypted connection; the same without the CA is refused (the certificate is checked), and a
//! server without TLS is refused under `sslmode=require`.

use kenshu_persistence::Db;
use kenshu_tests::on_postgres;
use kenshu_tests::standins::PgCluster;
use sea_orm::{ConnectionTrait, Statement};

async fn encrypted(db: &Db) -> bool {
    let row = db
        .conn()
        .query_one(Statement::from_string(
            db.backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "ssl").unwrap()
}

#[tokio::test]
async fn the_service_reaches_postgresql_over_verified_tls() {
    if !on_postgres() {
        return;
    }
    let pg = tokio::task::spawn_blocking(PgCluster::start_with_tls).await.unwrap();
    let plain = pg.database("kenshu_tls");
    let host = plain.replace("127.0.0.1", "localhost");
    let ca = pg.ca_file();

    let verified = format!("{host}?sslmode=verify-full&sslrootcert={}", ca.display());
    let db = Db::connect(&verified, 2).await.expect("verify-full with the CA");
    db.migrate().await.expect("migrations over TLS");
    assert!(encrypted(&db).await, "the connection is encrypted");
    db.close().await.unwrap();

    // The certificate is checked: without the CA that signed it, verify-full refuses.
    let unverified = format!("{host}?sslmode=verify-full");
    let refused = Db::connect(&unverified, 1).await.expect_err("an unknown CA is refused");
    assert!(refused.to_string().to_lowercase().contains("certificate"), "{refused}");
    // require encrypts without checking whom it talks to.
    let db = Db::connect(&format!("{plain}?sslmode=require"), 1).await.expect("require");
    assert!(encrypted(&db).await);
    db.close().await.unwrap();
    drop(pg);

    // A server without TLS is refused when TLS is required.
    let bare = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let url = format!("{}?sslmode=require", bare.database("kenshu_plain"));
    assert!(Db::connect(&url, 1).await.is_err(), "no TLS on the server: refused under sslmode=require");
}
