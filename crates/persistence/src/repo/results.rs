//! 研修実績: the facts of every nomination of a fiscal year that the results count.

use std::collections::{HashMap, HashSet};

use kenshu_domain::absence::NoticeState;
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::report::submitted_late;
use kenshu_domain::results::{ReportFact, TraineeFacts};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::employee::employees_by_id;
use super::report;
use super::selection::CourseRef;
use crate::entities::{absence_notice, attendance, course, nomination};

/// A course of the year as the results list it, in plan order.
#[derive(Debug, Clone)]
pub struct ResultCourse {
    pub course: CourseRef,
    pub status: CourseStatus,
}

/// One nomination's facts, with the trainee's grade and section (as on the roster today).
#[derive(Debug, Clone)]
pub struct NominationFacts {
    pub course_id: Uuid,
    pub grade: String,
    /// The trainee's section on the roster today.
    pub section_id: Option<Uuid>,
    pub facts: TraineeFacts,
}

/// The year's courses (drafts only when they have nominations) and the facts of every
/// nomination on them.
pub async fn facts(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<(Vec<ResultCourse>, Vec<NominationFacts>), DbErr> {
    let mut courses = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.eq(fy.year()))
        .all(conn)
        .await?;
    courses.sort_by_key(|c| (c.category_rank, c.number));
    let ids: Vec<Uuid> = courses.iter().map(|c| c.id).collect();
    let mut nominations = Vec::new();
    let mut records = Vec::new();
    let mut excusing = HashSet::new();
    for chunk in ids.chunks(500) {
        nominations.extend(
            nomination::Entity::find()
                .filter(nomination::Column::OrgId.eq(org_id))
                .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
        records.extend(
            attendance::Entity::find()
                .filter(attendance::Column::OrgId.eq(org_id))
                .filter(attendance::Column::CourseId.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
        excusing.extend(
            absence_notice::Entity::find()
                .filter(absence_notice::Column::OrgId.eq(org_id))
                .filter(absence_notice::Column::CourseId.is_in(chunk.iter().copied()))
                .filter(absence_notice::Column::State.eq(NoticeState::Received.as_str()))
                .all(conn)
                .await?
                .into_iter()
                .map(|n| (n.nomination_id, n.session_id)),
        );
    }
    // (attended, excused absences, unexcused absences) per nomination.
    let mut sessions: HashMap<Uuid, (u32, u32, u32)> = HashMap::new();
    for r in &records {
        let counts = sessions.entry(r.nomination_id).or_default();
        match r.status()? {
            AttendanceStatus::Absent if excusing.contains(&(r.nomination_id, r.session_id)) => counts.1 += 1,
            AttendanceStatus::Absent => counts.2 += 1,
            _ => counts.0 += 1,
        }
    }
    // The report facts from the rows already read: the same lines the owed-reports list shows.
    let present: HashSet<Uuid> =
        records.iter().filter(|r| report::is_present(&r.status)).map(|r| r.nomination_id).collect();
    let attended = report::attended_given(&nominations, &present)?;
    let requiring = report::requiring_report(courses.iter().cloned())?;
    let owing: Vec<nomination::Model> = nominations
        .iter()
        .filter(|n| requiring.contains_key(&n.course_id) && attended.contains(&n.id))
        .cloned()
        .collect();
    let staff_ids: Vec<Uuid> = nominations.iter().map(|n| n.employee_id).collect();
    let staff = employees_by_id(conn, org_id, &staff_ids).await?;
    let reports: HashMap<Uuid, ReportFact> = report::lines(conn, org_id, &requiring, &owing, &staff)
        .await?
        .into_iter()
        .map(|line| {
            let first = line.report.as_ref().and_then(|r| r.first_submitted_at);
            let fact = match (first, line.due_on) {
                (None, _) => ReportFact::Outstanding,
                (Some(at), Some(due)) if submitted_late(due, tokyo_date(at)) => ReportFact::Late,
                (Some(_), _) => ReportFact::OnTime,
            };
            (line.nomination_id, fact)
        })
        .collect();
    let with_nominations: HashSet<Uuid> = nominations.iter().map(|n| n.course_id).collect();
    let facts = nominations
        .into_iter()
        .map(|n| {
            let (route, state) = (n.route()?, n.state()?);
            let (attended, excused, unexcused) = sessions.get(&n.id).copied().unwrap_or_default();
            Ok(NominationFacts {
                course_id: n.course_id,
                grade: staff.get(&n.employee_id).map(|e| e.grade.clone()).unwrap_or_default(),
                section_id: staff.get(&n.employee_id).map(|e| e.section_id),
                facts: TraineeFacts {
                    route,
                    state,
                    sessions_attended: attended,
                    absences_excused: excused,
                    absences_unexcused: unexcused,
                    report: reports.get(&n.id).copied().unwrap_or(ReportFact::NotOwed),
                },
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    let courses = courses
        .into_iter()
        .filter_map(|c| {
            let status = match c.status() {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            (status != CourseStatus::Draft || with_nominations.contains(&c.id)).then_some(Ok(ResultCourse {
                course: CourseRef {
                    id: c.id,
                    fiscal_year: c.fiscal_year,
                    category: c.category,
                    number: c.number,
                    title: c.title,
                },
                status,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((courses, facts))
}
