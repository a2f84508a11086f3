//! 監査ログの改ざん検知: each organisation's audit records form a hash chain, and the
//! organisation's chain head holds the last sequence number and hash. Changing, removing or
//! reordering a record, or cutting the log short, breaks the first link after it, which
//! [`Verifier`] reports.
//!
//! The chain is made of blocks, one per write transaction and organisation ([`Block`]): as the
//! transaction writes its records it hashes them in order, record `p` of block `b` holding
//! `h(p) = SHA-256(h(p-1) ‖ p ‖ the record's fields)` from a start derived from the block's id,
//! so each record is written once, complete, when it is made. At commit the block takes the next
//! `count` numbers of the chain and one link, `SHA-256(head hash ‖ first number ‖ count ‖ block
//! id ‖ h(count))` ([`block_link`]), which becomes the head. The first records of the chain were
//! linked one by one (`hash(n) = SHA-256(hash(n-1) ‖ n ‖ fields)`, [`link`]); they come first and
//! are checked as they were written.
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

/// Feeds a field to the hash framed (a presence byte and a length), so that no two different
/// records can feed the same bytes to it.
fn framed(h: &mut Sha256, value: Option<&[u8]>) {
    match value {
        None => h.update([0u8]),
        Some(bytes) => {
            h.update([1u8]);
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
    }
}

/// The link hash of the record numbered `seq` that follows `prev` (hex). Also a block's running
/// hash, with `seq` the record's place in the block.
pub fn link(prev: &str, seq: i64, record: &Record<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |value: Option<&[u8]>| framed(&mut h, value);
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

/// One write transaction's records of one organisation, hashed as they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub id: Uuid,
    /// Records so far.
    pub count: i64,
    /// The running hash of the last record (or the block's start).
    pub hash: String,
}

impl Block {
    pub fn new(id: Uuid) -> Self {
        let mut h = Sha256::new();
        h.update(b"kenshu audit block v2");
        h.update(id.as_bytes());
        Self { id, count: 0, hash: hex(&h.finalize()) }
    }

    /// Add the next record: its place in the block (from 1) and running hash.
    pub fn append(&mut self, record: &Record<'_>) -> (i64, String) {
        self.count += 1;
        self.hash = link(&self.hash, self.count, record);
        (self.count, self.hash.clone())
    }

    /// Where the block goes: after `head`, its first number, and the head after it.
    pub fn seal(&self, head: &Head) -> (i64, Head) {
        let first = head.seq + 1;
        let hash = block_link(&head.hash, first, self.count, self.id, &self.hash);
        (first, Head { seq: head.seq + self.count, hash })
    }
}

/// The link of a block of `count` records numbered from `first`, after a head whose hash is
/// `prev`, whose last record's running hash is `last` (hex).
pub fn block_link(prev: &str, first: i64, count: i64, id: Uuid, last: &str) -> String {
    let mut h = Sha256::new();
    for value in [prev.as_bytes(), &first.to_be_bytes(), &count.to_be_bytes(), id.as_bytes(), last.as_bytes()]
    {
        framed(&mut h, Some(value));
    }
    hex(&h.finalize())
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
    /// A transaction's block holds fewer or more records than it was sealed with: records
    /// from `seq` on were removed (or some were added).
    Block { seq: i64, found: i64, sealed: i64 },
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
            Break::Block { seq, found, sealed } => format!(
                "record {seq} is missing: its transaction wrote {sealed} records and {found} are left"
            ),
        }
    }

    /// The sequence number at which the chain first fails.
    pub fn seq(&self) -> i64 {
        match self {
            Break::Sequence { expected, .. } => *expected,
            Break::Hash { seq } => *seq,
            Break::Head { records_end_at, head_at } => records_end_at.min(head_at) + 1,
            Break::Block { seq, .. } => *seq,
        }
    }
}

/// Walks one organisation's records in sequence order and stops at the first broken link:
/// first the records linked one by one ([`Verifier::check`]), then block by block
/// ([`Verifier::open_block`], [`Verifier::check_in_block`], [`Verifier::close_block`]).
#[derive(Debug, Clone)]
pub struct Verifier {
    head: Head,
    /// The block being checked, with its first number.
    block: Option<(Block, i64)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { head: Head::start(), block: None }
    }
}

impl Verifier {
    /// The next block, sealed with its first number `first`.
    pub fn open_block(&mut self, id: Uuid, first: i64) -> Result<(), Break> {
        let expected = self.head.seq + 1;
        if first != expected {
            return Err(Break::Sequence { expected, found: first });
        }
        self.block = Some((Block::new(id), first));
        Ok(())
    }

    /// The next record of the open block: its place `pos` and stored running hash. Returns its
    /// number in the chain.
    pub fn check_in_block(&mut self, pos: i64, hash: &str, record: &Record<'_>) -> Result<i64, Break> {
        let (block, first) = self.block.as_mut().expect("a block is open");
        let expected = block.count + 1;
        if pos != expected {
            return Err(Break::Sequence { expected: *first + expected - 1, found: *first + pos - 1 });
        }
        let (_, computed) = block.append(record);
        let seq = *first + pos - 1;
        if computed != hash {
            return Err(Break::Hash { seq });
        }
        Ok(seq)
    }

    /// The end of the open block, with what it was sealed with: its count and link.
    pub fn close_block(&mut self, count: i64, link: &str) -> Result<(), Break> {
        let (block, first) = self.block.take().expect("a block is open");
        if block.count != count {
            return Err(Break::Block { seq: first + block.count, found: block.count, sealed: count });
        }
        let (_, head) = block.seal(&self.head);
        if head.hash != link {
            // The block's own row was changed (its link or what it was sealed with).
            return Err(Break::Hash { seq: head.seq });
        }
        self.head = head;
        Ok(())
    }

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

    /// A sealed block with its first number and its records (place, running hash, record).
    type Sealed<'a> = (Block, i64, Vec<(i64, String, Record<'a>)>);

    /// Blocks of records as transactions write them, sealed after `head`.
    fn blocks(head: &mut Head, sizes: &[usize]) -> Vec<Sealed<'static>> {
        let mut n = 100;
        sizes
            .iter()
            .map(|&size| {
                let mut block = Block::new(Uuid::from_u128(n));
                let rows = (0..size)
                    .map(|_| {
                        n += 1;
                        let r = record(n, Some("{}"));
                        let (pos, hash) = block.append(&r);
                        (pos, hash, r)
                    })
                    .collect();
                let (first, next) = block.seal(head);
                *head = next;
                (block, first, rows)
            })
            .collect()
    }

    fn verify_blocks(v: &mut Verifier, blocks: &[Sealed<'_>], head: &Head) -> Result<i64, Break> {
        for (block, first, rows) in blocks {
            v.open_block(block.id, *first)?;
            for (pos, hash, r) in rows {
                v.check_in_block(*pos, hash, r)?;
            }
            let (_, sealed) = block.seal(&Head { seq: first - 1, hash: v.head.hash.clone() });
            v.close_block(block.count, &sealed.hash)?;
        }
        v.finish(head)?;
        Ok(v.checked())
    }

    #[test]
    fn blocks_follow_records_linked_one_by_one_and_verify() {
        let records = [record(1, None), record(2, Some("x"))];
        let (links, mut head) = chain(&records);
        let bs = blocks(&mut head, &[3, 1, 2]);
        assert_eq!(head.seq, 8);
        assert_eq!(bs[1].1, 6, "the second block takes the numbers after the first");
        let mut v = Verifier::default();
        for ((seq, hash), r) in links.iter().zip(&records) {
            v.check(*seq, hash, r).unwrap();
        }
        assert_eq!(verify_blocks(&mut v, &bs, &head), Ok(8));
        // A chain of blocks alone, from the start.
        let mut head = Head::start();
        let bs = blocks(&mut head, &[2, 2]);
        assert_eq!(verify_blocks(&mut Verifier::default(), &bs, &head), Ok(4));
    }

    #[test]
    fn a_changed_removed_or_added_record_in_a_block_is_found() {
        let mut head = Head::start();
        let bs = blocks(&mut head, &[3, 3]);

        let mut changed = bs.clone();
        changed[1].2[1].2.actor = "intruder";
        assert_eq!(verify_blocks(&mut Verifier::default(), &changed, &head), Err(Break::Hash { seq: 5 }));

        let mut middle = bs.clone();
        middle[0].2.remove(1);
        assert_eq!(
            verify_blocks(&mut Verifier::default(), &middle, &head),
            Err(Break::Sequence { expected: 2, found: 3 })
        );

        let mut last = bs.clone();
        last[1].2.pop();
        let broken = verify_blocks(&mut Verifier::default(), &last, &head).unwrap_err();
        assert_eq!(broken, Break::Block { seq: 6, found: 2, sealed: 3 });
        assert!(broken.describe().contains("record 6 is missing"));

        let mut whole = bs.clone();
        whole.remove(0);
        assert_eq!(
            verify_blocks(&mut Verifier::default(), &whole, &head),
            Err(Break::Sequence { expected: 1, found: 4 })
        );

        let mut cut = bs.clone();
        cut.pop();
        assert_eq!(
            verify_blocks(&mut Verifier::default(), &cut, &head),
            Err(Break::Head { records_end_at: 3, head_at: 6 })
        );
    }

    #[test]
    fn a_resealed_block_breaks_at_its_last_record() {
        let mut head = Head::start();
        let bs = blocks(&mut head, &[2, 2]);
        let mut v = Verifier::default();
        let (block, first, rows) = &bs[0];
        v.open_block(block.id, *first).unwrap();
        for (pos, hash, r) in rows {
            v.check_in_block(*pos, hash, r).unwrap();
        }
        // Sealed with another count or link than the records give.
        assert_eq!(v.clone().close_block(3, "x"), Err(Break::Block { seq: 3, found: 2, sealed: 3 }));
        assert_eq!(v.close_block(2, "forged"), Err(Break::Hash { seq: 2 }));
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T21:00:00.123456+09:00").unwrap().to_utc();
        assert_eq!(timestamp(at), "2026-12-03T12:00:00.123456Z");
    }
}
