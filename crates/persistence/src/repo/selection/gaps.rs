//! 未受講者: who has not yet taken the courses HR names.

use super::*;

/// Who has not yet taken a kind of course: the filter.
#[derive(Debug, Clone)]
pub struct GapFilter {
    /// The courses, as HR names them (see `kenshu_domain::selection::gap_courses`).
    pub courses: kenshu_domain::selection::GapCourses,
    /// Only staff hired at least this many fiscal years before `fiscal_year`.
    pub min_years_since_hire: Option<u32>,
    pub fiscal_year: FiscalYear,
    pub section_id: Option<Uuid>,
}

/// Active staff who have completed none of the courses the filter names, in employee-number
/// order, with the courses that counted. Naming no course is `Invalid`, never "everyone".
pub async fn training_gaps(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &GapFilter,
    page: &PageRequest,
) -> Result<(Vec<CourseRef>, Page<employee::Model>), RepoError> {
    type Row = (Uuid, i32, String, i32, String, String, i32);
    let rows: Vec<Row> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .column(course::Column::FiscalYear)
        .column(course::Column::Category)
        .column(course::Column::Number)
        .column(course::Column::Title)
        .column(course::Column::SearchKey)
        .column(course::Column::CategoryRank)
        .filter(course::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut all = Vec::with_capacity(rows.len());
    for (id, fiscal_year, category, number, title, search_key, _) in &rows {
        let category = kenshu_domain::catalogue::Category::parse(category)
            .ok_or_else(|| DbErr::Custom(format!("stored course.category '{category}' is not known")))?;
        all.push(kenshu_domain::selection::GapCourse {
            id: *id,
            fiscal_year: *fiscal_year,
            category,
            number: *number,
            title: title.clone(),
            search_key: search_key.clone(),
        });
    }
    let named = &filter.courses;
    let course_ids =
        kenshu_domain::selection::gap_courses(&all, named, filter.fiscal_year.year()).map_err(|why| {
            let field = if !named.ids.is_empty() {
                "course_ids"
            } else if named.number.is_some() {
                "course_number"
            } else if named.text.is_some() {
                "course_q"
            } else {
                "course_category"
            };
            RepoError::Invalid(vec![kenshu_domain::FieldError::not_found(field, why)])
        })?;
    let mut counted: Vec<(i32, CourseRef)> = rows
        .iter()
        .filter(|r| course_ids.contains(&r.0))
        .map(|(id, fiscal_year, category, number, title, _, rank)| {
            (
                *rank,
                CourseRef {
                    id: *id,
                    fiscal_year: *fiscal_year,
                    category: category.clone(),
                    number: *number,
                    title: title.clone(),
                },
            )
        })
        .collect();
    counted.sort_by(|(ra, a), (rb, b)| {
        b.fiscal_year.cmp(&a.fiscal_year).then(ra.cmp(rb)).then(a.number.cmp(&b.number))
    });
    let done: std::collections::HashSet<Uuid> = crate::repo::in_chunks(&course_ids, |chunk| async move {
        nomination::Entity::find()
            .select_only()
            .column(nomination::Column::EmployeeId)
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
            .filter(nomination::Column::State.eq(NominationState::Completed.as_str()))
            .into_tuple::<Uuid>()
            .all(conn)
            .await
    })
    .await?;
    let mut q = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::Active.eq(true));
    if let Some(years) = filter.min_years_since_hire {
        // Hired in fiscal year (fy - years) or before: before 1 April of that year + 1.
        let last_fy = filter.fiscal_year.year() - years as i32;
        let before = chrono::NaiveDate::from_ymd_opt(last_fy + 1, 4, 1).unwrap_or(chrono::NaiveDate::MIN);
        q = q.filter(employee::Column::HireDate.lt(before));
    }
    if let Some(s) = filter.section_id {
        q = q.filter(employee::Column::SectionId.eq(s));
    }
    if let Some(after) = page.after.as_ref().and_then(|a| a.first()) {
        q = q.filter(employee::Column::EmployeeNo.gt(after.as_str()));
    }
    // Skip completed staff page by page; the roster is read in pages, never whole.
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut batch = q.clone();
        if let Some(c) = &cursor {
            batch = batch.filter(employee::Column::EmployeeNo.gt(c.as_str()));
        }
        let rows = batch.order_by_asc(employee::Column::EmployeeNo).limit(1000).all(conn).await?;
        let fetched = rows.len();
        cursor = rows.last().map(|e| e.employee_no.clone());
        items.extend(rows.into_iter().filter(|e| !done.contains(&e.id)));
        if items.len() as u64 > page.limit || fetched < 1000 {
            break;
        }
    }
    let counted = counted.into_iter().map(|(_, c)| c).collect();
    Ok((counted, Page::from_rows(items, page.limit, |e| vec![e.employee_no.clone()])))
}
