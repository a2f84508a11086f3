//! What several route modules share, so none imports another: the DTOs that name an employee or
//! a course, and the lookups of who a body names and whose section the caller may read.

use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::FieldError;
use kenshu_persistence::entities::{audit_log, section};
use kenshu_persistence::repo::employee::{self as employee_repo, EmployeeRef, Unit};
use kenshu_persistence::repo::structure as structure_repo;
use kenshu_persistence::repo::RepoError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// An employee as a list or a workflow names them.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeRefDto {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
}

impl From<&EmployeeRef> for EmployeeRefDto {
    fn from(e: &EmployeeRef) -> Self {
        Self { id: e.id, employee_no: e.employee_no.clone(), name: e.name.clone() }
    }
}

/// The course a nomination (or a list line) is for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseRefDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub category: String,
    pub number: i32,
    pub title: String,
}

/// An employee a person names in a body, by `employee_id` or by `employee_no` as typed (NFKC:
/// full-width digits are the same number): exactly one of the two, of this organisation.
pub async fn named_employee(
    state: &AppState,
    org_id: Uuid,
    id: Option<Uuid>,
    no: Option<&str>,
) -> ApiResult<kenshu_persistence::repo::employee::EmployeeRecord> {
    match (id, no) {
        (Some(id), None) => match employee_repo::get(state.db.conn(), org_id, id).await {
            Ok(e) => Ok(e),
            Err(RepoError::NotFound) => {
                Err(ApiError::validation(FieldError::not_found("employee_id", "no such employee")))
            }
            Err(e) => Err(e.into()),
        },
        (None, Some(no)) => {
            if no.chars().count() > 20 {
                return Err(ApiError::validation(FieldError::length(
                    "employee_no",
                    "must be 1 to 20 characters",
                )));
            }
            let no = kenshu_domain::employee::EmployeeNo::parse(no)
                .map_err(|why| ApiError::validation(FieldError::format("employee_no", why)))?;
            employee_repo::find_by_no(state.db.conn(), org_id, no.as_str()).await?.ok_or_else(|| {
                ApiError::validation(FieldError::not_found(
                    "employee_no",
                    format!("no employee {}", no.as_str()),
                ))
            })
        }
        _ => Err(ApiError::validation(FieldError::required(
            "employee_id",
            "name the employee by employee_id or employee_no, one of the two",
        ))),
    }
}

/// A section whose staff records the caller may read (its head or acting head, the head of its
/// department, HR, auditors): 404 outside the organisation, 403 otherwise.
pub async fn readable_section(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<section::Model> {
    let section = structure_repo::get_section(state.db.conn(), auth.principal.org_id, id).await?;
    authorize(
        &auth.principal,
        Action::ReadSectionNominations { section_id: section.id, department_id: section.department_id },
    )?;
    Ok(section)
}

/// The staff of a section the caller may read, by employee id.
pub async fn section_staff(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<Vec<Uuid>> {
    let section = readable_section(state, auth, id).await?;
    let conn = state.db.conn();
    Ok(employee_repo::staff_ids(conn, auth.principal.org_id, Unit::Section(section.id)).await?)
}

/// One change: who, when, what, before and after.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The token subject that made the change.
    pub actor: String,
    pub request_id: Option<String>,
    /// e.g. employee.update, employee.import, section.create
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Its number in the organisation's tamper-evident chain (none only for a record older
    /// than the chain, until the service next starts).
    pub seq: Option<i64>,
    /// Its hash: hex SHA-256 over the previous record's hash in its transaction (or, for the
    /// chain's first records, the previous link), its place and every field above.
    pub hash: Option<String>,
}

impl From<&audit_log::Model> for AuditEntryDto {
    fn from(m: &audit_log::Model) -> Self {
        let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
        Self {
            id: m.id,
            at: m.at,
            actor: m.actor.clone(),
            request_id: m.request_id.clone(),
            action: m.action.clone(),
            entity_type: m.entity_type.clone(),
            entity_id: m.entity_id,
            before: parse(&m.before),
            after: parse(&m.after),
            seq: m.seq,
            hash: m.hash.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryDto>,
    pub next_cursor: Option<String>,
}

/// A unit a moved employee still leads outside where they now sit.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeadElsewhereDto {
    pub employee_no: String,
    /// The section they now sit in.
    pub section_code: String,
    /// `section` or `department`.
    #[schema(example = "section")]
    pub unit: &'static str,
    pub unit_code: String,
    /// Stands in for its head (代理) rather than heads it.
    pub acting: bool,
}

impl HeadElsewhereDto {
    pub fn of(h: &kenshu_persistence::repo::structure::HeadElsewhere) -> Self {
        use kenshu_domain::org::LedUnit;
        let unit = match h.unit {
            LedUnit::Section(_) => "section",
            LedUnit::Department(_) => "department",
        };
        Self {
            employee_no: h.employee_no.clone(),
            section_code: h.section_code.clone(),
            unit,
            unit_code: h.unit_code.clone(),
            acting: h.acting,
        }
    }
}
