//! Resolving a verified token into a `Principal`.

use std::collections::BTreeSet;

use kenshu_domain::auth::{Principal, Role};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{employee, org};
use crate::entities::{department, section};

/// `None` when the organisation does not exist. A subject that is not an active employee (a
/// service account, a retired employee) gets a principal without an employee record.
pub async fn load(
    conn: &impl ConnectionTrait,
    org_code: &str,
    subject: &str,
    roles: BTreeSet<Role>,
) -> Result<Option<(Principal, Option<employee::EmployeeRecord>)>, DbErr> {
    let Some(org) = org::find_by_code(conn, org_code).await? else {
        return Ok(None);
    };
    let record = match kenshu_domain::employee::EmployeeNo::parse(subject) {
        Ok(no) => employee::find_by_no(conn, org.id, no.as_str()).await?.filter(|r| r.model.active),
        Err(_) => None,
    };
    let (headed_sections, headed_departments) = match &record {
        Some(r) => (
            headed::<section::Entity>(conn, org.id, r.model.id).await?,
            headed::<department::Entity>(conn, org.id, r.model.id).await?,
        ),
        None => (vec![], vec![]),
    };
    let principal = Principal {
        org_id: org.id,
        subject: subject.to_string(),
        roles,
        employee: record.as_ref().map(|r| r.placement()),
        headed_sections,
        headed_departments,
    };
    Ok(Some((principal, record)))
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
