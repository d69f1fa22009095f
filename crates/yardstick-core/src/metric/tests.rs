//! Tests of metric definitions: the built-in catalogue covers SPEC §4, and mistakes in a
//! user's file are reported with file, line, column and a fix.

use super::*;

/// Every metric id of SPEC §4's table.
const SPEC_IDS: &[&str] = &[
    "tickets_resolved",
    "fcr_rate",
    "first_response_24h_rate",
    "first_response_median_min",
    "first_response_p90_min",
    "resolution_hours_mean",
    "resolved_24h_rate",
    "repeat_contact_7d_rate",
    "handle_minutes_mean",
    "backlog_over_3d",
    "fields_complete_rate",
    "first_time_fix_rate",
    "on_time_arrival_rate",
    "rework_30d_rate",
    "parts_cost_per_visit",
    "csat_rate",
    "csat_mean",
    "nps",
    "complaint_rate",
    "complaint_satisfaction_rate",
    "complaint_4h_closure_rate",
    "major_complaint_closure_hours_mean",
    "complaint_recovery_rate",
    "repeat_complaint_rate",
    "qa_score_mean",
    "service_standard_rate",
    "compliance_violations",
    "handling_error_rate",
    "training_completion_rate",
    "certification_pass_rate",
    "exam_score_mean",
    "secondary_sales_amount",
    "knowledge_adopted",
    "rating_mean",
    "team_attrition_rate",
];

#[test]
fn the_builtin_catalogue_covers_every_spec_metric() {
    let c = Catalogue::builtin();
    for id in SPEC_IDS {
        let m = c.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(m.listed, "{id}");
        assert!(!m.name_zh.is_empty() && !m.name_en.is_empty());
    }
    let listed: Vec<&str> = c.metrics().iter().filter(|m| m.listed).map(|m| m.id.as_str()).collect();
    assert_eq!(listed.len(), SPEC_IDS.len(), "listed: {listed:?}");
    for variant in [
        "first_response_24bh_rate",
        "first_response_median_bmin",
        "resolution_bhours_mean",
        "complaint_4bh_closure_rate",
    ] {
        assert!(c.get(variant).and_then(|m| m.records()).is_some_and(|r| r.business), "{variant}");
    }
}

fn errors(text: &str) -> Vec<String> {
    let mut c = Catalogue::builtin();
    c.add_file("my.toml", text, &Params::default()).iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect()
}

#[test]
fn user_metric_errors_name_the_place_and_the_fix() {
    let unknown_field = r#"
[[metric]]
id = "chat_fcr"
name_zh = "在线首解率"
name_en = "Chat FCR"
source = "tickets"
anchor = "resolved_at"
attribution = "agent_id"
aggregate = "ratio"
where = "chanel = 'chat'"
numerator = "contact_count = 1"
"#;
    let e = errors(unknown_field);
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("my.toml:10:10: error: metric chat_fcr: in `chanel = 'chat'`: `chanel` is not a field of tickets (did you mean `channel`?); fields: ticket_id"), "{}", e[0]);

    let bad_label = unknown_field.replace("chanel = 'chat'", "channel = 'wechat'");
    assert!(errors(&bad_label)[0].contains(
        "'wechat' is not a value of tickets.channel; expected one of phone, chat, email, app, onsite, other"
    ));

    let wrong_type = unknown_field.replace("chanel = 'chat'", "resolved_at + 1");
    assert!(errors(&wrong_type)[0].contains("cannot apply `+` to a time and a integer"), "{:?}", errors(&wrong_type));

    let not_condition = unknown_field.replace("chanel = 'chat'", "handle_seconds");
    assert!(errors(&not_condition)[0].contains("must be a condition, but it is a integer"));

    let bad_source = unknown_field.replace("source = \"tickets\"", "source = \"tikets\"");
    assert!(
        errors(&bad_source)[0]
            .starts_with("my.toml:6:10: error: `tikets` is not a source — fix: use one of teams, people"),
        "{:?}",
        errors(&bad_source)
    );

    let syntax = unknown_field.replace("chanel = 'chat'", "channel = 'chat");
    assert_eq!(
        errors(&syntax)[0],
        "my.toml:10:20: error: in `channel = 'chat`: unterminated text: add the closing quote"
    );

    let formula = "[[metric]]\nid = \"x\"\nname_zh = \"x\"\nname_en = \"x\"\nformula = \"ratio(tickets_resolvd, tickets_resolved)\"\n";
    assert!(errors(formula)[0].contains(
        "formula of x uses unknown metric `tickets_resolvd` — fix: did you mean `tickets_resolved`? Or define that metric"
    ));

    let toml_syntax = "[[metric]]\nid = \"x\"\nname_zh = \n";
    assert!(errors(toml_syntax)[0].starts_with("my.toml:3:"), "{:?}", errors(toml_syntax));
}

#[test]
fn a_user_metric_in_the_language_is_accepted() {
    let text = r#"
[[metric]]
id = "chat_reply_20s_rate"
name_zh = "在线20秒响应率"
name_en = "Chat replies within 20 s"
source = "tickets"
anchor = "created_at"
attribution = "agent_id"
aggregate = "ratio"
where = "channel = 'chat' and customer_tier in ('vip', 'gold')"
numerator = "first_response_at - created_at <= 20s"

[[metric]]
id = "premium_share"
name_zh = "高价值客户占比"
name_en = "Premium share"
formula = "ratio(chat_reply_20s_rate, tickets_resolved) * 100"
"#;
    assert_eq!(errors(text), Vec::<String>::new());
}
