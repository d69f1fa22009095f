//! Across a period's cards: grades (bands, forced distribution per calibration group,
//! veto caps), competition ranks per team, role and organisation, and bonuses (base with
//! rules, or pools split by total to the cent).

use std::collections::HashMap;

use super::template::*;
use super::{BonusResult, Rank, Scorecard, TemplateSet, bonus, card, grade, method};
use crate::engine::Rational;

/// Which group of `g` a person card belongs to (its team at period end, its role, or the
/// one organisation).
fn group_key(c: &Scorecard, role: Option<&str>, g: Group) -> String {
    match g {
        Group::Team => c.team.map_or("-".to_string(), |t| t.to_string()),
        Group::Role => role.unwrap_or("").to_string(),
        Group::Org => String::new(),
    }
}

/// Grades (bands or forced distribution, then veto caps) and competition ranks.
pub(super) fn grade_and_rank(
    cards: &mut [Scorecard],
    set: &TemplateSet,
    roles: &[Option<&str>],
    ids: &[String],
    teams: bool,
) {
    // Team scorecards are compared among the team cards of their template only.
    let group_key = |c: &Scorecard, i: usize, g: Group| if teams { String::new() } else { group_key(c, roles[i], g) };
    // Grades.
    let mut forced_groups: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (i, c) in cards.iter_mut().enumerate() {
        let Some(total) = c.total else { continue };
        match &set.templates[c.template].grades.scheme {
            GradeScheme::Bands(bands) => c.grade = Some(grade::band(bands, total)),
            GradeScheme::Forced { group, .. } => {
                let key = group_key(c, i, *group);
                forced_groups.entry((c.template, key)).or_default().push(i);
            }
        }
    }
    let mut groups: Vec<_> = forced_groups.into_iter().collect();
    groups.sort();
    for ((t, _), members) in groups {
        let GradeScheme::Forced { quotas, tie_break, .. } = &set.templates[t].grades.scheme else { continue };
        let candidates: Vec<grade::Candidate> = members
            .iter()
            .map(|&i| grade::Candidate {
                total: cards[i].total.expect("graded cards have totals"),
                tie_break: tie_break
                    .as_ref()
                    .and_then(|m| cards[i].items.iter().find(|it| &it.metric == m))
                    .and_then(|it| it.score),
                id: &ids[i],
            })
            .collect();
        let grades = grade::forced(&candidates, quotas);
        let order = grade::forced_order(&candidates);
        for (k, &i) in members.iter().enumerate() {
            cards[i].grade = Some(grades[k].clone());
            let place = order.iter().position(|&o| o == k).unwrap_or(0);
            cards[i].forced_place = Some((place + 1, members.len()));
        }
    }
    for c in cards.iter_mut() {
        let template = &set.templates[c.template];
        let (_, caps) = card::veto_effects(&c.items, template);
        if let Some(g) = c.grade.clone() {
            let order = template.grades.order();
            let capped = caps.iter().fold(g.clone(), |g, cap| grade::capped(&g, cap, &order));
            if capped != g {
                c.grade_before_cap = Some(g);
                c.grade = Some(capped);
            }
        }
    }
    // Ranks.
    for group in [Group::Team, Group::Role, Group::Org] {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in cards.iter().enumerate() {
            if c.total.is_some() {
                let key = if teams { c.template.to_string() } else { group_key(c, i, group) };
                by_key.entry(key).or_default().push(i);
            }
        }
        for members in by_key.values() {
            let totals: Vec<Rational> = members.iter().map(|&i| cards[i].total.expect("ranked")).collect();
            let ranks = grade::competition_ranks(&totals);
            for (&i, rank) in members.iter().zip(ranks) {
                let wanted =
                    if teams { group == Group::Org } else { set.templates[cards[i].template].ranking.contains(&group) };
                if wanted {
                    cards[i].ranks.push(Rank { group, rank, of: members.len() as u32 });
                }
            }
        }
    }
}

/// Bonuses of person scorecards.
pub(super) fn pay(cards: &mut [Scorecard], set: &TemplateSet, roles: &[Option<&str>], ids: &[String]) {
    let mut pools: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (i, c) in cards.iter_mut().enumerate() {
        let template = &set.templates[c.template];
        let Some(bonus) = &template.bonus else { continue };
        match &bonus.base {
            BonusBase::Base(base) => {
                let Some(grade) = &c.grade else { continue };
                let Some(coefficient) = template.grades.coefficient(grade) else { continue };
                let mut lines = Vec::new();
                let mut percent = Rational::int(0);
                for rule in &bonus.rules {
                    let Some(item) = c.items.iter().find(|it| it.metric == rule.metric) else { continue };
                    let direction = template.item(&rule.metric).map_or(Direction::HigherIsBetter, |it| it.direction);
                    if let (Some(v), Some(t)) = (item.used.filter(|_| item.score.is_some()), item.target) {
                        let (p, text) = bonus::rule_percent(rule, direction, v, t);
                        percent = method::add(percent, p);
                        lines.push(text);
                    }
                }
                let (amount, text) = bonus::base_bonus(*base, coefficient, percent);
                lines.push(format!("grade {grade}: {text}"));
                c.bonus = Some(BonusResult { amount, arithmetic: lines });
            }
            BonusBase::Pool { group, .. } => {
                if c.total.is_none() {
                    continue;
                }
                pools.entry((c.template, group_key(c, roles[i], *group))).or_default().push(i);
            }
        }
    }
    for ((t, _), members) in pools {
        let Some(Bonus { base: BonusBase::Pool { amount, .. }, .. }) = &set.templates[t].bonus else { continue };
        let totals: Vec<Rational> = members.iter().map(|&i| cards[i].total.expect("pooled")).collect();
        let member_ids: Vec<&str> = members.iter().map(|&i| ids[i].as_str()).collect();
        let shares = bonus::split_pool(*amount, &totals, &member_ids);
        let sum = totals.iter().fold(Rational::int(0), |a, t| method::add(a, *t));
        for ((&i, share), total) in members.iter().zip(shares).zip(&totals) {
            let text = format!(
                "pool {} × {} / {} (Σ totals of {} people) = {}",
                amount.format6(),
                total.format_places(2),
                sum.format_places(2),
                members.len(),
                share.format_places(2)
            );
            cards[i].bonus = Some(BonusResult { amount: share, arithmetic: vec![text] });
        }
    }
}
