//! Scorecard tests: every scoring method, policy, veto, grade scheme, rank and bonus rule against values worked out by hand.
