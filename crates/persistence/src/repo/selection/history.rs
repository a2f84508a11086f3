//! 研修履歴: an employee's and a section's nominations with their courses.

use super::*;

/// The course a nomination is for, as lists of nominations show it.
#[derive(Debug, Clone)]
pub struct CourseRef {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub category: String,
    pub number: i32,
    pub title: String,
}

/// Nominations with their courses, newest fiscal year first, then plan order.
async fn with_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    rows: Vec<nomination::Model>,
) -> Result<Vec<(nomination::Model, CourseRef)>, DbErr> {
    let ids: Vec<Uuid> =
        rows.iter().map(|n| n.course_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let courses: HashMap<Uuid, (i32, CourseRef)> = crate::repo::in_chunks(&ids, |chunk| async move {
        // The columns a list shows, not the course's 33 (five of them JSON documents).
        let rows = course::Entity::find()
            .select_only()
            .columns([
                course::Column::Id,
                course::Column::FiscalYear,
                course::Column::Category,
                course::Column::Number,
                course::Column::Title,
                course::Column::CategoryRank,
            ])
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(Uuid, i32, String, i32, String, i32)>()
            .all(conn)
            .await?;
        Ok::<_, DbErr>(rows.into_iter().map(|(id, fiscal_year, category, number, title, rank)| {
            (id, (rank, CourseRef { id, fiscal_year, category, number, title }))
        }))
    })
    .await?;
    let mut out: Vec<(i32, (nomination::Model, CourseRef))> = rows
        .into_iter()
        .filter_map(|n| courses.get(&n.course_id).map(|(rank, c)| (*rank, (n, c.clone()))))
        .collect();
    out.sort_by(|(ra, (na, a)), (rb, (nb, b))| {
        b.fiscal_year
            .cmp(&a.fiscal_year)
            .then(ra.cmp(rb))
            .then(a.number.cmp(&b.number))
            .then(na.id.cmp(&nb.id))
    });
    Ok(out.into_iter().map(|(_, x)| x).collect())
}

/// 研修履歴: every nomination of an employee, across fiscal years (or one year), with its course.
pub async fn for_employee(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_id: Uuid,
    fy: Option<FiscalYear>,
) -> Result<Vec<(nomination::Model, CourseRef)>, DbErr> {
    let rows = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::EmployeeId.eq(employee_id))
        .all(conn)
        .await?;
    let mut out = with_courses(conn, org_id, rows).await?;
    if let Some(fy) = fy {
        out.retain(|(_, c)| c.fiscal_year == fy.year());
    }
    Ok(out)
}

/// A section's nominations in a fiscal year (or all), with course and employee.
pub async fn for_section(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_id: Uuid,
    fy: Option<FiscalYear>,
    state: Option<NominationState>,
) -> Result<Vec<(nomination::Model, CourseRef, EmployeeRef)>, DbErr> {
    let staff: HashMap<Uuid, EmployeeRef> = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::SectionId.eq(section_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.id, EmployeeRef { id: e.id, employee_no: e.employee_no, name: e.name }))
        .collect();
    let ids: Vec<Uuid> = staff.keys().copied().collect();
    let rows: Vec<nomination::Model> = crate::repo::in_chunks(&ids, |chunk| async move {
        let mut q = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::EmployeeId.is_in(chunk.iter().copied()));
        if let Some(s) = state {
            q = q.filter(nomination::Column::State.eq(s.as_str()));
        }
        q.all(conn).await
    })
    .await?;
    let mut out = with_courses(conn, org_id, rows).await?;
    if let Some(fy) = fy {
        out.retain(|(_, c)| c.fiscal_year == fy.year());
    }
    Ok(out.into_iter().filter_map(|(n, c)| staff.get(&n.employee_id).cloned().map(|e| (n, c, e))).collect())
}
