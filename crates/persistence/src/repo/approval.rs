//! The roster around one trainee, as `kenshu_domain::approval` decides on it: read in one
//! statement (the employee, their section and department with heads and acting heads, and the
//! organisation's approver of last resort).

use std::collections::HashMap;

use kenshu_domain::approval::{Chain, TopApprover, Unit};
use kenshu_domain::auth::EmployeePlacement;
use sea_orm::sea_query::{Expr, JoinType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::employee::EmployeeRef;
use super::RepoError;
use crate::entities::{department, employee, organisation, section};

type Row =
    (Uuid, String, String, Uuid, Uuid, Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>);

/// The employee `employee_id` of the organisation (any, also inactive: their paperwork outlives
/// them) and the chain above them; `NotFound` for another organisation's.
pub async fn chain(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_id: Uuid,
) -> Result<(EmployeeRef, Chain), RepoError> {
    chains(conn, org_id, &[employee_id]).await?.remove(&employee_id).ok_or(RepoError::NotFound)
}

/// `chain` for many employees at once, one statement per 500; ids not of the organisation are
/// left out.
pub async fn chains(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_ids: &[Uuid],
) -> Result<HashMap<Uuid, (EmployeeRef, Chain)>, RepoError> {
    let mut ids = employee_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::IN_LIST) {
        let to_section = employee::Entity::belongs_to(section::Entity)
            .from(employee::Column::SectionId)
            .to(section::Column::Id)
            .into();
        let to_department = section::Entity::belongs_to(department::Entity)
            .from(section::Column::DepartmentId)
            .to(department::Column::Id)
            .into();
        let to_org = employee::Entity::belongs_to(organisation::Entity)
            .from(employee::Column::OrgId)
            .to(organisation::Column::Id)
            .into();
        let rows: Vec<Row> = employee::Entity::find()
            .select_only()
            .column(employee::Column::Id)
            .column(employee::Column::EmployeeNo)
            .column(employee::Column::Name)
            .column(employee::Column::SectionId)
            .expr_as(Expr::col((section::Entity, section::Column::DepartmentId)), "department_id")
            .expr_as(Expr::col((section::Entity, section::Column::HeadEmployeeId)), "section_head")
            .expr_as(Expr::col((section::Entity, section::Column::ActingHeadEmployeeId)), "section_acting")
            .expr_as(Expr::col((department::Entity, department::Column::HeadEmployeeId)), "department_head")
            .expr_as(
                Expr::col((department::Entity, department::Column::ActingHeadEmployeeId)),
                "department_acting",
            )
            .expr_as(
                Expr::col((organisation::Entity, organisation::Column::TopApproverEmployeeId)),
                "top_approver",
            )
            .join(JoinType::InnerJoin, to_section)
            .join(JoinType::InnerJoin, to_department)
            .join(JoinType::InnerJoin, to_org)
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, employee_no, name, section_id, department_id, s_head, s_acting, d_head, d_acting, top) in
            rows
        {
            let chain = Chain {
                trainee: EmployeePlacement { org_id, employee_id: id, section_id, department_id },
                section: Unit { id: section_id, head: s_head, acting_head: s_acting },
                department: Unit { id: department_id, head: d_head, acting_head: d_acting },
                top: top
                    .map_or(TopApprover::TrainingOffice, |employee_id| TopApprover::Employee { employee_id }),
            };
            out.insert(id, (EmployeeRef { id, employee_no, name }, chain));
        }
    }
    Ok(out)
}
