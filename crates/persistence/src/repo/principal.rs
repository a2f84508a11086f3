//! Resolving a verified token into a `Principal`.

use std::collections::BTreeSet;

use kenshu_domain::auth::{Principal, Role};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{employee, org};
use crate::entities::{department, section};

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
    Found(Box<(Principal, Option<employee::EmployeeRecord>)>),
    /// The token's organisation does not exist.
    UnknownOrganisation,
    /// A signed-in person the roster does not hold as an active employee; why, in words.
    NotOnRoster(&'static str),
}

pub async fn load(
    conn: &impl ConnectionTrait,
    org_code: &str,
    subject: Subject<'_>,
) -> Result<Loaded, DbErr> {
    let Some(org) = org::find_by_code(conn, org_code).await? else {
        return Ok(Loaded::UnknownOrganisation);
    };
    load_in(conn, org.id, subject).await
}

/// [`load`] in an organisation known by id (a portal form's).
pub async fn load_in(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    subject: Subject<'_>,
) -> Result<Loaded, DbErr> {
    let (subject, record, granted) = match subject {
        Subject::Token { sub, roles } => {
            // A subject that is not an active employee (a service account, a retired employee)
            // gets a principal without an employee record.
            let record = match kenshu_domain::employee::EmployeeNo::parse(sub) {
                Ok(no) => employee::find_by_no(conn, org_id, no.as_str()).await?.filter(|r| r.model.active),
                Err(_) => None,
            };
            (sub.to_string(), record, Granted::AsCarried(roles))
        }
        Subject::SignIn { user, claimed } => {
            let record = match user {
                SignInUser::EmployeeNo(no) => match kenshu_domain::employee::EmployeeNo::parse(no) {
                    Ok(no) => {
                        employee::find_by_no(conn, org_id, no.as_str()).await?.filter(|r| r.model.active)
                    }
                    Err(_) => None,
                },
                SignInUser::LoginId(login) => {
                    let mut found = employee::find_active_by_login_id(conn, org_id, login).await?;
                    if found.len() > 1 {
                        return Ok(Loaded::NotOnRoster(
                            "more than one employee on the roster has this login id; the training office must correct the roster",
                        ));
                    }
                    found.pop()
                }
            };
            let Some(record) = record else {
                return Ok(Loaded::NotOnRoster(
                    "you are not on this organisation's roster as an active employee; ask the training office",
                ));
            };
            (record.model.employee_no.clone(), Some(record), Granted::SignIn(claimed))
        }
    };
    let (headed_sections, headed_departments) = match &record {
        Some(r) => (
            headed::<section::Entity>(conn, org_id, r.model.id).await?,
            headed::<department::Entity>(conn, org_id, r.model.id).await?,
        ),
        None => (vec![], vec![]),
    };
    let roles = match granted {
        Granted::AsCarried(roles) => roles,
        Granted::SignIn(claimed) => kenshu_domain::auth::sign_in_roles(
            &claimed,
            !headed_sections.is_empty(),
            !headed_departments.is_empty(),
        ),
    };
    let principal = Principal {
        org_id,
        subject,
        roles,
        employee: record.as_ref().map(|r| r.placement()),
        headed_sections,
        headed_departments,
    };
    Ok(Loaded::Found(Box::new((principal, record))))
}

/// Units (sections or departments) the employee heads or acts for.
async fn headed<E>(conn: &impl ConnectionTrait, org_id: Uuid, employee_id: Uuid) -> Result<Vec<Uuid>, DbErr>
where
    E: EntityTrait,
{
    let col = |name: &str| {
        E::Column::iter()
            .find(|c| sea_orm::IdenStatic::as_str(c) == name)
            .expect("unit tables share these columns")
    };
    use sea_orm::Iterable;
    E::find()
        .select_only()
        .column(col("id"))
        .filter(col("org_id").eq(org_id))
        .filter(
            Condition::any()
                .add(col("head_employee_id").eq(employee_id))
                .add(col("acting_head_employee_id").eq(employee_id)),
        )
        .into_tuple::<Uuid>()
        .all(conn)
        .await
}
