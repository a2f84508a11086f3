//! Who may do what. `authorize` is the only place access is decided; list queries use the same
//! `Visibility` so a list never shows what a single read would refuse.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Roles carried in the token's `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 職員
    Employee,
    /// 所属長
    SectionHead,
    /// 所属部長
    DepartmentHead,
    /// 研修担当 (人事課)
    HrAdmin,
    /// scripted bulk import (service account)
    Importer,
    /// read-only auditor
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Employee,
        Role::SectionHead,
        Role::DepartmentHead,
        Role::HrAdmin,
        Role::Importer,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::SectionHead => "section_head",
            Role::DepartmentHead => "department_head",
            Role::HrAdmin => "hr_admin",
            Role::Importer => "importer",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The caller, resolved against the roster: ids are those of the caller's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: Uuid,
    pub subject: String,
    pub roles: BTreeSet<Role>,
    /// The caller's own employee record, when `sub` is an employee number on the roster.
    pub employee: Option<EmployeePlacement>,
    /// Sections the caller heads or acts for (所属長・代理).
    pub headed_sections: Vec<Uuid>,
    /// Departments the caller heads or acts for (所属部長・代理).
    pub headed_departments: Vec<Uuid>,
}

/// Where an employee sits in the organisation: what access decisions about them need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeePlacement {
    pub org_id: Uuid,
    pub employee_id: Uuid,
    pub section_id: Uuid,
    pub department_id: Uuid,
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    ReadEmployee(&'a EmployeePlacement),
    ListEmployees,
    WriteEmployee,
    ImportRoster,
    /// Load the organisation structure (部・課 with heads) from a file (研修担当, or a script
    /// with the importer role: a new organisation's first step).
    ImportStructure,
    ReadOrgStructure,
    WriteOrgStructure,
    ReadAudit,
    /// The published catalogue (研修一覧) of the caller's organisation.
    ReadCatalogue,
    /// Draft plans and courses, and a course's change history.
    ReadDraftCatalogue,
    /// Plans, courses and sessions (研修担当).
    WriteCatalogue,
    /// Who on the roster a course's audience rules match, by name.
    PreviewAudience,
    /// Load a catalogue file (研修担当, or a script with the importer role).
    ImportCatalogue,
    /// Download a year's catalogue as a file, drafts included.
    ExportCatalogue,
    /// Designate trainees from the rules (指名).
    RunDesignation,
    /// A course's nominations with names and their counts, its sessions' sign-in sheets and
    /// absence notices.
    ReadNominations,
    /// 推薦: a section head recommends this employee (own section only).
    Recommend(&'a EmployeePlacement),
    /// 公募への申込: the caller applies for themself.
    Apply,
    /// A section's nominations: its head, the head of its department, HR and auditors.
    ReadSectionNominations {
        section_id: Uuid,
        department_id: Uuid,
    },
    /// 研修通知: notify a course's selected trainees (HR).
    SendNotices,
    /// The notice outbox: read it and mark deliveries (HR, and the portal's service account).
    DeliverNotices,
    /// 配信チャネル: set up webhooks and the portal, read delivery logs and failures, deliver
    /// again (研修担当).
    ManageChannels,
    /// ポータル様式: set up the portal's forms that feed the workflows, read what they sent and
    /// replay what could not be applied (研修担当).
    ManagePortalForms,
    /// 出欠: record a session's attendance (研修担当).
    RecordAttendance,
    /// Import a sign-in sheet (研修担当, or a script with the importer role).
    ImportAttendance,
    /// 研修実績: a year's results per course, category and grade (HR, auditors).
    ReadResults,
    /// A department's staff records (the reports waiting for 所属部長の決裁): the head of the
    /// department or their acting head, HR and auditors.
    ReadDepartmentRecords {
        department_id: Uuid,
    },
    /// 就業体験学生受入れ: the programme, its students and their erasure (研修担当).
    ManageInternship,
    /// The programme and its students with their personal data: HR and auditors.
    ReadInternship,
    /// The students a section hosts: the head or acting head of that section, HR and auditors
    /// (not the department head: outside people's data goes no further than needed).
    ReadHostedStudents {
        section_id: Uuid,
    },
    /// 合同研修 as host: share a course with other organisations, set their places, take a
    /// share back (研修担当).
    ManageShares,
    /// 合同研修 as participant: take part in a course another organisation shares, decline it, or
    /// leave it (研修担当).
    AnswerShare,
    /// The shares of the caller's organisation, both ways, and the combined roster of a course it
    /// hosts (HR, auditors).
    ReadShares,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Authenticated but not allowed: 403.
    #[error("not allowed")]
    Forbidden,
    /// The object belongs to another organisation and does not exist for this caller: 404.
    #[error("not found")]
    NotFound,
}

/// Which employees a caller may see. The union of what each role grants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visibility {
    pub whole_org: bool,
    pub employee: Option<Uuid>,
    pub sections: Vec<Uuid>,
    pub departments: Vec<Uuid>,
}

impl Visibility {
    pub fn is_empty(&self) -> bool {
        !self.whole_org && self.employee.is_none() && self.sections.is_empty() && self.departments.is_empty()
    }

    pub fn allows(&self, target: &EmployeePlacement) -> bool {
        self.whole_org
            || self.employee == Some(target.employee_id)
            || self.sections.contains(&target.section_id)
            || self.departments.contains(&target.department_id)
    }
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// An employee sees their own record, a section head the sections they head or act for on
    /// the roster, a department head likewise their departments, HR and auditors the whole
    /// organisation. The importer sees nobody.
    pub fn employee_visibility(&self) -> Visibility {
        let mut v =
            Visibility { whole_org: self.has_any(&[Role::HrAdmin, Role::Auditor]), ..Default::default() };
        let own = self.employee.as_ref();
        if self.has_any(&[Role::Employee, Role::SectionHead, Role::DepartmentHead]) {
            v.employee = own.map(|e| e.employee_id);
        }
        // Heads see what they head on the roster today; the role claim alone shows nobody.
        if self.has(Role::SectionHead) {
            v.sections = self.headed_sections.clone();
        }
        if self.has(Role::DepartmentHead) {
            v.departments = self.headed_departments.clone();
        }
        v
    }
}

/// The roles of a caller the municipality's identity provider signed in (SSO). The roster
/// implies the roles of a person: they are an employee, and a section's or department's head
/// (or acting head) is one whether or not the provider says so. The provider's role claim may add
/// only what the roster cannot show, the training office (`hr_admin`) and `auditor`; a head's
/// role it names without the roster is dropped, and service-account roles never come from it.
pub fn sign_in_roles(
    claimed: &BTreeSet<Role>,
    heads_a_section: bool,
    heads_a_department: bool,
) -> BTreeSet<Role> {
    let mut roles = BTreeSet::from([Role::Employee]);
    if heads_a_section {
        roles.insert(Role::SectionHead);
    }
    if heads_a_department {
        roles.insert(Role::DepartmentHead);
    }
    for role in claimed {
        match role {
            Role::HrAdmin | Role::Auditor => {
                roles.insert(*role);
            }
            Role::Employee | Role::SectionHead | Role::DepartmentHead | Role::Importer => {}
        }
    }
    roles
}

/// The single access decision.
pub fn authorize(p: &Principal, action: Action<'_>) -> Result<(), Denied> {
    use Role::*;
    let allowed = match action {
        Action::ReadEmployee(target) => {
            if target.org_id != p.org_id {
                return Err(Denied::NotFound);
            }
            p.employee_visibility().allows(target)
        }
        Action::ListEmployees => p.has_any(&[Employee, SectionHead, DepartmentHead, HrAdmin, Auditor]),
        Action::WriteEmployee | Action::WriteOrgStructure => p.has(HrAdmin),
        Action::ImportRoster
        | Action::ImportStructure
        | Action::ImportCatalogue
        | Action::ImportAttendance => p.has_any(&[HrAdmin, Importer]),
        Action::ExportCatalogue => p.has_any(&[HrAdmin, Auditor, Importer]),
        Action::RunDesignation
        | Action::SendNotices
        | Action::RecordAttendance
        | Action::ManageChannels
        | Action::ManagePortalForms => p.has(HrAdmin),
        Action::DeliverNotices => p.has_any(&[HrAdmin, Importer]),
        Action::Recommend(target) => {
            if target.org_id != p.org_id {
                return Err(Denied::NotFound);
            }
            // Nobody recommends themself: a recommendation starts confirmed.
            p.has(SectionHead)
                && p.headed_sections.contains(&target.section_id)
                && p.employee.is_none_or(|me| me.employee_id != target.employee_id)
        }
        Action::Apply => p.has(Employee) && p.employee.is_some(),
        Action::ReadSectionNominations { section_id, department_id } => {
            p.has_any(&[HrAdmin, Auditor])
                || (p.has(SectionHead) && p.headed_sections.contains(&section_id))
                || (p.has(DepartmentHead) && p.headed_departments.contains(&department_id))
        }
        Action::ReadDepartmentRecords { department_id } => {
            p.has_any(&[HrAdmin, Auditor])
                || (p.has(DepartmentHead) && p.headed_departments.contains(&department_id))
        }
        Action::ReadNominations | Action::ReadResults => p.has_any(&[HrAdmin, Auditor]),
        Action::ReadOrgStructure => !p.roles.is_empty(),
        Action::ReadAudit | Action::ReadDraftCatalogue | Action::PreviewAudience => {
            p.has_any(&[HrAdmin, Auditor])
        }
        Action::ReadCatalogue => p.has_any(&[Employee, SectionHead, DepartmentHead, HrAdmin, Auditor]),
        Action::WriteCatalogue | Action::ManageInternship | Action::ManageShares | Action::AnswerShare => {
            p.has(HrAdmin)
        }
        Action::ReadInternship | Action::ReadShares => p.has_any(&[HrAdmin, Auditor]),
        Action::ReadHostedStudents { section_id } => {
            p.has_any(&[HrAdmin, Auditor]) || (p.has(SectionHead) && p.headed_sections.contains(&section_id))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const ORG: u128 = 1;
    const SEC_A: u128 = 10;
    const SEC_B: u128 = 11;
    const DEP_X: u128 = 20;
    const DEP_Y: u128 = 21;

    fn placement(emp: u128, sec: u128, dep: u128) -> EmployeePlacement {
        EmployeePlacement {
            org_id: id(ORG),
            employee_id: id(emp),
            section_id: id(sec),
            department_id: id(dep),
        }
    }

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            org_id: id(ORG),
            subject: "100".into(),
            roles: roles.iter().copied().collect(),
            employee: Some(placement(100, SEC_A, DEP_X)),
            headed_sections: vec![],
            headed_departments: vec![],
        }
    }

    #[test]
    fn hosted_students_are_for_the_host_section_head_only() {
        let action = Action::ReadHostedStudents { section_id: id(SEC_A) };
        let mut head = principal(&[Role::SectionHead]);
        head.headed_sections = vec![id(SEC_A)];
        assert_eq!(authorize(&head, action), Ok(()));
        head.headed_sections = vec![id(SEC_B)];
        assert_eq!(authorize(&head, action), Err(Denied::Forbidden));
        let mut dept = principal(&[Role::DepartmentHead]);
        dept.headed_departments = vec![id(DEP_X)];
        assert_eq!(authorize(&dept, action), Err(Denied::Forbidden));
        assert_eq!(authorize(&principal(&[Role::Auditor]), action), Ok(()));
        assert_eq!(authorize(&principal(&[Role::Auditor]), Action::ManageInternship), Err(Denied::Forbidden));
        assert_eq!(authorize(&principal(&[Role::Employee]), Action::ReadInternship), Err(Denied::Forbidden));
    }

    #[test]
    fn employee_reads_only_self() {
        let p = principal(&[Role::Employee]);
        assert_eq!(authorize(&p, Action::ReadEmployee(&placement(100, SEC_A, DEP_X))), Ok(()));
        assert_eq!(
            authorize(&p, Action::ReadEmployee(&placement(101, SEC_A, DEP_X))),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn section_head_reads_own_section_only() {
        let mut p = principal(&[Role::SectionHead]);
        p.headed_sections = vec![id(SEC_A)];
        assert_eq!(authorize(&p, Action::ReadEmployee(&placement(101, SEC_A, DEP_X))), Ok(()));
        assert_eq!(
            authorize(&p, Action::ReadEmployee(&placement(102, SEC_B, DEP_X))),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn acting_head_reads_the_section_acted_for() {
        let mut p = principal(&[Role::SectionHead]);
        p.headed_sections = vec![id(SEC_B)];
        assert_eq!(authorize(&p, Action::ReadEmployee(&placement(102, SEC_B, DEP_Y))), Ok(()));
    }

    #[test]
    fn department_head_reads_own_department() {
        let mut p = principal(&[Role::DepartmentHead]);
        p.headed_departments = vec![id(DEP_X)];
        assert_eq!(authorize(&p, Action::ReadEmployee(&placement(102, SEC_B, DEP_X))), Ok(()));
        assert_eq!(
            authorize(&p, Action::ReadEmployee(&placement(103, SEC_B, DEP_Y))),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn hr_and_auditor_read_the_organisation_but_only_hr_writes() {
        for role in [Role::HrAdmin, Role::Auditor] {
            let p = principal(&[role]);
            assert_eq!(authorize(&p, Action::ReadEmployee(&placement(103, SEC_B, DEP_Y))), Ok(()));
            assert_eq!(authorize(&p, Action::ReadAudit), Ok(()));
        }
        assert_eq!(authorize(&principal(&[Role::HrAdmin]), Action::WriteEmployee), Ok(()));
        assert_eq!(authorize(&principal(&[Role::Auditor]), Action::WriteEmployee), Err(Denied::Forbidden));
    }

    #[test]
    fn another_organisation_is_not_found() {
        let p = principal(&[Role::HrAdmin]);
        let mut other = placement(200, SEC_A, DEP_X);
        other.org_id = id(2);
        assert_eq!(authorize(&p, Action::ReadEmployee(&other)), Err(Denied::NotFound));
    }

    #[test]
    fn importer_imports_but_reads_nobody() {
        let p = Principal { employee: None, ..principal(&[Role::Importer]) };
        assert_eq!(authorize(&p, Action::ImportRoster), Ok(()));
        assert_eq!(authorize(&p, Action::ImportStructure), Ok(()));
        assert_eq!(authorize(&p, Action::ListEmployees), Err(Denied::Forbidden));
        assert!(p.employee_visibility().is_empty());
        assert_eq!(authorize(&principal(&[Role::Employee]), Action::ImportRoster), Err(Denied::Forbidden));
    }

    #[test]
    fn staff_read_the_catalogue_hr_writes_it() {
        for role in [Role::Employee, Role::SectionHead, Role::DepartmentHead, Role::HrAdmin, Role::Auditor] {
            assert_eq!(authorize(&principal(&[role]), Action::ReadCatalogue), Ok(()));
        }
        assert_eq!(authorize(&principal(&[Role::Importer]), Action::ReadCatalogue), Err(Denied::Forbidden));
        assert_eq!(
            authorize(&principal(&[Role::Employee]), Action::ReadDraftCatalogue),
            Err(Denied::Forbidden)
        );
        assert_eq!(authorize(&principal(&[Role::Auditor]), Action::ReadDraftCatalogue), Ok(()));
        assert_eq!(authorize(&principal(&[Role::HrAdmin]), Action::WriteCatalogue), Ok(()));
        assert_eq!(authorize(&principal(&[Role::Auditor]), Action::WriteCatalogue), Err(Denied::Forbidden));
    }

    #[test]
    fn section_heads_recommend_their_own_section_only() {
        let mut p = principal(&[Role::SectionHead]);
        p.headed_sections = vec![id(SEC_A)];
        assert_eq!(authorize(&p, Action::Recommend(&placement(101, SEC_A, DEP_X))), Ok(()));
        assert_eq!(authorize(&p, Action::Recommend(&placement(102, SEC_B, DEP_X))), Err(Denied::Forbidden));
        let hr = principal(&[Role::HrAdmin]);
        assert_eq!(authorize(&hr, Action::Recommend(&placement(101, SEC_A, DEP_X))), Err(Denied::Forbidden));
        assert_eq!(authorize(&principal(&[Role::Employee]), Action::Apply), Ok(()));
        let read = |p: &Principal| {
            authorize(p, Action::ReadSectionNominations { section_id: id(SEC_A), department_id: id(DEP_X) })
        };
        assert_eq!(read(&p), Ok(()));
        assert_eq!(read(&principal(&[Role::SectionHead])), Err(Denied::Forbidden), "heads no section");
        assert_eq!(read(&principal(&[Role::Employee])), Err(Denied::Forbidden));
        let outsider = Principal { employee: None, ..principal(&[Role::Employee]) };
        assert_eq!(authorize(&outsider, Action::Apply), Err(Denied::Forbidden));
    }

    #[test]
    fn department_records_are_for_their_head_hr_and_auditors() {
        let read = |p: &Principal| authorize(p, Action::ReadDepartmentRecords { department_id: id(DEP_X) });
        let mut head = principal(&[Role::DepartmentHead]);
        head.headed_departments = vec![id(DEP_X)];
        assert_eq!(read(&head), Ok(()));
        head.headed_departments = vec![id(DEP_Y)];
        assert_eq!(read(&head), Err(Denied::Forbidden), "another department's head");
        let mut section_head = principal(&[Role::SectionHead]);
        section_head.headed_sections = vec![id(SEC_A)];
        assert_eq!(read(&section_head), Err(Denied::Forbidden));
        assert_eq!(read(&principal(&[Role::HrAdmin])), Ok(()));
        assert_eq!(read(&principal(&[Role::Auditor])), Ok(()));
        assert_eq!(read(&principal(&[Role::Employee])), Err(Denied::Forbidden));
    }

    #[test]
    fn roles_combine_as_a_union() {
        let mut p = principal(&[Role::Employee, Role::SectionHead]);
        p.headed_sections = vec![id(SEC_A)];
        let v = p.employee_visibility();
        assert_eq!(v.employee, Some(id(100)));
        assert_eq!(v.sections, vec![id(SEC_A)]);
    }

    #[test]
    fn a_head_role_claim_without_a_headship_reads_only_self() {
        let p = principal(&[Role::SectionHead, Role::DepartmentHead]);
        assert_eq!(authorize(&p, Action::ReadEmployee(&placement(100, SEC_A, DEP_X))), Ok(()));
        assert_eq!(
            authorize(&p, Action::ReadEmployee(&placement(101, SEC_A, DEP_X))),
            Err(Denied::Forbidden),
            "a colleague of the same section"
        );
        assert_eq!(
            authorize(&p, Action::ReadEmployee(&placement(102, SEC_B, DEP_X))),
            Err(Denied::Forbidden),
            "a colleague of the same department"
        );
    }

    #[test]
    fn nobody_recommends_themself() {
        let mut p = principal(&[Role::SectionHead]);
        p.headed_sections = vec![id(SEC_A)];
        assert_eq!(authorize(&p, Action::Recommend(&placement(100, SEC_A, DEP_X))), Err(Denied::Forbidden));
    }

    #[test]
    fn sign_in_roles_come_from_the_roster_and_only_office_roles_from_the_claim() {
        let none = BTreeSet::new();
        assert_eq!(sign_in_roles(&none, false, false), BTreeSet::from([Role::Employee]));
        assert_eq!(
            sign_in_roles(&none, true, true),
            BTreeSet::from([Role::Employee, Role::SectionHead, Role::DepartmentHead])
        );
        let claimed =
            BTreeSet::from([Role::SectionHead, Role::DepartmentHead, Role::Importer, Role::HrAdmin]);
        assert_eq!(sign_in_roles(&claimed, false, false), BTreeSet::from([Role::Employee, Role::HrAdmin]));
        let auditor = BTreeSet::from([Role::Auditor]);
        assert_eq!(
            sign_in_roles(&auditor, true, false),
            BTreeSet::from([Role::Employee, Role::SectionHead, Role::Auditor])
        );
    }
}
