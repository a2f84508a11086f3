//! The roster: employees, their filters, and the bulk roster import.

use crate::repo::Precondition;
use kenshu_domain::Words;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use kenshu_domain::auth::{EmployeePlacement, Visibility};
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::employee::{EmployeeData, EmployeeFields, EmploymentType};
use kenshu_domain::roster_import::RosterRow;
use kenshu_domain::subsidy::GroupState;
use kenshu_domain::text::search_key;
use kenshu_domain::FieldError;
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use super::audit::{self, Change};
use super::structure::section_index;
use super::{insert_audited, like_escape, now, save_audited, Actor, Page, PageRequest, RepoError};
use crate::bulk::{self, BulkError, OnKey, Step};
use crate::entities::{employee, section, study_group};
use crate::WriteTxn;

/// An employee with the department their section belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    pub model: employee::Model,
    pub department_id: Uuid,
}

impl EmployeeRecord {
    pub fn placement(&self) -> EmployeePlacement {
        EmployeePlacement {
            org_id: self.model.org_id,
            employee_id: self.model.id,
            section_id: self.model.section_id,
            department_id: self.department_id,
        }
    }

    pub fn promotions(&self) -> BTreeMap<String, NaiveDate> {
        serde_json::from_str(&self.model.promotions).unwrap_or_default()
    }

    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.model.tags).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmployeeSort {
    #[default]
    EmployeeNo,
    Kana,
}

#[derive(Debug, Clone, Default)]
pub struct EmployeeFilter {
    pub section_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub grade: Option<String>,
    pub tag: Option<String>,
    pub hired_in: Option<FiscalYear>,
    pub q: Option<String>,
    pub include_inactive: bool,
    pub sort: EmployeeSort,
}

fn to_model(data: &EmployeeData, base: &employee::Model, section_id: Uuid, active: bool) -> employee::Model {
    let no = data.employee_no.as_str();
    employee::Model {
        employee_no: no.to_string(),
        name: data.name.clone(),
        kana: data.kana.clone(),
        email: data.email.clone(),
        portal_login_id: data.portal_login_id.clone(),
        section_id,
        grade: data.grade.clone(),
        post: data.post.clone(),
        post_since: data.post_since,
        hire_date: data.hire_date,
        promotions: serde_json::to_string(&data.promotions).expect("dates serialise"),
        employment_type: data.employment_type.as_str().to_string(),
        retirement_date: data.retirement_date,
        tags: serde_json::to_string(&data.tags).expect("strings serialise"),
        search_key: search_key(&format!("{no} {} {}", data.name, data.kana)),
        active,
        ..base.clone()
    }
}

fn blank(org_id: Uuid) -> employee::Model {
    let at = now();
    employee::Model {
        id: Uuid::now_v7(),
        org_id,
        employee_no: String::new(),
        name: String::new(),
        kana: String::new(),
        email: None,
        portal_login_id: None,
        section_id: Uuid::nil(),
        grade: String::new(),
        post: None,
        post_since: None,
        hire_date: NaiveDate::MIN,
        promotions: "{}".into(),
        employment_type: String::new(),
        retirement_date: None,
        tags: "[]".into(),
        search_key: String::new(),
        active: true,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

async fn with_departments(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    models: Vec<employee::Model>,
) -> Result<Vec<EmployeeRecord>, DbErr> {
    // Only the sections these employees sit in, not the organisation's every section.
    let sections: BTreeSet<Uuid> = models.iter().map(|m| m.section_id).collect();
    let dept: HashMap<Uuid, Uuid> = if sections.len() > 500 {
        section_index(conn, org_id).await?.into_values().collect()
    } else {
        super::structure::sections_by_id(conn, org_id, sections)
            .await?
            .into_iter()
            .map(|(id, s)| (id, s.department_id))
            .collect()
    };
    Ok(models
        .into_iter()
        .map(|m| {
            let department_id = dept.get(&m.section_id).copied().unwrap_or_default();
            EmployeeRecord { model: m, department_id }
        })
        .collect())
}

/// One employee of the organisation with their section's department, in one statement.
async fn one_with_department(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    query: sea_orm::Select<employee::Entity>,
) -> Result<Option<EmployeeRecord>, DbErr> {
    let found =
        query.filter(employee::Column::OrgId.eq(org_id)).find_also_related(section::Entity).one(conn).await?;
    Ok(found.map(|(model, s)| EmployeeRecord {
        model,
        department_id: s.filter(|s| s.org_id == org_id).map(|s| s.department_id).unwrap_or_default(),
    }))
}

pub async fn get(conn: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> Result<EmployeeRecord, RepoError> {
    one_with_department(conn, org_id, employee::Entity::find_by_id(id)).await?.ok_or(RepoError::NotFound)
}

/// [`get`] through what this instance keeps in memory ([`crate::kept`]): an HR read of an
/// employee costs no statement while the roster has not changed.
pub async fn get_kept(
    db: &crate::Db,
    org_id: Uuid,
    id: Uuid,
) -> Result<std::sync::Arc<EmployeeRecord>, RepoError> {
    db.kept().employees.row(org_id, id, async |org_id, id| get(db.conn(), org_id, id).await).await
}

pub async fn find_by_no(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_no: &str,
) -> Result<Option<EmployeeRecord>, DbErr> {
    let query = employee::Entity::find().filter(employee::Column::EmployeeNo.eq(employee_no));
    one_with_department(conn, org_id, query).await
}

/// Every employee of the organisation (active or not) as raw fields by employee number: what a
/// directory sync writes the portal's values over.
pub async fn roster_fields(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
) -> Result<HashMap<String, EmployeeFields>, DbErr> {
    let mut out = HashMap::new();
    for_each_employee(conn, employee::Entity::find().filter(employee::Column::OrgId.eq(org_id)), |m| {
        let promotions: BTreeMap<String, NaiveDate> = serde_json::from_str(&m.promotions).unwrap_or_default();
        let tags: Vec<String> = serde_json::from_str(&m.tags).unwrap_or_default();
        let fields = EmployeeFields {
            employee_no: m.employee_no.clone(),
            name: m.name,
            kana: m.kana,
            email: m.email,
            portal_login_id: m.portal_login_id,
            grade: m.grade,
            post: m.post,
            post_since: m.post_since,
            hire_date: Some(m.hire_date),
            promotions: promotions.into_iter().collect(),
            employment_type: Some(m.employment_type),
            retirement_date: m.retirement_date,
            tags,
        };
        out.insert(m.employee_no, fields);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// Employees the caller may see, filtered, in a stable order, one page at a time.
pub async fn list(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    visibility: &Visibility,
    filter: &EmployeeFilter,
    page: &PageRequest,
) -> Result<Page<EmployeeRecord>, DbErr> {
    if visibility.is_empty() {
        return Ok(Page { items: vec![], next: None });
    }
    let index = section_index(conn, org_id).await?;
    let sections_of = |departments: &[Uuid]| -> Vec<Uuid> {
        index.values().filter(|(_, d)| departments.contains(d)).map(|(s, _)| *s).collect()
    };
    let mut q = employee::Entity::find().filter(employee::Column::OrgId.eq(org_id));
    if !visibility.whole_org {
        let mut sections = visibility.sections.clone();
        sections.extend(sections_of(&visibility.departments));
        let mut any = Condition::any();
        if let Some(me) = visibility.employee {
            any = any.add(employee::Column::Id.eq(me));
        }
        if !sections.is_empty() {
            any = any.add(employee::Column::SectionId.is_in(sections));
        }
        q = q.filter(any);
    }
    if let Some(s) = filter.section_id {
        q = q.filter(employee::Column::SectionId.eq(s));
    }
    if let Some(d) = filter.department_id {
        q = q.filter(employee::Column::SectionId.is_in(sections_of(&[d])));
    }
    if let Some(g) = &filter.grade {
        q = q.filter(employee::Column::Grade.eq(g.as_str()));
    }
    if let Some(t) = &filter.tag {
        let pattern = format!("%\"{}\"%", like_escape(t));
        q = q.filter(Expr::col(employee::Column::Tags).like(LikeExpr::new(pattern).escape('!')));
    }
    if let Some(fy) = filter.hired_in {
        q = q.filter(employee::Column::HireDate.between(fy.start(), fy.end()));
    }
    if let Some(text) = filter.q.as_deref().map(search_key).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(&text));
        q = q.filter(Expr::col(employee::Column::SearchKey).like(LikeExpr::new(pattern).escape('!')));
    }
    if !filter.include_inactive {
        q = q.filter(employee::Column::Active.eq(true));
    }
    let after = page.after.clone().unwrap_or_default();
    q = match filter.sort {
        EmployeeSort::EmployeeNo => {
            if let [no] = after.as_slice() {
                q = q.filter(employee::Column::EmployeeNo.gt(no.as_str()));
            }
            q.order_by_asc(employee::Column::EmployeeNo)
        }
        EmployeeSort::Kana => {
            if let [kana, no] = after.as_slice() {
                q = q.filter(
                    Condition::any().add(employee::Column::Kana.gt(kana.as_str())).add(
                        Condition::all()
                            .add(employee::Column::Kana.eq(kana.as_str()))
                            .add(employee::Column::EmployeeNo.gt(no.as_str())),
                    ),
                );
            }
            q.order_by_asc(employee::Column::Kana).order_by_asc(employee::Column::EmployeeNo)
        }
    };
    let rows = q.limit(page.limit + 1).all(conn).await?;
    let sort = filter.sort;
    let page = Page::from_rows(rows, page.limit, move |m: &employee::Model| match sort {
        EmployeeSort::EmployeeNo => vec![m.employee_no.clone()],
        EmployeeSort::Kana => vec![m.kana.clone(), m.employee_no.clone()],
    });
    let items = with_departments(conn, org_id, page.items).await?;
    Ok(Page { items, next: page.next })
}

async fn section_in_org(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_id: Uuid,
) -> Result<(), RepoError> {
    let index = section_index(conn, org_id).await?;
    if index.values().any(|(s, _)| *s == section_id) {
        Ok(())
    } else {
        Err(RepoError::Invalid(vec![FieldError::not_found(
            "section_id",
            "no such section in this organisation",
        )]))
    }
}

const NUMBER_TAKEN: &Words = &Words::fixed(
    "an employee with this employee number exists",
    "同じ職員番号の職員がすでに登録されています",
);

pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    data: &EmployeeData,
    section_id: Uuid,
) -> Result<EmployeeRecord, RepoError> {
    section_in_org(conn, actor.org_id, section_id).await?;
    let model = to_model(data, &blank(actor.org_id), section_id, true);
    let model = insert_audited(conn, actor, "employee.create", model, NUMBER_TAKEN).await?;
    get(conn, actor.org_id, model.id).await
}

/// Replace an employee's data, and say the move it made (to another section, or off the roster)
/// for the caller to carry through in the same transaction ([`super::cascade::roster_moved`]).
pub async fn update(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    data: &EmployeeData,
    section_id: Uuid,
    active: bool,
) -> Result<(EmployeeRecord, Option<RosterMove>), RepoError> {
    let before = get(conn, actor.org_id, id).await?.model;
    super::check_version(before.version, expected_version)?;
    section_in_org(conn, actor.org_id, section_id).await?;
    let after = to_model(data, &before, section_id, active);
    let moved = RosterMove::between(&before, &after);
    save_audited(conn, actor, "employee.update", &before, expected_version, after, NUMBER_TAKEN).await?;
    Ok((get(conn, actor.org_id, id).await?, moved))
}

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportStats {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
}

/// An employee a roster import moved to another section or marked inactive (人事異動・退職).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterMove {
    pub employee_id: Uuid,
    pub from_section: Uuid,
    pub to_section: Uuid,
    /// Marked inactive: left the organisation.
    pub left: bool,
}

impl RosterMove {
    /// The move from `before` to `after` of one employee, if they changed section or left.
    pub fn between(before: &employee::Model, after: &employee::Model) -> Option<Self> {
        let left = before.active && !after.active;
        (left || after.section_id != before.section_id).then_some(Self {
            employee_id: before.id,
            from_section: before.section_id,
            to_section: after.section_id,
            left,
        })
    }
}

/// Plans a roster import: tells new, changed and unchanged employees apart against the roster
/// as it was when the import began, and turns each batch into multi-row statements (employees
/// and their audit records). Pure CPU once loaded, so it runs beside the parser on a blocking
/// thread while the caller's task executes the statements of earlier batches in one
/// transaction; see [`execute`].
pub struct RosterPlanner {
    backend: DbBackend,
    actor: Actor,
    existing: HashMap<String, employee::Model>,
    sections: HashMap<String, Uuid>,
    seen: HashSet<Uuid>,
    stats: ImportStats,
    moves: Vec<RosterMove>,
    /// The source has no login id column: each employee keeps the one they have.
    keep_login_ids: bool,
}

/// One planned batch: the statements in the order they must run, and the audit records of the
/// changes they make (kept by the transaction that runs them, see [`execute`]).
#[derive(Debug, Default)]
pub struct Planned {
    steps: Vec<Step>,
    audit: Vec<crate::entities::audit_log::Model>,
}

impl RosterPlanner {
    /// Load the current roster of the actor's organisation (inside the import's transaction).
    pub async fn load(conn: &impl ConnectionTrait, actor: &Actor) -> Result<Self, DbErr> {
        let mut existing = HashMap::new();
        for_each_employee(
            conn,
            employee::Entity::find().filter(employee::Column::OrgId.eq(actor.org_id)),
            |m| {
                existing.insert(m.employee_no.clone(), m);
                Ok(())
            },
        )
        .await?;
        let sections =
            section_index(conn, actor.org_id).await?.into_iter().map(|(c, (id, _))| (c, id)).collect();
        Ok(Self {
            backend: conn.get_database_backend(),
            actor: actor.clone(),
            existing,
            sections,
            seen: HashSet::new(),
            stats: ImportStats::default(),
            moves: Vec::new(),
            keep_login_ids: false,
        })
    }

    /// The source does not carry login ids (a roster file without the column): keep each
    /// employee's, set by the portal's directory or by hand, instead of clearing it.
    pub fn keep_login_ids(&mut self) {
        self.keep_login_ids = true;
    }

    /// Rows planned so far.
    pub fn rows(&self) -> u64 {
        self.stats.rows
    }

    /// Plan one batch of validated rows.
    pub fn plan(&mut self, rows: &[RosterRow]) -> Result<Planned, DbErr> {
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        let mut changes = Vec::new();
        let at = now();
        for row in rows {
            self.stats.rows += 1;
            let section_id = self.sections[&row.section_code];
            match self.existing.get(row.data.employee_no.as_str()) {
                None => {
                    let model = to_model(&row.data, &blank(self.actor.org_id), section_id, true);
                    self.seen.insert(model.id);
                    changes.push(Change::new(
                        "employee.import",
                        "employee",
                        Some(model.id),
                        None,
                        Some(&model),
                    ));
                    inserts.push(model);
                    self.stats.created += 1;
                }
                Some(before) => {
                    self.seen.insert(before.id);
                    let mut after = to_model(&row.data, before, section_id, true);
                    if self.keep_login_ids {
                        after.portal_login_id = before.portal_login_id.clone();
                    }
                    if after == *before {
                        self.stats.unchanged += 1;
                        continue;
                    }
                    after.version += 1;
                    after.updated_at = at;
                    self.moves.extend(RosterMove::between(before, &after));
                    changes.push(Change::new(
                        "employee.import",
                        "employee",
                        Some(after.id),
                        Some(before),
                        Some(&after),
                    ));
                    updates.push(after);
                    self.stats.updated += 1;
                }
            }
        }
        let mut steps = bulk::statements::<employee::Entity>(self.backend, &inserts, OnKey::Fail)?;
        steps.extend(bulk::statements::<employee::Entity>(self.backend, &updates, IMPORT_UPDATE)?);
        Ok(Planned { steps, audit: audit::prepare(&self.actor, changes) })
    }

    /// The last statements and the totals. With `deactivate_missing`, employees not in the file
    /// are marked inactive (never deleted: their training history stays).
    pub fn finish(
        mut self,
        deactivate_missing: bool,
    ) -> Result<(Planned, ImportStats, Vec<RosterMove>), DbErr> {
        let mut planned = Planned::default();
        if deactivate_missing {
            let at = now();
            let mut updates = Vec::new();
            let mut changes = Vec::new();
            for before in self.existing.values() {
                if before.active && !self.seen.contains(&before.id) {
                    let after = employee::Model {
                        active: false,
                        version: before.version + 1,
                        updated_at: at,
                        ..before.clone()
                    };
                    self.moves.extend(RosterMove::between(before, &after));
                    changes.push(Change::new(
                        "employee.deactivate",
                        "employee",
                        Some(after.id),
                        Some(before),
                        Some(&after),
                    ));
                    updates.push(after);
                }
            }
            self.stats.deactivated = updates.len() as u64;
            planned = Planned {
                steps: bulk::statements::<employee::Entity>(self.backend, &updates, IMPORT_UPDATE)?,
                audit: audit::prepare(&self.actor, changes),
            };
        }
        Ok((planned, self.stats, self.moves))
    }
}

/// Columns an import may change on an existing employee (an upsert on the primary key).
const UPDATED_BY_IMPORT: [employee::Column; 17] = [
    employee::Column::Name,
    employee::Column::Kana,
    employee::Column::Email,
    employee::Column::PortalLoginId,
    employee::Column::SectionId,
    employee::Column::Grade,
    employee::Column::Post,
    employee::Column::PostSince,
    employee::Column::HireDate,
    employee::Column::Promotions,
    employee::Column::EmploymentType,
    employee::Column::RetirementDate,
    employee::Column::Tags,
    employee::Column::SearchKey,
    employee::Column::Active,
    employee::Column::Version,
    employee::Column::UpdatedAt,
];

/// An import updates an employee only at the version it planned against: on PostgreSQL another
/// request may change one between the roster's loading and the write, and that change must
/// not be overwritten silently.
const IMPORT_UPDATE: OnKey<'static, employee::Column> =
    OnKey::UpdateIfVersion { columns: &UPDATED_BY_IMPORT, version: employee::Column::Version };

const ROSTER_CHANGED: &Words = &Words::fixed(
    "the roster changed while this import ran (another import or an edit); nothing was written, send the file again",
    "取込中に職員名簿が変更されました（別の取込または編集）。何も書き込んでいません。ファイルをもう一度送ってください",
);

/// Run planned statements, in order, on the import's transaction.
pub async fn execute(txn: &WriteTxn, planned: Planned) -> Result<(), RepoError> {
    bulk::execute(txn, planned.steps).await.map_err(|e| match e {
        BulkError::Changed => RepoError::Conflict(ROSTER_CHANGED.clone()),
        BulkError::Db(e) => RepoError::from_write(e, ROSTER_CHANGED),
    })?;
    audit::write(txn, planned.audit).await?;
    Ok(())
}

/// Every employee `query` (of one organisation) finds, in employee-number order, a page at a
/// time (see [`super::for_each_in_pages`]).
async fn for_each_employee(
    conn: &impl ConnectionTrait,
    query: Select<employee::Entity>,
    each: impl FnMut(employee::Model) -> Result<(), DbErr>,
) -> Result<(), DbErr> {
    let models = |q: Select<employee::Entity>| q.into_model::<employee::Model>();
    super::for_each_in_pages(
        conn,
        query,
        employee::Column::EmployeeNo,
        models,
        |m| m.employee_no.clone(),
        each,
    )
    .await
}

/// An active employee as audience rules see them (`kenshu_domain::audience::Candidate`).
#[derive(Debug, Clone)]
pub struct RosterMember {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub section_id: Uuid,
    pub grade: String,
    pub post: Option<String>,
    pub post_since: Option<NaiveDate>,
    pub hire_date: NaiveDate,
    pub promotions: BTreeMap<String, NaiveDate>,
    pub employment_type: EmploymentType,
    pub retirement_date: Option<NaiveDate>,
    pub tags: BTreeSet<String>,
    /// Heads a section (所属長), not only acting for one.
    pub heads_a_section: bool,
    /// Fiscal years of the study groups (not rejected) the employee belongs to.
    pub study_group_years: BTreeSet<i32>,
}

impl RosterMember {
    /// The view rules evaluate.
    pub fn candidate(&self) -> kenshu_domain::audience::Candidate<'_> {
        kenshu_domain::audience::Candidate {
            active: true,
            grade: &self.grade,
            post: self.post.as_deref(),
            post_since: self.post_since,
            hire_date: self.hire_date,
            promotions: &self.promotions,
            employment_type: self.employment_type,
            retirement_date: self.retirement_date,
            tags: &self.tags,
            heads_a_section: self.heads_a_section,
            study_group_years: &self.study_group_years,
        }
    }
}

/// Active employees of the organisation (or one of them), in employee-number order, read once
/// for evaluating audience rules.
pub async fn roster_members(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<RosterMember>, DbErr> {
    // One employee's read (`/me/courses`) looks only for the sections they head: it must not
    // grow with the organisation.
    let mut headed = section::Entity::find()
        .select_only()
        .column(section::Column::HeadEmployeeId)
        .filter(section::Column::OrgId.eq(org_id))
        .filter(section::Column::HeadEmployeeId.is_not_null());
    if let Some(id) = only {
        headed = headed.filter(section::Column::HeadEmployeeId.eq(id));
    }
    let heads: HashSet<Uuid> =
        headed.into_tuple::<Option<Uuid>>().all(conn).await?.into_iter().flatten().collect();
    let mut q = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::Active.eq(true));
    if let Some(id) = only {
        q = q.filter(employee::Column::Id.eq(id));
    }
    // Study groups are few (tens a year): read them all once.
    let mut groups: HashMap<Uuid, BTreeSet<i32>> = HashMap::new();
    for g in study_group::Entity::find()
        .filter(study_group::Column::OrgId.eq(org_id))
        .filter(study_group::Column::State.ne(GroupState::Rejected.as_str()))
        .all(conn)
        .await?
    {
        for id in super::study_group::group_members(&g) {
            groups.entry(id).or_default().insert(g.fiscal_year);
        }
    }
    let json = |what: &str, e: serde_json::Error| DbErr::Custom(format!("stored employee {what}: {e}"));
    let mut out = Vec::new();
    let rows =
        |q: Select<employee::Entity>| q.select_only().columns(MEMBER_COLUMNS).into_model::<MemberRow>();
    super::for_each_in_pages(
        conn,
        q,
        employee::Column::EmployeeNo,
        rows,
        |m| m.employee_no.clone(),
        |m| {
            out.push(RosterMember {
                study_group_years: groups.remove(&m.id).unwrap_or_default(),
                heads_a_section: heads.contains(&m.id),
                promotions: serde_json::from_str(&m.promotions).map_err(|e| json("promotions", e))?,
                tags: serde_json::from_str(&m.tags).map_err(|e| json("tags", e))?,
                employment_type: crate::entities::stored(
                    "employee.employment_type",
                    &m.employment_type,
                    EmploymentType::parse,
                )?,
                id: m.id,
                employee_no: m.employee_no,
                name: m.name,
                section_id: m.section_id,
                grade: m.grade,
                post: m.post,
                post_since: m.post_since,
                hire_date: m.hire_date,
                retirement_date: m.retirement_date,
            });
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// The columns of an employee the audience rules read: [`roster_members`] reads only these for
/// every active employee (not the reading of the name, the e-mail, the search key and the rest:
/// at 50,000 staff the roster is read whole for every designation run and preview).
const MEMBER_COLUMNS: [employee::Column; 12] = [
    employee::Column::Id,
    employee::Column::EmployeeNo,
    employee::Column::Name,
    employee::Column::SectionId,
    employee::Column::Grade,
    employee::Column::Post,
    employee::Column::PostSince,
    employee::Column::HireDate,
    employee::Column::Promotions,
    employee::Column::EmploymentType,
    employee::Column::RetirementDate,
    employee::Column::Tags,
];

/// A row of [`MEMBER_COLUMNS`].
#[derive(Debug, sea_orm::FromQueryResult)]
struct MemberRow {
    id: Uuid,
    employee_no: String,
    name: String,
    section_id: Uuid,
    grade: String,
    post: Option<String>,
    post_since: Option<NaiveDate>,
    hire_date: NaiveDate,
    promotions: String,
    employment_type: String,
    retirement_date: Option<NaiveDate>,
    tags: String,
}

/// One active member of staff as [`roster_members`] reads them, kept in memory until the roster
/// scope changes (study groups and grades are in it); `None`, not kept, for anyone else.
pub async fn roster_member_kept(
    db: &crate::Db,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<std::sync::Arc<RosterMember>>, DbErr> {
    let read = async |&(org_id, id): &(Uuid, Uuid)| {
        Ok(roster_members(db.conn(), org_id, Some(id)).await?.into_iter().next())
    };
    db.kept().members.get_or_read((org_id, id), read).await
}

/// A part of the organisation whose staff a list is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Section(Uuid),
    Department(Uuid),
}

/// The ids of a section's or a department's staff.
pub async fn staff_ids(conn: &impl ConnectionTrait, org_id: Uuid, unit: Unit) -> Result<Vec<Uuid>, DbErr> {
    let sections: Vec<Uuid> = match unit {
        Unit::Section(id) => vec![id],
        Unit::Department(id) => section::Entity::find()
            .filter(section::Column::OrgId.eq(org_id))
            .filter(section::Column::DepartmentId.eq(id))
            .all(conn)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect(),
    };
    super::in_chunks(&sections, |chunk| async move {
        employee::Entity::find()
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::SectionId.is_in(chunk.iter().copied()))
            .all(conn)
            .await
            .map(|rows| rows.into_iter().map(|e| e.id))
    })
    .await
}

/// An employee as lists and workflows name them: id, number, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRef {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
}

/// An employee as lists, workflows and notices name them: their reference, their section, and
/// how a notice reaches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub employee: EmployeeRef,
    pub section_id: Uuid,
    pub email: Option<String>,
    pub portal_login_id: Option<String>,
    /// On the roster; false once they left (退職).
    pub active: bool,
}

/// Employees of the organisation by id (repeats allowed), read narrow and in chunks that keep
/// within every backend's parameter limit: lists of reports owed name thousands of trainees, and
/// decoding whole employee rows (promotions, tags, search key) for their number, name and section
/// was most of an overdue export's time.
pub async fn employees_by_id(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Placed>, DbErr> {
    let ids: Vec<Uuid> = ids.iter().copied().collect::<HashSet<_>>().into_iter().collect();
    super::in_chunks(&ids, |chunk| async move {
        employee::Entity::find()
            .select_only()
            .columns([
                employee::Column::Id,
                employee::Column::EmployeeNo,
                employee::Column::Name,
                employee::Column::SectionId,
                employee::Column::Email,
                employee::Column::PortalLoginId,
                employee::Column::Active,
            ])
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::Id.is_in(chunk))
            .into_tuple::<(Uuid, String, String, Uuid, Option<String>, Option<String>, bool)>()
            .all(conn)
            .await
            .map(|rows| {
                rows.into_iter().map(|(id, employee_no, name, section_id, email, portal_login_id, active)| {
                    let employee = EmployeeRef { id, employee_no, name };
                    (id, Placed { employee, section_id, email, portal_login_id, active })
                })
            })
    })
    .await
}
