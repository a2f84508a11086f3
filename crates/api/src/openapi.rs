//! The OpenAPI document, derived from the handlers. A test keeps openapi/openapi.json equal to it.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::problem::{FieldErrorDto, Problem, RowErrorDto};
use crate::routes::{
    absence, attendance, audit, calendar, catalogue, catalogue_files, channels, check_in, employees, files,
    health, import, internships, joint, me, notices, portal_forms, report, results, selection, structure,
    study_groups, subsidy, survey,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kenshu",
        description = "Staff-training management for Japanese local governments (職員研修管理). \
            Every endpoint under /api/v1 needs `Authorization: Bearer <JWT>` with claims `sub` (employee number), \
            `org` (organisation code) and `roles`. Errors are RFC 9457 problems (`application/problem+json`) with a \
            stable `type` (`urn:kenshu:problem:<code>`). Lists use keyset pagination (`limit`, `cursor` → \
            `next_cursor`). Updates need `If-Match` with the ETag read.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "Kenshu maintainers")
    ),
    paths(
        health::healthz, health::readyz, crate::metrics::metrics, me::me,
        employees::list, employees::create, employees::get, employees::update, import::import_roster, crate::routes::directory::sync_directory,
        structure::list_departments, structure::create_department, structure::get_department, structure::update_department,
        structure::list_sections, structure::create_section, structure::get_section, structure::update_section,
        structure::get_grades, structure::put_grades, structure::get_workflow, structure::put_workflow, structure::get_reminders, structure::put_reminders, structure::import_structure,
        catalogue::list_plans, catalogue::create_plan, catalogue::get_plan, catalogue::update_plan, catalogue::publish_plan, catalogue::copy_plan,
        catalogue_files::import_catalogue, catalogue_files::export_catalogue,
        catalogue::list_courses, catalogue::create_course, catalogue::get_course, catalogue::update_course,
        catalogue::course_history, catalogue::course_eligible, catalogue::my_courses, catalogue::create_session, catalogue::update_session, catalogue::delete_session,
        selection::designate_course, selection::designate_plan, selection::list_nominations,
        selection::recommend, selection::apply, selection::get_nomination, selection::nomination_event,
        selection::my_nominations, selection::training_history, selection::section_nominations,
        selection::training_gaps, selection::bulk_nominations, selection::import_nominations,
        notices::notify_course, notices::my_notices, notices::list_notices, notices::claim_notices, notices::notice_delivered,
        channels::list_channels, channels::create_channel, channels::get_channel, channels::update_channel,
        channels::notice_deliveries, channels::list_deliveries, channels::redeliver,
        portal_forms::list_forms, portal_forms::create_form, portal_forms::get_form, portal_forms::update_form,
        portal_forms::webhook, portal_forms::list_inbox, portal_forms::get_change, portal_forms::replay,
        calendar::create_feed, calendar::list_feeds, calendar::get_feed, calendar::revoke_feed, calendar::feed,
        absence::create_notice, absence::get_notice, absence::update_notice, absence::notice_event,
        absence::session_notices, absence::my_notices, absence::section_notices,
        attendance::get_sheet, attendance::record_sheet, attendance::import_sheet,
        check_in::open_check_in, check_in::get_check_in, check_in::close_check_in, check_in::check_in_qr, check_in::check_in,
        report::create_report, report::get_report, report::update_report, report::report_event, report::record_sharing,
        report::list_reports, report::section_reports, report::department_reports, report::my_reports,
        results::year_results, survey::get_survey, survey::create_survey, survey::update_survey, survey::answer_survey, survey::survey_results,
        subsidy::get_programme, subsidy::create_programme, subsidy::update_programme, subsidy::list_courses, subsidy::import_courses,
        subsidy::apply, subsidy::get_application, subsidy::application_event, subsidy::put_proof, subsidy::get_proof,
        subsidy::list_applications, subsidy::my_applications, subsidy::section_applications,
        study_groups::create_group, study_groups::get_group, study_groups::file_plan, study_groups::file_settlement, study_groups::set_members,
        study_groups::group_event, study_groups::list_groups, study_groups::my_groups,
        internships::get_programme, internships::create_programme, internships::update_programme,
        internships::add_student, internships::list_students, internships::get_student, internships::update_student,
        internships::student_event, internships::erase_student, internships::section_students,
        joint::share_course, joint::list_shares, joint::get_share, joint::change_places, joint::share_event,
        joint::joint_roster, joint::get_joint_attendance, joint::record_joint_attendance, joint::share_absence_reason, joint::list_offers, joint::get_offer, joint::offer_event,
        audit::list,
        audit::verify,
    ),
    components(schemas(
        Problem,
        FieldErrorDto,
        RowErrorDto,
        employees::EmployeeSortParam,
        files::EncodingParam,
        files::ExportFormat,
        results::ResultsTable
    )),
    modifiers(&CommonResponses),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "operations", description = "Metrics for the operators (Prometheus)"),
        (name = "me", description = "The caller"),
        (name = "employees", description = "職員: the roster and its import"),
        (name = "organisation", description = "部・課・職級: departments, sections and grades"),
        (name = "catalogue", description = "研修計画・研修一覧: plans per fiscal year, courses, audience rules and sessions"),
        (name = "selection", description = "選考: designation from the rules, nominations"),
        (name = "notices", description = "通知の配信: channels (signed webhooks, the desknet's NEO portal), each notice's deliveries and tries, failures and redelivery"),
        (name = "portal", description = "ポータル様式: desknet's NEO AppSuite forms feeding the workflows (applications, absence notices, reports, subsidy applications) through their webhooks; what they sent, and replaying what could not be applied"),
        (name = "attendance", description = "出欠・欠席届: attendance and absence notices"),
        (name = "reports", description = "研修報告書・研修実績: post-training reports, their approval, deadlines and 職場還元; the year's results"),
        (name = "subsidies", description = "自己啓発の助成: the correspondence-course subsidy, its budget, catalogue and applications"),
        (name = "internships", description = "就業体験学生受入れ: the internship programme, its students, host sections and the erasure of students' personal data"),
        (name = "joint", description = "合同研修: courses one organisation hosts for others, with places per organisation; each participant selects its own staff on a course of its own; the host's combined roster shows only what running the course needs"),
        (name = "audit", description = "Who changed what, when"),
    )
)]
pub struct ApiDoc;

/// Bearer security and the errors every protected operation can answer with.
struct CommonResponses;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build(),
    )
}

/// `If-Match` takes the ETag a read sent (`"3"`), a list of tags (any of them current), or `*`
/// for whatever version there is now; a weak tag never matches (RFC 9110 compares If-Match
/// strongly).
fn if_match_schema() -> RefOr<utoipa::openapi::schema::Schema> {
    RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r#"^(\*|(W/)?"[0-9]{1,9}"( *, *(W/)?"[0-9]{1,9}")*)$"#))
            .examples([serde_json::json!("\"3\"")])
            .into(),
    )
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operators' token, KENSHU_METRICS_TOKEN: not a user's JWT"))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let ops: [&mut Option<Operation>; 4] =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.delete];
            for op in ops.into_iter().flatten() {
                // An operation that declares its own security (the portal's webhook: none, its
                // body carries a token) keeps it.
                if op.security.is_none() {
                    op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                }
                for param in op.parameters.iter_mut().flatten() {
                    if param.parameter_in == ParameterIn::Header && param.name == "If-Match" {
                        param.schema = Some(if_match_schema());
                    }
                }
                let has_body = op.request_body.is_some();
                let r = &mut op.responses.responses;
                r.entry("400".into())
                    .or_insert_with(|| problem("Malformed request (query, JSON or headers)"));
                r.entry("401".into()).or_insert_with(|| problem("Missing, expired or invalid token"));
                r.entry("403".into()).or_insert_with(|| problem("Your roles do not allow this"));
                r.entry("405".into()).or_insert_with(|| problem("Method not allowed on this path"));
                if has_body {
                    r.entry("413".into()).or_insert_with(|| problem("The body is too large"));
                    r.entry("415".into()).or_insert_with(|| problem("Unsupported content type"));
                    r.entry("422".into()).or_insert_with(|| problem("Invalid fields"));
                }
                r.entry("429".into()).or_insert_with(|| {
                    problem("A limit per caller is spent (requests per token, failed authentications per address, wrong check-in codes); Retry-After says when to try again")
                });
                r.entry("500".into())
                    .or_insert_with(|| problem("Internal error; details are in the log, not here"));
                r.entry("503".into()).or_insert_with(|| {
                    problem("The database is not reachable just now; Retry-After says when to try again")
                });
            }
        }
    }
}

/// The document as served at /openapi.json and committed in openapi/openapi.json.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    link_created_resources(&mut doc);
    name_tagged_unions(&mut doc);
    describe_operations(&mut doc);
    outside_the_api(&mut doc);
    problem_examples(&mut doc);
    doc["servers"] =
        serde_json::json!([{"url": "/", "description": "The service that serves this document"}]);
    doc
}

/// The methods of a path item that are operations.
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// Every operation of the document, mutable.
fn operations(doc: &mut serde_json::Value) -> impl Iterator<Item = (&String, &mut serde_json::Value)> {
    doc["paths"].as_object_mut().into_iter().flat_map(|paths| {
        paths.iter_mut().flat_map(|(path, item)| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|ops| {
                    ops.iter_mut().filter(|(m, _)| METHODS.contains(&m.as_str())).map(|(_, op)| op)
                })
                .map(move |op| (path, op))
        })
    })
}

/// The tag property and value of one variant of an internally tagged union
/// (`#[serde(tag = "kind")]`): a required string property that takes one value, on the variant
/// itself or on one part of its `allOf`.
fn tag_of(variant: &serde_json::Value) -> Option<(String, String)> {
    let parts = match variant.get("allOf").and_then(|a| a.as_array()) {
        Some(parts) => parts.iter().collect(),
        None => vec![variant],
    };
    parts.into_iter().find_map(|part| {
        let required = part.get("required")?.as_array()?;
        part.get("properties")?.as_object()?.iter().find_map(|(name, p)| {
            let values = p.get("enum")?.as_array()?;
            match (values.as_slice(), required.iter().any(|r| r == name.as_str())) {
                ([serde_json::Value::String(value)], true) if p["type"] == "string" => {
                    Some((name.clone(), value.clone()))
                }
                _ => None,
            }
        })
    })
}

/// `years_after_hire` → `YearsAfterHire`.
fn pascal(snake: &str) -> String {
    snake
        .split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

/// Every internally tagged union (`#[serde(tag = "kind")]`, which utoipa writes as a `oneOf` of
/// inline objects) as a `oneOf` of named schemas (`ConditionYearsAfterHire`) with a
/// `discriminator` mapping each tag to its schema, so that generated clients name the variants
/// and pick them by tag instead of numbering them.
fn name_tagged_unions(doc: &mut serde_json::Value) {
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(|s| s.as_object_mut()) else {
        return;
    };
    let mut variants_out = Vec::new();
    for (name, schema) in schemas.iter_mut() {
        let Some(variants) = schema.get("oneOf").and_then(|v| v.as_array()) else { continue };
        let Some(tags) = variants.iter().map(tag_of).collect::<Option<Vec<_>>>() else { continue };
        let property = tags[0].0.clone();
        if tags.iter().any(|(p, _)| *p != property) {
            continue;
        }
        let mut mapping = serde_json::Map::new();
        let mut refs = Vec::new();
        for (variant, (_, value)) in variants.iter().zip(&tags) {
            let variant_name = format!("{name}{}", pascal(value));
            let reference = format!("#/components/schemas/{variant_name}");
            mapping.insert(value.clone(), reference.clone().into());
            refs.push(serde_json::json!({ "$ref": reference }));
            variants_out.push((variant_name, variant.clone()));
        }
        schema["oneOf"] = refs.into();
        schema["discriminator"] = serde_json::json!({"propertyName": property, "mapping": mapping});
    }
    for (name, variant) in variants_out {
        let taken = schemas.insert(name.clone(), variant);
        assert!(taken.is_none(), "the union variant {name} is named like another schema");
    }
}

/// Every operation with a short `summary` (its doc comment's first clause) and a `description`
/// (the whole comment), as generators and linters expect both.
fn describe_operations(doc: &mut serde_json::Value) {
    for (_, op) in operations(doc) {
        let Some(summary) =
            op["summary"].as_str().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        else {
            continue;
        };
        if op.get("description").is_none_or(|d| d.as_str().is_none_or(str::is_empty)) {
            op["description"] = summary.clone().into();
        }
        // The first clause: up to a colon, semicolon or full stop that ends a phrase.
        let end =
            [": ", "; ", ". "].iter().filter_map(|sep| summary.find(sep)).min().unwrap_or(summary.len());
        op["summary"] = summary[..end].trim_end_matches('.').to_string().into();
    }
}

/// The routes outside `/api/` (health, metrics): what they answer besides success (an
/// undocumented query parameter is a 400 there too), and who may call them.
fn outside_the_api(doc: &mut serde_json::Value) {
    let bad_request = serde_json::to_value(problem("Malformed request (an unknown query parameter)"))
        .expect("a response serialises");
    for (path, op) in operations(doc) {
        if path.starts_with("/api/") {
            continue;
        }
        if op.get("security").is_none() {
            // Health checks are open: a load balancer has no token.
            op["security"] = serde_json::json!([]);
        }
        if let Some(responses) = op["responses"].as_object_mut() {
            responses.entry("400").or_insert_with(|| bad_request.clone());
        }
    }
}

/// Each error response shows an example of its own status (a 404 a not-found problem, a 412
/// the version it found), not the one example of the `Problem` schema.
fn problem_examples(doc: &mut serde_json::Value) {
    for (_, op) in operations(doc) {
        let Some(responses) = op["responses"].as_object_mut() else { continue };
        for (status, response) in responses.iter_mut() {
            let Some(content) = response.pointer_mut("/content/application~1problem+json") else { continue };
            if content.get("example").is_some() || content.get("examples").is_some() {
                continue;
            }
            let Ok(status) = status.parse::<u16>() else { continue };
            let example = match status {
                405 => Some(crate::http::method_not_allowed("GET")),
                _ => crate::problem::ApiError::example(status)
                    .map(|e| serde_json::to_value(e.problem()).expect("a problem serialises")),
            };
            if let Some(example) = example {
                content["example"] = example;
            }
        }
    }
}

/// The document as committed in openapi/openapi.json.
pub fn document_json() -> String {
    let mut s = serde_json::to_string_pretty(&document()).expect("the document serialises");
    s.push('\n');
    s
}

/// OpenAPI links from each create (`POST /x`, 201) to reading and updating what it made
/// (`GET`/`PUT /x/{id}`, with the new id and its ETag as `If-Match`), so clients and test
/// generators can follow a resource's life without guessing ids. Added to the JSON because
/// utoipa 5.5 writes a Link's `operationId` as `operation_id`.
fn link_created_resources(doc: &mut serde_json::Value) {
    use serde_json::json;
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    let mut links = Vec::new();
    for (path, item) in paths.iter() {
        if path.contains('{') || item.get("post").is_none() {
            continue;
        }
        // The member path: this path plus one parameter segment, named as the created body's
        // field (`/plans/{fiscal_year}` ← `fiscal_year`, `/employees/{id}` ← `id`).
        let prefix = format!("{path}/{{");
        let Some((member_path, member)) = paths
            .iter()
            .find(|(p, _)| p.starts_with(&prefix) && p.ends_with('}') && p.matches('{').count() == 1)
        else {
            continue;
        };
        let param = member_path[prefix.len()..member_path.len() - 1].to_string();
        let value = format!("$response.body#/{param}");
        let id =
            |method: &str| member.get(method).and_then(|op| op["operationId"].as_str()).map(String::from);
        let mut set = serde_json::Map::new();
        if let Some(get) = id("get") {
            set.insert("read".into(), json!({"operationId": get, "parameters": {param.clone(): value}}));
        }
        if let Some(put) = id("put") {
            set.insert(
                "update".into(),
                json!({"operationId": put, "parameters": {
                    param.clone(): value, "header.If-Match": "$response.header.ETag"}}),
            );
        }
        // Operations below the created resource that need nothing else (a course's history,
        // adding a session to it), so stateful tests reach them.
        let below = format!("{member_path}/");
        let below_items = paths.iter().filter(|(p, _)| p.starts_with(&below) && p.matches('{').count() == 1);
        for (_, sub_item) in below_items {
            for op in sub_item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(op_id) = op["operationId"].as_str() {
                    set.insert(
                        op_id.into(),
                        json!({"operationId": op_id, "parameters": {param.clone(): value}}),
                    );
                }
            }
        }
        links.push((path.clone(), set));
    }
    for (path, set) in links {
        if let Some(created) = paths[&path]["post"]["responses"].get_mut("201") {
            created["links"] = serde_json::Value::Object(set);
        }
    }
}

/// The query parameters each operation documents, by method and path pattern: what a request may
/// send, so an undocumented one is refused instead of silently ignored.
pub fn query_parameters() -> &'static HashMap<(String, String), HashSet<String>> {
    static PARAMS: OnceLock<HashMap<(String, String), HashSet<String>>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let doc = document();
        let mut out = HashMap::new();
        let query_names = |params: Option<&serde_json::Value>| -> Vec<String> {
            params
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        };
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let shared = query_names(item.get("parameters"));
            for (method, op) in item.as_object().into_iter().flatten() {
                if method == "parameters" {
                    continue;
                }
                let mut names: HashSet<String> = shared.iter().cloned().collect();
                names.extend(query_names(op.get("parameters")));
                out.insert((method.to_ascii_uppercase(), path.clone()), names);
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Every `$ref` in `value`.
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn tagged_unions_have_named_variants_and_a_discriminator() {
        let doc = super::document();
        let schemas = &doc["components"]["schemas"];
        for (union, tag, variant) in [
            ("Condition", "years_after_hire", "ConditionYearsAfterHire"),
            ("ChannelSettings", "mail", "ChannelSettingsMail"),
            ("Timing", "month", "TimingMonth"),
        ] {
            let reference = format!("#/components/schemas/{variant}");
            assert_eq!(schemas[union]["discriminator"]["propertyName"], "kind");
            assert_eq!(schemas[union]["discriminator"]["mapping"][tag], reference.as_str());
            assert!(schemas[union]["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["$ref"] == reference.as_str()));
            assert_eq!(super::tag_of(&schemas[variant]), Some(("kind".into(), tag.into())), "{variant}");
        }
        assert_eq!(super::pascal("grade_at_least"), "GradeAtLeast");
    }

    #[test]
    fn every_operation_has_a_short_summary_and_a_description() {
        let mut doc = super::document();
        for (path, op) in super::operations(&mut doc) {
            let summary = op["summary"].as_str().unwrap_or_else(|| panic!("{path}: no summary"));
            assert!(!summary.is_empty() && !summary.contains('\n'), "{path}: {summary:?}");
            assert!(op["description"].as_str().is_some_and(|d| d.len() >= summary.len()), "{path}");
        }
    }

    #[test]
    fn each_error_response_shows_a_problem_of_its_own_status() {
        let mut doc = super::document();
        let mut seen = std::collections::BTreeSet::new();
        for (path, op) in super::operations(&mut doc) {
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(content) = response["content"].get("application/problem+json") else { continue };
                let example = &content["example"];
                assert_eq!(example["status"].to_string(), *status, "{path} {status}: {example}");
                assert_eq!(
                    example["type"],
                    format!("urn:kenshu:problem:{}", example["code"].as_str().unwrap())
                );
                seen.insert(status.clone());
            }
        }
        assert!(seen.len() >= 12, "{seen:?}");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = super::document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        let missing: Vec<_> = found
            .into_iter()
            .filter(|r| {
                let name = r.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"].get(name).is_none()
            })
            .collect();
        assert!(missing.is_empty(), "references without a schema: {missing:?}");
    }

    /// The document keys schemas by type name, and of two types with one name only one is kept:
    /// the other's operations would then document a body the server refuses. Every type that
    /// derives `ToSchema` (under its `#[schema(as = …)]` name if it has one) must be named once.
    #[test]
    fn no_two_schemas_share_a_name() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stack = vec![root.join("crates/api/src"), root.join("crates/domain/src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                        continue;
                    }
                    let mut renamed = None;
                    for next in &lines[i + 1..] {
                        let t = next.trim_start();
                        if let Some(rest) = t.strip_prefix("#[schema(as = ") {
                            renamed = rest.split([')', ',']).next().map(str::to_string);
                        }
                        let item = t.strip_prefix("pub struct ").or_else(|| t.strip_prefix("pub enum "));
                        if let Some(item) = item {
                            let name: String =
                                item.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                            // A macro's `$name` is named where the macro is used.
                            if !item.starts_with('$') {
                                let name = renamed.take().unwrap_or(name);
                                names.entry(name).or_default().push(path.display().to_string());
                            }
                            break;
                        }
                    }
                }
            }
        }
        let shared: Vec<_> = names.iter().filter(|(_, places)| places.len() > 1).collect();
        assert!(names.len() > 100, "the scan found only {} schemas", names.len());
        assert!(shared.is_empty(), "schemas sharing a name: {shared:?}");
    }
}
