//! sea-orm entities, one per table. Every table carries `org_id`.

pub mod absence_notice;
pub mod attendance;
pub mod audit_block;
pub mod audit_chain_head;
pub mod audit_log;
pub mod calendar_feed;
pub mod correspondence_course;
pub mod course;
pub mod course_session;
pub mod course_share;
pub mod course_survey;
pub mod delivery_attempt;
pub mod department;
pub mod employee;
pub mod grade;
pub mod internship_programme;
pub mod internship_student;
pub mod job_lease;
pub mod nomination;
pub mod notice;
pub mod notice_delivery;
pub mod notification_channel;
pub mod organisation;
pub mod portal_form;
pub mod portal_inbound;
pub mod section;
pub mod session_check_in;
pub mod session_tombstone;
pub mod study_group;
pub mod subsidy_application;
pub mod subsidy_document;
pub mod subsidy_programme;
pub mod survey_response;
pub mod training_plan;
pub mod training_report;

/// Typed readers for the columns that store a domain vocabulary as text (states, routes,
/// statuses, kinds): the enum is what leaves this crate, and a stored value the service does not
/// know is an error, never read as some default.
macro_rules! typed_columns {
    ($($entity:ident . $field:ident : $ty:ty),+ $(,)?) => {
        $(impl $entity::Model {
            pub fn $field(&self) -> Result<$ty, sea_orm::DbErr> {
                stored(concat!(stringify!($entity), ".", stringify!($field)), &self.$field, <$ty>::parse)
            }
        })+
    };
}

/// A vocabulary column's value as its enum, from a model or from a narrow select: a value the
/// service does not know is an error naming `column` (`nomination.state`).
pub(crate) fn stored<T>(
    column: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, sea_orm::DbErr> {
    parse(value).ok_or_else(|| sea_orm::DbErr::Custom(format!("stored {column} '{value}' is not known")))
}

typed_columns!(
    absence_notice.kind: kenshu_domain::absence::AbsenceKind,
    absence_notice.state: kenshu_domain::absence::NoticeState,
    attendance.status: kenshu_domain::attendance::AttendanceStatus,
    correspondence_course.field: kenshu_domain::subsidy::StudyField,
    course.category: kenshu_domain::catalogue::Category,
    course.delivery: kenshu_domain::catalogue::Delivery,
    course.pillar: kenshu_domain::catalogue::Pillar,
    course.status: kenshu_domain::catalogue::CourseStatus,
    course_share.state: kenshu_domain::joint::ShareState,
    employee.employment_type: kenshu_domain::employee::EmploymentType,
    internship_student.state: kenshu_domain::internship::StudentState,
    nomination.route: kenshu_domain::audience::Route,
    nomination.state: kenshu_domain::selection::NominationState,
    notice_delivery.state: kenshu_domain::delivery::DeliveryState,
    notification_channel.kind: kenshu_domain::delivery::ChannelKind,
    notice.item_type: kenshu_domain::notice::ItemKind,
    notice.kind: kenshu_domain::notice::NoticeKind,
    notice.recipient_role: kenshu_domain::notice::RecipientRole,
    portal_form.kind: kenshu_domain::portal_form::FormKind,
    portal_form.employee_is: kenshu_domain::portal_form::EmployeeIs,
    portal_inbound.change: kenshu_domain::portal_form::Change,
    portal_inbound.state: kenshu_domain::portal_form::InboundState,
    study_group.state: kenshu_domain::subsidy::GroupState,
    subsidy_application.state: kenshu_domain::subsidy::ApplicationState,
    training_plan.status: kenshu_domain::catalogue::PlanStatus,
    training_report.state: kenshu_domain::report::ReportState,
);

#[cfg(test)]
mod tests {
    #[test]
    fn a_stored_value_the_service_does_not_know_fails_loudly() {
        let at = chrono::Utc::now();
        let n = super::nomination::Model {
            id: uuid::Uuid::nil(),
            org_id: uuid::Uuid::nil(),
            course_id: uuid::Uuid::nil(),
            session_id: None,
            employee_id: uuid::Uuid::nil(),
            route: "designation".into(),
            state: "selectd".into(),
            reason: None,
            proposed_by: "hr".into(),
            decided_by: None,
            decided_at: None,
            placed_at: None,
            held_place: false,
            decision_reason: None,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        assert_eq!(n.route().unwrap(), kenshu_domain::audience::Route::Designation);
        let e = n.state().unwrap_err().to_string();
        assert!(e.contains("nomination.state 'selectd' is not known"), "{e}");
    }
}
