//! A database at municipal or prefectural scale (県規模) for the benchmarks.
//!
//! Through the service, as a training office would load it: the structure (sections across
//! departments), the roster, and one plan a year, published (the FY2023 plan's courses copied and
//! renumbered to the size asked). Then straight into the tables with the persistence crate's bulk
//! writer, because no route writes past years' records in bulk: each course's sessions, the
//! nominations, the attendance of every session a trainee is on, an absence notice for every
//! absence, late arrival and early leave, and a report wherever the course asks for one. These
//! rows have no audit records. Deterministic: the same scale makes the same rows (new ids).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use kenshu_domain::absence::{AbsenceKind, NoticeState};
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::audience::Route;
use kenshu_domain::catalogue::Lecturer;
use kenshu_domain::report::ReportState;
use kenshu_domain::selection::NominationState;
use kenshu_persistence::bulk::{self, OnKey};
use kenshu_persistence::entities::{
    absence_notice, attendance, course, course_session, employee, nomination, organisation, training_report,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::bench::roster_in_sections;
use crate::{TestApp, ORG};

/// How large a database to make.
#[derive(Debug, Clone)]
pub struct Scale {
    /// Staff added to the demo's 294 (the demo roster's profiles again under new numbers).
    pub staff: usize,
    /// Sections (課) the added staff work in, ten to a department.
    pub sections: usize,
    /// The last fiscal year; the plans run `years` back from it.
    pub last_year: i32,
    pub years: i32,
    /// How many times each year's plan holds the FY2023 plan's 61 courses.
    pub copies: usize,
    /// Courses each member of staff is nominated to a year.
    pub nominations_per_head: usize,
}

impl Scale {
    /// The issue's shape: at 50,000 staff, 300 sections and five years of about 300 courses and
    /// 2,000 sessions a year with about 1,000,000 nominations.
    pub fn for_staff(staff: usize) -> Self {
        Self {
            staff,
            sections: (staff / 167).max(10),
            last_year: 2023,
            years: 5,
            copies: 5,
            nominations_per_head: 4,
        }
    }
}

/// What was made.
#[derive(Debug, Default)]
pub struct Generated {
    pub staff: usize,
    pub sections: usize,
    pub courses: usize,
    pub sessions: usize,
    pub nominations: usize,
    pub attendance: usize,
    pub absence_notices: usize,
    pub reports: usize,
    pub took: Duration,
}

impl std::fmt::Display for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} staff in {} generated sections (and the demo's); {} courses, {} sessions, {} nominations, \
             {} attendance records, {} absence notices, {} reports; generated in {:.0} s",
            self.staff,
            self.sections,
            self.courses,
            self.sessions,
            self.nominations,
            self.attendance,
            self.absence_notices,
            self.reports,
            self.took.as_secs_f64()
        )
    }
}

/// A well-mixed 64-bit hash of a few numbers (splitmix64 over them in turn): the generator's
/// only source of variety, so a scale always makes the same shapes.
fn mix(parts: &[u64]) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for p in parts {
        x = x.wrapping_add(*p).wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x = z ^ (z >> 31);
    }
    x
}

/// Rows handed to the bulk writer at once: bounds the generator's memory.
const CHUNK: usize = 20_000;

async fn write_all<E>(app: &TestApp, rows: &[E::Model])
where
    E: EntityTrait,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    for chunk in rows.chunks(CHUNK) {
        bulk::write::<E>(app.db.conn(), chunk, OnKey::Fail).await.expect("a generated batch");
    }
}

/// The structure file: `sections` sections, ten to a department, codes G01 / G01001.
fn structure_csv(sections: usize) -> (String, Vec<String>) {
    let mut csv = String::from("部コード,部名,所属コード,所属名\n");
    let mut codes = Vec::with_capacity(sections);
    for s in 0..sections {
        let d = s / 10 + 1;
        let code = format!("G{d:02}{:03}", s + 1);
        csv.push_str(&format!("G{d:02},第{d}部,{code},第{}課\n", s + 1));
        codes.push(code);
    }
    (csv, codes)
}

/// The FY2023 plan as year `year`'s, its courses `copies` times (copy k numbered k×100 on, so
/// each course keeps its category and a course it sits `within` keeps pointing into its copy),
/// application windows moved to the year.
pub fn plan_for(year: i32, copies: usize) -> Value {
    let mut plan: Value = serde_json::from_str(kenshu_api::demo::FY2023_PLAN).expect("the FY2023 plan");
    plan["plan"]["title"] = Value::String(format!("{year}年度 職員研修計画"));
    let originals = plan["courses"].as_array().expect("courses").clone();
    let mut courses = Vec::with_capacity(originals.len() * copies);
    for k in 0..copies {
        for original in &originals {
            let mut c = original.clone();
            let offset = 100 * k as i64;
            c["number"] = Value::from(c["number"].as_i64().unwrap_or(0) + offset);
            if k > 0 {
                c["title"] = Value::String(format!("{}（第{}回）", c["title"].as_str().unwrap_or(""), k + 1));
            }
            if let Some(n) = c["within"]["number"].as_i64() {
                c["within"]["number"] = Value::from(n + offset);
            }
            for end in ["opens", "closes"] {
                if let Some(day) = c["application_window"][end].as_str() {
                    c["application_window"][end] = Value::String(moved(day, year - 2023));
                }
            }
            courses.push(c);
        }
    }
    plan["courses"] = Value::Array(courses);
    plan
}

/// A day `years` years on (29 February becomes the 28th when the year has none).
fn moved(day: &str, years: i32) -> String {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a plan's day");
    let y = d.format("%Y").to_string().parse::<i32>().unwrap() + years;
    let md = d.format("%m-%d").to_string();
    NaiveDate::parse_from_str(&format!("{y}-{md}"), "%Y-%m-%d")
        .unwrap_or_else(|_| NaiveDate::parse_from_str(&format!("{y}-02-28"), "%Y-%m-%d").unwrap())
        .to_string()
}

/// 9:00 in Japan on `day`.
fn nine_jst(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
}

/// The month a course runs in (its timing's month, else one spread over the year), as a day:
/// the first of that month in fiscal year `year`.
fn first_day(c: &course::Model, index: usize) -> NaiveDate {
    let timing: Value = serde_json::from_str(&c.timing).unwrap_or(Value::Null);
    let month = timing["month"]
        .as_u64()
        .map(|m| m as u32)
        .filter(|m| (1..=12).contains(m))
        .unwrap_or(((index + 3) % 12 + 1) as u32);
    let y = if month >= 4 { c.fiscal_year } else { c.fiscal_year + 1 };
    let m = month;
    NaiveDate::from_ymd_opt(y, m, 1).unwrap()
}

/// The demo organisation's id.
async fn demo_org(app: &TestApp) -> Uuid {
    organisation::Entity::find()
        .filter(organisation::Column::Code.eq(ORG))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the demo organisation")
        .id
}

/// Create the structure, the roster and the plans, then the years' records.
pub async fn generate(app: &TestApp, scale: &Scale) -> Generated {
    let started = Instant::now();
    let hr = app.hr();
    let mut made = Generated { staff: scale.staff, ..Default::default() };
    if scale.staff > 0 {
        let (csv, sections) = structure_csv(scale.sections);
        let res =
            app.post_csv("/api/v1/organisation/structure/import", &hr, "text/csv", csv.into_bytes()).await;
        assert!(res.status().is_success(), "the structure: {}", res.text().await.unwrap());
        made.sections = sections.len();
        let res = app
            .post_csv(
                "/api/v1/employees/import?mode=upsert",
                &hr,
                "text/csv",
                roster_in_sections(scale.staff, &sections).into_bytes(),
            )
            .await;
        assert!(res.status().is_success(), "the roster: {}", res.text().await.unwrap());
    }
    let first_year = scale.last_year - scale.years + 1;
    for year in first_year..=scale.last_year {
        let res = app
            .request(Method::POST, &format!("/api/v1/plans/{year}/import"), Some(&hr))
            .header("Content-Type", "application/json")
            .body(plan_for(year, scale.copies).to_string())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "the plan of {year}: {}", res.text().await.unwrap());
        app.publish_plan(year).await;
    }

    let conn = app.db.conn();
    let org = demo_org(app).await;
    let staff: Vec<Uuid> = employee::Entity::find()
        .select_only()
        .column(employee::Column::Id)
        .filter(employee::Column::OrgId.eq(org))
        .order_by_asc(employee::Column::EmployeeNo)
        .into_tuple()
        .all(conn)
        .await
        .unwrap();
    for year in first_year..=scale.last_year {
        let courses = course::Entity::find()
            .filter(course::Column::OrgId.eq(org))
            .filter(course::Column::FiscalYear.eq(year))
            .order_by_asc(course::Column::CategoryRank)
            .order_by_asc(course::Column::Number)
            .all(conn)
            .await
            .unwrap();
        made.courses += courses.len();
        let last = year == scale.last_year;
        year_records(app, org, &staff, &courses, year, scale.nominations_per_head, last, &mut made).await;
    }
    if app.db.backend() == sea_orm::DatabaseBackend::Postgres {
        // What autovacuum does after a bulk load on a running system: statistics, and the
        // visibility map that lets a covering index answer without the table.
        app.db.conn().execute_unprepared("VACUUM ANALYZE").await.unwrap();
    }
    app.db
        .analyze(&[
            "employee",
            "section",
            "department",
            "course",
            "course_session",
            "nomination",
            "attendance",
            "absence_notice",
            "training_report",
        ])
        .await
        .unwrap();
    made.took = started.elapsed();
    made
}

#[allow(clippy::too_many_arguments)]
async fn year_records(
    app: &TestApp,
    org: Uuid,
    staff: &[Uuid],
    courses: &[course::Model],
    year: i32,
    per_head: usize,
    last: bool,
    made: &mut Generated,
) {
    let by = "bench-generator".to_string();
    let y = year as u64;
    // Sessions: 1 to 12 a course (6.5 on average), two days apart from the course's month on.
    let mut sessions: Vec<Vec<course_session::Model>> = Vec::with_capacity(courses.len());
    for (i, c) in courses.iter().enumerate() {
        let n = 1 + (mix(&[y, i as u64, 1]) % 12) as usize;
        let first = first_day(c, i);
        let rows = (0..n)
            .map(|k| {
                let starts = nine_jst(first.checked_add_days(Days::new(2 * k as u64)).unwrap());
                course_session::Model {
                    id: Uuid::new_v4(),
                    org_id: org,
                    course_id: c.id,
                    starts_at: starts,
                    ends_at: starts + chrono::Duration::hours(8),
                    venue: Some(format!("本庁舎 {}階 第{}会議室", 2 + k % 5, 1 + k % 3)),
                    online_url: None,
                    capacity: None,
                    lecturer: Some(
                        serde_json::to_string(&Lecturer::Outside {
                            name: "研修 講師".into(),
                            affiliation: Some("自治体研修機構".into()),
                        })
                        .unwrap(),
                    ),
                    lecturer_employee_id: None,
                    notes: None,
                    host_session_id: None,
                    version: 1,
                    created_at: starts - chrono::Duration::days(90),
                    updated_at: starts - chrono::Duration::days(90),
                }
            })
            .collect();
        sessions.push(rows);
    }
    let flat: Vec<course_session::Model> = sessions.iter().flatten().cloned().collect();
    write_all::<course_session::Entity>(app, &flat).await;
    made.sessions += flat.len();

    // Nominations: `per_head` courses each; a course of three sessions or more runs them as
    // repeats, each trainee on one; a shorter one is attended whole.
    let state = if last { NominationState::Notified } else { NominationState::Completed };
    let mut nominations = Vec::with_capacity(staff.len() * per_head);
    for (e, employee) in staff.iter().enumerate() {
        let mut chosen = HashSet::with_capacity(per_head);
        for j in 0..per_head {
            let i = (mix(&[y, e as u64, j as u64, 2]) % courses.len() as u64) as usize;
            if !chosen.insert(i) {
                continue;
            }
            let c = &courses[i];
            let course_sessions = &sessions[i];
            let session_id = (course_sessions.len() >= 3).then(|| {
                course_sessions[(mix(&[y, e as u64, 3]) % course_sessions.len() as u64) as usize].id
            });
            let route = serde_json::from_str::<Vec<Route>>(&c.routes)
                .ok()
                .and_then(|r| r.first().copied())
                .unwrap_or(Route::Designation);
            let at = course_sessions[0].starts_at - chrono::Duration::days(30);
            nominations.push(nomination::Model {
                id: Uuid::new_v4(),
                org_id: org,
                course_id: c.id,
                session_id,
                employee_id: *employee,
                route: route.as_str().into(),
                state: state.as_str().into(),
                reason: None,
                proposed_by: by.clone(),
                decided_by: Some(by.clone()),
                decided_at: Some(at),
                placed_at: Some(at),
                held_place: true,
                decision_reason: None,
                version: 1,
                created_at: at,
                updated_at: at,
            });
        }
    }
    write_all::<nomination::Entity>(app, &nominations).await;
    made.nominations += nominations.len();

    // Attendance, with a notice for each absence, late arrival and early leave, and reports.
    let index: std::collections::HashMap<Uuid, usize> =
        courses.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut records = Vec::new();
    let mut notices = Vec::new();
    let mut reports = Vec::new();
    for (n_i, n) in nominations.iter().enumerate() {
        let i = index[&n.course_id];
        let mut attended = false;
        for s in sessions[i].iter().filter(|s| n.session_id.is_none_or(|own| own == s.id)) {
            let roll = mix(&[y, n_i as u64, s.starts_at.timestamp() as u64, 4]) % 100;
            let status = match roll {
                0..=89 => AttendanceStatus::Present,
                90..=93 => AttendanceStatus::Late,
                94..=95 => AttendanceStatus::LeftEarly,
                _ => AttendanceStatus::Absent,
            };
            attended |= status != AttendanceStatus::Absent;
            let arrived =
                (status == AttendanceStatus::Late).then(|| s.starts_at + chrono::Duration::minutes(40));
            let left =
                (status == AttendanceStatus::LeftEarly).then(|| s.ends_at - chrono::Duration::hours(2));
            let recorded = s.ends_at + chrono::Duration::hours(1);
            records.push(attendance::Model {
                id: Uuid::new_v4(),
                org_id: org,
                session_id: s.id,
                course_id: n.course_id,
                nomination_id: n.id,
                employee_id: n.employee_id,
                status: status.as_str().into(),
                arrived_at: arrived,
                left_at: left,
                note: None,
                source: "sheet".into(),
                recorded_by: by.clone(),
                version: 1,
                created_at: recorded,
                updated_at: recorded,
            });
            let kind = match status {
                AttendanceStatus::Present => continue,
                AttendanceStatus::Late => AbsenceKind::LateArrival,
                AttendanceStatus::LeftEarly => AbsenceKind::EarlyLeave,
                AttendanceStatus::Absent => AbsenceKind::Absence,
            };
            let filed = s.starts_at - chrono::Duration::days(3);
            notices.push(absence_notice::Model {
                id: Uuid::new_v4(),
                org_id: org,
                nomination_id: n.id,
                session_id: s.id,
                course_id: n.course_id,
                employee_id: n.employee_id,
                kind: kind.as_str().into(),
                reason: "業務都合のため".into(),
                arrives_at: arrived,
                leaves_at: left,
                state: NoticeState::Received.as_str().into(),
                late: false,
                comment: None,
                written_by: by.clone(),
                submitted_at: Some(filed),
                confirmed_by: Some(by.clone()),
                confirmed_at: Some(filed),
                received_by: Some(by.clone()),
                received_at: Some(filed),
                on_behalf: false,
                receipt_note: None,
                reason_shared_with_host: false,
                version: 3,
                created_at: filed,
                updated_at: filed,
            });
        }
        let asks_report = !courses[i].report.contains("\"none\"");
        if asks_report && attended {
            let end = sessions[i].last().unwrap().ends_at;
            let submitted = end + chrono::Duration::days(14);
            let report_state = match (last, mix(&[y, n_i as u64, 5]) % 10) {
                (false, _) => ReportState::Received,
                (true, 0..=1) => ReportState::Submitted,
                (true, 2..=4) => ReportState::Approved,
                (true, _) => ReportState::Received,
            };
            let approved = report_state != ReportState::Submitted;
            reports.push(training_report::Model {
                id: Uuid::new_v4(),
                org_id: org,
                nomination_id: n.id,
                course_id: n.course_id,
                employee_id: n.employee_id,
                learned: "講義と演習を通じて、業務の進め方と住民への説明の要点を学んだ。".repeat(3),
                application: "所属の業務手順を見直し、学んだ内容を係内で共有する。".repeat(3),
                comments: None,
                state: report_state.as_str().into(),
                return_comment: None,
                first_submitted_at: Some(submitted),
                submitted_at: Some(submitted),
                approved_by: approved.then(|| by.clone()),
                approved_at: approved.then_some(submitted + chrono::Duration::days(3)),
                received_by: (report_state == ReportState::Received).then(|| by.clone()),
                received_at: (report_state == ReportState::Received)
                    .then_some(submitted + chrono::Duration::days(7)),
                shared_on: None,
                shared_note: None,
                shared_by: None,
                version: 1,
                created_at: submitted,
                updated_at: submitted,
            });
        }
    }
    write_all::<attendance::Entity>(app, &records).await;
    write_all::<absence_notice::Entity>(app, &notices).await;
    write_all::<training_report::Entity>(app, &reports).await;
    // Written straight to the tables, so the counts the service keeps on each nomination are
    // counted here, as the service's own writes would have kept them.
    let course_ids: Vec<Uuid> = courses.iter().map(|c| c.id).collect();
    kenshu_persistence::repo::tally::recount_courses(app.db.conn(), org, &course_ids).await.unwrap();
    made.attendance += records.len();
    made.absence_notices += notices.len();
    made.reports += reports.len();
}

/// One session of the year and its trainees, for a benchmark to record its sheet.
#[derive(Debug)]
pub struct LastYearSheet {
    pub course_id: Uuid,
    pub session_id: Uuid,
    /// 職員番号 of each trainee on the session.
    pub employee_nos: Vec<String>,
}

/// The organisation's nominations of `year` that hold a place, with their employee numbers.
async fn placed_nominations(
    app: &TestApp,
    year: i32,
) -> (Vec<nomination::Model>, std::collections::HashMap<Uuid, String>) {
    let conn = app.db.conn();
    let org = demo_org(app).await;
    let courses: Vec<Uuid> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::OrgId.eq(org))
        .filter(course::Column::FiscalYear.eq(year))
        .into_tuple()
        .all(conn)
        .await
        .unwrap();
    let nominations = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org))
        .filter(nomination::Column::CourseId.is_in(courses))
        .filter(
            nomination::Column::State
                .is_in([NominationState::Selected.as_str(), NominationState::Notified.as_str()]),
        )
        .order_by_asc(nomination::Column::CreatedAt)
        .order_by_asc(nomination::Column::Id)
        .all(conn)
        .await
        .unwrap();
    let numbers: std::collections::HashMap<Uuid, String> = employee::Entity::find()
        .select_only()
        .column(employee::Column::Id)
        .column(employee::Column::EmployeeNo)
        .filter(employee::Column::OrgId.eq(org))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    (nominations, numbers)
}

/// Up to `max` sessions of `year` with their trainees (most trainees first).
pub async fn last_year_sheets(app: &TestApp, year: i32, max: usize) -> Vec<LastYearSheet> {
    let (nominations, numbers) = placed_nominations(app, year).await;
    let sessions = course_session::Entity::find()
        .filter(
            course_session::Column::CourseId
                .is_in(nominations.iter().map(|n| n.course_id).collect::<HashSet<_>>()),
        )
        .all(app.db.conn())
        .await
        .unwrap();
    let mut sheets: Vec<LastYearSheet> = sessions
        .iter()
        .map(|s| LastYearSheet {
            course_id: s.course_id,
            session_id: s.id,
            employee_nos: nominations
                .iter()
                .filter(|n| n.course_id == s.course_id && n.session_id.is_none_or(|own| own == s.id))
                .map(|n| numbers[&n.employee_id].clone())
                .collect(),
        })
        .filter(|s| !s.employee_nos.is_empty())
        .collect();
    sheets.sort_by_key(|s| std::cmp::Reverse(s.employee_nos.len()));
    sheets.truncate(max);
    sheets
}

/// Up to `max` (nomination, session) pairs of `year` that have no absence notice yet, on
/// courses other than `except`.
pub async fn open_notice_pairs(
    app: &TestApp,
    year: i32,
    max: usize,
    except: &HashSet<Uuid>,
) -> Vec<(Uuid, Uuid)> {
    let (mut nominations, _) = placed_nominations(app, year).await;
    nominations.retain(|n| !except.contains(&n.course_id));
    let noticed: HashSet<(Uuid, Uuid)> = absence_notice::Entity::find()
        .select_only()
        .column(absence_notice::Column::NominationId)
        .column(absence_notice::Column::SessionId)
        .into_tuple::<(Uuid, Uuid)>()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .collect();
    let sessions = course_session::Entity::find()
        .filter(
            course_session::Column::CourseId
                .is_in(nominations.iter().map(|n| n.course_id).collect::<HashSet<_>>()),
        )
        .all(app.db.conn())
        .await
        .unwrap();
    let mut by_course: std::collections::HashMap<Uuid, Vec<Uuid>> = std::collections::HashMap::new();
    for s in &sessions {
        by_course.entry(s.course_id).or_default().push(s.id);
    }
    nominations
        .iter()
        .flat_map(|n| {
            let on: Vec<Uuid> = match n.session_id {
                Some(s) => vec![s],
                None => by_course.get(&n.course_id).cloned().unwrap_or_default(),
            };
            on.into_iter().map(move |s| (n.id, s))
        })
        .filter(|pair| !noticed.contains(pair))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_copied_keeps_its_references_inside_each_copy() {
        let plan = plan_for(2020, 3);
        let courses = plan["courses"].as_array().unwrap();
        assert_eq!(courses.len(), 61 * 3);
        let numbers: HashSet<(String, i64)> = courses
            .iter()
            .map(|c| (c["category"].as_str().unwrap().to_string(), c["number"].as_i64().unwrap()))
            .collect();
        assert_eq!(numbers.len(), courses.len(), "every (category, number) once");
        for c in courses.iter().filter(|c| c["within"].is_object()) {
            let key = (
                c["within"]["category"].as_str().unwrap().to_string(),
                c["within"]["number"].as_i64().unwrap(),
            );
            assert!(numbers.contains(&key), "{key:?}");
            assert_eq!(key.1 / 100, c["number"].as_i64().unwrap() / 100, "within its own copy");
        }
        let windows: Vec<&str> =
            courses.iter().filter_map(|c| c["application_window"]["closes"].as_str()).collect();
        assert!(windows.contains(&"2021-02-28"), "29 February 2024 moves to the 28th of 2021: {windows:?}");
    }

    #[test]
    fn a_course_runs_in_its_month_of_its_fiscal_year() {
        let mut c = course::Model {
            fiscal_year: 2020,
            timing: r#"{"kind":"month","month":4}"#.into(),
            ..test_course()
        };
        assert_eq!(first_day(&c, 0), NaiveDate::from_ymd_opt(2020, 4, 1).unwrap());
        c.timing = r#"{"kind":"month","month":3}"#.into();
        assert_eq!(first_day(&c, 0), NaiveDate::from_ymd_opt(2021, 3, 1).unwrap());
        c.timing = r#"{"kind":"month","month":12}"#.into();
        assert_eq!(first_day(&c, 0), NaiveDate::from_ymd_opt(2020, 12, 1).unwrap());
        c.timing = r#"{"kind":"undecided"}"#.into();
        assert_eq!(first_day(&c, 10), NaiveDate::from_ymd_opt(2021, 2, 1).unwrap());
    }

    fn test_course() -> course::Model {
        let now = Utc::now();
        course::Model {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            plan_id: Uuid::nil(),
            fiscal_year: 2023,
            category: "hierarchical".into(),
            category_rank: 0,
            number: 1,
            title: String::new(),
            purpose: None,
            content: None,
            audience: None,
            rules: "[]".into(),
            routes: "[]".into(),
            timing: "{}".into(),
            months_mask: 0,
            delivery: String::new(),
            institution: None,
            headcount: None,
            report: "{}".into(),
            completion: "{}".into(),
            application_opens: None,
            application_closes: None,
            notes: None,
            pillar: String::new(),
            aims: "[]".into(),
            within_course_id: None,
            status: String::new(),
            share_id: None,
            host_org_id: None,
            search_key: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}
