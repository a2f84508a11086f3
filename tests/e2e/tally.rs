//! The counts the service keeps on each nomination for the year's results (sessions attended,
//! absences with and without a received notice, the day the report was first submitted) stay
//! what the records say through a random series of sheets, corrections, absence notices,
//! reports and moved sessions; the results read from them agree with a count made here from
//! the records; and the migration that added them fills in the same counts.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use kenshu_domain::audience::Route;
use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_domain::results::{Counts, ReportStanding, Tally};
use kenshu_domain::selection::NominationState;
use kenshu_persistence::entities::{absence_notice, attendance, nomination, training_report};
use kenshu_tests::{people, spawn, TestApp};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::attendance::{event, ok, put_sheet, recommend, selected_trainee};

/// splitmix64: a seeded sequence, so that a failing series can be replayed with its seed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// What the test knows of one trainee.
struct Trainee {
    no: &'static str,
    nomination: String,
    /// The live notice per session index, if any.
    notices: HashMap<usize, String>,
    report: Option<String>,
}

/// One nomination's kept counts: attended, excused, unexcused, report first submitted on.
type Kept = (i64, i64, i64, Option<NaiveDate>);

/// The kept columns of the course's nominations, read straight from the table.
async fn kept(app: &TestApp, course: Uuid) -> HashMap<Uuid, Kept> {
    let conn = app.db.conn();
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT id, sessions_attended::bigint AS a, absences_excused::bigint AS e, \
             absences_unexcused::bigint AS u, report_first_submitted_on AS r FROM nomination WHERE course_id = $1"
        }
        _ => {
            "SELECT id, sessions_attended AS a, absences_excused AS e, absences_unexcused AS u, \
             report_first_submitted_on AS r FROM nomination WHERE course_id = ?"
        }
    };
    let rows = conn.query_all(Statement::from_sql_and_values(backend, sql, [course.into()])).await.unwrap();
    rows.iter()
        .map(|r| {
            let id: Uuid = r.try_get("", "id").unwrap();
            let counts = (
                r.try_get("", "a").unwrap(),
                r.try_get("", "e").unwrap(),
                r.try_get("", "u").unwrap(),
                r.try_get("", "r").unwrap(),
            );
            (id, counts)
        })
        .collect()
}

/// The same counts made here from the records, and the course's tally from them with each
/// attending trainee's due day as the owed-reports list gives it.
async fn counted(app: &TestApp, course: Uuid, fy: i32) -> (HashMap<Uuid, Kept>, Tally) {
    let conn = app.db.conn();
    let nominations =
        nomination::Entity::find().filter(nomination::Column::CourseId.eq(course)).all(conn).await.unwrap();
    let records =
        attendance::Entity::find().filter(attendance::Column::CourseId.eq(course)).all(conn).await.unwrap();
    let received: Vec<(Uuid, Uuid)> = absence_notice::Entity::find()
        .filter(absence_notice::Column::CourseId.eq(course))
        .filter(absence_notice::Column::State.eq("received"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.nomination_id, n.session_id))
        .collect();
    let reports: HashMap<Uuid, training_report::Model> = training_report::Entity::find()
        .filter(training_report::Column::CourseId.eq(course))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.nomination_id, r))
        .collect();
    let owed = app.get_json(&format!("/api/v1/reports?fiscal_year={fy}&limit=200"), &app.hr()).await;
    let due: HashMap<Uuid, NaiveDate> = owed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let id: Uuid = l["nomination_id"].as_str().unwrap().parse().unwrap();
            (id, l["due_on"].as_str().unwrap().parse().unwrap())
        })
        .collect();
    let mut counts = HashMap::new();
    let mut tally = Tally::default();
    for n in &nominations {
        let mine = records.iter().filter(|r| r.nomination_id == n.id);
        let attended = mine.clone().filter(|r| r.status != "absent").count() as i64;
        let absent: Vec<&attendance::Model> = mine.filter(|r| r.status == "absent").collect();
        let excused = absent.iter().filter(|r| received.contains(&(n.id, r.session_id))).count() as i64;
        let first = reports.get(&n.id).and_then(|r| r.first_submitted_at).map(tokyo_date);
        counts.insert(n.id, (attended, excused, absent.len() as i64 - excused, first));
        let report = match (first, due.get(&n.id)) {
            (None, _) => ReportStanding::NotSubmitted,
            (Some(on), Some(due)) if on > *due => ReportStanding::Late,
            (Some(_), _) => ReportStanding::OnTime,
        };
        let mut one = Counts::one(
            Route::parse(&n.route).unwrap(),
            NominationState::parse(&n.state).unwrap(),
            attended > 0,
            report,
        );
        one.absences_excused = excused as u32;
        one.absences_unexcused = (absent.len() as i64 - excused) as u32;
        tally.add(&one);
    }
    (counts, tally)
}

/// The kept counts equal the records', and the results equal the tally made from them.
async fn agree(app: &TestApp, course: Uuid, fy: i32, step: &str) {
    let (counts, tally) = counted(app, course, fy).await;
    assert_eq!(kept(app, course).await, counts, "after {step}");
    let results = app.get_json(&format!("/api/v1/plans/{fy}/results"), &app.hr()).await;
    let row = results["courses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["course"]["id"] == course.to_string())
        .unwrap_or_else(|| panic!("the course in the results after {step}: {results}"))
        .clone();
    let expected = serde_json::to_value(tally).unwrap();
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&row[k], v, "{k} after {step}: {row}");
    }
    // One course in the year: every grouping adds up to it.
    for by in ["by_grade", "by_department", "by_category"] {
        let selected: u64 =
            results[by].as_array().unwrap().iter().map(|g| g["selected"].as_u64().unwrap()).sum();
        let late: u64 =
            results[by].as_array().unwrap().iter().map(|g| g["reports_late"].as_u64().unwrap()).sum();
        assert_eq!(
            (selected, late),
            (u64::from(tally.selected), u64::from(tally.reports_late)),
            "{by} after {step}"
        );
    }
    assert_eq!(results["total"]["excused_absences"], tally.excused_absences, "after {step}");
}

/// A session's times on `day`, Japan time.
fn times(day: NaiveDate) -> Value {
    json!({"starts_at": format!("{day}T09:00:00+09:00"), "ends_at": format!("{day}T17:00:00+09:00")})
}

#[tokio::test]
async fn kept_counts_follow_a_random_series_of_sheets_notices_reports_and_moves() {
    let seed = std::env::var("KENSHU_TALLY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
    println!("KENSHU_TALLY_SEED={seed}");
    let mut dice = Dice(seed);
    let app = spawn().await;
    let hr = app.hr();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);

    // Three sessions ending a week ago: a report submitted today is on time, until the last
    // session moves a month back.
    let today = tokyo_date(chrono::Utc::now());
    let recent = today - Duration::days(10);
    let fy = FiscalYear::containing(recent);
    let far = (recent - Duration::days(30)).max(fy.start());
    let (course, sessions, first) = selected_trainee(
        &app,
        fy.year(),
        1,
        &[recent, recent + Duration::days(1), recent + Duration::days(2)],
    )
    .await;
    let course_id: Uuid = course.parse().unwrap();
    let mut days: Vec<NaiveDate> = (0..3).map(|i| recent + Duration::days(i)).collect();
    let mut last_version = 1;
    let mut trainees =
        vec![Trainee { no: people::EMPLOYEE, nomination: first, notices: HashMap::new(), report: None }];
    for no in [people::SAME_SECTION, "10008"] {
        let path = recommend(&app, &course, no, "select").await;
        let nomination = path.rsplit('/').next().unwrap().to_string();
        trainees.push(Trainee { no, nomination, notices: HashMap::new(), report: None });
    }
    agree(&app, course_id, fy.year(), "selection").await;

    for step in 0..60 {
        let t = dice.roll(trainees.len());
        let s = dice.roll(sessions.len());
        let what = match dice.roll(10) {
            0..=3 => {
                // A sheet for some of the trainees (a correction where they have a record).
                let day = days[s];
                let mut entries: Vec<Value> = trainees
                    .iter()
                    .filter_map(|tr| match dice.roll(7) {
                        0 => Some(json!({"employee_no": tr.no, "status": "late", "arrived_at": format!("{day}T09:40:00+09:00")})),
                        1 => Some(json!({"employee_no": tr.no, "status": "left_early", "left_at": format!("{day}T15:00:00+09:00")})),
                        2 | 3 => Some(json!({"employee_no": tr.no, "status": "absent"})),
                        4 => Some(json!({"employee_no": tr.no, "status": "present"})),
                        _ => None,
                    })
                    .collect();
                if entries.is_empty() {
                    entries.push(json!({"employee_no": trainees[t].no, "status": "present"}));
                }
                ok(put_sheet(&app, &course, &sessions[s], json!(entries)).await, 200).await;
                format!("a sheet for session {s}: {entries:?}")
            }
            4..=6 => {
                // The trainee's notice for the session moves one step on, or is filed.
                let me = app.token(trainees[t].no, &[Role::Employee]);
                match trainees[t].notices.get(&s).cloned() {
                    None => {
                        let body = json!({"session_id": sessions[s], "kind": "absence", "reason": "業務都合", "submit": true});
                        let path = format!("/api/v1/nominations/{}/absence-notices", trainees[t].nomination);
                        let res = app.post_json(&path, &me, &body).await;
                        let status = res.status().as_u16();
                        let n: Value = res.json().await.unwrap();
                        if status == 422 {
                            // Nothing to excuse once the course is completed.
                            let nomination = format!("/api/v1/nominations/{}", trainees[t].nomination);
                            assert_eq!(app.get_json(&nomination, &hr).await["state"], "completed", "{n}");
                        } else {
                            assert_eq!(status, 201, "{n}");
                            let id = n["id"].as_str().unwrap();
                            trainees[t].notices.insert(s, format!("/api/v1/absence-notices/{id}"));
                        }
                        format!("trainee {t} files a notice for session {s}: {status}")
                    }
                    Some(path) => {
                        let state = app.get_json(&path, &hr).await["state"].as_str().unwrap().to_string();
                        let (token, body) = match (state.as_str(), dice.roll(3)) {
                            (_, 0) => (&me, json!({"event": "withdraw"})),
                            ("submitted", _) => (&head, json!({"event": "confirm"})),
                            _ => (&hr, json!({"event": "receive"})),
                        };
                        let res = event(&app, token, &path, body.clone()).await;
                        let status = res.status().as_u16();
                        assert!(matches!(status, 200 | 409), "{body} on a {state} notice: {status}");
                        let now = app.get_json(&path, &hr).await["state"].as_str().unwrap().to_string();
                        if now == "withdrawn" {
                            trainees[t].notices.remove(&s);
                        }
                        format!("{body} on trainee {t}'s {state} notice for session {s}: {status}")
                    }
                }
            }
            7 | 8 => {
                // The trainee writes their report (a draft first, sometimes), or submits the draft.
                let me = app.token(trainees[t].no, &[Role::Employee]);
                match trainees[t].report.clone() {
                    None => {
                        let submit = dice.roll(2) == 0;
                        let body =
                            json!({"learned": "傾聴", "application": "窓口で活かす", "submit": submit});
                        let path = format!("/api/v1/nominations/{}/report", trainees[t].nomination);
                        let res = app.post_json(&path, &me, &body).await;
                        let status = res.status().as_u16();
                        let body: Value = res.json().await.unwrap();
                        assert!(matches!(status, 201 | 409), "{status}: {body}");
                        if status == 201 {
                            trainees[t].report =
                                Some(format!("/api/v1/reports/{}", body["id"].as_str().unwrap()));
                        }
                        format!("trainee {t} writes a report (submit {submit}): {status}")
                    }
                    Some(path) => {
                        let res = event(&app, &me, &path, json!({"event": "submit"})).await;
                        let status = res.status().as_u16();
                        assert!(matches!(status, 200 | 409), "{status}");
                        format!("trainee {t} submits their report: {status}")
                    }
                }
            }
            _ => {
                // The last session moves a month back or returns: the reports' due day moves.
                let to = if days[2] == recent + Duration::days(2) {
                    far + Duration::days(2)
                } else {
                    recent + Duration::days(2)
                };
                let path = format!("/api/v1/courses/{course}/sessions/{}", sessions[2]);
                ok(app.put_json(&path, &hr, Some(&format!("\"{last_version}\"")), &times(to)).await, 200)
                    .await;
                last_version += 1;
                days[2] = to;
                format!("the last session moves to {to}")
            }
        };
        agree(&app, course_id, fy.year(), &format!("step {step}, {what} (seed {seed})")).await;
    }

    // The migration that added the counts fills in the same ones from the records.
    use kenshu_migrations::{Migrator, MigratorTrait};
    let before = kept(&app, course_id).await;
    Migrator::down(app.db.conn(), Some(1)).await.unwrap();
    Migrator::up(app.db.conn(), None).await.unwrap();
    assert_eq!(kept(&app, course_id).await, before, "seed {seed}");
    agree(&app, course_id, fy.year(), "the migration again").await;
}

/// A notice received while a sheet records the same trainee absent at that session: the two
/// writes share no lock of their own, and whichever commits last must count both (on
/// PostgreSQL's concurrent writers as on SQLite's one).
#[tokio::test]
async fn a_notice_received_while_the_sheet_records_the_absence_is_counted_once_both_commit() {
    let app = spawn().await;
    let hr = app.hr();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let first = tokyo_date(chrono::Utc::now()) - Duration::days(20);
    let fy = FiscalYear::containing(first);
    let days: Vec<NaiveDate> = (0..8).map(|i| (first + Duration::days(i)).max(fy.start())).collect();
    let mut days = days;
    days.dedup();
    let (course, sessions, nid) = selected_trainee(&app, fy.year(), 1, &days).await;
    let course_id: Uuid = course.parse().unwrap();
    for (i, session) in sessions.iter().enumerate() {
        let body = json!({"session_id": session, "kind": "absence", "reason": "通院", "submit": true});
        let n =
            ok(app.post_json(&format!("/api/v1/nominations/{nid}/absence-notices"), &me, &body).await, 201)
                .await;
        let path = format!("/api/v1/absence-notices/{}", n["id"].as_str().unwrap());
        ok(event(&app, &head, &path, json!({"event": "confirm"})).await, 200).await;
        let absent = json!([{"employee_no": people::EMPLOYEE, "status": "absent"}]);
        let (received, recorded) = futures_util::future::join(
            event(&app, &hr, &path, json!({"event": "receive"})),
            put_sheet(&app, &course, session, absent),
        )
        .await;
        assert_eq!((received.status().as_u16(), recorded.status().as_u16()), (200, 200));
        agree(&app, course_id, fy.year(), &format!("session {i}")).await;
        let row = kept(&app, course_id).await[&nid.parse::<Uuid>().unwrap()];
        assert_eq!((row.1, row.2), (i as i64 + 1, 0), "every absence excused after session {i}");
    }
}

/// The results read a year's nominations from the index alone only where the visibility map
/// marks their pages all-visible; every kept count written clears a page's mark until the table
/// is vacuumed. On PostgreSQL the nomination table is vacuumed after half a percent of it
/// changed (migration 000036), not the default fifth.
#[tokio::test]
async fn nominations_are_vacuumed_after_a_small_share_changed() {
    let app = spawn().await;
    if !kenshu_tests::on_postgres() {
        return;
    }
    let sql = "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'nomination'";
    let row = app.db.conn().query_one(Statement::from_string(app.db.backend(), sql)).await.unwrap().unwrap();
    let options: String = row.try_get_by_index(0).unwrap();
    let mut options: Vec<&str> = options.split(',').collect();
    options.sort_unstable();
    assert_eq!(
        options,
        ["autovacuum_vacuum_insert_scale_factor=0.005", "autovacuum_vacuum_scale_factor=0.005"]
    );
}
