//! The machines of a timeline: the one after the last step, which holds
//! every step's record, and copies of the machine at some earlier steps, so
//! that stepping back costs a copy or a short replay, not a replay from boot.
//!
//! Machines are never changed once made ([`SharedLab`] hands out `&Lab`
//! only): running an operation copies the machine it starts from (a
//! [`Lab`] is `Clone`, about a megabyte for xv6-public) and keeps the
//! original as the copy of its step. A state made earlier therefore still
//! shows what it showed, which is what makes the page's reducer pure.
//!
//! At most [`CACHE`] earlier machines are kept; the one farthest from the
//! step shown is forgotten first. A step with no copy is rebuilt from the
//! nearest copy before it, replaying only the operations in between.

use std::collections::BTreeMap;

use pagelab_core::lab::{Budget, Lab, Op, ReplayError, Scenario, Step};
use pagelab_core::port::Reject;

use crate::same::Same;

/// The most earlier machines kept (each about 1 MB on xv6-public).
pub const CACHE: usize = 16;

/// A machine shared by the state and the views, compared by identity. It
/// never changes: a new step is a new machine.
pub type SharedLab = Same<Lab>;

/// The machines of one timeline (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Machines {
    /// The machine after every operation.
    full: SharedLab,
    /// Machines of earlier steps (0 = just booted), by step.
    cache: BTreeMap<usize, SharedLab>,
}

impl Machines {
    /// The timeline of `lab`, with no earlier machines kept yet.
    #[must_use]
    pub fn from_lab(lab: Lab) -> Machines {
        Machines { full: SharedLab::new(lab), cache: BTreeMap::new() }
    }

    /// Boot `sc`'s machine and run its operations, keeping a copy of the
    /// machine every few steps (at most [`CACHE`] copies, spread evenly),
    /// so that any step is at most a few operations from a copy. All at
    /// once: [`Replay`] does the same in slices.
    ///
    /// # Errors
    /// The first operation refused, with its index (as [`Lab::from_scenario`]).
    pub fn replay(sc: &Scenario) -> Result<Machines, ReplayError> {
        Replay::new(sc.clone()).finish()
    }

    /// The machine after every operation (it holds every step's record).
    #[must_use]
    pub fn full(&self) -> &SharedLab {
        &self.full
    }

    /// Number of operations in the timeline.
    #[must_use]
    pub fn len(&self) -> usize {
        self.full.steps().len()
    }

    /// True when the timeline has no operations.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The steps whose machines are kept, lowest first.
    #[must_use]
    pub fn cached(&self) -> Vec<usize> {
        self.cache.keys().copied().collect()
    }

    /// The machine at step `k` (0: just booted), or `None` past the last
    /// step. A step with no copy is rebuilt from the nearest copy before it
    /// and kept (forgetting the copy farthest from `k` if there are too many).
    pub fn at(&mut self, k: usize) -> Option<SharedLab> {
        let n = self.len();
        if k > n {
            return None;
        }
        if k == n {
            return Some(self.full.clone());
        }
        if let Some(l) = self.cache.get(&k) {
            return Some(l.clone());
        }
        let lab = SharedLab::new(self.rebuild(k));
        self.keep(k, lab.clone(), k);
        Some(lab)
    }

    /// The machine at step `k`, replayed from the nearest copy before it.
    fn rebuild(&self, k: usize) -> Lab {
        let ops = &self.full.scenario().ops;
        if let Some((&j, base)) = self.cache.range(..k).next_back() {
            let mut lab: Lab = (**base).clone();
            // These operations all ran before, and replay is deterministic.
            if ops[j..k].iter().all(|op| lab.apply(op.clone()).is_ok()) {
                return lab;
            }
        }
        self.full.prefix(k)
    }

    /// Keep `lab` as step `k`'s machine, then forget the copies farthest
    /// from step `near` until at most [`CACHE`] are left.
    fn keep(&mut self, k: usize, lab: SharedLab, near: usize) {
        self.cache.insert(k, lab);
        while self.cache.len() > CACHE {
            let Some(&far) = self.cache.keys().max_by_key(|&&i| (i.abs_diff(near), i)) else { break };
            self.cache.remove(&far);
        }
    }

    /// Run `op` on `base`, the machine at step `k`: the timeline of the
    /// result ends with it (steps after `k` are dropped). `self` does not
    /// change; `base` is kept as step `k`'s copy in the result.
    ///
    /// # Errors
    /// The [`Reject`] if the lab will not run `op` (nothing changes then).
    pub fn run(&self, k: usize, base: &SharedLab, op: Op) -> Result<(Machines, Step), Reject> {
        let mut lab: Lab = (**base).clone();
        // The comments of the steps kept (a kept copy of an earlier step has none).
        lab.set_comments(self.full.scenario().comments.truncated(k));
        // The questions of the steps kept; those before the dropped operation k go with it.
        lab.set_asks(self.full.scenario().asks.range(..k).map(|(i, a)| (*i, a.clone())).collect());
        let step = lab.apply(op)?.clone();
        let mut next = Machines { full: SharedLab::new(lab), cache: self.cache.clone() };
        next.cache.retain(|&i, _| i < k);
        let end = next.len();
        next.keep(k, base.clone(), end);
        Ok((next, step))
    }
}

/// A replay in slices: boot first, then a few operations at a time, so that
/// a page can draw its progress between slices (a long link never freezes
/// the tab). Within [`Budget::page`], as [`Machines::replay`].
#[derive(Debug)]
pub struct Replay {
    sc: Scenario,
    lab: Option<Lab>,
    next: usize,
    budget: Budget,
    cache: BTreeMap<usize, SharedLab>,
}

impl Replay {
    /// A replay of `sc`, not started: the first [`Replay::advance`] boots the machine.
    #[must_use]
    pub fn new(sc: Scenario) -> Replay {
        Replay { sc, lab: None, next: 0, budget: Budget::page(), cache: BTreeMap::new() }
    }

    /// True once the machine has booted.
    #[must_use]
    pub fn booted(&self) -> bool {
        self.lab.is_some()
    }

    /// Operations run so far.
    #[must_use]
    pub fn done(&self) -> usize {
        self.next
    }

    /// Operations in all.
    #[must_use]
    pub fn total(&self) -> usize {
        self.sc.ops.len()
    }

    /// Frames allocated plus freed so far, against [`Budget::page`]'s limit.
    #[must_use]
    pub fn work(&self) -> Budget {
        self.budget
    }

    /// Boot the machine if it has not booted (that is a slice of its own),
    /// else run up to `ops` more operations. True while there is more to do.
    ///
    /// # Errors
    /// The machine did not boot, or an operation was refused (with its index).
    pub fn advance(&mut self, ops: usize) -> Result<bool, ReplayError> {
        let Some(lab) = self.lab.as_mut() else {
            let lab =
                Lab::with_layout(self.sc.preset, self.sc.layout.clone(), self.sc.shm).map_err(ReplayError::boot)?;
            self.lab = Some(lab);
            return Ok(self.next < self.total());
        };
        let n = self.sc.ops.len();
        let every = n.div_ceil(CACHE).max(1);
        let end = self.next.saturating_add(ops).min(n);
        while self.next < end {
            let index = self.next;
            if index.is_multiple_of(every) {
                self.cache.insert(index, SharedLab::new(lab.clone()));
            }
            // The last step is the one a link shows unless it names another: all its events are kept.
            lab.apply_within(self.sc.ops[index].clone(), &mut self.budget, index + 1 == n)
                .map_err(|reject| ReplayError::op(index, reject))?;
            self.next += 1;
        }
        Ok(self.next < n)
    }

    /// The machines, once every operation has run.
    ///
    /// # Errors
    /// As [`Replay::advance`], for the work not done yet (it is done now).
    pub fn finish(mut self) -> Result<Machines, ReplayError> {
        while self.advance(usize::MAX)? {}
        let mut lab = self.lab.take().expect("advance boots the machine");
        lab.set_comments(self.sc.comments.clone());
        lab.set_asks(self.sc.asks.clone());
        Ok(Machines { full: SharedLab::new(lab), cache: self.cache })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pagelab_core::lab::scenario;
    use pagelab_core::lab::view::frames;

    fn shm_test() -> Scenario {
        scenario::parse(scenario::builtin("shm-test").unwrap_or("")).unwrap()
    }

    /// Frames with their states, and (pid, size) of each live process.
    type Look = (Vec<(u64, pagelab_core::lab::view::FrameState)>, Vec<(u32, u64)>);

    /// What a learner sees of a machine: its frames and processes.
    fn look(l: &Lab) -> Look {
        (frames(l.kernel()), l.kernel().procs().live().map(|p| (p.pid, p.sz)).collect())
    }

    #[test]
    fn replay_keeps_copies_spread_over_the_timeline() {
        let sc = shm_test();
        // The shared-memory test: 5 operations to reach pid 3, 3 to open, store
        // and print, 10 forks, 6 per child, then 10 waits, a read and a close.
        assert_eq!(sc.ops.len(), 90);
        let m = Machines::replay(&sc).unwrap();
        assert_eq!(m.len(), 90);
        // 90 steps in at most 16 copies: one every ceil(90 / 16) = 6 steps.
        assert_eq!(m.cached(), (0..90).step_by(6).collect::<Vec<_>>());
        // The last machine keeps the scenario's comments.
        assert_eq!(m.full().scenario().comments, sc.comments);
    }

    #[test]
    fn a_rebuilt_step_is_the_same_machine_as_a_replay_from_boot() {
        let sc = shm_test();
        let mut m = Machines::replay(&sc).unwrap();
        let full = m.full().clone();
        for k in [0, 1, 4, 5, 6, 7, 12, 13, 42, 89, 90] {
            let lab = m.at(k).unwrap();
            assert_eq!(lab.steps().len(), k);
            assert_eq!(look(&lab), look(&full.prefix(k)), "step {k}");
        }
        assert!(m.cached().len() <= CACHE);
        assert!(m.at(91).is_none());
    }

    #[test]
    fn running_an_operation_leaves_the_old_timeline_as_it_was() {
        let sc = scenario::parse("preset xv6-public-tiny\nuserinit\nfork 1\n").unwrap();
        let m = Machines::replay(&sc).unwrap();
        let before = look(m.full());
        let base = m.full().clone();
        let (next, step) = m.run(2, &base, Op::Fork { pid: 1 }).unwrap();
        assert_eq!(step.result.value, 3, "the third process is pid 3");
        assert_eq!((m.len(), next.len()), (2, 3));
        // The old machine is untouched, and it is the new timeline's copy of step 2.
        assert_eq!(look(m.full()), before);
        assert!(next.cached().contains(&2));
        assert_eq!(look(&next.clone().at(2).unwrap()), before);
        // A refused operation changes nothing.
        assert!(m.run(2, &base, Op::Fork { pid: 9 }).is_err());
        assert_eq!(look(m.full()), before);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_cap() {
        let mut sc = scenario::parse("preset xv6-public-tiny\nuserinit\n").unwrap();
        for _ in 0..40 {
            sc.ops.push(Op::Sbrk { pid: 1, n: 4096 });
        }
        let mut m = Machines::from_lab(Lab::from_scenario(&sc).unwrap());
        for k in (0..=41).rev() {
            let lab = m.at(k).unwrap();
            // pid 1 (initcode, one page) grows a page per sbrk after userinit.
            if k >= 1 {
                assert_eq!(lab.kernel().procs().get(1).map(|p| p.sz), Some(4096 * k as u64));
            }
            assert!(m.cached().len() <= CACHE, "{:?}", m.cached());
        }
        // Walking back from the end keeps the steps nearest the one shown (0).
        assert_eq!(m.cached(), (0..16).collect::<Vec<_>>());
        // Running at the end keeps the last steps.
        let mut m = Machines::from_lab(Lab::from_scenario(&sc).unwrap());
        for i in 0..20 {
            let base = m.full().clone();
            m = m.run(41 + i, &base, Op::Sbrk { pid: 1, n: 0 }).unwrap().0;
        }
        assert_eq!(m.cached(), (45..61).collect::<Vec<_>>());
    }
}
