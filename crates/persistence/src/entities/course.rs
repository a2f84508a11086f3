use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 研修: one course of a plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "course")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub plan_id: Uuid,
    pub fiscal_year: i32,
    pub category: String,
    /// The category's place in the plan (階層別 = 0), for ordering.
    pub category_rank: i32,
    pub number: i32,
    pub title: String,
    pub purpose: Option<String>,
    pub content: Option<String>,
    /// 対象 as the plan words it.
    pub audience: Option<String>,
    /// JSON array of audience rules.
    pub rules: String,
    /// JSON array of the rules' routes, filtered with LIKE '%"route"%'.
    pub routes: String,
    /// JSON timing.
    pub timing: String,
    /// Bit m set when the course runs in calendar month m.
    pub months_mask: i32,
    pub delivery: String,
    pub institution: Option<String>,
    pub headcount: Option<i32>,
    /// JSON report rule.
    pub report: String,
    /// JSON completion rule (修了要件).
    pub completion: String,
    /// 申込開始 and 申込締切; both or neither.
    pub application_opens: Option<Date>,
    pub application_closes: Option<Date>,
    pub notes: Option<String>,
    pub pillar: String,
    /// JSON array of aims.
    pub aims: String,
    /// 位置づけ: the course this one is part of.
    pub within_course_id: Option<Uuid>,
    /// draft | published | cancelled
    pub status: String,
    /// 合同研修: the share (a row of `host_org_id`) this course takes part in; its places are set
    /// by the host and its sessions are copies of the host's.
    pub share_id: Option<Uuid>,
    pub host_org_id: Option<Uuid>,
    #[serde(skip)]
    pub search_key: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
