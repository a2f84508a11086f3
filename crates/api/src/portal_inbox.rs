//! Applying a change a portal form sent (stored first by the webhook endpoint): read the record
//! by the form's mapping, find the employee, course, session and item it names, and file or
//! correct the item as that employee would through the API, in one transaction with the
//! change's outcome. What cannot be applied is kept `failed` with a reason for the training
//! office to correct and replay; a failure on our side leaves it `pending` for the scheduler.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use kenshu_domain::absence::NoticeState;
use kenshu_domain::calendar::{jst, tokyo_date, FiscalYear};
use kenshu_domain::notice::ItemKind;
use kenshu_domain::portal_form::{self, Change, CourseName, EmployeeIs, FormKind, FormRecord, InboundState};
use kenshu_domain::report::ReportState;
use kenshu_persistence::entities::{nomination, portal_form as form_entity, portal_inbound};
use kenshu_persistence::repo::portal as repo;
use kenshu_persistence::repo::principal::SignInUser;
use kenshu_persistence::repo::{absence, catalogue, report};
use kenshu_persistence::Precondition;
use kenshu_persistence::WriteTxn;
use uuid::Uuid;

use crate::auth::Auth;
use crate::problem::ApiError;
use crate::routes::{absence as absence_routes, report as report_routes, selection, subsidy};
use crate::state::AppState;

/// Why a change could not be applied, or that it failed on our side.
enum Unapplied {
    /// The record, the mapping or the state of things refuses it: kept `failed` with this reason.
    Refused(String),
    /// Ours (the database): left pending, tried again.
    Ours(ApiError),
}

impl From<ApiError> for Unapplied {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Internal(_) | ApiError::Unavailable | ApiError::PreconditionFailed { .. } => {
                Unapplied::Ours(e)
            }
            ApiError::Validation(errors) => Unapplied::Refused(
                errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "),
            ),
            ApiError::Forbidden => {
                Unapplied::Refused("the employee the form names may not do this in Kenshu".into())
            }
            ApiError::NotFound => Unapplied::Refused("what the form names is not in Kenshu".into()),
            other => Unapplied::Refused(other.to_string()),
        }
    }
}

impl From<kenshu_persistence::DbErr> for Unapplied {
    fn from(e: kenshu_persistence::DbErr) -> Self {
        Unapplied::Ours(e.into())
    }
}

fn refused<T>(why: impl Into<String>) -> Result<T, Unapplied> {
    Err(Unapplied::Refused(why.into()))
}

/// Apply stored change `id` of `org_id` if it is pending or failed (a replay); otherwise leave
/// it as it is. The change as it stands afterwards.
pub async fn apply(state: &AppState, org_id: Uuid, id: Uuid) -> Result<portal_inbound::Model, ApiError> {
    let txn = state.db.begin_write().await?;
    let row = repo::lock_inbound(&txn, org_id, id).await?;
    if !row.state()?.may_replay() {
        txn.rollback().await?;
        return Ok(row);
    }
    let form = repo::form(state.db.conn(), org_id, row.form_id).await?;
    match attempt(state, &txn, &form, &row).await {
        Ok((outcome, item)) => {
            let after = repo::settle(&txn, &row, outcome, None, item).await?;
            txn.commit().await?;
            Ok(after)
        }
        Err(Unapplied::Refused(reason)) => {
            // Whatever the attempt wrote goes; the refusal is kept.
            txn.rollback().await?;
            let txn = state.db.begin_write().await?;
            let row = repo::lock_inbound(&txn, org_id, id).await?;
            let after = repo::settle(&txn, &row, InboundState::Failed, Some(reason), None).await?;
            txn.commit().await?;
            Ok(after)
        }
        Err(Unapplied::Ours(e)) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Apply what has been pending longer than `older_than_secs` (the instance that received it
/// stopped, or the database failed while applying). How many were applied or refused.
pub async fn apply_stuck(state: &AppState, older_than_secs: i64) -> Result<usize, ApiError> {
    let before = state.clock.now() - chrono::Duration::seconds(older_than_secs);
    let stuck = repo::stuck(state.db.conn(), before, 100).await?;
    let mut done = 0;
    for (org_id, id) in stuck {
        match apply(state, org_id, id).await {
            Ok(_) => done += 1,
            Err(e) => tracing::warn!(inbound = %id, error = %e, "a portal change is still pending"),
        }
    }
    Ok(done)
}

async fn attempt(
    state: &AppState,
    txn: &WriteTxn,
    form: &form_entity::Model,
    row: &portal_inbound::Model,
) -> Result<(InboundState, Option<(ItemKind, Uuid)>), Unapplied> {
    let kind = form.kind()?;
    let map = repo::fields_of(form)?;
    let payload: serde_json::Value =
        serde_json::from_str(&row.payload).map_err(|e| ApiError::Internal(format!("stored payload: {e}")))?;
    let record = portal_form::read(kind, &map, &payload["data"]).map_err(Unapplied::Refused)?;
    let user = match form.employee_is()? {
        EmployeeIs::LoginId => SignInUser::LoginId(&record.employee),
        EmployeeIs::EmployeeNo => SignInUser::EmployeeNo(&record.employee),
    };
    let auth = match Auth::for_portal(state, form.org_id, user, format!("portal-inbound:{}", row.id)).await? {
        Ok(auth) => auth,
        Err(why) => return refused(format!("employee '{}': {why}", record.employee)),
    };
    let employee_id = auth.principal.employee.map(|e| e.employee_id).ok_or(ApiError::Forbidden)?;
    let today = tokyo_date(state.clock.now());
    let earlier = repo::item_of_record(state.db.conn(), form.org_id, form.id, &row.data_id).await?;
    match (row.change()?, earlier) {
        // The record is in Kenshu already (its update arrived first): nothing to add.
        (Change::Added, Some(item)) => Ok((InboundState::Unchanged, Some(item))),
        (Change::Added | Change::Updated, None) => {
            let item = file(state, txn, &auth, kind, &record, employee_id, today).await?;
            Ok((InboundState::Applied, Some(item)))
        }
        (Change::Updated, Some(item)) => correct(state, txn, &auth, kind, &record, item).await,
    }
}

/// File a new item as the employee.
async fn file(
    state: &AppState,
    txn: &WriteTxn,
    auth: &Auth,
    kind: FormKind,
    r: &FormRecord,
    employee_id: Uuid,
    today: NaiveDate,
) -> Result<(ItemKind, Uuid), Unapplied> {
    let org_id = auth.principal.org_id;
    match kind {
        FormKind::CourseApplication => {
            let course = course(state, org_id, r, today, None).await?;
            let session_id = match r.session_day {
                None => None,
                Some(day) => Some(session_on(state, org_id, course.id, day, None).await?),
            };
            let input = selection::ApplicationInput { session_id, reason: r.reason.clone() };
            let n = selection::apply_as(state, auth, txn, course.id, input).await?;
            Ok((ItemKind::Nomination, n.id))
        }
        FormKind::AbsenceNotice => {
            let (_, n) = course_and_place(state, org_id, r, today, employee_id).await?;
            let day =
                r.session_day.ok_or_else(|| Unapplied::Refused("the form names no session day".into()))?;
            let session_id = session_on(state, org_id, n.course_id, day, n.session_id).await?;
            let input = absence_routes::NewNotice {
                session_id,
                kind: r.kind.ok_or_else(|| Unapplied::Refused("the form names no kind of absence".into()))?,
                reason: r.reason.clone().unwrap_or_default(),
                arrives_at: r.arrives_at.map(|t| at(day, t)),
                leaves_at: r.leaves_at.map(|t| at(day, t)),
                submit: true,
            };
            let (notice, _) = absence_routes::file_notice(auth, txn, n.id, input).await?;
            Ok((ItemKind::AbsenceNotice, notice.id))
        }
        FormKind::TrainingReport => {
            let (_, n) = course_and_place(state, org_id, r, today, employee_id).await?;
            let input = report_routes::NewReport {
                learned: r.learned.clone(),
                application: r.application.clone(),
                comments: r.comments.clone(),
                submit: r.submit,
            };
            let (report, _) = report_routes::write_report(state, auth, txn, n.id, input).await?;
            Ok((ItemKind::TrainingReport, report.id))
        }
        FormKind::SubsidyApplication => {
            let CourseName::Title(title) = &r.course else {
                return refused("name the correspondence course by its title");
            };
            let fy = r.fiscal_year.unwrap_or(FiscalYear::containing(today).year());
            let found = repo::correspondence_named(state.db.conn(), org_id, fy, title).await?;
            let [course] = found.as_slice() else {
                return refused(format!(
                    "{} correspondence courses of FY{fy} are titled '{title}'; one is needed",
                    found.len()
                ));
            };
            let input = subsidy::NewApplication { course_id: course.id, reason: r.reason.clone() };
            let a = subsidy::apply_as(state, auth, txn, input).await?;
            Ok((ItemKind::SubsidyApplication, a.id))
        }
    }
}

/// Correct the item an earlier change of the record made, as the employee, and send it on when
/// the form says it is filed and it waits for that (a draft, or returned to be corrected).
async fn correct(
    state: &AppState,
    txn: &WriteTxn,
    auth: &Auth,
    kind: FormKind,
    r: &FormRecord,
    (item_kind, item_id): (ItemKind, Uuid),
) -> Result<(InboundState, Option<(ItemKind, Uuid)>), Unapplied> {
    let org_id = auth.principal.org_id;
    let item = Some((item_kind, item_id));
    match kind {
        FormKind::CourseApplication | FormKind::SubsidyApplication => refused(
            "an application is not corrected from the portal once made; withdraw it in Kenshu and apply again",
        ),
        FormKind::AbsenceNotice => {
            let before = absence::get(state.db.conn(), org_id, item_id).await.map_err(ApiError::from)?;
            let session = catalogue::get_session(state.db.conn(), org_id, before.course_id, before.session_id)
                .await
                .map_err(ApiError::from)?;
            let day = tokyo_date(session.starts_at);
            if r.session_day.is_some_and(|d| d != day) {
                return refused(
                    "the notice is for another day; withdraw it in Kenshu and file a new one for this day",
                );
            }
            let text = absence_routes::NoticeText {
                kind: r.kind.ok_or_else(|| Unapplied::Refused("the form names no kind of absence".into()))?,
                reason: r.reason.clone().unwrap_or_default(),
                arrives_at: r.arrives_at.map(|t| at(day, t)),
                leaves_at: r.leaves_at.map(|t| at(day, t)),
            };
            let (after, parties) = absence_routes::correct_notice(auth, txn, item_id, &Precondition::Any, text).await?;
            let corrected = after.version != before.version;
            if matches!(after.state()?, NoticeState::Draft | NoticeState::Returned) {
                let event = kenshu_domain::absence::NoticeEvent::Submit;
                absence_routes::move_notice(auth, txn, &after, &parties, &Precondition::version(after.version), event, None).await?;
                return Ok((InboundState::Applied, item));
            }
            Ok((if corrected { InboundState::Applied } else { InboundState::Unchanged }, item))
        }
        FormKind::TrainingReport => {
            let before = report::get(state.db.conn(), org_id, item_id).await.map_err(ApiError::from)?;
            let input = report_routes::ReportInput {
                learned: r.learned.clone(),
                application: r.application.clone(),
                comments: r.comments.clone(),
            };
            let (after, trainee) = report_routes::correct_report(state, auth, txn, item_id, &Precondition::Any, input).await?;
            let corrected = after.version != before.version;
            if r.submit && matches!(after.state()?, ReportState::Draft | ReportState::Returned) {
                report_routes::submit_report(auth, txn, &after, &trainee).await?;
                return Ok((InboundState::Applied, item));
            }
            Ok((if corrected { InboundState::Applied } else { InboundState::Unchanged }, item))
        }
    }
}

/// The one course the record names: in its fiscal year, or this year's (for a report or an
/// absence notice, the year before too, where the employee has a place).
async fn course(
    state: &AppState,
    org_id: Uuid,
    r: &FormRecord,
    today: NaiveDate,
    employee_id: Option<Uuid>,
) -> Result<kenshu_persistence::entities::course::Model, Unapplied> {
    let this = FiscalYear::containing(today);
    let years = match (r.fiscal_year, employee_id) {
        (Some(y), _) => vec![y],
        (None, Some(_)) => vec![this.year(), this.previous().year()],
        (None, None) => vec![this.year()],
    };
    let mut found = repo::courses_named(state.db.conn(), org_id, &years, &r.course).await?;
    if let Some(employee_id) = employee_id {
        // Of courses of the same name in two years, the one the employee is on.
        let mut theirs = Vec::new();
        for c in &found {
            if repo::nomination_on(state.db.conn(), org_id, c.id, employee_id).await?.is_some() {
                theirs.push(c.clone());
            }
        }
        if !theirs.is_empty() {
            found = theirs;
        }
    }
    let name = match &r.course {
        CourseName::Number(n) => format!("number {n}"),
        CourseName::Title(t) => format!("'{t}'"),
    };
    let years = years.iter().map(|y| format!("FY{y}")).collect::<Vec<_>>().join(" or ");
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => refused(format!("no course {name} in {years}")),
        n => refused(format!("{n} courses {name} in {years}; name the fiscal year")),
    }
}

/// The course and the employee's nomination on it.
async fn course_and_place(
    state: &AppState,
    org_id: Uuid,
    r: &FormRecord,
    today: NaiveDate,
    employee_id: Uuid,
) -> Result<(kenshu_persistence::entities::course::Model, nomination::Model), Unapplied> {
    let course = course(state, org_id, r, today, Some(employee_id)).await?;
    match repo::nomination_on(state.db.conn(), org_id, course.id, employee_id).await? {
        Some(n) => Ok((course, n)),
        None => refused(format!("employee '{}' has no place on '{}'", r.employee, course.title)),
    }
}

/// The course's session on `day` (Japan time); of several that day, the one the trainee is on.
async fn session_on(
    state: &AppState,
    org_id: Uuid,
    course_id: Uuid,
    day: NaiveDate,
    own: Option<Uuid>,
) -> Result<Uuid, Unapplied> {
    let sessions = catalogue::list_sessions(state.db.conn(), org_id, course_id).await?;
    let on_day: Vec<Uuid> =
        sessions.iter().filter(|s| tokyo_date(s.starts_at) == day).map(|s| s.id).collect();
    match on_day.as_slice() {
        [one] => Ok(*one),
        [] => refused(format!("the course has no session on {day}")),
        many => match own.filter(|o| many.contains(o)) {
            Some(o) => Ok(o),
            None => {
                refused(format!("the course has {} sessions on {day}; the form cannot say which", many.len()))
            }
        },
    }
}

/// A time of day on `day`, Japan time.
fn at(day: NaiveDate, t: NaiveTime) -> DateTime<FixedOffset> {
    jst().from_local_datetime(&day.and_time(t)).single().expect("Japan has no clock changes")
}
