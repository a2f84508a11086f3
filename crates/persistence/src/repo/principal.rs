//! Resolving a verified token into a `Principal`.

use std::collections::BTreeSet;

use kenshu_domain::auth::{Principal, Role};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::employee;
use crate::Db;

/// Who a verified token names.
pub enum Subject<'a> {
    /// Kenshu's own token: `sub` is an employee number or a service account's name, and the
    /// roles are those the token carries (a head's role still counts only for what the roster
    /// has them head).
    Token { sub: &'a str, roles: BTreeSet<Role> },
    /// Signed in through the municipality's identity provider: an employee on the roster, by
    /// number or portal login id, with the roles the roster implies and the office roles the
    /// provider claims (`kenshu_domain::auth::sign_in_roles`).
    SignIn { user: SignInUser<'a>, claimed: BTreeSet<Role> },
}

/// How the identity provider names the person.
#[derive(Debug, Clone, Copy)]
pub enum SignInUser<'a> {
    EmployeeNo(&'a str),
    /// Compared without regard to case.
    LoginId(&'a str),
}

enum Granted {
    AsCarried(BTreeSet<Role>),
    SignIn(BTreeSet<Role>),
}

/// What a token resolves to.
pub enum Loaded {
    /// The principal, their employee record, and their organisation's default language.
    Found(Box<(Principal, Option<employee::EmployeeRecord>, Option<String>)>),
    /// The token's organisation does not exist.
    UnknownOrganisation,
    /// A signed-in person the roster does not hold as an active employee; why, in words.
    NotOnRoster(kenshu_domain::Words),
}

pub async fn load(db: &Db, org_code: &str, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    resolve(db, OrgKey::Code(org_code), subject).await
}

/// [`load`] in an organisation known by id (a portal form's).
pub async fn load_in(db: &Db, org_id: Uuid, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    resolve(db, OrgKey::Id(org_id), subject).await
}

#[derive(Clone, Copy)]
enum OrgKey<'a> {
    Code(&'a str),
    Id(Uuid),
}

/// Which active employee a subject names.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Who {
    No(String),
    /// Lower-cased.
    Login(String),
    /// A subject that cannot be an employee number (a service account).
    Nobody,
}

/// The organisation, the active employees the subject names (one, unless a login id is shared)
/// with their departments, and the units they head or act for.
#[derive(Clone)]
pub(crate) struct Fetched {
    org_id: Uuid,
    language: Option<String>,
    employees: Vec<employee::EmployeeRecord>,
    sections: Vec<Uuid>,
    departments: Vec<Uuid>,
}

/// Every request identifies its caller, so this is one statement, on one connection: the
/// organisation, left-joined to the employee, their section (for the department) and the units
/// they head or act for.
async fn fetch(conn: &impl ConnectionTrait, org: OrgKey<'_>, who: &Who) -> Result<Option<Fetched>, DbErr> {
    use sea_orm::{FromQueryResult, Iterable, Statement, Value};
    let backend = conn.get_database_backend();
    let columns: Vec<String> = crate::entities::employee::Column::iter()
        .map(|c| format!("e.{0} AS e_{0}", sea_orm::IdenStatic::as_str(&c)))
        .collect();
    let (org_condition, org_value): (&str, Value) = match org {
        OrgKey::Code(code) => ("o.code = $1", code.into()),
        OrgKey::Id(id) => ("o.id = $1", id.into()),
    };
    let (employee_condition, employee_value): (&str, Option<Value>) = match who {
        Who::No(no) => ("e.employee_no = $2", Some(no.as_str().into())),
        Who::Login(login) => ("LOWER(e.portal_login_id) = $2", Some(login.as_str().into())),
        Who::Nobody => ("1 = 0", None),
    };
    // The units they head or act for: one left join per role and table, each an index lookup
    // on (organisation, head column). One row, unless they head several units of a kind (then
    // a row per combination, all read below).
    let sql = format!(
        "SELECT o.id AS org_id, o.language AS org_language, {columns}, s.department_id AS e_department_id, \
         hs.id AS headed_section, ahs.id AS acting_section, hd.id AS headed_department, ahd.id AS acting_department \
         FROM organisation o \
         LEFT JOIN employee e ON e.org_id = o.id AND e.active AND {employee_condition} \
         LEFT JOIN section s ON s.org_id = e.org_id AND s.id = e.section_id \
         LEFT JOIN section hs ON hs.org_id = e.org_id AND hs.head_employee_id = e.id \
         LEFT JOIN section ahs ON ahs.org_id = e.org_id AND ahs.acting_head_employee_id = e.id \
         LEFT JOIN department hd ON hd.org_id = e.org_id AND hd.head_employee_id = e.id \
         LEFT JOIN department ahd ON ahd.org_id = e.org_id AND ahd.acting_head_employee_id = e.id \
         WHERE {org_condition}",
        columns = columns.join(", "),
    );
    // SQLite numbers its parameters ?1, ?2.
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => sql.replace("$1", "?1").replace("$2", "?2"),
        _ => sql,
    };
    let mut values = vec![org_value];
    values.extend(employee_value);
    let rows = conn.query_all(Statement::from_sql_and_values(backend, sql, values)).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut out = Fetched {
        org_id: first.try_get("", "org_id")?,
        language: first.try_get("", "org_language")?,
        employees: Vec::new(),
        sections: Vec::new(),
        departments: Vec::new(),
    };
    for row in &rows {
        let Some(id) = row.try_get::<Option<Uuid>>("", "e_id")? else { continue };
        if !out.employees.iter().any(|e| e.model.id == id) {
            out.employees.push(employee::EmployeeRecord {
                model: crate::entities::employee::Model::from_query_result(row, "e_")?,
                department_id: row.try_get::<Option<Uuid>>("", "e_department_id")?.unwrap_or_default(),
            });
        }
        for column in ["headed_section", "acting_section"] {
            out.sections.extend(row.try_get::<Option<Uuid>>("", column)?);
        }
        for column in ["headed_department", "acting_department"] {
            out.departments.extend(row.try_get::<Option<Uuid>>("", column)?);
        }
    }
    out.sections.sort();
    out.sections.dedup();
    out.departments.sort();
    out.departments.dedup();
    Ok(Some(out))
}

async fn resolve(db: &Db, org: OrgKey<'_>, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    let number = |n: &str| match kenshu_domain::employee::EmployeeNo::parse(n) {
        Ok(no) => Who::No(no.as_str().to_string()),
        Err(_) => Who::Nobody,
    };
    let who = match &subject {
        Subject::Token { sub, .. } => number(sub),
        Subject::SignIn { user: SignInUser::EmployeeNo(no), .. } => number(no),
        Subject::SignIn { user: SignInUser::LoginId(login), .. } => Who::Login(login.to_lowercase()),
    };
    let key = Key {
        org: match org {
            OrgKey::Code(code) => OrgName::Code(code.to_string()),
            OrgKey::Id(id) => OrgName::Id(id),
        },
        who,
    };
    // An organisation that is not there is not kept: any code could be asked for.
    let read = async |key: &Key| fetch(db.conn(), org, &key.who).await;
    let Some(fetched) = db.kept().callers.get_or_read(key, read).await? else {
        return Ok(Loaded::UnknownOrganisation);
    };
    if fetched.employees.len() > 1 {
        return Ok(Loaded::NotOnRoster(
            kenshu_domain::Words::fixed("more than one employee on the roster has this login id; the training office must correct the roster", "このログインIDの職員が名簿に複数います。研修担当が名簿を修正する必要があります"),
        ));
    }
    let record = fetched.employees.first().cloned();
    let (subject, granted) = match subject {
        // A subject that is not an active employee (a service account, a retired employee)
        // gets a principal without an employee record.
        Subject::Token { sub, roles } => (sub.to_string(), Granted::AsCarried(roles)),
        Subject::SignIn { claimed, .. } => match &record {
            Some(r) => (r.model.employee_no.clone(), Granted::SignIn(claimed)),
            None => return Ok(Loaded::NotOnRoster(kenshu_domain::Words::fixed(
                "you are not on this organisation's roster as an active employee; ask the training office",
                "この団体の在職職員として名簿に登録されていません。研修担当にお問い合わせください",
            ))),
        },
    };
    let roles = match granted {
        Granted::AsCarried(roles) => roles,
        Granted::SignIn(claimed) => kenshu_domain::auth::sign_in_roles(
            &claimed,
            !fetched.sections.is_empty(),
            !fetched.departments.is_empty(),
        ),
    };
    let principal = Principal {
        org_id: fetched.org_id,
        subject,
        roles,
        employee: record.as_ref().map(|r| r.placement()),
        headed_sections: fetched.sections.clone(),
        headed_departments: fetched.departments.clone(),
    };
    Ok(Loaded::Found(Box::new((principal, record, fetched.language.clone()))))
}

/// What identifies a caller, as [`crate::kept`] keys it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    org: OrgName,
    who: Who,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum OrgName {
    Code(String),
    Id(Uuid),
}

impl std::fmt::Debug for Key {
    // Never prints who: an employee number or login id is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key")
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetched")
    }
}

/// The most callers kept; about 1 KiB each.
pub(crate) const KEPT_CALLERS: usize = 20_000;
