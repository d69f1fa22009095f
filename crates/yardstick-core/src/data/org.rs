//! The organisation structure: the team tree, team leads, and which team each person
//! belongs to at any instant (membership history, or `people.team_id` at all times).

use super::Dataset;
use super::column::NULL;
use crate::diag::Diagnostic;
use crate::schema::Source;
use crate::time::Instant;

/// A team's row index in the teams table.
pub type TeamIx = u32;

/// A person's team from an instant on (until the next entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub from: Instant,
    pub team: Option<TeamIx>,
}

#[derive(Clone, Debug, Default)]
pub struct Org {
    /// Parent team of each team (None for a root).
    pub parent: Vec<Option<TeamIx>>,
    /// Each team followed by its ancestors up to the root.
    pub ancestors: Vec<Vec<TeamIx>>,
    /// Person row of each team's lead.
    pub lead: Vec<Option<u32>>,
    /// Per person: membership steps sorted by `from`; the first starts at `i64::MIN`.
    pub memberships: Vec<Vec<Membership>>,
}

impl Org {
    /// Derives the structure. Problems (a parent cycle, an unknown lead, overlapping
    /// memberships) come back as diagnostics; the structure is still usable.
    pub fn build(data: &Dataset) -> (Org, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let teams = data.table(Source::Teams);
        let people = data.table(Source::People);
        let n_teams = teams.len();
        let parent_field = teams.def().field_index("parent_team_id").expect("schema");
        let mut parent: Vec<Option<TeamIx>> = (0..n_teams)
            .map(|t| {
                let id = teams.text(parent_field, t)?;
                let found = teams.find(&id).map(|p| p as TeamIx);
                if found.is_none() {
                    diags.push(
                        Diagnostic::error(
                            "teams.csv",
                            0,
                            0,
                            format!("parent_team_id {id} of team {} is not in teams.csv", teams.key_text(t)),
                        )
                        .code("org.invalid")
                        .field("parent_team_id")
                        .fix("add the parent team or leave parent_team_id empty for a root team"),
                    );
                }
                found
            })
            .collect();
        // Break cycles: a team that reaches itself through its parents becomes a root.
        for t in 0..n_teams {
            let mut seen = 0;
            let mut at = parent[t];
            while let Some(p) = at {
                seen += 1;
                if p as usize == t || seen > n_teams {
                    diags.push(
                        Diagnostic::error(
                            "teams.csv",
                            0,
                            0,
                            format!("team {} is its own ancestor through parent_team_id", teams.key_text(t)),
                        )
                        .code("org.invalid")
                        .fix("make the team tree a tree: one team must have no parent"),
                    );
                    parent[t] = None;
                    break;
                }
                at = parent[p as usize];
            }
        }
        let ancestors = (0..n_teams)
            .map(|t| {
                let mut chain = vec![t as TeamIx];
                let mut at = parent[t];
                while let Some(p) = at {
                    chain.push(p);
                    at = parent[p as usize];
                }
                chain
            })
            .collect();
        let lead_field = teams.def().field_index("lead_id").expect("schema");
        let lead = (0..n_teams)
            .map(|t| {
                let id = teams.text(lead_field, t)?;
                let found = people.find(&id).map(|p| p as u32);
                if found.is_none() {
                    diags.push(
                        Diagnostic::warning(
                            "teams.csv",
                            0,
                            0,
                            format!("lead_id {id} of team {} is not in people.csv", teams.key_text(t)),
                        )
                        .code("org.odd")
                        .field("lead_id")
                        .fix("add the person to people.csv or correct the id"),
                    );
                }
                found
            })
            .collect();
        let memberships = person_memberships(data);
        (Org { parent, ancestors, lead, memberships }, diags)
    }

    pub fn n_teams(&self) -> usize {
        self.parent.len()
    }

    /// The team a person belongs to at `t`.
    #[inline]
    pub fn team_at(&self, person: usize, t: Instant) -> Option<TeamIx> {
        let steps = &self.memberships[person];
        if steps.len() == 1 {
            return steps[0].team;
        }
        let i = steps.partition_point(|m| m.from <= t);
        steps[i.max(1) - 1].team
    }
}

fn person_memberships(data: &Dataset) -> Vec<Vec<Membership>> {
    let people = data.table(Source::People);
    let team_field = people.def().field_index("team_id").expect("schema");
    let rows = data.table(Source::Memberships);
    let def = rows.def();
    let (pf, tf, ff, uf) = (
        def.field_index("person_id").expect("schema"),
        def.field_index("team_id").expect("schema"),
        def.field_index("from").expect("schema"),
        def.field_index("to").expect("schema"),
    );
    let mut by_person: Vec<Vec<(Instant, Instant, TeamIx)>> = vec![Vec::new(); people.len()];
    for r in 0..rows.len() {
        let (person, to) = (rows.int(pf, r), rows.int(uf, r));
        // A deleted membership keeps its row with every field empty.
        if person == NULL || rows.int(tf, r) == NULL {
            continue;
        }
        by_person[person as usize].push((
            rows.int(ff, r),
            if to == NULL { i64::MAX } else { to },
            rows.int(tf, r) as TeamIx,
        ));
    }
    by_person
        .into_iter()
        .enumerate()
        .map(|(person, mut spans)| {
            if spans.is_empty() {
                let team = match people.int(team_field, person) {
                    NULL => None,
                    t => Some(t as TeamIx),
                };
                return vec![Membership { from: i64::MIN, team }];
            }
            spans.sort_unstable();
            let mut steps = vec![Membership { from: i64::MIN, team: None }];
            for (from, to, team) in spans {
                // Overlaps are rejected at import; if one slips through, the later span wins.
                steps.retain(|m| m.from < from);
                steps.push(Membership { from, team: Some(team) });
                if to != i64::MAX {
                    steps.push(Membership { from: to, team: None });
                }
            }
            steps
        })
        .collect()
}
