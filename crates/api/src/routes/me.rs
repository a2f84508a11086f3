use actix_web::HttpResponse;
use kenshu_domain::auth::Role;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::employees::EmployeeDto;
use crate::auth::Auth;
use crate::problem::ApiResult;

/// Roles as the token carries them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Employee,
    SectionHead,
    DepartmentHead,
    HrAdmin,
    Importer,
    Auditor,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Employee => Self::Employee,
            Role::SectionHead => Self::SectionHead,
            Role::DepartmentHead => Self::DepartmentHead,
            Role::HrAdmin => Self::HrAdmin,
            Role::Importer => Self::Importer,
            Role::Auditor => Self::Auditor,
        }
    }
}

/// The caller, as the token and the roster describe them.
#[derive(Serialize, ToSchema)]
pub struct MeDto {
    /// The token's subject (employee number or service account).
    pub subject: String,
    pub org_id: Uuid,
    pub roles: Vec<RoleDto>,
    /// The caller's employee record, when the subject is an active employee.
    pub employee: Option<EmployeeDto>,
    /// Sections the caller heads or acts for.
    pub headed_sections: Vec<Uuid>,
    /// Departments the caller heads or acts for.
    pub headed_departments: Vec<Uuid>,
}

/// Who the token is.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = MeDto)))]
pub async fn me(auth: Auth) -> ApiResult<HttpResponse> {
    let p = &auth.principal;
    Ok(HttpResponse::Ok().json(MeDto {
        subject: p.subject.clone(),
        org_id: p.org_id,
        roles: p.roles.iter().map(|r| RoleDto::from(*r)).collect(),
        employee: auth.employee.as_ref().map(EmployeeDto::of).transpose()?,
        headed_sections: p.headed_sections.clone(),
        headed_departments: p.headed_departments.clone(),
    }))
}
