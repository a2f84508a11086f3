//! 研修通知: selected trainees notified, with their notices.

use super::*;
use crate::WriteTxn;

/// 研修通知: move every selected nomination of the course to notified and write a notice for the
/// trainee and one for each of their heads, in one transaction.
pub async fn notify_course(
    conn: &WriteTxn,
    actor: &Actor,
    course: &CourseRecord,
) -> Result<(u64, u64), RepoError> {
    lock_course(conn, actor.org_id, course.model.id).await?;
    let selected = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(actor.org_id))
        .filter(nomination::Column::CourseId.eq(course.model.id))
        .filter(nomination::Column::State.eq(NominationState::Selected.as_str()))
        .order_by_asc(nomination::Column::Id)
        .all(conn)
        .await?;
    if selected.is_empty() {
        return Ok((0, 0));
    }
    let next = kenshu_domain::selection::transition(
        NominationState::Selected,
        Event::Notify,
        kenshu_domain::selection::Actor::Hr,
    )?;
    for n in &selected {
        save(conn, actor, Event::Notify.as_str(), n, next).await?;
    }
    let facts = crate::repo::notice::course_facts(conn, &course.model).await?;
    let written = crate::repo::notice::tell_places(conn, actor.org_id, &facts, &selected, || {
        kenshu_domain::notice::Event::Selected
    })
    .await?;
    Ok((selected.len() as u64, written))
}
