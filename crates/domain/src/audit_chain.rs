//! 監査ログの改ざん検知: each organisation's audit records form a hash chain. Record `n` holds
//! `hash(n) = SHA-256(hash(n-1) ‖ n ‖ the record's fields)`, and the organisation's chain head
//! holds the last sequence number and hash. Changing, removing or reordering a record, or
//! cutting the log short, breaks the first link after it, which [`Verifier`] reports.
//!
//! The hash input is exactly what the record itself holds, nothing more: the audit log never
//! keeps personal data that can be erased (an internship student's name and details are left
//! out of their records), so no erased datum lives on inside a hash.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash before an organisation's first record: SHA-256 of a fixed label, so that an empty
/// chain and a chain of records differ.
pub fn genesis() -> String {
    hex(&Sha256::digest(b"kenshu audit chain v1"))
}

/// The fields of one audit record that the chain covers (all of them).
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub org_id: Uuid,
    pub id: Uuid,
    /// RFC 3339 with microseconds in UTC (see [`timestamp`]).
    pub at: &'a str,
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<Uuid>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// The one text form of a record's time in the hash: both databases keep microseconds.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The link hash of the record numbered `seq` that follows `prev` (hex).
pub fn link(prev: &str, seq: i64, record: &Record<'_>) -> String {
    let mut h = Sha256::new();
    // Every field is framed (a presence byte and a length), so that no two different records
    // can feed the same bytes to the hash.
    let mut field = |value: Option<&[u8]>| match value {
        None => h.update([0u8]),
        Some(bytes) => {
            h.update([1u8]);
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
    };
    field(Some(prev.as_bytes()));
    field(Some(&seq.to_be_bytes()));
    field(Some(record.org_id.as_bytes()));
    field(Some(record.id.as_bytes()));
    field(Some(record.at.as_bytes()));
    field(Some(record.actor.as_bytes()));
    field(record.request_id.map(str::as_bytes));
    field(Some(record.action.as_bytes()));
    field(Some(record.entity_type.as_bytes()));
    field(record.entity_id.as_ref().map(|id| id.as_bytes().as_slice()));
    field(record.before.map(str::as_bytes));
    field(record.after.map(str::as_bytes));
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where an organisation's chain stands: the last record's number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// Before the first record.
    pub fn start() -> Self {
        Self { seq: 0, hash: genesis() }
    }

    /// Chain the next record: its number and hash, and the head moves on to it.
    pub fn append(&mut self, record: &Record<'_>) -> (i64, String) {
        self.seq += 1;
        self.hash = link(&self.hash, self.seq, record);
        (self.seq, self.hash.clone())
    }
}

/// Why the chain is broken at a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// A number is missing or repeated: a record was removed or inserted.
    Sequence { expected: i64, found: i64 },
    /// The record's fields or its predecessor no longer give its stored hash: it (or the one
    /// before it) was changed.
    Hash { seq: i64 },
    /// The records end before (or go on after) the head: the log was cut short or the head
    /// was reset.
    Head { records_end_at: i64, head_at: i64 },
}

impl Break {
    pub fn describe(&self) -> String {
        match self {
            Break::Sequence { expected, found } => {
                format!("record {expected} is missing (the next one found is {found})")
            }
            Break::Hash { seq } => {
                format!("record {seq} does not match its hash: it or its predecessor was changed")
            }
            Break::Head { records_end_at, head_at } => {
                format!("the chain head is at record {head_at} but the records end at {records_end_at}")
            }
        }
    }

    /// The sequence number at which the chain first fails.
    pub fn seq(&self) -> i64 {
        match self {
            Break::Sequence { expected, .. } => *expected,
            Break::Hash { seq } => *seq,
            Break::Head { records_end_at, head_at } => records_end_at.min(head_at) + 1,
        }
    }
}

/// Walks one organisation's records in sequence order and stops at the first broken link.
#[derive(Debug, Clone)]
pub struct Verifier {
    head: Head,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { head: Head::start() }
    }
}

impl Verifier {
    /// The next record, numbered `seq`, with its stored `hash`.
    pub fn check(&mut self, seq: i64, hash: &str, record: &Record<'_>) -> Result<(), Break> {
        let expected = self.head.seq + 1;
        if seq != expected {
            return Err(Break::Sequence { expected, found: seq });
        }
        let (_, computed) = self.head.append(record);
        if computed != hash {
            return Err(Break::Hash { seq });
        }
        Ok(())
    }

    /// How many records have been checked.
    pub fn checked(&self) -> i64 {
        self.head.seq
    }

    /// After the last record: the stored head must be where the records end.
    pub fn finish(&self, stored: &Head) -> Result<(), Break> {
        if stored != &self.head {
            return Err(Break::Head { records_end_at: self.head.seq, head_at: stored.seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(id: u128, after: Option<&'a str>) -> Record<'a> {
        Record {
            org_id: Uuid::from_u128(1),
            id: Uuid::from_u128(id),
            at: "2026-12-03T12:00:00.000001Z",
            actor: "10035",
            request_id: Some("req-1"),
            action: "employee.update",
            entity_type: "employee",
            entity_id: Some(Uuid::from_u128(9)),
            before: None,
            after,
        }
    }

    fn chain(records: &[Record<'_>]) -> (Vec<(i64, String)>, Head) {
        let mut head = Head::start();
        let links = records.iter().map(|r| head.append(r)).collect();
        (links, head)
    }

    fn verify(records: &[(i64, String, Record<'_>)], head: &Head) -> Result<i64, Break> {
        let mut v = Verifier::default();
        for (seq, hash, r) in records {
            v.check(*seq, hash, r)?;
        }
        v.finish(head)?;
        Ok(v.checked())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let records = [record(1, Some("{\"a\":1}")), record(2, None), record(3, Some("{}"))];
        let (links, head) = chain(&records);
        let rows: Vec<_> = links.into_iter().zip(records).map(|((s, h), r)| (s, h, r)).collect();
        assert_eq!(verify(&rows, &head), Ok(3));
        assert_eq!(verify(&[], &Head::start()), Ok(0));
    }

    #[test]
    fn a_changed_field_breaks_its_own_link() {
        let records = [record(1, Some("{\"a\":1}")), record(2, Some("{\"b\":2}")), record(3, None)];
        let (links, head) = chain(&records);
        let mut rows: Vec<_> = links.into_iter().zip(records).map(|((s, h), r)| (s, h, r)).collect();
        rows[1].2.after = Some("{\"b\":3}");
        assert_eq!(verify(&rows, &head), Err(Break::Hash { seq: 2 }));
    }

    #[test]
    fn a_recomputed_link_still_breaks_the_next_one() {
        let records = [record(1, None), record(2, Some("x")), record(3, None)];
        let (links, head) = chain(&records);
        let mut rows: Vec<_> = links.into_iter().zip(records).map(|((s, h), r)| (s, h, r)).collect();
        rows[1].2.actor = "intruder";
        rows[1].1 = link(&rows[0].1, 2, &rows[1].2);
        assert_eq!(verify(&rows, &head), Err(Break::Hash { seq: 3 }));
    }

    #[test]
    fn a_removed_record_and_a_cut_tail_are_found() {
        let records = [record(1, None), record(2, None), record(3, None)];
        let (links, head) = chain(&records);
        let rows: Vec<_> = links.into_iter().zip(records).map(|((s, h), r)| (s, h, r)).collect();
        let without_second = vec![rows[0].clone(), rows[2].clone()];
        assert_eq!(verify(&without_second, &head), Err(Break::Sequence { expected: 2, found: 3 }));
        let cut = &rows[..2];
        let broken = verify(cut, &head).unwrap_err();
        assert_eq!(broken, Break::Head { records_end_at: 2, head_at: 3 });
        assert_eq!(broken.seq(), 3);
    }

    #[test]
    fn framing_keeps_neighbouring_fields_apart() {
        let mut a = record(1, None);
        let mut b = record(1, None);
        a.action = "employee.update";
        a.entity_type = "employee";
        b.action = "employee.updatee";
        b.entity_type = "mployee";
        assert_ne!(link(&genesis(), 1, &a), link(&genesis(), 1, &b));
        let (none, empty) = (record(1, None), record(1, Some("")));
        assert_ne!(link(&genesis(), 1, &none), link(&genesis(), 1, &empty));
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T21:00:00.123456+09:00").unwrap().to_utc();
        assert_eq!(timestamp(at), "2026-12-03T12:00:00.123456Z");
    }
}
