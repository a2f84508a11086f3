//! sea-orm entities, one per table. Every table carries `org_id`.

pub mod absence_notice;
pub mod attendance;
pub mod audit_log;
pub mod correspondence_course;
pub mod course;
pub mod course_session;
pub mod course_survey;
pub mod department;
pub mod employee;
pub mod grade;
pub mod internship_programme;
pub mod internship_student;
pub mod nomination;
pub mod notice;
pub mod organisation;
pub mod section;
pub mod session_check_in;
pub mod study_group;
pub mod subsidy_application;
pub mod subsidy_document;
pub mod subsidy_programme;
pub mod survey_response;
pub mod training_plan;
pub mod training_report;
