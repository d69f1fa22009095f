//! Cells: the (person, team) pairs records are credited to. A record goes into the cell of
//! its attributed person and the team that person belonged to at the credit instant; a
//! person's value adds up their cells, a team's the cells of every team in its subtree, the
//! organisation's every cell (including the cell of records attributed to nobody).

use crate::data::{NULL, Org};
use crate::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Org,
    Team(u32),
    Person(u32),
}

impl Subject {
    pub fn kind(self) -> &'static str {
        match self {
            Subject::Org => "org",
            Subject::Team(_) => "team",
            Subject::Person(_) => "person",
        }
    }

    /// The subject's place in the list organisation, teams, people (`n_teams` teams), for
    /// arrays with a slot per subject.
    pub fn index(self, n_teams: usize) -> usize {
        match self {
            Subject::Org => 0,
            Subject::Team(t) => 1 + t as usize,
            Subject::Person(p) => 1 + n_teams + p as usize,
        }
    }
}

/// `Cells::only_cell` of a person with several cells.
const MOVED: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct Cells {
    pub person: Vec<Option<u32>>,
    pub team: Vec<Option<u32>>,
    /// Per person: `(from, cell)` steps, flattened; `step_offsets[p]..step_offsets[p + 1]`.
    steps: Vec<(Instant, u32)>,
    step_offsets: Vec<u32>,
    /// Per person: their only cell, or `MOVED` when they have several (then `steps`
    /// decide). A small array that stays in cache: most records need nothing else.
    only_cell: Vec<u32>,
    /// The cell of records attributed to nobody.
    pub nobody: u32,
    /// Cells of each team's subtree, of each person, and of the teams each person leads.
    pub team_cells: Vec<Vec<u32>>,
    pub person_cells: Vec<Vec<u32>>,
    pub lead_cells: Vec<Vec<u32>>,
}

impl Cells {
    pub fn build(org: &Org) -> Cells {
        let mut person = Vec::new();
        let mut team = Vec::new();
        let mut steps = Vec::new();
        let mut step_offsets = vec![0u32];
        let mut person_cells = Vec::new();
        for (p, memberships) in org.memberships.iter().enumerate() {
            let mut mine: Vec<(Option<u32>, u32)> = Vec::new();
            for m in memberships {
                let cell = match mine.iter().find(|(t, _)| *t == m.team) {
                    Some(&(_, c)) => c,
                    None => {
                        let c = person.len() as u32;
                        person.push(Some(p as u32));
                        team.push(m.team);
                        mine.push((m.team, c));
                        c
                    }
                };
                steps.push((m.from, cell));
            }
            step_offsets.push(steps.len() as u32);
            person_cells.push(mine.iter().map(|&(_, c)| c).collect());
        }
        let only_cell = person_cells.iter().map(|c: &Vec<u32>| if c.len() == 1 { c[0] } else { MOVED }).collect();
        let nobody = person.len() as u32;
        person.push(None);
        team.push(None);
        let mut team_cells = vec![Vec::new(); org.n_teams()];
        for (c, t) in team.iter().enumerate() {
            if let Some(t) = t {
                for &ancestor in &org.ancestors[*t as usize] {
                    team_cells[ancestor as usize].push(c as u32);
                }
            }
        }
        let mut lead_cells = vec![Vec::new(); org.memberships.len()];
        for (t, lead) in org.lead.iter().enumerate() {
            if let Some(p) = lead {
                lead_cells[*p as usize].extend_from_slice(&team_cells[t]);
            }
        }
        for cells in &mut lead_cells {
            cells.sort_unstable();
            cells.dedup();
        }
        Cells { person, team, steps, step_offsets, only_cell, nobody, team_cells, person_cells, lead_cells }
    }

    pub fn len(&self) -> usize {
        self.person.len()
    }

    pub fn is_empty(&self) -> bool {
        self.person.is_empty()
    }

    /// The cell of a record attributed to `person` (NULL for nobody), credited at `t`.
    #[inline(always)]
    pub fn cell_of(&self, person: i64, t: Instant) -> u32 {
        if person == NULL || person < 0 || person as usize >= self.only_cell.len() {
            return self.nobody;
        }
        let p = person as usize;
        let only = self.only_cell[p];
        if only != MOVED {
            return only;
        }
        let steps = &self.steps[self.step_offsets[p] as usize..self.step_offsets[p + 1] as usize];
        if steps.len() == 1 {
            return steps[0].1;
        }
        let i = steps.partition_point(|&(from, _)| from <= t);
        steps[i.max(1) - 1].1
    }

    /// The cell of every record attributed to `person`, whatever its instant: `None` for
    /// a person with several cells (moved between teams).
    #[inline]
    pub fn fixed_cell(&self, person: i64) -> Option<u32> {
        if person == NULL || person < 0 || person as usize >= self.only_cell.len() {
            return Some(self.nobody);
        }
        let only = self.only_cell[person as usize];
        (only != MOVED).then_some(only)
    }

    /// The cells a subject adds up.
    pub fn of(&self, subject: Subject, team_lead: bool) -> Vec<u32> {
        match subject {
            Subject::Org => (0..self.len() as u32).collect(),
            Subject::Team(t) => self.team_cells[t as usize].clone(),
            Subject::Person(p) if team_lead => self.lead_cells[p as usize].clone(),
            Subject::Person(p) => self.person_cells[p as usize].clone(),
        }
    }
}
