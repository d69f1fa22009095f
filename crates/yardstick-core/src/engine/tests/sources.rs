//! Metrics of visits, surveys, complaints, audits, trainings, sales, knowledge, ratings and
//! people in March 2025 (Asia/Shanghai), with the org of `tickets.rs` (P3 moves from A to B
//! at 03-16 00:00). Times are +08:00.

use super::tickets::{MEMBERSHIPS, PEOPLE, TEAMS};
use crate::settings::Settings;
use crate::testkit::{check, dataset, run};

/// K1, K2 (product defect) of P1, K3 of P2 (no cause), K4 unassigned.
const TICKETS: &str = "
ticket_id,created_at,customer_id,agent_id,cause,resolved_at
K1,2025-02-01T09:00:00+08:00,C1,P1,service,2025-03-01T12:00:00+08:00
K2,2025-02-01T09:00:00+08:00,C2,P1,product_defect,2025-03-02T00:00:00+08:00
K3,2025-02-01T09:00:00+08:00,C3,P2,,
K4,2025-02-01T09:00:00+08:00,C4,,service,2025-03-03T00:00:00+08:00
";

const VISITS: &str = "
visit_id,ticket_id,technician_id,visit_seq,scheduled_at,arrived_at,finished_at,fixed,cancelled,parts_cost
V1,K1,P1,1,2025-03-01T00:00:00+08:00,2025-03-01T00:15:00+08:00,2025-03-01T01:00:00+08:00,true,,100.50
V2,K1,P1,2,2025-03-31T01:00:00+08:00,2025-03-31T01:15:01+08:00,2025-03-31T02:00:00+08:00,true,,
V3,K2,P1,1,2025-03-05T09:00:00+08:00,,,,true,
V4,K2,P1,2,2025-03-06T09:00:00+08:00,,2025-03-06T10:00:00+08:00,0,,0
V5,K3,P3,1,2025-03-15T23:00:00+08:00,2025-03-15T23:10:00+08:00,2025-03-16T00:30:00+08:00,yes,,50
V6,K3,P3,2,2025-04-15T00:30:00+08:00,,,,,
V7,K4,P2,1,2025-02-28T23:59:59+08:00,2025-03-01T00:00:00+08:00,2025-03-01T00:30:00+08:00,true,,20
V8,K4,P2,2,2025-03-31T00:30:01+08:00,,,,,
";

const SURVEYS: &str = "
survey_id,ticket_id,answered_at,agent_id,csat,nps
S1,K1,2025-03-01T00:00:00+08:00,,5,10
S2,K2,2025-03-05T00:00:00+08:00,,1,0
S3,K1,2025-03-10T00:00:00+08:00,P3,4,8
S4,K3,2025-03-20T00:00:00+08:00,,3,6
S5,K3,2025-03-21T00:00:00+08:00,,,9
S6,K4,2025-03-22T00:00:00+08:00,,2,7
S7,K1,2025-02-28T23:59:59+08:00,,1,
S8,K1,2025-03-31T23:59:59+08:00,,4,
";

const COMPLAINTS: &str = "
complaint_id,ticket_id,received_at,agent_id,severity,resolved_at,satisfied,recovered
Q1,K1,2025-03-01T00:00:00+08:00,,major,2025-03-01T04:00:00+08:00,true,false
Q2,K1,2025-03-02T00:00:00+08:00,,minor,2025-03-02T04:00:01+08:00,false,true
Q3,K2,2025-03-03T00:00:00+08:00,,major,2025-03-03T02:30:00+08:00,true,true
Q4,K3,2025-02-28T23:00:00+08:00,,major,2025-03-01T01:00:00+08:00,,
Q5,K3,2025-03-10T00:00:00+08:00,,minor,,,
Q6,K4,2025-03-15T00:00:00+08:00,,minor,2025-03-15T01:00:00+08:00,true,
";

const AUDITS: &str = "
audit_id,person_id,audited_at,kind,score,items_passed,items_total,compliance_violation,handling_error
A1,P1,2025-03-01T00:00:00+08:00,qa,90,,,false,false
A2,P1,2025-03-02T00:00:00+08:00,inspection,80,8,10,true,true
A3,P1,2025-03-03T00:00:00+08:00,mystery_shopper,,3,5,,
A4,P3,2025-03-20T00:00:00+08:00,recording_sample,70.5,9,10,true,false
A5,P2,2025-02-28T23:59:59+08:00,inspection,100,10,10,,
A6,P2,2025-03-31T23:59:59+08:00,inspection,60,0,4,false,true
";

const TRAININGS: &str = "
record_id,person_id,kind,course,completed_at,passed,score,due_at
R1,P1,training,C-A,2025-03-05T10:00:00+08:00,,,
R2,P1,training,C-B,,,,2025-03-20
R3,P1,certification,Cert1,2025-03-10T10:00:00+08:00,true,,
R4,P1,certification,Cert2,2025-03-11T10:00:00+08:00,false,,
R5,P3,exam,E1,2025-03-12T10:00:00+08:00,,88.5,
R6,P3,exam,E2,2025-03-25T10:00:00+08:00,,91,
R7,P2,training,C-A,2025-04-02T10:00:00+08:00,,,2025-03-31
R8,P2,certification,Cert1,,,,
";

const SALES: &str = "
sale_id,person_id,customer_id,closed_at,amount,kind
X1,P1,C1,2025-03-01T00:00:00+08:00,1000.50,renewal
X2,P1,C2,2025-03-31T23:59:59+08:00,0.25,
X3,P3,C3,2025-03-16T00:00:00+08:00,300,
X4,P2,C4,2025-04-01T00:00:00+08:00,999,
";

const KNOWLEDGE: &str = "
contribution_id,person_id,adopted_at,kind,reuse_count
N1,P1,2025-03-01T00:00:00+08:00,solution,3
N2,P1,2025-03-02T00:00:00+08:00,,
N3,P3,2025-03-15T23:59:59+08:00,,
";

const RATINGS: &str = "
rating_id,ratee_id,rater_id,period,item,score,relation
G1,P1,L1,2025-03,attitude,4,manager
G2,P1,L1,2025-02,attitude,2,manager
G3,P1,P2,2025-03,teamwork,5,peer
G4,P1,P3,2025-03,teamwork,4,peer
G5,P3,L1,2025-03,attitude,3.5,manager
G6,P1,L1,2025-03,teamwork,3,manager
G7,P2,P1,2025-03,teamwork,4,peer
G8,P3,P1,2025-W10,attitude,5,manager
";

fn run_march(metric: &str) -> Vec<String> {
    run_for(metric, "2025-03")
}

fn run_for(metric: &str, period: &str) -> Vec<String> {
    let settings = Settings::default();
    let data = dataset(
        &[
            ("teams", TEAMS),
            ("people", PEOPLE),
            ("memberships", MEMBERSHIPS),
            ("tickets", TICKETS),
            ("visits", VISITS),
            ("surveys", SURVEYS),
            ("complaints", COMPLAINTS),
            ("audits", AUDITS),
            ("trainings", TRAININGS),
            ("sales", SALES),
            ("knowledge", KNOWLEDGE),
            ("ratings", RATINGS),
        ],
        &settings,
    );
    run(&data, &settings, &[metric], &[period])
}

#[test]
fn first_time_fix_rate() {
    // First, non-cancelled visits scheduled in March: V1 (fixed, P1) and V5 (fixed, P3 while
    // in A). V3 is a cancelled first visit; V2, V4, V8 are second visits. P2's only March
    // visit is V8: the row exists with an empty denominator.
    check(
        &run_march("first_time_fix_rate"),
        "
        2025-03,org,org,first_time_fix_rate,1,2,2
        2025-03,person,P1,first_time_fix_rate,1,1,1
        2025-03,person,P2,first_time_fix_rate,,0,0
        2025-03,person,P3,first_time_fix_rate,1,1,1
        2025-03,team,A,first_time_fix_rate,1,2,2
        2025-03,team,B,first_time_fix_rate,,0,0
        2025-03,team,R,first_time_fix_rate,1,2,2
        ",
    );
}

#[test]
fn on_time_arrival_rate() {
    // V1 arrives exactly 15 min late: on time; V2 15 min 1 s: late; V4, V8 never arrive: late;
    // V5 10 min: on time; V3 is cancelled and not counted.
    check(
        &run_march("on_time_arrival_rate"),
        "
        2025-03,org,org,on_time_arrival_rate,0.4,2,5
        2025-03,person,P1,on_time_arrival_rate,0.333333,1,3
        2025-03,person,P2,on_time_arrival_rate,0,0,1
        2025-03,person,P3,on_time_arrival_rate,1,1,1
        2025-03,team,A,on_time_arrival_rate,0.5,2,4
        2025-03,team,B,on_time_arrival_rate,0,0,1
        2025-03,team,R,on_time_arrival_rate,0.4,2,5
        ",
    );
}

#[test]
fn rework_30d_rate() {
    // Fixed visits finished in March: V1 → V2 scheduled exactly 30 days later: rework. V2: no
    // later visit. V5 (finished 03-16 00:30, P3 in B) → V6 exactly 30 days later: rework.
    // V7 → V8 30 days and 1 s later: not rework. V4 was not fixed.
    check(
        &run_march("rework_30d_rate"),
        "
        2025-03,org,org,rework_30d_rate,0.5,2,4
        2025-03,person,P1,rework_30d_rate,0.5,1,2
        2025-03,person,P2,rework_30d_rate,0,0,1
        2025-03,person,P3,rework_30d_rate,1,1,1
        2025-03,team,A,rework_30d_rate,0.5,1,2
        2025-03,team,B,rework_30d_rate,0.5,1,2
        2025-03,team,R,rework_30d_rate,0.5,2,4
        ",
    );
}

#[test]
fn parts_cost_per_visit() {
    // Finished in March with a cost: V1 100.50, V4 0 (P1: 50.25), V5 50 (P3 → B), V7 20 (P2).
    check(
        &run_march("parts_cost_per_visit"),
        "
        2025-03,org,org,parts_cost_per_visit,42.625,,
        2025-03,person,P1,parts_cost_per_visit,50.25,,
        2025-03,person,P2,parts_cost_per_visit,20,,
        2025-03,person,P3,parts_cost_per_visit,50,,
        2025-03,team,A,parts_cost_per_visit,50.25,,
        2025-03,team,B,parts_cost_per_visit,35,,
        2025-03,team,R,parts_cost_per_visit,42.625,,
        ",
    );
}

#[test]
fn csat_rate_mean_and_nps() {
    // March answers: S1 (P1 by default from K1) 5/10; S2 (K2: product defect) excluded;
    // S3 (P3 named explicitly, in A) 4/8; S4 (P2) 3/6; S5 (P2) no csat, nps 9; S6 (nobody)
    // 2/7; S8 (P1, 23:59:59 on the last day) csat 4. S7 is February.
    check(
        &run_march("csat_rate"),
        "
        2025-03,org,org,csat_rate,0.6,3,5
        2025-03,person,P1,csat_rate,1,2,2
        2025-03,person,P2,csat_rate,0,0,1
        2025-03,person,P3,csat_rate,1,1,1
        2025-03,team,A,csat_rate,1,3,3
        2025-03,team,B,csat_rate,0,0,1
        2025-03,team,R,csat_rate,0.75,3,4
        ",
    );
    check(
        &run_march("csat_mean"),
        "
        2025-03,org,org,csat_mean,3.6,,
        2025-03,person,P1,csat_mean,4.5,,
        2025-03,person,P2,csat_mean,3,,
        2025-03,person,P3,csat_mean,4,,
        2025-03,team,A,csat_mean,4.333333,,
        2025-03,team,B,csat_mean,3,,
        2025-03,team,R,csat_mean,4,,
        ",
    );
    // NPS numerator = promoters − detractors: P2 has S4 (6, detractor) and S5 (9, promoter).
    // R: promoters S1, S5; detractor S4; answers S1, S3, S4, S5 → 100 × 1 / 4.
    check(
        &run_march("nps"),
        "
        2025-03,org,org,nps,20,1,5
        2025-03,person,P1,nps,100,1,1
        2025-03,person,P2,nps,0,0,2
        2025-03,person,P3,nps,0,0,1
        2025-03,team,A,nps,50,1,2
        2025-03,team,B,nps,0,0,2
        2025-03,team,R,nps,25,1,4
        ",
    );
}

#[test]
fn complaint_metrics() {
    // complaint_rate: controllable complaints received in March (Q1, Q2 for P1 — Q3 is on a
    // product-defect ticket; Q5 for P2; Q6 for nobody) / tickets resolved in March (K1, K2
    // for P1; K4 for nobody). P2 resolved none: the row exists with an empty denominator.
    check(
        &run_march("complaint_rate"),
        "
        2025-03,org,org,complaint_rate,1.333333,4,3
        2025-03,person,P1,complaint_rate,1,2,2
        2025-03,person,P2,complaint_rate,,1,0
        2025-03,team,A,complaint_rate,1,2,2
        2025-03,team,B,complaint_rate,,1,0
        2025-03,team,R,complaint_rate,1.5,3,2
        ",
    );
    // Resolved in March: Q1 ✓, Q2 ✗, Q3 ✓ (P1); Q4 (received in February) empty = ✗ (P2);
    // Q6 ✓ (nobody).
    check(
        &run_march("complaint_satisfaction_rate"),
        "
        2025-03,org,org,complaint_satisfaction_rate,0.6,3,5
        2025-03,person,P1,complaint_satisfaction_rate,0.666667,2,3
        2025-03,person,P2,complaint_satisfaction_rate,0,0,1
        2025-03,team,A,complaint_satisfaction_rate,0.666667,2,3
        2025-03,team,B,complaint_satisfaction_rate,0,0,1
        2025-03,team,R,complaint_satisfaction_rate,0.5,2,4
        ",
    );
    // Received in March: Q1 closed in exactly 4 h ✓, Q2 4 h 1 s ✗, Q3 2.5 h ✓, Q5 never ✗,
    // Q6 1 h ✓.
    check(
        &run_march("complaint_4h_closure_rate"),
        "
        2025-03,org,org,complaint_4h_closure_rate,0.6,3,5
        2025-03,person,P1,complaint_4h_closure_rate,0.666667,2,3
        2025-03,person,P2,complaint_4h_closure_rate,0,0,1
        2025-03,team,A,complaint_4h_closure_rate,0.666667,2,3
        2025-03,team,B,complaint_4h_closure_rate,0,0,1
        2025-03,team,R,complaint_4h_closure_rate,0.5,2,4
        ",
    );
    // Major and resolved in March: Q1 4 h, Q3 2.5 h (P1), Q4 2 h (P2). The org row exists for
    // the minor Q6 too: (4 + 2.5 + 2) / 3.
    check(
        &run_march("major_complaint_closure_hours_mean"),
        "
        2025-03,org,org,major_complaint_closure_hours_mean,2.833333,,
        2025-03,person,P1,major_complaint_closure_hours_mean,3.25,,
        2025-03,person,P2,major_complaint_closure_hours_mean,2,,
        2025-03,team,A,major_complaint_closure_hours_mean,3.25,,
        2025-03,team,B,major_complaint_closure_hours_mean,2,,
        2025-03,team,R,major_complaint_closure_hours_mean,2.833333,,
        ",
    );
    check(
        &run_march("complaint_recovery_rate"),
        "
        2025-03,org,org,complaint_recovery_rate,0.4,2,5
        2025-03,person,P1,complaint_recovery_rate,0.666667,2,3
        2025-03,person,P2,complaint_recovery_rate,0,0,1
        2025-03,team,A,complaint_recovery_rate,0.666667,2,3
        2025-03,team,B,complaint_recovery_rate,0,0,1
        2025-03,team,R,complaint_recovery_rate,0.5,2,4
        ",
    );
    // Q2 follows Q1 on K1; Q5 follows Q4 (February) on K3.
    check(
        &run_march("repeat_complaint_rate"),
        "
        2025-03,org,org,repeat_complaint_rate,0.4,2,5
        2025-03,person,P1,repeat_complaint_rate,0.333333,1,3
        2025-03,person,P2,repeat_complaint_rate,1,1,1
        2025-03,team,A,repeat_complaint_rate,0.333333,1,3
        2025-03,team,B,repeat_complaint_rate,1,1,1
        2025-03,team,R,repeat_complaint_rate,0.5,2,4
        ",
    );
}

#[test]
fn audit_metrics() {
    // Scores: P1 90, 80 (A3 has none); P3 70.5 (in B on 03-20); P2 60 (A5 is February).
    check(
        &run_march("qa_score_mean"),
        "
        2025-03,org,org,qa_score_mean,75.125,,
        2025-03,person,P1,qa_score_mean,85,,
        2025-03,person,P2,qa_score_mean,60,,
        2025-03,person,P3,qa_score_mean,70.5,,
        2025-03,team,A,qa_score_mean,85,,
        2025-03,team,B,qa_score_mean,65.25,,
        2025-03,team,R,qa_score_mean,75.125,,
        ",
    );
    // Inspections and mystery shoppers only: P1 (8 + 3) / (10 + 5); P2 0 / 4; P3's recording
    // sample is not one: empty denominator.
    check(
        &run_march("service_standard_rate"),
        "
        2025-03,org,org,service_standard_rate,0.578947,11,19
        2025-03,person,P1,service_standard_rate,0.733333,11,15
        2025-03,person,P2,service_standard_rate,0,0,4
        2025-03,person,P3,service_standard_rate,,0,0
        2025-03,team,A,service_standard_rate,0.733333,11,15
        2025-03,team,B,service_standard_rate,0,0,4
        2025-03,team,R,service_standard_rate,0.578947,11,19
        ",
    );
    check(
        &run_march("compliance_violations"),
        "
        2025-03,org,org,compliance_violations,2,,
        2025-03,person,P1,compliance_violations,1,,
        2025-03,person,P2,compliance_violations,0,,
        2025-03,person,P3,compliance_violations,1,,
        2025-03,team,A,compliance_violations,1,,
        2025-03,team,B,compliance_violations,1,,
        2025-03,team,R,compliance_violations,2,,
        ",
    );
    check(
        &run_march("handling_error_rate"),
        "
        2025-03,org,org,handling_error_rate,0.4,2,5
        2025-03,person,P1,handling_error_rate,0.333333,1,3
        2025-03,person,P2,handling_error_rate,1,1,1
        2025-03,person,P3,handling_error_rate,0,0,1
        2025-03,team,A,handling_error_rate,0.333333,1,3
        2025-03,team,B,handling_error_rate,0.5,1,2
        2025-03,team,R,handling_error_rate,0.4,2,5
        ",
    );
}

#[test]
fn training_metrics() {
    // Completion counts a training in the period of its due date when it has one: R2 (due
    // 03-20, never completed) and R7 (due 03-31, completed in April) are March trainings.
    // P3 has only exams in March: rows with empty denominators.
    check(
        &run_march("training_completion_rate"),
        "
        2025-03,org,org,training_completion_rate,0.666667,2,3
        2025-03,person,P1,training_completion_rate,0.5,1,2
        2025-03,person,P2,training_completion_rate,1,1,1
        2025-03,person,P3,training_completion_rate,,0,0
        2025-03,team,A,training_completion_rate,0.5,1,2
        2025-03,team,B,training_completion_rate,1,1,1
        2025-03,team,R,training_completion_rate,0.666667,2,3
        ",
    );
    check(
        &run_march("certification_pass_rate"),
        "
        2025-03,org,org,certification_pass_rate,0.5,1,2
        2025-03,person,P1,certification_pass_rate,0.5,1,2
        2025-03,person,P3,certification_pass_rate,,0,0
        2025-03,team,A,certification_pass_rate,0.5,1,2
        2025-03,team,B,certification_pass_rate,,0,0
        2025-03,team,R,certification_pass_rate,0.5,1,2
        ",
    );
    check(
        &run_march("exam_score_mean"),
        "
        2025-03,org,org,exam_score_mean,89.75,,
        2025-03,person,P1,exam_score_mean,,,
        2025-03,person,P3,exam_score_mean,89.75,,
        2025-03,team,A,exam_score_mean,88.5,,
        2025-03,team,B,exam_score_mean,91,,
        2025-03,team,R,exam_score_mean,89.75,,
        ",
    );
}

#[test]
fn sales_and_knowledge() {
    check(
        &run_march("secondary_sales_amount"),
        "
        2025-03,org,org,secondary_sales_amount,1300.75,,
        2025-03,person,P1,secondary_sales_amount,1000.75,,
        2025-03,person,P3,secondary_sales_amount,300,,
        2025-03,team,A,secondary_sales_amount,1000.75,,
        2025-03,team,B,secondary_sales_amount,300,,
        2025-03,team,R,secondary_sales_amount,1300.75,,
        ",
    );
    check(
        &run_march("knowledge_adopted"),
        "
        2025-03,org,org,knowledge_adopted,3,,
        2025-03,person,P1,knowledge_adopted,2,,
        2025-03,person,P3,knowledge_adopted,1,,
        2025-03,team,A,knowledge_adopted,3,,
        2025-03,team,R,knowledge_adopted,3,,
        ",
    );
}

#[test]
fn rating_means_and_the_360_rule() {
    // attitude: P1 4 (G2 is February); P3 3.5 and 5 (G8's week 10 lies inside March), both
    // credited to A (P3's team at the start of the rated period).
    check(
        &run_march("rating_mean:attitude"),
        "
        2025-03,org,org,rating_mean:attitude,4.166667,,
        2025-03,person,P1,rating_mean:attitude,4,,
        2025-03,person,P3,rating_mean:attitude,4.25,,
        2025-03,team,A,rating_mean:attitude,4.166667,,
        2025-03,team,R,rating_mean:attitude,4.166667,,
        ",
    );
    // teamwork has peer answers: 360° rule. P1 has 3 raters (P2, P3, L1): mean 4. P2 has one
    // peer rater: empty. R: 4 raters: (5 + 4 + 3 + 4) / 4.
    check(
        &run_march("rating_mean:teamwork"),
        "
        2025-03,org,org,rating_mean:teamwork,4,,
        2025-03,person,P1,rating_mean:teamwork,4,,
        2025-03,person,P2,rating_mean:teamwork,,,
        2025-03,team,A,rating_mean:teamwork,4,,
        2025-03,team,B,rating_mean:teamwork,,,
        2025-03,team,R,rating_mean:teamwork,4,,
        ",
    );
    check(
        &run_for("rating_mean:attitude", "2025-Q1"),
        "
        2025-Q1,org,org,rating_mean:attitude,3.625,,
        2025-Q1,person,P1,rating_mean:attitude,3,,
        2025-Q1,person,P3,rating_mean:attitude,4.25,,
        2025-Q1,team,A,rating_mean:attitude,3.625,,
        2025-Q1,team,R,rating_mean:attitude,3.625,,
        ",
    );
}

#[test]
fn team_attrition_rate() {
    // P2 left on 03-20 (credited to B, the team left). Headcount at 03-01 00:00: L1, P1, P3
    // in A; P2 in B. L1 leads A and R: their person row has R's value.
    check(
        &run_march("team_attrition_rate"),
        "
        2025-03,org,org,team_attrition_rate,0.25,1,4
        2025-03,person,L1,team_attrition_rate,0.25,1,4
        2025-03,team,A,team_attrition_rate,0,0,3
        2025-03,team,B,team_attrition_rate,1,1,1
        2025-03,team,R,team_attrition_rate,0.25,1,4
        ",
    );
}
