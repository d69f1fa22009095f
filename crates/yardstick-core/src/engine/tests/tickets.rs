//! Ticket metrics in March 2025, Asia/Shanghai (March = [02-28T16:00Z, 03-31T16:00Z)).
//!
//! Org: R (lead L1) with teams A (lead L1) and B. P1 in A, P2 in B, P3 moves from A to B
//! at 2025-03-16T00:00+08:00. Tickets (times +08:00 unless noted):
//!
//! | id  | agent | created          | first response   | resolved          | contacts/reopen | handle | notes |
//! |-----|-------|------------------|------------------|-------------------|-----------------|--------|-------|
//! | T1  | P1    | 03-01 00:00 (start of month) | +24h exactly | 03-02 00:00 (as 03-01T16:00Z) | 1/0 | 600 | C1 |
//! | T2  | P1    | 02-28 23:59:59 (as 15:59:59Z, February) | – | 03-01 10:00 | –/– | – | C2 |
//! | T3  | P1    | 03-10 09:00 (as 01:00Z) | +24h 1s | 03-12 09:00 (no offset) | 2/0 | 1200 | C1 |
//! | T4  | P2    | 03-09 00:00 = T1 resolved + 7 days | +10 min | – | 1/– | – | C1, product defect |
//! | T5  | P3    | 03-15 23:59:59 (P3 in A) | +1 s | 03-16 00:00 (P3 in B) | 1/1 | 60 | C3 |
//! | T6  | –     | 03-20 10:00 | – | 03-20 12:00 | – | – | C4, unassigned |
//! | T7  | P1    | 03-31 23:59:59 | – | 04-01 00:00 (April) | 1/0 | – | C5 |
//! | T8  | P1    | 02-20 10:00 | – | – | | | backlog |
//! | T9  | P1    | 03-28 00:00 (4 days before month end) | – | – | | | backlog |
//! | T10 | P1    | 03-29 00:00 (exactly 3 days) | – | – | | | not backlog |
//! | T11 | P1    | 03-20 00:00 | +1 h | 04-01 00:00 = month end | | | backlog |
//! | T12 | P2    | 03-20 12:00 (as 04:00Z) = T6 resolved | – | – | | | C4 |

use crate::settings::Settings;
use crate::testkit::{check, dataset, run};

pub const TEAMS: &str = "
team_id,name,parent_team_id,lead_id,region
A,热线一组,R,L1,east
B,热线二组,R,,west
R,售后总部,,L1,
";

pub const PEOPLE: &str = "
person_id,name,role,team_id,manager_id,email,hired_at,left_at
L1,李组长,team_lead,A,,,2020-01-01,
P1,张三,agent,A,L1,,2024-01-01,
P2,李四,agent,B,L1,,2024-01-01,2025-03-20
P3,王五,agent,A,L1,,2024-06-01,
";

pub const MEMBERSHIPS: &str = "
person_id,team_id,from,to
P3,A,2024-06-01,2025-03-16
P3,B,2025-03-16,
";

const TICKETS: &str = "
ticket_id,created_at,customer_id,agent_id,channel,first_response_at,resolved_at,reopen_count,contact_count,handle_seconds,cause,fields_complete
T1,2025-03-01T00:00:00+08:00,C1,P1,phone,2025-03-02T00:00:00+08:00,2025-03-01T16:00:00Z,0,1,600,service,true
T2,2025-02-28T15:59:59Z,C2,P1,chat,,2025-03-01T10:00:00+08:00,,,,,
T3,2025-03-10T01:00:00Z,C1,P1,phone,2025-03-11T09:00:01+08:00,2025-03-12T09:00:00,0,2,1200,service,否
T4,2025-03-09T00:00:00+08:00,C1,P2,app,2025-03-09T00:10:00+08:00,,,1,,product_defect,no
T5,2025-03-15T23:59:59+08:00,C3,P3,phone,2025-03-16T00:00:00+08:00,2025-03-16T00:00:00+08:00,1,1,60,service,是
T6,2025-03-20T10:00:00+08:00,C4,,email,,2025-03-20T12:00:00+08:00,,,,,
T7,2025-03-31T23:59:59+08:00,C5,P1,phone,,2025-04-01T00:00:00+08:00,0,1,,,
T8,2025-02-20T10:00:00+08:00,C6,P1,phone,,,,,,,
T9,2025-03-28T00:00:00+08:00,C7,P1,phone,,,,,,,
T10,2025-03-29T00:00:00+08:00,C8,P1,phone,,,,,,,
T11,2025-03-20T00:00:00+08:00,C9,P1,phone,2025-03-20T01:00:00+08:00,2025-04-01T00:00:00+08:00,,,,,
T12,2025-03-20T04:00:00Z,C4,P2,chat,,,,,,,
";

fn march(metric: &str) -> Vec<String> {
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    run(&data, &settings, &[metric], &["2025-03"])
}

#[test]
fn tickets_resolved() {
    // Resolved in March: T1, T2, T3 (P1, team A), T5 (P3, resolved at the move instant:
    // team B), T6 (nobody: org only). T7 and T11 resolve at 04-01 00:00, outside.
    check(
        &march("tickets_resolved"),
        "
        2025-03,org,org,tickets_resolved,5,,
        2025-03,person,P1,tickets_resolved,3,,
        2025-03,person,P3,tickets_resolved,1,,
        2025-03,team,A,tickets_resolved,3,,
        2025-03,team,B,tickets_resolved,1,,
        2025-03,team,R,tickets_resolved,4,,
        ",
    );
}

#[test]
fn fcr_rate() {
    // T1 1/0 yes; T2 empty counts (= 1 contact, 0 reopen) yes; T3 2 contacts no; T5 reopened
    // no; T6 empty counts yes.
    check(
        &march("fcr_rate"),
        "
        2025-03,org,org,fcr_rate,0.6,3,5
        2025-03,person,P1,fcr_rate,0.666667,2,3
        2025-03,person,P3,fcr_rate,0,0,1
        2025-03,team,A,fcr_rate,0.666667,2,3
        2025-03,team,B,fcr_rate,0,0,1
        2025-03,team,R,fcr_rate,0.5,2,4
        ",
    );
}

#[test]
fn first_response_24h_rate() {
    // Created in March (T2, T8 are February): hits T1 (exactly 24 h), T4 (10 min), T5 (1 s),
    // T11 (1 h); misses T3 (24 h 1 s) and every ticket without a response (T6, T7, T9, T10,
    // T12). T5 is created while P3 is still in A.
    check(
        &march("first_response_24h_rate"),
        "
        2025-03,org,org,first_response_24h_rate,0.4,4,10
        2025-03,person,P1,first_response_24h_rate,0.333333,2,6
        2025-03,person,P2,first_response_24h_rate,0.5,1,2
        2025-03,person,P3,first_response_24h_rate,1,1,1
        2025-03,team,A,first_response_24h_rate,0.428571,3,7
        2025-03,team,B,first_response_24h_rate,0.5,1,2
        2025-03,team,R,first_response_24h_rate,0.444444,4,9
        ",
    );
}

#[test]
fn first_response_median_and_p90() {
    // Response times in seconds: P1 [3600 (T11), 86400 (T1), 86401 (T3)]; P2 [600]; P3 [1].
    // P1 median 86400 s = 1440 min; p90 rank 0.9 × 2 = 1.8 → 86400 + 0.8 = 86400.8 s.
    // A = P1 + T5: [1, 3600, 86400, 86401]: median (3600 + 86400) / 2 = 45000 s = 750 min;
    // p90 rank 2.7 → 86400.7 s = 1440.011667 min. R adds 600: median 3600 s; p90 rank 3.6
    // → 86400.6 s = 1440.01 min. Tickets without a response are not in the population.
    check(
        &march("first_response_median_min"),
        "
        2025-03,org,org,first_response_median_min,60,,
        2025-03,person,P1,first_response_median_min,1440,,
        2025-03,person,P2,first_response_median_min,10,,
        2025-03,person,P3,first_response_median_min,0.016667,,
        2025-03,team,A,first_response_median_min,750,,
        2025-03,team,B,first_response_median_min,10,,
        2025-03,team,R,first_response_median_min,60,,
        ",
    );
    check(
        &march("first_response_p90_min"),
        "
        2025-03,org,org,first_response_p90_min,1440.01,,
        2025-03,person,P1,first_response_p90_min,1440.013333,,
        2025-03,person,P2,first_response_p90_min,10,,
        2025-03,person,P3,first_response_p90_min,0.016667,,
        2025-03,team,A,first_response_p90_min,1440.011667,,
        2025-03,team,B,first_response_p90_min,10,,
        2025-03,team,R,first_response_p90_min,1440.01,,
        ",
    );
}

#[test]
fn resolution_hours_mean() {
    // T1 86400 s, T2 36001 s (February 23:59:59 → 10:00), T3 172800 s, T5 1 s, T6 7200 s.
    // P1: 295201 / 3 / 3600 = 27.3334259… h; R: 295202 / 4 / 3600 = 20.5001388… h;
    // org: 302402 / 5 / 3600 = 16.8001111… h.
    check(
        &march("resolution_hours_mean"),
        "
        2025-03,org,org,resolution_hours_mean,16.800111,,
        2025-03,person,P1,resolution_hours_mean,27.333426,,
        2025-03,person,P3,resolution_hours_mean,0.000278,,
        2025-03,team,A,resolution_hours_mean,27.333426,,
        2025-03,team,B,resolution_hours_mean,0.000278,,
        2025-03,team,R,resolution_hours_mean,20.500139,,
        ",
    );
}

#[test]
fn resolved_24h_rate() {
    // Hits: T1 (exactly 24 h), T5 (1 s), T6 (2 h), T7 (1 s, resolved in April but created in
    // March); misses T3 (48 h), T11 (12 days) and the unresolved T4, T9, T10, T12.
    check(
        &march("resolved_24h_rate"),
        "
        2025-03,org,org,resolved_24h_rate,0.4,4,10
        2025-03,person,P1,resolved_24h_rate,0.333333,2,6
        2025-03,person,P2,resolved_24h_rate,0,0,2
        2025-03,person,P3,resolved_24h_rate,1,1,1
        2025-03,team,A,resolved_24h_rate,0.428571,3,7
        2025-03,team,B,resolved_24h_rate,0,0,2
        2025-03,team,R,resolved_24h_rate,0.333333,3,9
        ",
    );
}

#[test]
fn repeat_contact_7d_rate() {
    // T1 (C1, resolved 03-02 00:00): T4 of C1, another agent's, created exactly 7 days later
    // → repeat (window end inclusive). T3 (C1): C1's other tickets are earlier → no. T6
    // (C4, resolved 03-20 12:00): T12 created at that very instant → no (window start
    // exclusive). T2, T5 have no other tickets of their customer.
    check(
        &march("repeat_contact_7d_rate"),
        "
        2025-03,org,org,repeat_contact_7d_rate,0.2,1,5
        2025-03,person,P1,repeat_contact_7d_rate,0.333333,1,3
        2025-03,person,P3,repeat_contact_7d_rate,0,0,1
        2025-03,team,A,repeat_contact_7d_rate,0.333333,1,3
        2025-03,team,B,repeat_contact_7d_rate,0,0,1
        2025-03,team,R,repeat_contact_7d_rate,0.25,1,4
        ",
    );
}

#[test]
fn handle_minutes_mean() {
    // Resolved with a handle time: T1 600 s, T3 1200 s (P1: 15 min), T5 60 s (1 min);
    // T2 and T6 have none. R and org: 1860 / 3 s = 10.333333 min.
    check(
        &march("handle_minutes_mean"),
        "
        2025-03,org,org,handle_minutes_mean,10.333333,,
        2025-03,person,P1,handle_minutes_mean,15,,
        2025-03,person,P3,handle_minutes_mean,1,,
        2025-03,team,A,handle_minutes_mean,15,,
        2025-03,team,B,handle_minutes_mean,1,,
        2025-03,team,R,handle_minutes_mean,10.333333,,
        ",
    );
}

#[test]
fn backlog_over_3d() {
    // At 04-01 00:00: open and older than 3 days: T8, T9, T11 (resolved exactly at the end:
    // still open at the end) for P1; T4, T12 for P2. T10 is exactly 3 days old: not older.
    // P3 had T5 open during March: a row with 0, credited to B (P3's team at month end).
    check(
        &march("backlog_over_3d"),
        "
        2025-03,org,org,backlog_over_3d,5,,
        2025-03,person,P1,backlog_over_3d,3,,
        2025-03,person,P2,backlog_over_3d,2,,
        2025-03,person,P3,backlog_over_3d,0,,
        2025-03,team,A,backlog_over_3d,3,,
        2025-03,team,B,backlog_over_3d,2,,
        2025-03,team,R,backlog_over_3d,5,,
        ",
    );
    // February ends at 03-01 00:00: only T8 qualifies; T2 (created 1 s before) is too young.
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    check(
        &run(&data, &settings, &["backlog_over_3d"], &["2025-02"]),
        "
        2025-02,org,org,backlog_over_3d,1,,
        2025-02,person,P1,backlog_over_3d,1,,
        2025-02,team,A,backlog_over_3d,1,,
        2025-02,team,R,backlog_over_3d,1,,
        ",
    );
    // March, Q1 and the year in one query: records within one month are counted once per
    // month and spread to the quarter and year; P3 (moved) is placed per period. Q1 ends
    // with March; at the year's end T11 is resolved, T10 is old enough: the same rows in
    // all three.
    let same_in = |periods: &[&str], rows: &str| -> String {
        periods.iter().flat_map(|p| rows.trim().lines().map(move |r| format!("{p},{}\n", r.trim()))).collect()
    };
    check(
        &run(&data, &settings, &["backlog_over_3d"], &["2025-03", "2025-Q1", "2025"]),
        &same_in(
            &["2025", "2025-03", "2025-Q1"],
            "
            org,org,backlog_over_3d,5,,
            person,P1,backlog_over_3d,3,,
            person,P2,backlog_over_3d,2,,
            person,P3,backlog_over_3d,0,,
            team,A,backlog_over_3d,3,,
            team,B,backlog_over_3d,2,,
            team,R,backlog_over_3d,5,,
            ",
        ),
    );
    // P2's only ticket opens and closes within March: present (a row with 0) in March and
    // the year through the one count of its month; P1's ticket is open across months.
    let tickets = "
ticket_id,created_at,customer_id,agent_id,channel,first_response_at,resolved_at
X1,2025-03-02T10:00:00+08:00,C1,P2,phone,,2025-03-03T10:00:00+08:00
X2,2025-03-02T10:00:00+08:00,C1,P1,phone,,
";
    let data = dataset(&[("teams", TEAMS), ("people", PEOPLE), ("tickets", tickets)], &settings);
    check(
        &run(&data, &settings, &["backlog_over_3d"], &["2025-03", "2025"]),
        &same_in(
            &["2025", "2025-03"],
            "
            org,org,backlog_over_3d,1,,
            person,P1,backlog_over_3d,1,,
            person,P2,backlog_over_3d,0,,
            team,A,backlog_over_3d,1,,
            team,B,backlog_over_3d,0,,
            team,R,backlog_over_3d,1,,
            ",
        ),
    );
}

#[test]
fn fields_complete_rate() {
    // true for T1 (true) and T5 (是); false for T3 (否), T4 (no); empty counts as false.
    check(
        &march("fields_complete_rate"),
        "
        2025-03,org,org,fields_complete_rate,0.2,2,10
        2025-03,person,P1,fields_complete_rate,0.166667,1,6
        2025-03,person,P2,fields_complete_rate,0,0,2
        2025-03,person,P3,fields_complete_rate,1,1,1
        2025-03,team,A,fields_complete_rate,0.285714,2,7
        2025-03,team,B,fields_complete_rate,0,0,2
        2025-03,team,R,fields_complete_rate,0.222222,2,9
        ",
    );
}

#[test]
fn quarter_and_year_add_up_months() {
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    // Q1 holds February's T8 … T2 creations as well: P1 created T2, T8 in February.
    check(
        &run(&data, &settings, &["fields_complete_rate"], &["2025-Q1", "2025"]),
        "
        2025,org,org,fields_complete_rate,0.166667,2,12
        2025,person,P1,fields_complete_rate,0.125,1,8
        2025,person,P2,fields_complete_rate,0,0,2
        2025,person,P3,fields_complete_rate,1,1,1
        2025,team,A,fields_complete_rate,0.222222,2,9
        2025,team,B,fields_complete_rate,0,0,2
        2025,team,R,fields_complete_rate,0.181818,2,11
        2025-Q1,org,org,fields_complete_rate,0.166667,2,12
        2025-Q1,person,P1,fields_complete_rate,0.125,1,8
        2025-Q1,person,P2,fields_complete_rate,0,0,2
        2025-Q1,person,P3,fields_complete_rate,1,1,1
        2025-Q1,team,A,fields_complete_rate,0.222222,2,9
        2025-Q1,team,B,fields_complete_rate,0,0,2
        2025-Q1,team,R,fields_complete_rate,0.181818,2,11
        ",
    );
}

fn data_and_settings() -> (crate::data::Dataset, Settings) {
    let mut settings = Settings::default();
    settings.targets.insert("fcr_rate".into(), 0.8);
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    (data, settings)
}

#[test]
fn business_hours_variants() {
    // Calendar: Mon–Fri 09:00–18:00 with the Chinese holidays. Business time to the first
    // response: T1 (Sat → Sun) 0; T3 (Mon 09:00 → Tue 09:00:01) 9 h + 1 s = 32401 s; T4 (Sun)
    // 0; T5 (Sat → Sun) 0; T11 (Thu 00:00 → 01:00, before opening) 0. All within 24
    // business hours; tickets without a response miss.
    let (data, settings) = data_and_settings();
    check(
        &run(&data, &settings, &["first_response_24bh_rate"], &["2025-03"]),
        "
        2025-03,org,org,first_response_24bh_rate,0.5,5,10
        2025-03,person,P1,first_response_24bh_rate,0.5,3,6
        2025-03,person,P2,first_response_24bh_rate,0.5,1,2
        2025-03,person,P3,first_response_24bh_rate,1,1,1
        2025-03,team,A,first_response_24bh_rate,0.571429,4,7
        2025-03,team,B,first_response_24bh_rate,0.5,1,2
        2025-03,team,R,first_response_24bh_rate,0.555556,5,9
        ",
    );
    // p90 of P1's [0, 0, 32401]: 0.8 × 32401 s = 432.013333 min; A's [0, 0, 0, 32401]: 0.7 ×
    // 32401 s; R's [0, 0, 0, 0, 32401]: 0.6 × 32401 s.
    check(
        &run(&data, &settings, &["first_response_p90_bmin"], &["2025-03"]),
        "
        2025-03,org,org,first_response_p90_bmin,324.01,,
        2025-03,person,P1,first_response_p90_bmin,432.013333,,
        2025-03,person,P2,first_response_p90_bmin,0,,
        2025-03,person,P3,first_response_p90_bmin,0,,
        2025-03,team,A,first_response_p90_bmin,378.011667,,
        2025-03,team,B,first_response_p90_bmin,0,,
        2025-03,team,R,first_response_p90_bmin,324.01,,
        ",
    );
}

#[test]
fn change_and_attainment() {
    // fields_complete_rate in February: P1 created T2, T8, neither complete: 0 / 2. March
    // minus February; P2 and P3 have no February row, so no change.
    let (data, settings) = data_and_settings();
    check(
        &run(&data, &settings, &["fields_complete_rate.change"], &["2025-03"]),
        "
        2025-03,org,org,fields_complete_rate.change,0.2,,
        2025-03,person,P1,fields_complete_rate.change,0.166667,,
        2025-03,person,P2,fields_complete_rate.change,,,
        2025-03,person,P3,fields_complete_rate.change,,,
        2025-03,team,A,fields_complete_rate.change,0.285714,,
        2025-03,team,B,fields_complete_rate.change,,,
        2025-03,team,R,fields_complete_rate.change,0.222222,,
        ",
    );
    // Target 0.8 (yardstick.toml [targets]): 2/3 ÷ 0.8, 0.6 ÷ 0.8, …
    check(
        &run(&data, &settings, &["fcr_rate.attainment"], &["2025-03"]),
        "
        2025-03,org,org,fcr_rate.attainment,0.75,,
        2025-03,person,P1,fcr_rate.attainment,0.833333,,
        2025-03,person,P3,fcr_rate.attainment,0,,
        2025-03,team,A,fcr_rate.attainment,0.833333,,
        2025-03,team,B,fcr_rate.attainment,0,,
        2025-03,team,R,fcr_rate.attainment,0.625,,
        ",
    );
}

#[test]
fn weeks_days_and_custom_ranges() {
    // Week 10 is Mon 3 – Sun 9 March: T4 (Sunday 00:00). 20 March: T11, T6, T12. The range
    // 15–16 March: T5 at 23:59:59 on the 15th (P3 still in A).
    let (data, settings) = data_and_settings();
    check(
        &run(&data, &settings, &["fields_complete_rate"], &["2025-W10", "2025-03-20", "2025-03-15..2025-03-16"]),
        "
        2025-03-15..2025-03-16,org,org,fields_complete_rate,1,1,1
        2025-03-15..2025-03-16,person,P3,fields_complete_rate,1,1,1
        2025-03-15..2025-03-16,team,A,fields_complete_rate,1,1,1
        2025-03-15..2025-03-16,team,R,fields_complete_rate,1,1,1
        2025-03-20,org,org,fields_complete_rate,0,0,3
        2025-03-20,person,P1,fields_complete_rate,0,0,1
        2025-03-20,person,P2,fields_complete_rate,0,0,1
        2025-03-20,team,A,fields_complete_rate,0,0,1
        2025-03-20,team,B,fields_complete_rate,0,0,1
        2025-03-20,team,R,fields_complete_rate,0,0,2
        2025-W10,org,org,fields_complete_rate,0,0,1
        2025-W10,person,P2,fields_complete_rate,0,0,1
        2025-W10,team,B,fields_complete_rate,0,0,1
        2025-W10,team,R,fields_complete_rate,0,0,1
        ",
    );
}
