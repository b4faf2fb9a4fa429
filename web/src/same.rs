//! [`Same`]: a value shared between the state and the views and compared by
//! identity, not by contents, so that a view skips its work when it is handed
//! the very value it drew last (a machine, a prepared widget).

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

/// A shared value, compared by identity. It never changes once made: a new
/// value is a new `Same`.
pub struct Same<T>(pub Rc<T>);

impl<T> Same<T> {
    /// Share `v`.
    #[must_use]
    pub fn new(v: T) -> Same<T> {
        Same(Rc::new(v))
    }
}

impl<T> Clone for Same<T> {
    fn clone(&self) -> Self {
        Same(self.0.clone())
    }
}

impl<T> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Same<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Same<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Same({:?})", self.0)
    }
}
