//! Departments (部) and sections (課・所属), each with a head and an acting head.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::HashMap;

use kenshu_domain::org::{leads_elsewhere, LedUnit};
use kenshu_domain::{FieldCode, FieldError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{find_in_org, insert_audited, now, save_audited, Actor, Page, PageRequest, RepoError};
use crate::entities::{department, employee, section};

/// Validated fields of a department or section.
#[derive(Debug, Clone)]
pub struct UnitInput {
    pub code: String,
    pub name: String,
    pub head_employee_id: Option<Uuid>,
    pub acting_head_employee_id: Option<Uuid>,
}

/// Heads must be active employees of the same organisation.
async fn check_heads(conn: &impl ConnectionTrait, org_id: Uuid, input: &UnitInput) -> Result<(), RepoError> {
    let mut errors = Vec::new();
    for (field, id) in [
        ("head_employee_id", input.head_employee_id),
        ("acting_head_employee_id", input.acting_head_employee_id),
    ] {
        let Some(id) = id else { continue };
        let found = employee::Entity::find()
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::Id.eq(id))
            .filter(employee::Column::Active.eq(true))
            .count(conn)
            .await?;
        if found == 0 {
            errors.push(FieldError::not_found(field, "is not an active employee of this organisation"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RepoError::Invalid(errors))
    }
}

fn after_code(page: &PageRequest) -> Option<String> {
    page.after.as_ref().and_then(|a| a.first().cloned())
}

pub async fn list_departments(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    page: &PageRequest,
) -> Result<Page<department::Model>, DbErr> {
    let mut q = department::Entity::find().filter(department::Column::OrgId.eq(org_id));
    if let Some(code) = after_code(page) {
        q = q.filter(department::Column::Code.gt(code));
    }
    let rows = q.order_by_asc(department::Column::Code).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |d| vec![d.code.clone()]))
}

pub async fn get_department(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<department::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

pub async fn create_department(
    conn: &WriteTxn,
    actor: &Actor,
    input: UnitInput,
) -> Result<department::Model, RepoError> {
    check_heads(conn, actor.org_id, &input).await?;
    let at = now();
    let model = department::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        code: input.code,
        name: input.name,
        head_employee_id: input.head_employee_id,
        acting_head_employee_id: input.acting_head_employee_id,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(
        conn,
        actor,
        "department.create",
        model,
        &Words::fixed("a department with this code exists", "同じコードの部がすでにあります"),
    )
    .await
}

/// The sections and departments `leavers` headed or stood in for (代理), and the organisation's
/// named approver if a leaver was it, left without them: nobody off the roster decides anything,
/// and what they would have decided goes one step up (`kenshu_domain::approval`) until the office
/// names someone. Each change audited as `*.head_left`. How many were vacated.
pub async fn vacate_leavers(conn: &WriteTxn, actor: &Actor, leavers: &[Uuid]) -> Result<u64, RepoError> {
    if leavers.is_empty() {
        return Ok(0);
    }
    // The organisation's units with a head are a few hundred; an April import's leavers can be
    // thousands, more than one statement's parameters.
    let leavers: std::collections::HashSet<Uuid> = leavers.iter().copied().collect();
    let gone = |id: Option<Uuid>| id.filter(|id| !leavers.contains(id));
    let led = |head: Option<Uuid>, acting: Option<Uuid>| {
        [head, acting].into_iter().flatten().any(|id| leavers.contains(&id))
    };
    let mut vacated = 0;
    let sections = section::Entity::find()
        .filter(section::Column::OrgId.eq(actor.org_id))
        .filter(
            sea_orm::Condition::any()
                .add(section::Column::HeadEmployeeId.is_not_null())
                .add(section::Column::ActingHeadEmployeeId.is_not_null()),
        )
        .all(conn)
        .await?;
    for before in sections.into_iter().filter(|s| led(s.head_employee_id, s.acting_head_employee_id)) {
        let after = section::Model {
            head_employee_id: gone(before.head_employee_id),
            acting_head_employee_id: gone(before.acting_head_employee_id),
            ..before.clone()
        };
        let version = Precondition::version(before.version);
        let words = Words::fixed("a section with this code exists", "同じコードの所属がすでにあります");
        save_audited(conn, actor, "section.head_left", &before, &version, after, &words).await?;
        vacated += 1;
    }
    let departments = department::Entity::find()
        .filter(department::Column::OrgId.eq(actor.org_id))
        .filter(
            sea_orm::Condition::any()
                .add(department::Column::HeadEmployeeId.is_not_null())
                .add(department::Column::ActingHeadEmployeeId.is_not_null()),
        )
        .all(conn)
        .await?;
    for before in departments.into_iter().filter(|d| led(d.head_employee_id, d.acting_head_employee_id)) {
        let after = department::Model {
            head_employee_id: gone(before.head_employee_id),
            acting_head_employee_id: gone(before.acting_head_employee_id),
            ..before.clone()
        };
        let version = Precondition::version(before.version);
        let words = Words::fixed("a department with this code exists", "同じコードの部がすでにあります");
        save_audited(conn, actor, "department.head_left", &before, &version, after, &words).await?;
        vacated += 1;
    }
    let org = super::org::get(conn, actor.org_id).await?;
    if org.top_approver_employee_id.is_some_and(|id| leavers.contains(&id)) {
        let settings = super::org::WorkflowSettings {
            top_approver: None,
            promotion_cutoff_days: org.promotion_cutoff_days,
            language: org.language.clone(),
        };
        super::org::set_workflow(conn, actor, &Precondition::version(org.version), settings).await?;
        vacated += 1;
    }
    Ok(vacated)
}

/// A unit a mover still heads or stands in for outside where they now sit
/// ([`kenshu_domain::org::leads_elsewhere`]): a concurrent post (兼務) or a head not replaced yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadElsewhere {
    pub employee_no: String,
    /// The code of the section they now sit in.
    pub section_code: String,
    pub unit: LedUnit,
    pub unit_code: String,
    /// Stands in for the head (代理) rather than heads it.
    pub acting: bool,
}

/// Of `moves`, the movers who still head or stand in for a section or department they no longer
/// sit in, after the roster named any new heads; reported for the office, nothing changed. The
/// organisation's units are a few hundred, read whole.
pub async fn heads_elsewhere(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    moves: &[super::employee::RosterMove],
) -> Result<Vec<HeadElsewhere>, DbErr> {
    let now_in: HashMap<Uuid, Uuid> = moves
        .iter()
        .filter(|m| !m.left && m.from_section != m.to_section)
        .map(|m| (m.employee_id, m.to_section))
        .collect();
    if now_in.is_empty() {
        return Ok(Vec::new());
    }
    let sections = section::Entity::find().filter(section::Column::OrgId.eq(org_id)).all(conn).await?;
    let departments =
        department::Entity::find().filter(department::Column::OrgId.eq(org_id)).all(conn).await?;
    let section_of: HashMap<Uuid, &section::Model> = sections.iter().map(|s| (s.id, s)).collect();
    let led =
        sections
            .iter()
            .map(|s| (LedUnit::Section(s.id), &s.code, s.head_employee_id, s.acting_head_employee_id))
            .chain(departments.iter().map(|d| {
                (LedUnit::Department(d.id), &d.code, d.head_employee_id, d.acting_head_employee_id)
            }));
    let mut found = Vec::new();
    for (unit, code, head, acting) in led {
        for (who, is_acting) in [(head, false), (acting, true)] {
            let Some((who, sits)) = who.and_then(|w| Some((w, section_of.get(now_in.get(&w)?)?))) else {
                continue;
            };
            if leads_elsewhere(unit, sits.id, sits.department_id) {
                found.push((who, sits.code.clone(), unit, code.clone(), is_acting));
            }
        }
    }
    let ids: Vec<Uuid> = found.iter().map(|f| f.0).collect();
    let staff = super::employee::employees_by_id(conn, org_id, &ids).await?;
    let mut out: Vec<HeadElsewhere> = found
        .into_iter()
        .filter_map(|(who, section_code, unit, unit_code, acting)| {
            let employee_no = staff.get(&who)?.employee.employee_no.clone();
            Some(HeadElsewhere { employee_no, section_code, unit, unit_code, acting })
        })
        .collect();
    out.sort_by(|a, b| (&a.employee_no, &a.unit_code).cmp(&(&b.employee_no, &b.unit_code)));
    Ok(out)
}

pub async fn update_department(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    input: UnitInput,
) -> Result<department::Model, RepoError> {
    let before = get_department(conn, actor.org_id, id).await?;
    super::check_version(before.version, expected_version)?;
    check_heads(conn, actor.org_id, &input).await?;
    let after = department::Model {
        code: input.code,
        name: input.name,
        head_employee_id: input.head_employee_id,
        acting_head_employee_id: input.acting_head_employee_id,
        ..before.clone()
    };
    save_audited(
        conn,
        actor,
        "department.update",
        &before,
        expected_version,
        after,
        &Words::fixed("a department with this code exists", "同じコードの部がすでにあります"),
    )
    .await
}

pub async fn list_sections(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    department_id: Option<Uuid>,
    page: &PageRequest,
) -> Result<Page<section::Model>, DbErr> {
    let mut q = section::Entity::find().filter(section::Column::OrgId.eq(org_id));
    if let Some(d) = department_id {
        q = q.filter(section::Column::DepartmentId.eq(d));
    }
    if let Some(code) = after_code(page) {
        q = q.filter(section::Column::Code.gt(code));
    }
    let rows = q.order_by_asc(section::Column::Code).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |s| vec![s.code.clone()]))
}

pub async fn get_section(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<section::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

async fn check_department(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    department_id: Uuid,
) -> Result<(), RepoError> {
    match get_department(conn, org_id, department_id).await {
        Err(RepoError::NotFound) => Err(RepoError::Invalid(vec![FieldError::not_found(
            "department_id",
            "no such department in this organisation",
        )])),
        other => other.map(|_| ()),
    }
}

pub async fn create_section(
    conn: &WriteTxn,
    actor: &Actor,
    department_id: Uuid,
    input: UnitInput,
) -> Result<section::Model, RepoError> {
    check_department(conn, actor.org_id, department_id).await?;
    check_heads(conn, actor.org_id, &input).await?;
    let at = now();
    let model = section::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        department_id,
        code: input.code,
        name: input.name,
        head_employee_id: input.head_employee_id,
        acting_head_employee_id: input.acting_head_employee_id,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(
        conn,
        actor,
        "section.create",
        model,
        &Words::fixed("a section with this code exists", "同じコードの所属がすでにあります"),
    )
    .await
}

pub async fn update_section(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    department_id: Uuid,
    input: UnitInput,
) -> Result<section::Model, RepoError> {
    let before = get_section(conn, actor.org_id, id).await?;
    super::check_version(before.version, expected_version)?;
    check_department(conn, actor.org_id, department_id).await?;
    check_heads(conn, actor.org_id, &input).await?;
    let after = section::Model {
        department_id,
        code: input.code,
        name: input.name,
        head_employee_id: input.head_employee_id,
        acting_head_employee_id: input.acting_head_employee_id,
        ..before.clone()
    };
    save_audited(
        conn,
        actor,
        "section.update",
        &before,
        expected_version,
        after,
        &Words::fixed("a section with this code exists", "同じコードの所属がすでにあります"),
    )
    .await
}

/// Every section of the organisation: code → (id, department id).
pub async fn section_index(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
) -> Result<HashMap<String, (Uuid, Uuid)>, DbErr> {
    let rows = section::Entity::find().filter(section::Column::OrgId.eq(org_id)).all(conn).await?;
    Ok(rows.into_iter().map(|s| (s.code, (s.id, s.department_id))).collect())
}

/// The sections with these ids, by id (those of other organisations are left out).
pub async fn sections_by_id(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, section::Model>, DbErr> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = section::Entity::find()
        .filter(section::Column::OrgId.eq(org_id))
        .filter(section::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// Where a section sits, by name: what lists for people show (所属, 部).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitNames {
    pub department_id: Uuid,
    pub department: String,
    pub section: String,
}

/// The names of these sections and of their departments, by section id (two queries, whatever
/// the number of sections; other organisations' sections are left out).
pub async fn unit_names(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, UnitNames>, DbErr> {
    let mut ids: Vec<Uuid> = section_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let sections = sections_by_id(conn, org_id, ids).await?;
    let mut department_ids: Vec<Uuid> = sections.values().map(|s| s.department_id).collect();
    department_ids.sort_unstable();
    department_ids.dedup();
    let departments: HashMap<Uuid, String> = if department_ids.is_empty() {
        HashMap::new()
    } else {
        department::Entity::find()
            .filter(department::Column::OrgId.eq(org_id))
            .filter(department::Column::Id.is_in(department_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect()
    };
    Ok(sections
        .into_values()
        .map(|s| {
            let department = departments.get(&s.department_id).cloned().unwrap_or_default();
            (s.id, UnitNames { department_id: s.department_id, department, section: s.name })
        })
        .collect())
}

/// A unit's head and acting head, resolved.
type HeadIds = (Option<Uuid>, Option<Uuid>);

/// The heads a loaded unit gets: those the file names where it has the column (an empty cell is
/// nobody), and where it lacks the column those the unit has now.
fn loaded_heads(named: HeadIds, has_column: (bool, bool), kept: Option<HeadIds>) -> HeadIds {
    let (kept_head, kept_acting) = kept.unwrap_or_default();
    (if has_column.0 { named.0 } else { kept_head }, if has_column.1 { named.1 } else { kept_acting })
}

/// Load a structure file (組織表): departments and sections by code, created or updated with
/// their heads and acting heads (active employees, by number), each change audited. Units the
/// file does not name are kept. Every head that names nobody on the roster is a row error, and
/// then nothing is written (the caller rolls back).
pub async fn import(
    conn: &WriteTxn,
    actor: &Actor,
    file: &kenshu_domain::structure_io::StructureFile,
) -> Result<
    Result<kenshu_domain::structure_io::StructureCounts, Vec<kenshu_domain::roster_import::RowError>>,
    RepoError,
> {
    use kenshu_domain::roster_import::RowError;
    use kenshu_domain::structure_io::Heads;
    // Every number the file names, resolved at once.
    let mut numbers: Vec<String> = Vec::new();
    let heads_of =
        |h: &Heads| [h.head.clone(), h.acting.clone()].into_iter().flatten().map(|n| n.as_str().to_string());
    for d in file.departments.values() {
        numbers.extend(heads_of(&d.heads));
    }
    for s in &file.sections {
        numbers.extend(heads_of(&s.heads));
    }
    numbers.sort();
    numbers.dedup();
    let staff: HashMap<String, Uuid> = super::in_chunks(&numbers, |chunk| async move {
        employee::Entity::find()
            .select_only()
            .column(employee::Column::Id)
            .column(employee::Column::EmployeeNo)
            .filter(employee::Column::OrgId.eq(actor.org_id))
            .filter(employee::Column::Active.eq(true))
            .filter(employee::Column::EmployeeNo.is_in(chunk.iter().cloned()))
            .into_tuple::<(Uuid, String)>()
            .all(conn)
            .await
            .map(|rows| rows.into_iter().map(|(id, no)| (no, id)))
    })
    .await?;
    let mut errors = Vec::new();
    let mut resolve = |line: u64, column: &str, heads: &Heads| -> HeadIds {
        let mut one = |no: &Option<kenshu_domain::employee::EmployeeNo>, column: &str| {
            let no = no.as_ref()?;
            let id = staff.get(no.as_str()).copied();
            if id.is_none() {
                errors.push(RowError::new(
                    line,
                    column,
                    FieldCode::NotFound,
                    format!("{} is not an active employee of the organisation", no.as_str()),
                ));
            }
            id
        };
        (one(&heads.head, column), one(&heads.acting, &format!("{column}代理")))
    };
    let departments: Vec<(_, HeadIds)> =
        file.departments.values().map(|d| (d, resolve(d.line, "部長", &d.heads))).collect();
    let sections: Vec<(_, HeadIds)> =
        file.sections.iter().map(|s| (s, resolve(s.line, "所属長", &s.heads))).collect();
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Ok(Err(errors));
    }
    let mut stats = kenshu_domain::structure_io::StructureCounts::default();
    let existing: HashMap<String, department::Model> = department::Entity::find()
        .filter(department::Column::OrgId.eq(actor.org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    let mut department_ids: HashMap<String, Uuid> = existing.iter().map(|(c, d)| (c.clone(), d.id)).collect();
    for (d, (head, acting)) in departments {
        let kept = existing.get(d.code.as_str());
        let cols = file.head_columns;
        let (head, acting) = loaded_heads(
            (head, acting),
            (cols.department_head, cols.department_acting),
            kept.map(|k| (k.head_employee_id, k.acting_head_employee_id)),
        );
        let input = UnitInput {
            code: d.code.as_str().to_string(),
            name: d.name.clone(),
            head_employee_id: head,
            acting_head_employee_id: acting,
        };
        match kept {
            None => {
                let created = create_department(conn, actor, input).await?;
                department_ids.insert(created.code.clone(), created.id);
                stats.departments_created += 1;
            }
            Some(before) => {
                let after =
                    update_department(conn, actor, before.id, &Precondition::version(before.version), input)
                        .await?;
                if after.version == before.version {
                    stats.departments_unchanged += 1;
                } else {
                    stats.departments_updated += 1;
                }
            }
        }
    }
    let existing: HashMap<String, section::Model> = section::Entity::find()
        .filter(section::Column::OrgId.eq(actor.org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    for (s, (head, acting)) in sections {
        let department_id = department_ids[s.department_code.as_str()];
        let kept = existing.get(s.code.as_str());
        let cols = file.head_columns;
        let (head, acting) = loaded_heads(
            (head, acting),
            (cols.section_head, cols.section_acting),
            kept.map(|k| (k.head_employee_id, k.acting_head_employee_id)),
        );
        let input = UnitInput {
            code: s.code.as_str().to_string(),
            name: s.name.clone(),
            head_employee_id: head,
            acting_head_employee_id: acting,
        };
        match kept {
            None => {
                create_section(conn, actor, department_id, input).await?;
                stats.sections_created += 1;
            }
            Some(before) => {
                let after = update_section(
                    conn,
                    actor,
                    before.id,
                    &Precondition::version(before.version),
                    department_id,
                    input,
                )
                .await?;
                if after.version == before.version {
                    stats.sections_unchanged += 1;
                } else {
                    stats.sections_updated += 1;
                }
            }
        }
    }
    Ok(Ok(stats))
}

/// A head the roster names directly: the employee heads their section (所属長) or its department
/// (部長).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterHead {
    pub line: u64,
    pub employee_no: String,
    pub section_code: String,
    pub section: bool,
    pub department: bool,
}

/// Make the heads a roster names the heads of their sections and departments (after the roster's
/// own rows are written, in its transaction), each change audited; acting heads stay. Two rows
/// naming a head for the same section or department are row errors. Returns how many units
/// changed.
pub async fn heads_from_roster(
    conn: &WriteTxn,
    actor: &Actor,
    heads: &[RosterHead],
) -> Result<Result<u64, Vec<kenshu_domain::roster_import::RowError>>, RepoError> {
    use kenshu_domain::roster_import::RowError;
    if heads.is_empty() {
        return Ok(Ok(0));
    }
    let sections: HashMap<String, section::Model> = section::Entity::find()
        .filter(section::Column::OrgId.eq(actor.org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let mut errors = Vec::new();
    let mut section_heads: HashMap<Uuid, (u64, String)> = HashMap::new();
    let mut department_heads: HashMap<Uuid, (u64, String)> = HashMap::new();
    for h in heads {
        let Some(s) = sections.get(&h.section_code) else { continue };
        for (wanted, unit, seen, column) in [
            (h.section, s.id, &mut section_heads, "所属長"),
            (h.department, s.department_id, &mut department_heads, "部長"),
        ] {
            if !wanted {
                continue;
            }
            if let Some((first, _)) = seen.get(&unit) {
                errors.push(RowError::new(
                    h.line,
                    column,
                    FieldCode::Duplicate,
                    format!("line {first} already names the {column} of this unit"),
                ));
            } else {
                seen.insert(unit, (h.line, h.employee_no.clone()));
            }
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut changed = 0;
    for (unit, (_, no)) in &section_heads {
        let e = super::employee::find_by_no(conn, actor.org_id, no).await?.ok_or(RepoError::NotFound)?;
        let s = get_section(conn, actor.org_id, *unit).await?;
        let input = UnitInput {
            code: s.code.clone(),
            name: s.name.clone(),
            head_employee_id: Some(e.model.id),
            acting_head_employee_id: s.acting_head_employee_id,
        };
        let after =
            update_section(conn, actor, s.id, &Precondition::version(s.version), s.department_id, input)
                .await?;
        changed += u64::from(after.version != s.version);
    }
    for (unit, (_, no)) in &department_heads {
        let e = super::employee::find_by_no(conn, actor.org_id, no).await?.ok_or(RepoError::NotFound)?;
        let d = get_department(conn, actor.org_id, *unit).await?;
        let input = UnitInput {
            code: d.code.clone(),
            name: d.name.clone(),
            head_employee_id: Some(e.model.id),
            acting_head_employee_id: d.acting_head_employee_id,
        };
        let after = update_department(conn, actor, d.id, &Precondition::version(d.version), input).await?;
        changed += u64::from(after.version != d.version);
    }
    Ok(Ok(changed))
}
