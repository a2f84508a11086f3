//! The course list and its text search: filters, plan order, pages, and what this instance keeps
//! of them.

use super::*;
use crate::kept::Miss;
use kenshu_domain::audience::Route;
use std::sync::Arc;
use std::time::Instant;

/// Catalogue filters; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    pub fiscal_year: Option<FiscalYear>,
    pub category: Option<Category>,
    pub route: Option<kenshu_domain::audience::Route>,
    pub delivery: Option<Delivery>,
    /// Calendar month 1–12 the course runs in.
    pub month: Option<u32>,
    pub institution: Option<String>,
    pub q: Option<String>,
    /// Which statuses the caller may see; staff see published and cancelled courses only.
    pub statuses: Vec<CourseStatus>,
    /// Only courses of published plans (staff).
    pub published_plans_only: bool,
}

/// Courses in plan order: fiscal year, category (階層別 first), number.
pub async fn list_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &CourseFilter,
    page: &PageRequest,
) -> Result<Page<CourseRecord>, RepoError> {
    let rows = courses_query(org_id, filter, page)?.all(conn).await?;
    let page = Page::from_rows(rows, page.limit, |m| {
        vec![m.fiscal_year.to_string(), m.category_rank.to_string(), m.number.to_string()]
    });
    let items = page.items.into_iter().map(CourseRecord::from_model).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next: page.next })
}

/// A course as a list shows it, rendered (JSON), with the version it was rendered from.
pub type RenderedCourse = (i32, String);

/// [`list_courses`], each course rendered by `render`. Where this instance keeps reads (see
/// [`crate::kept`]), the page is chosen from the organisation's [`CourseIndex`] in memory and each
/// course on it taken as it was rendered before: no statement at all once both are kept. While
/// it keeps nothing (not watching for changes just now), or if the catalogue changed while the
/// page was put together, it is the one statement of [`list_courses`], of whose rows a course
/// rendered before decodes only its id, version and place in the order. Decoding, checking and
/// rendering every course again was most of a list's time.
pub async fn list_courses_rendered<E: From<RepoError>>(
    db: &crate::Db,
    org_id: Uuid,
    filter: &CourseFilter,
    page: &PageRequest,
    render: impl Fn(&CourseRecord) -> Result<String, E>,
) -> Result<Page<Arc<RenderedCourse>>, E> {
    use sea_orm::{FromQueryResult, QueryTrait};
    if let Some(generation) = db.kept().course_index.generation_at(Instant::now()) {
        if let Some(page) = kept_page(db, org_id, filter, page, &render, generation).await? {
            return Ok(page);
        }
    }
    let statement = courses_query(org_id, filter, page)?.build(db.backend());
    // Before the statement: what it reads may predate a change that commits meanwhile.
    let generation = db.kept().course_items.generation_at(Instant::now());
    let rows = db.conn().query_all(statement).await.map_err(RepoError::from)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let get_i32 = |column: &str| row.try_get::<i32>("", column).map_err(RepoError::from);
        let id: Uuid = row.try_get("", "id").map_err(RepoError::from)?;
        let version = get_i32("version")?;
        let order = [get_i32("fiscal_year")?, get_i32("category_rank")?, get_i32("number")?];
        let rendered = match kept_item(db, org_id, id, version, generation) {
            Ok(rendered) => rendered,
            Err(miss) => {
                let model = course::Model::from_query_result(row, "").map_err(RepoError::from)?;
                render_and_keep(db, model, miss, &render)?
            }
        };
        items.push((order, rendered));
    }
    Ok(page_in_order(items, page.limit))
}

/// The rendering kept of course `id` at `version`, read in `generation`; otherwise the miss to
/// keep a new one under (none where one is kept at another version).
fn kept_item(
    db: &crate::Db,
    org_id: Uuid,
    id: Uuid,
    version: i32,
    generation: Option<u64>,
) -> Result<Arc<RenderedCourse>, Option<ItemMiss>> {
    match db.kept().course_items.lookup_in((org_id, id), generation) {
        // The version too: a kept rendering never stands for a row that says otherwise.
        Ok(rendered) if rendered.0 == version => Ok(rendered),
        Ok(_) => Err(None),
        Err(miss) => Err(Some(miss)),
    }
}

/// Render a course read from the database, and keep the rendering after `miss`.
fn render_and_keep<E: From<RepoError>>(
    db: &crate::Db,
    model: course::Model,
    miss: Option<ItemMiss>,
    render: &impl Fn(&CourseRecord) -> Result<String, E>,
) -> Result<Arc<RenderedCourse>, E> {
    let version = model.version;
    let record = CourseRecord::from_model(model).map_err(RepoError::from)?;
    let rendered = Arc::new((version, render(&record)?));
    if let Some(miss) = miss {
        db.kept().course_items.keep(miss, rendered.clone(), Instant::now());
    }
    Ok(rendered)
}

/// A page of rendered courses from `items` in plan order, one more than `limit` if another
/// page follows; the cursor is the last one's place in the order.
fn page_in_order(items: Vec<([i32; 3], Arc<RenderedCourse>)>, limit: u64) -> Page<Arc<RenderedCourse>> {
    let page = Page::from_rows(items, limit, |(order, _)| order.iter().map(i32::to_string).collect());
    page.map(|(_, rendered)| rendered)
}

/// The statement of [`list_courses`]: a page of the organisation's courses matching `filter`, in
/// plan order, one more than the page holds (to know whether another follows).
fn courses_query(
    org_id: Uuid,
    filter: &CourseFilter,
    page: &PageRequest,
) -> Result<sea_orm::Select<course::Entity>, RepoError> {
    let mut q = course::Entity::find().filter(course::Column::OrgId.eq(org_id));
    if let Some(fy) = filter.fiscal_year {
        q = q.filter(course::Column::FiscalYear.eq(fy.year()));
    }
    if let Some(c) = filter.category {
        q = q.filter(course::Column::Category.eq(c.as_str()));
    }
    if let Some(r) = filter.route {
        q = q.filter(course::Column::Routes.like(format!("%\"{}\"%", r.as_str())));
    }
    if let Some(d) = filter.delivery {
        q = q.filter(course::Column::Delivery.eq(d.as_str()));
    }
    if let Some(m) = filter.month {
        q = q.filter(Expr::col(course::Column::MonthsMask).bit_and(1i32 << m).ne(0));
    }
    if let Some(i) = &filter.institution {
        q = q.filter(course::Column::Institution.eq(i.as_str()));
    }
    if let Some(text) = filter.search_text() {
        let pattern = format!("%{}%", like_escape(&text));
        q = q.filter(Expr::col(course::Column::SearchKey).like(LikeExpr::new(pattern).escape('!')));
    }
    q = q.filter(course::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    if filter.published_plans_only {
        let published = training_plan::Entity::find()
            .select_only()
            .column(training_plan::Column::Id)
            .filter(training_plan::Column::OrgId.eq(org_id))
            .filter(training_plan::Column::Status.eq("published"))
            .as_query()
            .to_owned();
        q = q.filter(course::Column::PlanId.in_subquery(published));
    }
    if let Some([fy, rank, number]) = cursor_of(page)? {
        q = q.filter(
            Condition::any()
                .add(course::Column::FiscalYear.gt(fy))
                .add(
                    Condition::all()
                        .add(course::Column::FiscalYear.eq(fy))
                        .add(course::Column::CategoryRank.gt(rank)),
                )
                .add(
                    Condition::all()
                        .add(course::Column::FiscalYear.eq(fy))
                        .add(course::Column::CategoryRank.eq(rank))
                        .add(course::Column::Number.gt(number)),
                ),
        );
    }
    Ok(q.order_by_asc(course::Column::FiscalYear)
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .limit(page.limit + 1))
}

impl CourseFilter {
    /// The text searched for, as courses' `search_key` holds text; None when there is none.
    fn search_text(&self) -> Option<String> {
        self.q.as_deref().map(search_key).filter(|s| !s.is_empty())
    }

    /// Whether `course` passes: test for test what [`courses_query`] asks of the database, for
    /// the pages chosen in memory. `text` is [`Self::search_text`], worked out once per page.
    fn admits(&self, course: &IndexedCourse, text: Option<&str>) -> bool {
        self.fiscal_year.is_none_or(|fy| course.order[0] == fy.year())
            && self.category.is_none_or(|c| course.category == c)
            && self.route.is_none_or(|r| course.routes.contains(&r))
            && self.delivery.is_none_or(|d| course.delivery == d)
            && self.month.is_none_or(|m| course.months_mask & (1i32 << m) != 0)
            && self.institution.as_deref().is_none_or(|i| course.institution.as_deref() == Some(i))
            && text.is_none_or(|t| course.search_key.contains(t))
            && self.statuses.contains(&course.status)
            && (!self.published_plans_only || course.plan_published)
    }
}

/// The place in plan order (fiscal year, category rank, number) a page continues after.
fn cursor_of(page: &PageRequest) -> Result<Option<[i32; 3]>, RepoError> {
    let Some(after) = page.after.as_deref() else { return Ok(None) };
    let invalid = || RepoError::Invalid(vec![FieldError::format("cursor", "is not a cursor of this list")]);
    let [fy, rank, number] = after else { return Err(invalid()) };
    match (fy.parse::<i32>(), rank.parse::<i32>(), number.parse::<i32>()) {
        (Ok(fy), Ok(rank), Ok(number)) => Ok(Some([fy, rank, number])),
        _ => Err(invalid()),
    }
}

/// 研修一覧の索引: an organisation's courses as the list filters and orders them, every year's,
/// in plan order, kept per organisation where this instance keeps reads. A text search (`q`)
/// names no year, so in the database it tested `search_key LIKE '%…%'` on every course of the
/// organisation for each request: at 1,525 courses about 0.6 ms of PostgreSQL's CPU, which held
/// the search to ~650 requests a second on two cores (session 24). In memory it is a substring
/// test over the kept keys.
#[derive(Debug)]
pub struct CourseIndex {
    courses: Vec<IndexedCourse>,
}

/// One course of a [`CourseIndex`]: the columns the list's filters and order read.
#[derive(Debug)]
struct IndexedCourse {
    id: Uuid,
    version: i32,
    /// Fiscal year, category rank, number.
    order: [i32; 3],
    category: Category,
    routes: Vec<Route>,
    delivery: Delivery,
    months_mask: i32,
    institution: Option<String>,
    status: CourseStatus,
    plan_published: bool,
    search_key: String,
}

/// The most organisations whose [`CourseIndex`] is kept; one of 1,500 courses is under 1 MiB.
pub(crate) const KEPT_COURSE_INDEXES: usize = 100;

/// A row of [`read_course_index`]'s statement.
#[derive(sea_orm::FromQueryResult)]
struct IndexRow {
    id: Uuid,
    version: i32,
    fiscal_year: i32,
    category_rank: i32,
    number: i32,
    category: String,
    routes: String,
    delivery: String,
    months_mask: i32,
    institution: Option<String>,
    status: String,
    search_key: String,
    /// [`PLAN_STATUS`]: None for a course whose plan is not found.
    plan_status: Option<String>,
}

/// Read the organisation's [`CourseIndex`]: one statement of the narrow columns, in plan order.
async fn read_course_index(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<CourseIndex, RepoError> {
    use crate::entities::stored;
    let rows = course::Entity::find()
        .select_only()
        .columns([
            course::Column::Id,
            course::Column::Version,
            course::Column::FiscalYear,
            course::Column::CategoryRank,
            course::Column::Number,
            course::Column::Category,
            course::Column::Routes,
            course::Column::Delivery,
            course::Column::MonthsMask,
            course::Column::Institution,
            course::Column::Status,
            course::Column::SearchKey,
        ])
        .filter(course::Column::OrgId.eq(org_id))
        .join(sea_orm::JoinType::LeftJoin, course_plan())
        .expr_as(Expr::col((training_plan::Entity, training_plan::Column::Status)), PLAN_STATUS)
        .order_by_asc(course::Column::FiscalYear)
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .into_model::<IndexRow>()
        .all(conn)
        .await?;
    let courses = rows
        .into_iter()
        .map(|row| {
            let plan_published = match row.plan_status {
                Some(s) => stored("training_plan.status", &s, PlanStatus::parse)? == PlanStatus::Published,
                None => false,
            };
            Ok(IndexedCourse {
                id: row.id,
                version: row.version,
                order: [row.fiscal_year, row.category_rank, row.number],
                category: stored("course.category", &row.category, Category::parse)?,
                routes: parse("routes", &row.routes)?,
                delivery: stored("course.delivery", &row.delivery, Delivery::parse)?,
                months_mask: row.months_mask,
                institution: row.institution,
                status: stored("course.status", &row.status, CourseStatus::parse)?,
                plan_published,
                search_key: row.search_key,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(CourseIndex { courses })
}

/// A course list item not found kept.
type ItemMiss = Miss<(Uuid, Uuid)>;

/// A page chosen from the kept [`CourseIndex`] and filled from the kept renderings, the courses
/// not kept (or kept at another version) read in one statement. None if the catalogue changed
/// while the page was put together (the caller then asks the database): a page is never made
/// of an index and courses from either side of a change.
async fn kept_page<E: From<RepoError>>(
    db: &crate::Db,
    org_id: Uuid,
    filter: &CourseFilter,
    page: &PageRequest,
    render: &impl Fn(&CourseRecord) -> Result<String, E>,
    generation: u64,
) -> Result<Option<Page<Arc<RenderedCourse>>>, E> {
    let kept = db.kept();
    let index = match kept.course_index.lookup_in(org_id, Some(generation)) {
        Ok(index) => index,
        Err(miss) => {
            let index = Arc::new(read_course_index(db.conn(), org_id).await?);
            kept.course_index.keep(miss, index.clone(), Instant::now());
            index
        }
    };
    let text = filter.search_text();
    let start = match cursor_of(page)? {
        Some(after) => index.courses.partition_point(|c| c.order <= after),
        None => 0,
    };
    let chosen: Vec<&IndexedCourse> = index.courses[start..]
        .iter()
        .filter(|c| filter.admits(c, text.as_deref()))
        .take(page.limit as usize + 1)
        .collect();
    let mut items: Vec<Option<Arc<RenderedCourse>>> = Vec::with_capacity(chosen.len());
    // Where on the page, and the miss to keep it under (none if kept at another version).
    let mut missing: Vec<(usize, Option<ItemMiss>)> = Vec::new();
    for (i, course) in chosen.iter().enumerate() {
        match kept_item(db, org_id, course.id, course.version, Some(generation)) {
            Ok(rendered) => items.push(Some(rendered)),
            Err(miss) => {
                items.push(None);
                missing.push((i, miss));
            }
        }
    }
    if !missing.is_empty() {
        let ids = missing.iter().map(|(i, _)| chosen[*i].id);
        let mut rows: HashMap<Uuid, course::Model> = course::Entity::find()
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(ids))
            .all(db.conn())
            .await
            .map_err(RepoError::from)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        for (i, miss) in missing {
            // Gone or at another version than the index says: the index is about to be dropped.
            let Some(model) = rows.remove(&chosen[i].id).filter(|m| m.version == chosen[i].version) else {
                return Ok(None);
            };
            items[i] = Some(render_and_keep(db, model, miss, render)?);
        }
    }
    if kept.course_index.generation_at(Instant::now()) != Some(generation) {
        return Ok(None);
    }
    let items = chosen
        .iter()
        .zip(items)
        .map(|(course, rendered)| (course.order, rendered.expect("every chosen course is filled above")))
        .collect();
    Ok(Some(page_in_order(items, page.limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> IndexedCourse {
        IndexedCourse {
            id: Uuid::nil(),
            version: 1,
            order: [2023, 1, 5],
            category: Category::Thematic,
            routes: vec![Route::Recommendation, Route::Application],
            delivery: Delivery::Classroom,
            months_mask: 1 << 9,
            institution: Some("市町村研修センター".into()),
            status: CourseStatus::Published,
            plan_published: true,
            search_key: search_key("メンタルヘルスセミナー"),
        }
    }

    fn staff() -> CourseFilter {
        CourseFilter {
            statuses: vec![CourseStatus::Published, CourseStatus::Cancelled],
            published_plans_only: true,
            ..CourseFilter::default()
        }
    }

    /// Each filter alone, passing and failing, as `courses_query` asks it of the database.
    #[test]
    fn each_filter_admits_what_its_sql_would() {
        let c = course();
        let admits = |f: CourseFilter| f.admits(&c, f.search_text().as_deref());
        assert!(admits(staff()));
        let year = |y| Some(FiscalYear::new(y).unwrap());
        assert!(admits(CourseFilter { fiscal_year: year(2023), ..staff() }));
        assert!(!admits(CourseFilter { fiscal_year: year(2024), ..staff() }));
        assert!(admits(CourseFilter { category: Some(Category::Thematic), ..staff() }));
        assert!(!admits(CourseFilter { category: Some(Category::Hierarchical), ..staff() }));
        assert!(admits(CourseFilter { route: Some(Route::Application), ..staff() }));
        assert!(!admits(CourseFilter { route: Some(Route::Designation), ..staff() }));
        assert!(admits(CourseFilter { delivery: Some(Delivery::Classroom), ..staff() }));
        assert!(!admits(CourseFilter { delivery: Some(Delivery::ELearning), ..staff() }));
        assert!(admits(CourseFilter { month: Some(9), ..staff() }));
        assert!(!admits(CourseFilter { month: Some(10), ..staff() }));
        assert!(admits(CourseFilter { institution: Some("市町村研修センター".into()), ..staff() }));
        assert!(!admits(CourseFilter { institution: Some("自治大学校".into()), ..staff() }));
        // The search text is normalised as the stored key is: half-width katakana, hiragana.
        assert!(admits(CourseFilter { q: Some("ﾒﾝﾀﾙ".into()), ..staff() }));
        assert!(admits(CourseFilter { q: Some("へるす".into()), ..staff() }));
        assert!(!admits(CourseFilter { q: Some("接遇".into()), ..staff() }));
        // Blank text searches for nothing, as in SQL.
        assert!(admits(CourseFilter { q: Some("  ".into()), ..staff() }));
        assert!(!admits(CourseFilter { statuses: vec![CourseStatus::Cancelled], ..staff() }));
        let draft_plan = IndexedCourse { plan_published: false, ..course() };
        assert!(!staff().admits(&draft_plan, None));
        assert!(CourseFilter { published_plans_only: false, ..staff() }.admits(&draft_plan, None));
        let no_institution = IndexedCourse { institution: None, ..course() };
        let at = CourseFilter { institution: Some("市町村研修センター".into()), ..staff() };
        assert!(!at.admits(&no_institution, None));
    }

    #[test]
    fn a_cursor_is_three_numbers_or_refused() {
        let page = |after: Option<Vec<&str>>| PageRequest {
            limit: 50,
            after: after.map(|a| a.into_iter().map(String::from).collect()),
        };
        assert_eq!(cursor_of(&page(None)).unwrap(), None);
        assert_eq!(cursor_of(&page(Some(vec!["2023", "1", "5"]))).unwrap(), Some([2023, 1, 5]));
        for bad in [vec!["2023", "1"], vec!["2023", "x", "5"], vec!["2023", "1", "5", "7"]] {
            assert!(matches!(cursor_of(&page(Some(bad))), Err(RepoError::Invalid(_))));
        }
    }
}
