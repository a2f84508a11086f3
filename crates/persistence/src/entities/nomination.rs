use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 選考: an employee on a course by a route.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "nomination")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub course_id: Uuid,
    pub session_id: Option<Uuid>,
    pub employee_id: Uuid,
    /// designation | recommendation | application
    pub route: String,
    /// See `kenshu_domain::selection::NominationState`.
    pub state: String,
    pub reason: Option<String>,
    /// Token subject who proposed it (HR for designations).
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    /// When a waiting nomination got its place; sessions before it do not count.
    pub placed_at: Option<DateTimeUtc>,
    /// It held a place at some time (a cancelled place stays in calendar feeds as cancelled).
    pub held_place: bool,
    /// Why it was rejected or declined: the trainee and the next approver see it.
    pub decision_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
