//! Who acts on a trainee's paperwork, decided from the roster: one relation between a caller and
//! a trainee that every workflow (applications, absence notices, subsidy applications, reports)
//! turns into its own capacities.
//!
//! Two steps exist above a trainee. The confirmation (所属長の確認) belongs to the head or acting
//! head of the trainee's section; the approval (所属部長の決裁) to the head or acting head of their
//! department. A step whose head is missing or is the trainee goes one level up: a section head's
//! own items to their department's head, a section without a head to its department's head, and
//! a department head's own items, at both steps (the head of the section they sit in reports to
//! them), to the approver the organisation names (by default the training office, 研修担当).
//! Nobody ever decides on their own item, in any capacity.

use uuid::Uuid;

use crate::auth::{authorize, Action, EmployeePlacement, Principal, Role};

/// A section or department on the roster today: its head and acting head (代理).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub id: Uuid,
    pub head: Option<Uuid>,
    pub acting_head: Option<Uuid>,
}

impl Unit {
    fn led_by(&self, employee_id: Uuid) -> bool {
        self.head == Some(employee_id) || self.acting_head == Some(employee_id)
    }

    /// Someone other than `employee_id` leads it.
    fn led_for(&self, employee_id: Uuid) -> bool {
        (self.head.is_some() || self.acting_head.is_some()) && !self.led_by(employee_id)
    }
}

/// Who decides on a department head's own items (and on items of a department without a head).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TopApprover {
    /// 研修担当: anyone with the training-office role (the default).
    #[default]
    TrainingOffice,
    /// A named employee of the organisation (e.g. the head of 総務部 or a deputy mayor).
    Employee { employee_id: Uuid },
}

/// The roster around one trainee: their place, their section and department, and the
/// organisation's approver of last resort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain {
    pub trainee: EmployeePlacement,
    pub section: Unit,
    pub department: Unit,
    pub top: TopApprover,
}

/// The step of a workflow a decision belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 所属長の確認: an application, an absence notice, a subsidy application.
    Confirmation,
    /// 所属部長の決裁: a post-training report.
    Approval,
}

/// Who decides a step for one trainee.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approver {
    /// The head or acting head of this section (所属長).
    SectionHead { section_id: Uuid },
    /// The head or acting head of this department (所属部長).
    DepartmentHead { department_id: Uuid },
    /// The employee the organisation names for department heads' own items.
    Employee { employee_id: Uuid },
    /// 研修担当
    TrainingOffice,
}

impl Chain {
    /// Who decides `step` for this trainee.
    pub fn approver(&self, step: Step) -> Approver {
        let me = self.trainee.employee_id;
        // A department head's own items skip the section they sit in: its head reports to them.
        let heads_department = self.department.led_by(me);
        if step == Step::Confirmation && !heads_department && self.section.led_for(me) {
            return Approver::SectionHead { section_id: self.section.id };
        }
        if self.department.led_for(me) {
            return Approver::DepartmentHead { department_id: self.department.id };
        }
        match self.top {
            TopApprover::Employee { employee_id } if employee_id != me => Approver::Employee { employee_id },
            _ => Approver::TrainingOffice,
        }
    }
}

/// Who is asked to decide a step: named employees, or the training office as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deciders {
    /// The head and acting head of the unit (never the trainee), or the named approver.
    Employees(Vec<Uuid>),
    /// 研修担当: anyone with the training-office role.
    TrainingOffice,
}

impl Chain {
    /// Who is asked to decide `step` for this trainee: the people behind `approver(step)`.
    pub fn deciders(&self, step: Step) -> Deciders {
        let me = self.trainee.employee_id;
        let leaders = |u: &Unit| {
            let mut ids: Vec<Uuid> =
                [u.head, u.acting_head].into_iter().flatten().filter(|h| *h != me).collect();
            ids.dedup();
            ids
        };
        match self.approver(step) {
            Approver::SectionHead { .. } => Deciders::Employees(leaders(&self.section)),
            Approver::DepartmentHead { .. } => Deciders::Employees(leaders(&self.department)),
            Approver::Employee { employee_id } => Deciders::Employees(vec![employee_id]),
            Approver::TrainingOffice => Deciders::TrainingOffice,
        }
    }
}

/// What a caller is to a trainee, from the roster and the caller's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// The caller is the trainee.
    pub is_self: bool,
    /// Decides the confirmation step (所属長の確認, or whoever stands in for it).
    pub confirms: bool,
    /// Decides the approval step (所属部長の決裁, or whoever stands in for it).
    pub approves: bool,
    /// 研修担当, and not the trainee.
    pub is_hr: bool,
    /// May read the trainee's records: themself, the heads over them on the roster, whoever
    /// decides a step for them, HR and auditors.
    pub sees: bool,
}

impl Relation {
    /// Has some capacity or may at least read: anyone else is refused outright (403).
    pub fn concerned(&self) -> bool {
        self.sees || self.is_self || self.confirms || self.approves || self.is_hr
    }

    /// Decides `step` for the trainee.
    pub fn decides(&self, step: Step) -> bool {
        match step {
            Step::Confirmation => self.confirms,
            Step::Approval => self.approves,
        }
    }

    /// A workflow's capacities as this relation grants them: `trainee` to the trainee,
    /// `decider` to whoever decides the workflow's `step`, `office` to the training office.
    pub fn capacities<A>(&self, step: Step, trainee: A, decider: A, office: A) -> Vec<A> {
        let mut out = Vec::with_capacity(3);
        if self.is_self {
            out.push(trainee);
        }
        if self.decides(step) {
            out.push(decider);
        }
        if self.is_hr {
            out.push(office);
        }
        out
    }
}

/// A relation with the given capacities, for the workflows' unit tests.
#[cfg(test)]
pub(crate) fn relation_for_tests(is_self: bool, decides: bool, is_hr: bool) -> Relation {
    Relation { is_self, confirms: decides, approves: decides, is_hr, sees: true }
}

/// Whether `p` is `approver`. Heads need the role claim *and* the headship on the roster; a
/// named employee needs a staff role; the trainee is never their own approver.
fn is(p: &Principal, approver: Approver) -> bool {
    match approver {
        Approver::SectionHead { section_id } => {
            p.has(Role::SectionHead) && p.headed_sections.contains(&section_id)
        }
        Approver::DepartmentHead { department_id } => {
            p.has(Role::DepartmentHead) && p.headed_departments.contains(&department_id)
        }
        Approver::Employee { employee_id } => {
            p.employee.is_some_and(|e| e.employee_id == employee_id)
                && [Role::Employee, Role::SectionHead, Role::DepartmentHead, Role::HrAdmin]
                    .iter()
                    .any(|r| p.has(*r))
        }
        Approver::TrainingOffice => p.has(Role::HrAdmin),
    }
}

/// The one relation between a caller and a trainee.
pub fn relation(p: &Principal, chain: &Chain) -> Relation {
    let is_self = p.employee.is_some_and(|e| e.employee_id == chain.trainee.employee_id);
    let confirms = !is_self && is(p, chain.approver(Step::Confirmation));
    let approves = !is_self && is(p, chain.approver(Step::Approval));
    Relation {
        is_self,
        confirms,
        approves,
        is_hr: !is_self && p.has(Role::HrAdmin),
        sees: confirms || approves || authorize(p, Action::ReadEmployee(&chain.trainee)).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const ORG: u128 = 1;
    const SEC: u128 = 10;
    const DEP: u128 = 20;
    const TRAINEE: u128 = 100;
    const SECTION_HEAD: u128 = 101;
    const ACTING_SECTION_HEAD: u128 = 102;
    const DEPARTMENT_HEAD: u128 = 103;
    const DEPUTY_MAYOR: u128 = 104;
    const HR: u128 = 105;

    fn chain(trainee: u128) -> Chain {
        Chain {
            trainee: EmployeePlacement {
                org_id: id(ORG),
                employee_id: id(trainee),
                section_id: id(SEC),
                department_id: id(DEP),
            },
            section: Unit { id: id(SEC), head: Some(id(SECTION_HEAD)), acting_head: None },
            department: Unit { id: id(DEP), head: Some(id(DEPARTMENT_HEAD)), acting_head: None },
            top: TopApprover::TrainingOffice,
        }
    }

    fn caller(emp: u128, roles: &[Role], sections: &[u128], departments: &[u128]) -> Principal {
        Principal {
            org_id: id(ORG),
            subject: emp.to_string(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            employee: Some(EmployeePlacement {
                org_id: id(ORG),
                employee_id: id(emp),
                section_id: id(SEC),
                department_id: id(DEP),
            }),
            headed_sections: sections.iter().map(|s| id(*s)).collect(),
            headed_departments: departments.iter().map(|d| id(*d)).collect(),
        }
    }

    #[test]
    fn deciders_are_the_people_behind_each_step() {
        let mut c = chain(TRAINEE);
        c.section.acting_head = Some(id(ACTING_SECTION_HEAD));
        assert_eq!(
            c.deciders(Step::Confirmation),
            Deciders::Employees(vec![id(SECTION_HEAD), id(ACTING_SECTION_HEAD)])
        );
        assert_eq!(c.deciders(Step::Approval), Deciders::Employees(vec![id(DEPARTMENT_HEAD)]));
        // The acting head's own item goes up, as a head's does.
        let mut acting = c;
        acting.trainee.employee_id = id(ACTING_SECTION_HEAD);
        assert_eq!(acting.deciders(Step::Confirmation), Deciders::Employees(vec![id(DEPARTMENT_HEAD)]));
        // A department head's own items: the training office, or the named approver.
        let mut head = chain(DEPARTMENT_HEAD);
        assert_eq!(head.deciders(Step::Confirmation), Deciders::TrainingOffice);
        head.top = TopApprover::Employee { employee_id: id(DEPUTY_MAYOR) };
        assert_eq!(head.deciders(Step::Approval), Deciders::Employees(vec![id(DEPUTY_MAYOR)]));
    }

    fn section_head() -> Principal {
        caller(SECTION_HEAD, &[Role::SectionHead], &[SEC], &[])
    }

    fn department_head() -> Principal {
        caller(DEPARTMENT_HEAD, &[Role::DepartmentHead], &[], &[DEP])
    }

    fn hr() -> Principal {
        Principal { employee: None, ..caller(HR, &[Role::HrAdmin], &[], &[]) }
    }

    #[test]
    fn staff_go_to_their_section_head_and_department_head() {
        let c = chain(TRAINEE);
        assert_eq!(c.approver(Step::Confirmation), Approver::SectionHead { section_id: id(SEC) });
        assert_eq!(c.approver(Step::Approval), Approver::DepartmentHead { department_id: id(DEP) });
        let r = relation(&section_head(), &c);
        assert!(r.confirms && !r.approves && r.sees && !r.is_self);
        let r = relation(&department_head(), &c);
        assert!(!r.confirms && r.approves && r.sees);
        let r = relation(&hr(), &c);
        assert!(!r.confirms && !r.approves && r.is_hr && r.sees);
    }

    #[test]
    fn a_section_heads_own_items_go_to_the_department_head() {
        let c = chain(SECTION_HEAD);
        assert_eq!(c.approver(Step::Confirmation), Approver::DepartmentHead { department_id: id(DEP) });
        let me = relation(&section_head(), &c);
        assert!(me.is_self && !me.confirms && !me.approves, "never their own approver");
        let r = relation(&department_head(), &c);
        assert!(r.confirms && r.approves);
    }

    #[test]
    fn an_acting_head_acts_but_a_subordinate_acting_head_does_not_confirm_the_head() {
        let mut c = chain(TRAINEE);
        c.section.acting_head = Some(id(ACTING_SECTION_HEAD));
        let acting = caller(ACTING_SECTION_HEAD, &[Role::SectionHead], &[SEC], &[]);
        assert!(relation(&acting, &c).confirms);
        // The head's own item goes up, not to the one acting for them.
        let mut own = c;
        own.trainee.employee_id = id(SECTION_HEAD);
        assert!(!relation(&acting, &own).confirms);
        assert!(relation(&department_head(), &own).confirms);
        // A section led only by an acting head is led.
        c.section.head = None;
        assert_eq!(c.approver(Step::Confirmation), Approver::SectionHead { section_id: id(SEC) });
    }

    #[test]
    fn a_section_without_a_head_goes_to_its_department_head() {
        let mut c = chain(TRAINEE);
        c.section.head = None;
        assert_eq!(c.approver(Step::Confirmation), Approver::DepartmentHead { department_id: id(DEP) });
        assert!(relation(&department_head(), &c).confirms);
        assert!(!relation(&section_head(), &c).confirms, "heads nothing of the trainee's now");
    }

    #[test]
    fn a_department_heads_own_items_go_to_the_organisations_approver() {
        let mut c = chain(DEPARTMENT_HEAD);
        // Not the head of the section the department head sits in: a subordinate.
        assert_eq!(c.approver(Step::Confirmation), Approver::TrainingOffice);
        assert!(!relation(&section_head(), &c).confirms);
        assert_eq!(c.approver(Step::Approval), Approver::TrainingOffice);
        assert!(relation(&hr(), &c).approves && relation(&hr(), &c).confirms);
        assert!(!relation(&department_head(), &c).approves, "never their own");
        c.top = TopApprover::Employee { employee_id: id(DEPUTY_MAYOR) };
        let deputy = caller(DEPUTY_MAYOR, &[Role::Employee], &[], &[]);
        assert_eq!(c.approver(Step::Approval), Approver::Employee { employee_id: id(DEPUTY_MAYOR) });
        let r = relation(&deputy, &c);
        assert!(r.approves && r.sees && r.confirms);
        assert!(!relation(&hr(), &c).approves, "HR no longer decides once someone is named");
        assert_eq!(c.approver(Step::Confirmation), Approver::Employee { employee_id: id(DEPUTY_MAYOR) });
        // An acting department head's own items go up the same way.
        let mut acting = chain(ACTING_SECTION_HEAD);
        acting.department.acting_head = Some(id(ACTING_SECTION_HEAD));
        assert_eq!(acting.approver(Step::Confirmation), Approver::TrainingOffice);
        // The named approver's own items go to the training office.
        let mut own = c;
        own.trainee.employee_id = id(DEPUTY_MAYOR);
        own.department.head = Some(id(DEPUTY_MAYOR));
        own.section.head = None;
        assert_eq!(own.approver(Step::Approval), Approver::TrainingOffice);
        assert!(!relation(&deputy, &own).approves);
    }

    #[test]
    fn a_head_role_claim_without_a_headship_is_nobody() {
        let pretender = caller(ACTING_SECTION_HEAD, &[Role::SectionHead, Role::DepartmentHead], &[], &[]);
        let r = relation(&pretender, &chain(TRAINEE));
        assert_eq!(
            r,
            Relation { is_self: false, confirms: false, approves: false, is_hr: false, sees: false }
        );
        assert!(!r.concerned());
        // A headship on the roster without the role claim does not act either.
        let unclaimed = caller(SECTION_HEAD, &[Role::Employee], &[SEC], &[]);
        assert!(!relation(&unclaimed, &chain(TRAINEE)).confirms);
    }

    #[test]
    fn hr_is_never_hr_for_its_own_items() {
        let mut c = chain(HR);
        c.department.head = None;
        c.section.head = None;
        let me = Principal { employee: Some(c.trainee), ..hr() };
        let r = relation(&me, &c);
        assert!(r.is_self && !r.is_hr && !r.confirms && !r.approves);
    }
}
