//! The staff directory from the portal (desknet's NEO 共通API, `zrconst.cgi`): its organisation
//! tree (組織) and its users, read whole, turned into the structure rows and roster rows the
//! structure and roster imports apply.
//!
//! The portal owns what staff see of each other there: names, kana, mail, login ids, posts and
//! placement (which section). The personnel system, through the roster import, owns grades,
//! dates and the rest; a sync keeps those as they are. So a sync can add someone only when the
//! portal's records carry a grade and a hire date (mapped fields); anyone else new is reported,
//! not guessed.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::calendar::parse_date;
use crate::employee::{EmployeeData, EmployeeFields, EmployeeNo};
use crate::org::{parse_name, Code, GradeLadder};
use crate::roster_import::{RosterRow, RowError};
use crate::structure_io::{DepartmentRow, Heads, SectionRow, StructureFile};
use crate::FieldCode;

/// A portal record as it arrives: its keys and values.
pub type Record = Map<String, Value>;

/// The portal's `ng` reply (共通APIのエラー): its number, message and the part it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the portal answered ng (errorno {errorno}): {message}{}", add.as_deref().map(|a| format!(" [{a}]")).unwrap_or_default())]
pub struct PortalNg {
    pub errorno: String,
    pub message: String,
    pub add: Option<String>,
}

/// The body of an `ok` reply, or the portal's `ng`. A reply without `status` is neither, and says
/// so (a proxy's page, a truncated answer).
pub fn reply(v: &Value) -> Result<&Record, PortalNg> {
    let text = |k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match (v.as_object(), v["status"].as_str()) {
        (Some(body), Some("ok")) => Ok(body),
        (_, Some("ng")) => Err(PortalNg {
            errorno: text("errorno"),
            message: text("errormessage"),
            add: Some(text("errmsgadd")).filter(|a| !a.is_empty()),
        }),
        _ => Err(PortalNg {
            errorno: String::new(),
            message: "the reply is not the portal's JSON (no status ok or ng)".into(),
            add: None,
        }),
    }
}

/// The records a list reply holds under `key` (`groups`, `users`): every item must be an object.
pub fn records(body: &Record, key: &str) -> Result<Vec<Record>, String> {
    let Some(items) = body.get(key).and_then(Value::as_array) else {
        return Err(format!("the reply has no '{key}' list"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_object().cloned().ok_or_else(|| format!("'{key}' item {} is not an object", i + 1))
        })
        .collect()
}

/// How many records the portal says the list holds in all (`total`), where it says so.
pub fn total(body: &Record) -> Option<u64> {
    match body.get("total")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value as text: strings as they are, numbers written out, null and absence empty.
fn text(record: &Record, key: &str) -> String {
    match record.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// Which key of the portal's user record holds each thing Kenshu reads; `None`: the portal does
/// not give it (a sync then keeps Kenshu's value, and cannot add people without it where it is
/// required). Set as `field=key` pairs, e.g. `employee_no=社員番号,grade=職級`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryFields {
    /// 職員番号: the key that ties a portal user to an employee. Users without it are not staff
    /// (shared and system accounts) and are left out.
    pub employee_no: String,
    pub name: String,
    pub kana: Option<String>,
    pub email: Option<String>,
    pub login_id: Option<String>,
    /// The user's main group (所属組織) by the group's id.
    pub group: String,
    pub post: Option<String>,
    pub grade: Option<String>,
    pub hire_date: Option<String>,
    /// 使用停止: a stopped account counts as not in the directory.
    pub stopped: Option<String>,
}

impl Default for DirectoryFields {
    fn default() -> Self {
        Self {
            employee_no: "employee_no".into(),
            name: "name".into(),
            kana: Some("kana".into()),
            email: Some("email".into()),
            login_id: Some("login_id".into()),
            group: "group_id".into(),
            post: Some("post".into()),
            grade: None,
            hire_date: None,
            stopped: Some("stopped".into()),
        }
    }
}

impl DirectoryFields {
    /// The defaults with each `field=key` pair applied; an empty key (`post=`) means the portal
    /// does not give it (not allowed for employee_no, name and group).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (field, key) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' is not field=key (e.g. employee_no=社員番号)"))?;
            let key = key.trim().to_string();
            let optional = Some(key.clone()).filter(|k| !k.is_empty());
            let required = |name: &str| {
                optional.clone().ok_or_else(|| format!("{name} needs a key: a sync cannot do without it"))
            };
            match field.trim() {
                "employee_no" => out.employee_no = required("employee_no")?,
                "name" => out.name = required("name")?,
                "group" => out.group = required("group")?,
                "kana" => out.kana = optional,
                "email" => out.email = optional,
                "login_id" => out.login_id = optional,
                "post" => out.post = optional,
                "grade" => out.grade = optional,
                "hire_date" => out.hire_date = optional,
                "stopped" => out.stopped = optional,
                other => {
                    return Err(format!(
                        "unknown field '{other}' (employee_no, name, kana, email, login_id, group, post, grade, hire_date, stopped)"
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// The organisation tree as Kenshu keeps it: the departments and sections to load, and which
/// section each portal group's members belong to (a group below a section, 係, belongs to it).
#[derive(Debug, Default)]
pub struct Tree {
    pub file: StructureFile,
    section_of_group: HashMap<String, String>,
}

impl Tree {
    /// The section code a portal group's members are placed in.
    pub fn section_of(&self, group_id: &str) -> Option<&str> {
        self.section_of_group.get(group_id).map(String::as_str)
    }
}

/// Read the portal's groups (`id`, `code` = 企業内組織コード, `name`, `parent_id`: empty, null or
/// `0` at the top). Groups at `department_depth` (1: the top level) are departments (部), their
/// children sections (課); deeper groups roll up to their section and groups above departments
/// (the city itself) are not kept. Heads are not in the portal's tree and stay as they are.
pub fn tree(groups: &[Record], department_depth: usize) -> Result<Tree, Vec<RowError>> {
    let mut errors = Vec::new();
    let bad = |errors: &mut Vec<RowError>, i: usize, key: &str, code: FieldCode, reason: String| {
        errors.push(RowError::new(i as u64 + 1, format!("groups.{key}"), code, reason))
    };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let parent = |g: &Record| Some(text(g, "parent_id")).filter(|p| !p.is_empty() && p != "0");
    for (i, g) in groups.iter().enumerate() {
        let id = text(g, "id");
        if id.is_empty() {
            bad(&mut errors, i, "id", FieldCode::Required, "has no id".into());
        } else if by_id.insert(id.clone(), i).is_some() {
            bad(&mut errors, i, "id", FieldCode::Duplicate, format!("group id {id} appears twice"));
        }
    }
    // Each group's chain up to the top: its depth and the group at section depth above it.
    let depth_of = |i: usize| -> Result<Vec<usize>, String> {
        let mut chain = vec![i];
        let mut at = i;
        while let Some(p) = parent(&groups[at]) {
            at = *by_id.get(&p).ok_or_else(|| format!("its parent group {p} is not in the list"))?;
            if chain.contains(&at) {
                return Err("its parents form a loop".into());
            }
            chain.push(at);
        }
        chain.reverse();
        Ok(chain)
    };
    let mut out = Tree::default();
    let mut codes_seen: HashMap<String, usize> = HashMap::new();
    let mut unit = |errors: &mut Vec<RowError>, i: usize| -> Option<(Code, String)> {
        let g = &groups[i];
        let code = match Code::parse(&text(g, "code")) {
            Ok(c) => c,
            Err(e) => {
                bad(errors, i, "code", FieldCode::Format, format!("企業内組織コード {e}"));
                return None;
            }
        };
        if let Some(first) = codes_seen.insert(code.as_str().to_string(), i) {
            if first != i {
                bad(
                    errors,
                    i,
                    "code",
                    FieldCode::Duplicate,
                    format!("{} is also the code of group {}", code.as_str(), first + 1),
                );
            }
        }
        match parse_name("name", &text(g, "name")) {
            Ok(name) => Some((code, name)),
            Err(e) => {
                bad(errors, i, "name", e.code, e.reason);
                None
            }
        }
    };
    let mut department_codes: HashMap<usize, Code> = HashMap::new();
    let chains: Vec<Option<Vec<usize>>> = (0..groups.len())
        .map(|i| match depth_of(i) {
            Ok(c) => Some(c),
            Err(reason) => {
                bad(&mut errors, i, "parent_id", FieldCode::NotFound, reason);
                None
            }
        })
        .collect();
    for (i, chain) in chains.iter().enumerate() {
        if chain.as_ref().is_some_and(|c| c.len() == department_depth) {
            if let Some((code, name)) = unit(&mut errors, i) {
                department_codes.insert(i, code.clone());
                out.file.departments.insert(
                    code.as_str().to_string(),
                    DepartmentRow { line: i as u64 + 1, code, name, heads: Heads::default() },
                );
            }
        }
    }
    let mut section_codes: HashMap<usize, String> = HashMap::new();
    for (i, chain) in chains.iter().enumerate() {
        let Some(chain) = chain.as_ref().filter(|c| c.len() == department_depth + 1) else { continue };
        let Some((code, name)) = unit(&mut errors, i) else { continue };
        let Some(department_code) = department_codes.get(&chain[department_depth - 1]).cloned() else {
            continue;
        };
        section_codes.insert(i, code.as_str().to_string());
        out.file.sections.push(SectionRow {
            line: i as u64 + 1,
            department_code,
            code,
            name,
            heads: Heads::default(),
        });
    }
    for (i, chain) in chains.iter().enumerate() {
        let Some(chain) = chain.as_ref().filter(|c| c.len() > department_depth) else { continue };
        if let Some(code) = section_codes.get(&chain[department_depth]) {
            out.section_of_group.insert(text(&groups[i], "id"), code.clone());
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// A portal user a sync leaves aside, and why (not an error: nothing is wrong with the read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeftAside {
    /// Their place in the portal's list (1 is the first).
    pub position: u64,
    pub employee_no: Option<String>,
    pub reason: String,
}

/// What a read of the portal's users gives the roster import: a row per member of staff, those
/// left aside, and the records that do not read.
#[derive(Debug, Default)]
pub struct UserRows {
    pub rows: Vec<RosterRow>,
    pub left_aside: Vec<LeftAside>,
    pub errors: Vec<RowError>,
}

fn flag(value: &str) -> bool {
    matches!(value.to_lowercase().as_str(), "1" | "true" | "yes" | "on" | "stopped" | "停止" | "使用停止")
}

/// Turn the portal's users into roster rows: each member of staff is their current record
/// (`current`, by employee number) with what the portal owns written over it, validated as the
/// roster import validates a row. The heads are not the portal's to name.
pub fn roster_rows(
    users: &[Record],
    fields: &DirectoryFields,
    tree: &Tree,
    current: &HashMap<String, EmployeeFields>,
    ladder: &GradeLadder,
) -> UserRows {
    let mut out = UserRows::default();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, user) in users.iter().enumerate() {
        let position = i as u64 + 1;
        let mut errors = Vec::new();
        let mut bad = |key: &str, code: FieldCode, reason: String| {
            errors.push(RowError::new(position, format!("users.{key}"), code, reason))
        };
        let raw_no = text(user, &fields.employee_no);
        if fields.stopped.as_deref().is_some_and(|k| flag(&text(user, k))) {
            out.left_aside.push(LeftAside {
                position,
                employee_no: Some(raw_no).filter(|n| !n.is_empty()),
                reason: "the account is stopped (使用停止): not in the directory".into(),
            });
            continue;
        }
        if raw_no.is_empty() {
            out.left_aside.push(LeftAside {
                position,
                employee_no: None,
                reason: "no employee number: a shared or system account, not a member of staff".into(),
            });
            continue;
        }
        let no = match EmployeeNo::parse(&raw_no) {
            Ok(no) => no,
            Err(e) => {
                bad(&fields.employee_no, FieldCode::Format, format!("employee number '{raw_no}' {e}"));
                out.errors.extend(errors);
                continue;
            }
        };
        if !seen.insert(no.as_str().to_string()) {
            bad(
                &fields.employee_no,
                FieldCode::Duplicate,
                format!("employee number {} belongs to two portal users", no.as_str()),
            );
        }
        let group = text(user, &fields.group);
        let section_code = match tree.section_of(&group) {
            Some(code) => code.to_string(),
            None => {
                bad(
                    &fields.group,
                    FieldCode::NotFound,
                    format!("group '{group}' is not a section or below one in the portal's tree"),
                );
                String::new()
            }
        };
        let given = |key: &Option<String>| key.as_deref().map(|k| text(user, k));
        let mut record = match current.get(no.as_str()) {
            Some(fields) => fields.clone(),
            None => {
                let missing: Vec<&str> = [("職級", &fields.grade), ("採用日", &fields.hire_date)]
                    .into_iter()
                    .filter(|(_, key)| given(key).unwrap_or_default().is_empty())
                    .map(|(label, _)| label)
                    .collect();
                if !missing.is_empty() {
                    out.left_aside.push(LeftAside {
                        position,
                        employee_no: Some(no.as_str().to_string()),
                        reason: format!(
                            "not on the roster, and the portal does not give their {}: the personnel roster import adds them",
                            missing.join(" and ")
                        ),
                    });
                    continue;
                }
                EmployeeFields::default()
            }
        };
        record.employee_no = no.as_str().to_string();
        record.name = text(user, &fields.name);
        if let Some(kana) = given(&fields.kana).filter(|k| !k.is_empty()) {
            record.kana = kana;
        }
        if let Some(email) = given(&fields.email) {
            record.email = Some(email).filter(|e| !e.is_empty());
        }
        if let Some(login) = given(&fields.login_id) {
            record.portal_login_id = Some(login).filter(|l| !l.is_empty());
        }
        if let Some(post) = given(&fields.post) {
            record.post = Some(post).filter(|p| !p.is_empty());
        }
        if let Some(grade) = given(&fields.grade).filter(|g| !g.is_empty()) {
            record.grade = grade;
        }
        if let (Some(key), Some(date)) =
            (&fields.hire_date, given(&fields.hire_date).filter(|d| !d.is_empty()))
        {
            match parse_date(&date) {
                Ok(d) => record.hire_date = Some(d),
                Err(e) => bad(key, FieldCode::Format, format!("'{date}': {e}")),
            }
        }
        let key_of = |field: &str| -> String {
            match field {
                "employee_no" => fields.employee_no.clone(),
                "name" => fields.name.clone(),
                "kana" => fields.kana.clone().unwrap_or_else(|| "kana".into()),
                "email" => fields.email.clone().unwrap_or_else(|| "email".into()),
                "portal_login_id" => fields.login_id.clone().unwrap_or_else(|| "login_id".into()),
                "post" => fields.post.clone().unwrap_or_else(|| "post".into()),
                "grade" => fields.grade.clone().unwrap_or_else(|| "grade".into()),
                "hire_date" => fields.hire_date.clone().unwrap_or_else(|| "hire_date".into()),
                other => other.to_string(),
            }
        };
        match EmployeeData::validate(record, ladder) {
            Ok(data) if errors.is_empty() => out.rows.push(RosterRow {
                line: position,
                section_code,
                data,
                heads_section: false,
                heads_department: false,
            }),
            Ok(_) => out.errors.extend(errors),
            Err(field_errors) => {
                out.errors.extend(errors);
                out.errors.extend(
                    field_errors
                        .into_iter()
                        .map(|fe| RowError::of_field(position, format!("users.{}", key_of(&fe.field)), fe)),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn recs(v: Value) -> Vec<Record> {
        v.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect()
    }

    fn groups() -> Vec<Record> {
        recs(json!([
            {"id": 1, "code": "CITY", "name": "伊勢原市", "parent_id": 0},
            {"id": 10, "code": "D01", "name": "企画部", "parent_id": 1},
            {"id": 11, "code": "S0101", "name": "企画政策課", "parent_id": 10},
            {"id": 12, "code": "S0101-1", "name": "政策係", "parent_id": 11},
            {"id": 20, "code": "D02", "name": "総務部", "parent_id": "1"},
            {"id": 21, "code": "S0201", "name": "人事課", "parent_id": 20}
        ]))
    }

    fn ladder() -> GradeLadder {
        GradeLadder::default()
    }

    fn current() -> HashMap<String, EmployeeFields> {
        let f = EmployeeFields {
            employee_no: "10009".into(),
            name: "伊勢原 太郎".into(),
            kana: "イセハラ タロウ".into(),
            email: Some("old@example.jp".into()),
            grade: "主事".into(),
            hire_date: NaiveDate::from_ymd_opt(2019, 4, 1),
            promotions: vec![("主事".into(), NaiveDate::from_ymd_opt(2019, 4, 1).unwrap())],
            tags: vec!["防災担当".into()],
            ..Default::default()
        };
        HashMap::from([("10009".to_string(), f)])
    }

    #[test]
    fn replies_are_ok_or_the_portals_ng() {
        assert!(reply(&json!({"status": "ok", "users": []})).is_ok());
        let ng =
            reply(&json!({"status": "ng", "errorno": 3, "errormessage": "権限がありません"})).unwrap_err();
        assert_eq!((ng.errorno.as_str(), ng.message.as_str()), ("3", "権限がありません"));
        assert!(reply(&json!({"users": []})).is_err(), "no status is not ok");
        assert!(reply(&json!("<html>")).is_err());
        let v = json!({"status": "ok", "total": "7", "users": [{}, 3]});
        let body = reply(&v).unwrap();
        assert_eq!(total(body), Some(7));
        assert!(records(body, "users").is_err(), "an item that is not an object");
        assert!(records(body, "groups").is_err());
    }

    #[test]
    fn departments_sections_and_groups_below_them() {
        let t = tree(&groups(), 2).unwrap();
        assert_eq!(t.file.departments.keys().collect::<Vec<_>>(), ["D01", "D02"]);
        let sections: Vec<(&str, &str)> =
            t.file.sections.iter().map(|s| (s.code.as_str(), s.department_code.as_str())).collect();
        assert_eq!(sections, [("S0101", "D01"), ("S0201", "D02")]);
        assert_eq!(t.section_of("12"), Some("S0101"), "a 係 belongs to its section");
        assert_eq!(t.section_of("11"), Some("S0101"));
        assert_eq!(t.section_of("10"), None, "a department is not a section");
        assert_eq!(t.section_of("1"), None);
        assert!(!t.file.head_columns.section_head, "heads are kept as they are");
        // With the departments at the top level, the city's own group would be one.
        let top = tree(&groups()[1..], 1);
        assert!(top.is_err(), "D01's parent 1 is not in the list");
    }

    #[test]
    fn a_tree_that_does_not_read_names_every_group() {
        let bad = recs(json!([
            {"id": 1, "code": "", "name": "企画部", "parent_id": null},
            {"id": 2, "code": "S1", "name": "", "parent_id": 1},
            {"id": 3, "code": "S1", "name": "人事課", "parent_id": 1},
            {"id": 4, "code": "S4", "name": "A", "parent_id": 5},
            {"id": 5, "code": "S5", "name": "B", "parent_id": 4},
            {"id": 6, "code": "S6", "name": "C", "parent_id": 99}
        ]));
        let errors = tree(&bad, 1).unwrap_err();
        let at: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            at,
            [
                (1, "groups.code"),
                (2, "groups.name"),
                (3, "groups.code"),
                (4, "groups.parent_id"),
                (5, "groups.parent_id"),
                (6, "groups.parent_id")
            ]
        );
    }

    #[test]
    fn the_portal_owns_names_and_placement_and_the_roster_keeps_the_rest() {
        let t = tree(&groups(), 2).unwrap();
        let users = recs(json!([
            {"employee_no": "10009", "name": "伊勢原 太郎", "kana": "イセハラ タロウ", "email": "taro@example.jp",
             "login_id": "Taro", "group_id": 12, "post": ""},
            {"employee_no": "", "name": "管理者", "group_id": 11},
            {"employee_no": "20001", "name": "新人 花子", "kana": "シンジン ハナコ", "group_id": 21},
            {"employee_no": "10010", "name": "停止 次郎", "group_id": 21, "stopped": 1}
        ]));
        let out = roster_rows(&users, &DirectoryFields::default(), &t, &current(), &ladder());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.rows.len(), 1);
        let row = &out.rows[0];
        assert_eq!(row.section_code, "S0101");
        assert_eq!(row.data.email.as_deref(), Some("taro@example.jp"));
        assert_eq!(row.data.portal_login_id.as_deref(), Some("Taro"));
        assert_eq!(row.data.grade, "一般", "kept from the roster (主事 is 一般)");
        assert!(row.data.tags.contains("防災担当"), "kept from the roster");
        assert_eq!(row.data.promotions.len(), 1, "kept from the roster");
        let aside: Vec<(u64, Option<&str>)> =
            out.left_aside.iter().map(|a| (a.position, a.employee_no.as_deref())).collect();
        assert_eq!(aside, [(2, None), (3, Some("20001")), (4, Some("10010"))]);
        assert!(out.left_aside[1].reason.contains("職級 and 採用日"));
    }

    #[test]
    fn new_staff_are_added_when_the_portal_gives_grade_and_hire_date() {
        let t = tree(&groups(), 2).unwrap();
        let fields =
            DirectoryFields::parse("employee_no=社員番号, grade=職級, hire_date=入庁日, post=").unwrap();
        assert_eq!(fields.post, None);
        let users = recs(json!([
            {"社員番号": "２０００１", "name": "新人 花子", "kana": "シンジン ハナコ", "group_id": 21,
             "職級": "主事", "入庁日": "R5.4.1"}
        ]));
        let out = roster_rows(&users, &fields, &t, &HashMap::new(), &ladder());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.rows[0].data.employee_no.as_str(), "20001");
        assert_eq!(out.rows[0].data.hire_date, NaiveDate::from_ymd_opt(2023, 4, 1).unwrap());
    }

    #[test]
    fn users_that_do_not_read_are_named_by_position_and_key() {
        let t = tree(&groups(), 2).unwrap();
        let users = recs(json!([
            {"employee_no": "10009", "name": "", "group_id": 11},
            {"employee_no": "10009", "name": "二重 登録", "group_id": 11},
            {"employee_no": "1 0", "name": "A", "group_id": 11},
            {"employee_no": "10011", "name": "B", "group_id": 10, "grade": "主事"}
        ]));
        let mut cur = current();
        cur.insert("10011".into(), cur["10009"].clone());
        let out = roster_rows(&users, &DirectoryFields::default(), &t, &cur, &ladder());
        let at: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            at,
            [(1, "users.name"), (2, "users.employee_no"), (3, "users.employee_no"), (4, "users.group_id")]
        );
    }

    #[test]
    fn field_maps_refuse_what_a_sync_cannot_do_without() {
        assert!(DirectoryFields::parse("employee_no=").is_err());
        assert!(DirectoryFields::parse("group").is_err());
        assert!(DirectoryFields::parse("shoe_size=x").is_err());
        assert_eq!(DirectoryFields::parse("").unwrap(), DirectoryFields::default());
    }
}
