//! The FY2023 plan of the seed (data/isehara-fy2023.json), loaded as users load a catalogue,
//! walked rule by rule against the demo roster. The expected counts follow from the demo roster
//! (crates/api/src/demo.rs): 19 sections of 15 staff in the same 15 profiles, plus 9 department
//! heads; odd-numbered sections hold the newly promoted 係長 and 課長.

use std::collections::BTreeMap;

use kenshu_tests::{spawn, TestApp};
use serde_json::Value;

/// Matching staff per rule, in rule order, for every course of the plan.
const EXPECTED: &[(&str, &[u64])] = &[
    ("hierarchical-1", &[38]), // new hires: 一般 and fixed-term hired 2023-04-01
    ("hierarchical-2", &[38]),
    ("hierarchical-3", &[38]),
    ("hierarchical-4", &[38]),
    ("hierarchical-5", &[38]),  // hired in FY2022: 一般 and re-employed
    ("hierarchical-6", &[19]),  // hired in FY2020
    ("hierarchical-7", &[19]),  // hired in FY2018
    ("hierarchical-8", &[19]),  // promoted to 主任 in FY2023
    ("hierarchical-9", &[19]),  // promoted to 主任 in FY2020
    ("hierarchical-10", &[19]), // promoted to 主査 in FY2023
    ("hierarchical-11", &[9]),  // promoted to 係長 in FY2023 (odd sections)
    ("hierarchical-12", &[38]), // 係長: one per section, and the retirees
    ("hierarchical-13", &[38]),
    ("hierarchical-14", &[10]), // promoted to 係長 in FY2022 (even sections)
    ("hierarchical-15", &[9]),  // promoted to 課長 in FY2023
    ("hierarchical-16", &[19]), // 課長
    ("hierarchical-17", &[19]), // post 課長職
    ("hierarchical-18", &[9]),  // appointed 課長職 in FY2023
    ("thematic-1", &[38]),
    ("thematic-2", &[66]), // 評価者: 課長, 課長補佐 and 係長 of each section, and the department heads
    ("thematic-3", &[38]),
    ("thematic-4", &[28]), // 課長 and above: section heads and department heads
    ("thematic-5", &[294]),
    ("thematic-6", &[294]),
    ("thematic-7", &[294]),
    ("thematic-8", &[19]),
    ("thematic-9", &[19, 294]), // retiring in FY2023; anyone who wishes
    ("thematic-10", &[19, 294]),
    ("thematic-11", &[294]),
    ("thematic-12", &[9]),
    ("thematic-13", &[19]),          // section heads
    ("thematic-14", &[38, 294, 15]), // new hires; applicants; My Number handlers of 戸籍住民課
    ("thematic-15", &[294, 294]),
    ("thematic-16", &[38]),
    ("thematic-17", &[294]),
    ("thematic-18", &[19]),
    ("thematic-19", &[19]), // re-employed
    ("thematic-20", &[38]),
    ("thematic-21", &[294, 294]),
    ("thematic-22", &[294, 294]),
    ("awareness-1", &[294]),
    ("awareness-2", &[19]),
    ("awareness-3", &[294]),
    ("awareness-4", &[294]),
    ("dispatch-1", &[294, 294]),
    ("dispatch-2", &[294, 294]),
    ("dispatch-3", &[294, 294]),
    ("dispatch-4", &[15]), // the staff of the section holding the duty
    ("dispatch-5", &[15]),
    ("dispatch-6", &[15]),
    ("dispatch-7", &[15]),
    ("dispatch-8", &[15]),
    ("dispatch-9", &[15]),
    ("dispatch-10", &[15]),
    ("dispatch-11", &[15]),
    ("dispatch-12", &[15]),
    ("dispatch-13", &[15]),
    ("dispatch-14", &[15]),
    ("self_development-1", &[294]),
    ("self_development-2", &[0]), // study groups are not kept yet
    ("other-1", &[0]),            // university students are not on the roster
];

async fn all_courses(app: &TestApp) -> Vec<Value> {
    let page = app.get_json("/api/v1/courses?fiscal_year=2023&limit=200", &app.hr()).await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_fy2023_rule_matches_the_demo_roster_as_the_seed_says() {
    let app = spawn().await;
    let report = app.import_fy2023_plan().await;
    assert_eq!(report["created"], 61, "{report}");

    let courses = all_courses(&app).await;
    assert_eq!(courses.len(), 61);
    let expected: BTreeMap<&str, &[u64]> = EXPECTED.iter().copied().collect();
    assert_eq!(expected.len(), 61);
    let mut mismatches = Vec::new();
    for c in &courses {
        let key = format!("{}-{}", c["category"].as_str().unwrap(), c["number"]);
        let preview = app
            .get_json(&format!("/api/v1/courses/{}/eligible?limit=1", c["id"].as_str().unwrap()), &app.hr())
            .await;
        let got: Vec<u64> =
            preview["rules"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).collect();
        let want = expected.get(key.as_str()).unwrap_or_else(|| panic!("{key} is not in the table"));
        if got != *want {
            mismatches.push(format!("{key} {}: expected {want:?}, got {got:?}", c["title"]));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Positioned-within links resolve inside the year (市民サービス向上研修Ⅰ is part of 採用時研修Ⅰ).
    let by_key: BTreeMap<String, &Value> =
        courses.iter().map(|c| (format!("{}-{}", c["category"].as_str().unwrap(), c["number"]), c)).collect();
    assert_eq!(by_key["thematic-1"]["within_course_id"], by_key["hierarchical-1"]["id"]);
    assert_eq!(by_key["awareness-2"]["within_course_id"], by_key["hierarchical-8"]["id"]);
    assert_eq!(by_key["dispatch-1"]["report"]["kind"], "months_after_end");
    assert_eq!(by_key["dispatch-2"]["headcount"], 11);
    assert_eq!(by_key["hierarchical-8"]["timing_label"], "9月～3月");
}

#[tokio::test]
async fn the_demo_loads_and_publishes_the_plan_once() {
    let app = spawn().await;
    kenshu_api::demo::seed_catalogue(&app.db).await.unwrap();
    kenshu_api::demo::seed_catalogue(&app.db).await.unwrap();
    let plan = app.get_json("/api/v1/plans/2023", &app.hr()).await;
    assert_eq!(plan["status"], "published");
    assert_eq!(plan["focus_areas"].as_array().unwrap().len(), 4);
    let courses = all_courses(&app).await;
    assert_eq!(courses.len(), 61);
    assert!(courses.iter().all(|c| c["status"] == "published"));
    // Three seminars found by one search, however the word is typed.
    for q in [
        "%E3%83%A1%E3%83%B3%E3%82%BF%E3%83%AB%E3%83%98%E3%83%AB%E3%82%B9",
        "%EF%BE%92%EF%BE%9D%EF%BE%80%EF%BE%99%EF%BE%8D%EF%BE%99%EF%BD%BD",
    ] {
        let page = app.get_json(&format!("/api/v1/courses?fiscal_year=2023&q={q}"), &app.hr()).await;
        let titles: Vec<&str> =
            page["items"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
        assert!(titles.iter().filter(|t| t.starts_with("メンタルヘルスセミナー")).count() == 3, "{titles:?}");
    }
}
