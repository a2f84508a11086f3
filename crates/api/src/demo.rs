//! `kenshu serve --demo`: the organisation `isehara` with departments, sections and about 300
//! synthetic staff, loaded through the same roster import as a real file. Dates are set around
//! FY2023 (令和5年度), the year of the plan in the seed, so every FY2023 audience rule has people
//! to match: new hires, 1/3/5 years after hire, new and earlier promotions to each grade,
//! section heads, evaluators, My Number handlers, re-employed staff and retirees.

use kenshu_domain::Words;
use kenshu_persistence::Precondition;
use std::collections::HashSet;

use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue_io::{validate_rows, CatalogueFile};
use kenshu_domain::joint::Places;
use kenshu_domain::roster_import::{Encoding, RosterReader};
use kenshu_persistence::repo::employee::{execute, RosterPlanner};
use kenshu_persistence::repo::structure::{self, UnitInput};
use kenshu_persistence::repo::{catalogue, employee, org};
use kenshu_persistence::{Actor, Db, RepoError};

pub const DEMO_ORG: &str = "isehara";

/// A section: code, name, and the tags every member of its staff holds (`;`-separated, "" for none).
type DemoSection = (&'static str, &'static str, &'static str);

/// Departments and their sections.
const UNITS: &[(&str, &str, &[DemoSection])] = &[
    ("D01", "企画部", &[("S0101", "企画政策課", ""), ("S0102", "情報政策課", "情報政策担当")]),
    (
        "D02",
        "総務部",
        &[("S0201", "人事課", "障害者雇用担当"), ("S0202", "財政課", ""), ("S0203", "契約検査課", "")],
    ),
    (
        "D03",
        "市民生活部",
        &[("S0301", "戸籍住民課", "特定個人情報取扱者"), ("S0302", "人権推進課", "人権担当")],
    ),
    (
        "D04",
        "保健福祉部",
        &[("S0401", "福祉総務課", ""), ("S0402", "障害福祉課", ""), ("S0403", "子育て支援課", "")],
    ),
    (
        "D05",
        "都市部",
        &[
            ("S0501", "都市政策課", ""),
            ("S0502", "市街地整備課", "区画整理担当;市街地整備担当"),
            ("S0503", "農林整備課", "農林整備担当"),
        ],
    ),
    (
        "D06",
        "土木部",
        &[("S0601", "道水路整備課", "道路整備担当;土木担当"), ("S0602", "土木管理課", "国土調査担当")],
    ),
    ("D07", "上下水道局", &[("S0701", "下水道整備課", "下水道事業担当"), ("S0702", "経営総務課", "")]),
    ("D08", "危機管理部", &[("S0801", "防災危機管理課", "防災担当")]),
    ("D09", "教育部", &[("S0901", "教育総務課", "")]),
];

const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("大山", "オオヤマ"),
    ("石田", "イシダ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
];
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("健一", "ケンイチ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽子", "ヨウコ"),
    ("翔太", "ショウタ"),
    ("由美", "ユミ"),
    ("誠", "マコト"),
    ("恵", "メグミ"),
    ("直樹", "ナオキ"),
    ("彩", "アヤ"),
    ("拓也", "タクヤ"),
    ("真由美", "マユミ"),
    ("浩二", "コウジ"),
    ("明美", "アケミ"),
    ("悠斗", "ユウト"),
    ("さくら", "サクラ"),
    ("剛", "ツヨシ"),
    ("裕子", "ユウコ"),
];

/// One synthetic employee row: grade, post, hire date, promotions, type, retirement, extra tags.
struct Profile {
    grade: &'static str,
    post: &'static str,
    /// 役職発令日 of the post.
    post_since: &'static str,
    hired: &'static str,
    promotions: String,
    kind: &'static str,
    retire: &'static str,
    tags: Vec<&'static str>,
}

fn profile(slot: usize, section_index: usize) -> Profile {
    let odd = section_index % 2 == 1;
    let p = |grade, post, hired, promotions: &str, tags: Vec<&'static str>| Profile {
        grade,
        post,
        post_since: "",
        hired,
        promotions: promotions.to_string(),
        kind: "正規",
        retire: "",
        tags,
    };
    match slot {
        // Section head (所属長, post 課長職): newly promoted and appointed in odd sections
        // (管理者研修Ⅰ, 管理者実務研修).
        0 if odd => Profile {
            post_since: "2023-04-01",
            ..p(
                "課長",
                "課長職",
                "1995-04-01",
                "主任=2002-04-01;係長=2010-04-01;課長=2023-04-01",
                vec!["評価者"],
            )
        },
        0 => Profile {
            post_since: "2015-04-01",
            ..p(
                "課長",
                "課長職",
                "1990-04-01",
                "主任=1998-04-01;係長=2006-04-01;課長=2015-04-01",
                vec!["評価者"],
            )
        },
        1 => p(
            "課長補佐",
            "",
            "1998-04-01",
            "主任=2005-04-01;係長=2012-04-01;課長補佐=2020-04-01",
            vec!["評価者"],
        ),
        // 係長: newly promoted (監督者研修Ⅰ) or one year after (監督者研修Ⅲ).
        2 if odd => p("係長", "", "2005-04-01", "主任=2011-04-01;係長=2023-04-01", vec!["評価者"]),
        2 => p("係長", "", "2004-04-01", "主任=2010-04-01;係長=2022-04-01", vec!["評価者"]),
        3 => p("主査", "", "2010-04-01", "主任=2016-04-01;主査=2023-04-01", vec![]),
        4 => p("主査", "", "2009-04-01", "主任=2015-04-01;主査=2019-04-01", vec![]),
        // 主任: newly promoted (主任者研修Ⅰ) or three years after (主任者研修Ⅱ).
        5 => p("主任", "", "2016-04-01", "主任=2023-04-01", vec![]),
        6 => p("主任", "", "2014-04-01", "主任=2020-04-01", vec![]),
        7 => p("一般", "", "2023-04-01", "", vec![]),
        8 => p("一般", "", "2022-04-01", "", vec![]),
        9 => p("一般", "", "2020-04-01", "", vec![]),
        10 => p("一般", "", "2018-04-01", "", vec![]),
        11 => Profile {
            retire: "2024-03-31",
            ..p("係長", "", "1985-04-01", "主任=1992-04-01;係長=2000-04-01", vec![])
        },
        12 => Profile { kind: "再任用", ..p("一般", "", "2022-04-01", "", vec![]) },
        13 => Profile { kind: "会計年度任用", ..p("一般", "", "2023-04-01", "", vec![]) },
        _ => p("一般", "", if odd { "2021-04-01" } else { "2017-04-01" }, "", vec![]),
    }
}

/// The demo roster as CSV, with Japanese headers, as a personnel system would export it.
pub fn roster_csv() -> String {
    let mut csv = String::from(
        "職員番号,氏名,フリガナ,メールアドレス,所属コード,職級,職,役職発令日,採用日,昇格日,雇用形態,退職予定日,タグ\n",
    );
    let mut n = 0usize;
    let mut push = |csv: &mut String, section: &str, pr: Profile, extra_tag: &str| {
        n += 1;
        let (sur, sur_k) = SURNAMES[(n * 7) % SURNAMES.len()];
        let (given, given_k) = GIVEN[(n * 11 + n / SURNAMES.len()) % GIVEN.len()];
        let no = format!("{:05}", 10000 + n);
        let mut tags = pr.tags.clone();
        if !extra_tag.is_empty() {
            tags.push(extra_tag);
        }
        csv.push_str(&format!(
            "{no},{sur} {given},{sur_k} {given_k},e{no}@isehara.example.jp,{section},{},{},{},{},{},{},{},{}\n",
            pr.grade,
            pr.post,
            pr.post_since,
            pr.hired,
            pr.promotions,
            pr.kind,
            pr.retire,
            tags.join(";")
        ));
    };
    let mut section_index = 0;
    for (_, _, sections) in UNITS {
        // The department head sits in the first section of the department.
        push(
            &mut csv,
            sections[0].0,
            Profile {
                grade: "部長",
                post: "部長職",
                post_since: "2020-04-01",
                hired: "1988-04-01",
                promotions: "主任=1995-04-01;係長=2003-04-01;課長=2012-04-01;部長=2020-04-01".into(),
                kind: "正規",
                retire: "",
                tags: vec!["評価者"],
            },
            "",
        );
        for (code, _, tag) in *sections {
            for slot in 0..15 {
                push(&mut csv, code, profile(slot, section_index), tag);
            }
            section_index += 1;
        }
    }
    csv
}

/// Who the demo tokens are for.
pub struct DemoPeople {
    pub employee: String,
    pub section_head: String,
    pub department_head: String,
    pub hr_admin: String,
}

/// Create the demo organisation unless it exists; either way, say who to sign in as.
pub async fn seed(db: &Db) -> Result<DemoPeople, RepoError> {
    let conn = db.conn();
    let people = DemoPeople {
        // Numbers follow from roster_csv: the department head of D01 is 10001, then S0101's
        // staff from 10002 (its head) on; 人事課 (S0201) starts at 10033.
        employee: "10009".into(),
        section_head: "10002".into(),
        department_head: "10001".into(),
        hr_admin: "10035".into(),
    };
    if org::find_by_code(conn, DEMO_ORG).await?.is_some() {
        return Ok(people);
    }
    let txn = db.begin_write().await?;
    let o = org::create(&txn, "demo", DEMO_ORG, "伊勢原市").await?;
    let actor = Actor { org_id: o.id, subject: "demo".into(), request_id: None };
    let mut departments = Vec::new();
    for (code, name, sections) in UNITS {
        let unit = |code: &str, name: &str| UnitInput {
            code: code.into(),
            name: name.into(),
            head_employee_id: None,
            acting_head_employee_id: None,
        };
        let d = structure::create_department(&txn, &actor, unit(code, name)).await?;
        for (scode, sname, _) in *sections {
            structure::create_section(&txn, &actor, d.id, unit(scode, sname)).await?;
        }
        departments.push(d);
    }
    let csv = roster_csv();
    let ladder = org::ladder(&txn, o.id).await?;
    let codes: HashSet<String> = structure::section_index(&txn, o.id).await?.into_keys().collect();
    let mut reader = RosterReader::open(csv.as_bytes(), Encoding::Utf8, &ladder, &codes).map_err(|e| {
        RepoError::Conflict(Words::new(format!("demo roster: {e}"), format!("デモの職員名簿: {e}")))
    })?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        rows.push(row.map_err(|e| {
            RepoError::Conflict(Words::new(format!("demo roster: {e:?}"), format!("デモの職員名簿: {e:?}")))
        })?);
    }
    let mut planner = RosterPlanner::load(&txn, &actor).await?;
    execute(&txn, planner.plan(&rows)?).await?;

    // Heads: 所属長 of each section is its 課長; 部長 heads the department.
    let heads = |grade: &'static str| rows.iter().filter(move |r| r.data.grade == grade);
    let index = structure::section_index(&txn, o.id).await?;
    for row in heads("課長") {
        let (section_id, _) = index[&row.section_code];
        let head = employee::find_by_no(&txn, o.id, row.data.employee_no.as_str())
            .await?
            .ok_or(RepoError::NotFound)?;
        let s = structure::get_section(&txn, o.id, section_id).await?;
        let input = UnitInput {
            code: s.code.clone(),
            name: s.name.clone(),
            head_employee_id: Some(head.model.id),
            acting_head_employee_id: None,
        };
        structure::update_section(
            &txn,
            &actor,
            s.id,
            &Precondition::version(s.version),
            s.department_id,
            input,
        )
        .await?;
    }
    for row in heads("部長") {
        let head = employee::find_by_no(&txn, o.id, row.data.employee_no.as_str())
            .await?
            .ok_or(RepoError::NotFound)?;
        let d = departments.iter().find(|d| d.id == head.department_id).ok_or(RepoError::NotFound)?;
        let d = structure::get_department(&txn, o.id, d.id).await?;
        let input = UnitInput {
            code: d.code.clone(),
            name: d.name.clone(),
            head_employee_id: Some(head.model.id),
            acting_head_employee_id: None,
        };
        structure::update_department(&txn, &actor, d.id, &Precondition::version(d.version), input).await?;
    }
    txn.commit().await?;
    Ok(people)
}

/// The FY2023 plan of the seed (all 61 entries), in the catalogue file format users import.
pub const FY2023_PLAN: &str = include_str!("../../../data/isehara-fy2023.json");

/// Load and publish the FY2023 plan into the demo organisation, unless it has one: through the
/// same validation and import as `POST /api/v1/plans/2023/import`.
pub async fn seed_catalogue(db: &Db) -> Result<(), RepoError> {
    let conn = db.conn();
    let invalid = |what: String| {
        RepoError::Conflict(Words::new(format!("demo catalogue: {what}"), format!("デモの研修計画: {what}")))
    };
    let o = org::find_by_code(conn, DEMO_ORG).await?.ok_or(RepoError::NotFound)?;
    let fy = FiscalYear::new(2023).expect("2023 is in range");
    match catalogue::get_plan(conn, o.id, fy).await {
        Ok(_) => return Ok(()),
        Err(RepoError::NotFound) => {}
        Err(e) => return Err(e),
    }
    let file: CatalogueFile = serde_json::from_str(FY2023_PLAN).map_err(|e| invalid(e.to_string()))?;
    let (plan, rows) = file.into_rows();
    let plan = plan.map(|t| t.validate(fy)).transpose().map_err(|e| invalid(format!("{e:?}")))?;
    let ladder = org::ladder(conn, o.id).await?;
    let courses = validate_rows(rows, fy, &[], &ladder).map_err(|e| invalid(format!("{e:?}")))?;
    let actor = Actor { org_id: o.id, subject: "demo".into(), request_id: None };
    let txn = db.begin_write().await?;
    catalogue::import_catalogue(&txn, &actor, fy, plan.as_ref(), &courses, false).await?;
    let plan = catalogue::get_plan(&txn, o.id, fy).await?;
    catalogue::publish_plan(&txn, &actor, fy, &Precondition::version(plan.version)).await?;
    txn.commit().await?;
    Ok(())
}

/// The demo's second organisation: 厚木市, which takes part in Isehara's 地域別研修.
pub const JOINT_ORG: &str = "atsugi";

/// Its training office (研修担当), for the demo's token.
pub const JOINT_HR: &str = "A001";

/// 合同研修 in the demo, unless it is there: 厚木市 (created with a small roster when it does not
/// exist) takes part in Isehara's FY2023 地域別研修 with three places: Isehara shares the course,
/// 厚木市 accepts it into a FY2023 plan of its own, where its training office sets its own rules
/// and selects its own staff. Needs [`seed_catalogue`] first.
pub async fn seed_joint(db: &Db) -> Result<(), RepoError> {
    use kenshu_domain::catalogue::{Category, CourseStatus, PlanData};
    use kenshu_persistence::repo::{joint, PageRequest};
    let conn = db.conn();
    let host = org::find_by_code(conn, DEMO_ORG).await?.ok_or(RepoError::NotFound)?;
    let fy = FiscalYear::new(2023).expect("2023 is in range");
    let filter = catalogue::CourseFilter {
        fiscal_year: Some(fy),
        category: Some(Category::Thematic),
        statuses: CourseStatus::ALL.to_vec(),
        ..Default::default()
    };
    let courses =
        catalogue::list_courses(conn, host.id, &filter, &PageRequest { limit: 200, after: None }).await?;
    let regional = courses.items.into_iter().find(|c| c.model.number == 7).ok_or(RepoError::NotFound)?;
    if !joint::shares_of_course(conn, host.id, regional.model.id).await?.is_empty() {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    let participant = match org::find_by_code(&txn, JOINT_ORG).await? {
        Some(o) => o,
        None => joint_org(&txn).await?,
    };
    let theirs = Actor { org_id: participant.id, subject: "demo".into(), request_id: None };
    if let Err(RepoError::NotFound) = catalogue::get_plan(&txn, participant.id, fy).await {
        let text = PlanData::validate(None, None, Vec::new(), fy).map_err(RepoError::Invalid)?;
        catalogue::create_plan(&txn, &theirs, fy, &text).await?;
    }
    let ours = Actor { org_id: host.id, subject: "demo".into(), request_id: None };
    let places = Places::parse(3).map_err(|e| RepoError::Invalid(vec![e]))?;
    let share = joint::share_course(&txn, &ours, regional.model.id, JOINT_ORG, places).await?;
    joint::accept(&txn, &theirs, share.share.id, &Precondition::Any, None).await?;
    txn.commit().await?;
    Ok(())
}

/// 厚木市 for the demo: one department, one section, four staff.
async fn joint_org(
    txn: &kenshu_persistence::WriteTxn,
) -> Result<kenshu_persistence::entities::organisation::Model, RepoError> {
    use kenshu_domain::employee::{EmployeeData, EmployeeFields};
    let o = org::create(txn, "demo", JOINT_ORG, "厚木市").await?;
    let actor = Actor { org_id: o.id, subject: "demo".into(), request_id: None };
    let unit = |code: &str, name: &str| UnitInput {
        code: code.into(),
        name: name.into(),
        head_employee_id: None,
        acting_head_employee_id: None,
    };
    let d = structure::create_department(txn, &actor, unit("D01", "総務部")).await?;
    let s = structure::create_section(txn, &actor, d.id, unit("S0101", "職員課")).await?;
    let ladder = org::ladder(txn, o.id).await?;
    for (no, name, kana, grade, hired) in [
        (JOINT_HR, "厚木 一郎", "アツギ イチロウ", "主任", 2015),
        ("A002", "荻野 花子", "オギノ ハナコ", "一般", 2021),
        ("A003", "相川 次郎", "アイカワ ジロウ", "主査", 2010),
        ("A004", "七沢 三郎", "ナナサワ サブロウ", "係長", 2005),
    ] {
        let fields = EmployeeFields {
            employee_no: no.into(),
            name: name.into(),
            kana: kana.into(),
            grade: grade.into(),
            hire_date: chrono::NaiveDate::from_ymd_opt(hired, 4, 1),
            ..Default::default()
        };
        let data = EmployeeData::validate(fields, &ladder).map_err(RepoError::Invalid)?;
        employee::create(txn, &actor, &data, s.id).await?;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kenshu_domain::org::GradeLadder;

    #[test]
    fn demo_roster_is_valid_and_covers_every_grade() {
        let csv = roster_csv();
        let codes: HashSet<String> =
            UNITS.iter().flat_map(|(_, _, s)| s.iter().map(|(c, _, _)| c.to_string())).collect();
        let ladder = GradeLadder::default();
        let mut reader = RosterReader::open(csv.as_bytes(), Encoding::Utf8, &ladder, &codes).unwrap();
        let mut rows = Vec::new();
        while let Some(r) = reader.next_row() {
            rows.push(r.unwrap());
        }
        assert!((280..=320).contains(&rows.len()), "{} rows", rows.len());
        for g in ladder.grades() {
            assert!(rows.iter().any(|r| r.data.grade == g.name), "no {}", g.name);
        }
        let find = |no: &str| rows.iter().find(|r| r.data.employee_no.as_str() == no).unwrap();
        assert_eq!(find("10001").data.grade, "部長");
        assert_eq!(find("10002").data.grade, "課長");
        assert_eq!(find("10009").data.grade, "一般");
        assert_eq!(find("10035").section_code, "S0201");
    }
}
