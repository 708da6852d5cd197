//! What a view of an optimization may claim, decided once from the run: the evidence its
//! numbers rest on (scripted or a model's) and whether it ran to its end.

use converra_api::optimizations::{Evidence, Optimization, OptimizationStatus, Variant};

/// What a view of a run may claim. The default, before a run is known, claims least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    /// The offline engine's simulation: no p-values, probabilities or confidence.
    pub scripted: bool,
    /// Stopped before the end: no winner is named.
    pub stopped: bool,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            scripted: true,
            stopped: false,
        }
    }
}

impl Disclosure {
    pub fn of(optimization: &Optimization) -> Disclosure {
        Disclosure {
            scripted: optimization.evidence == Evidence::Scripted,
            stopped: optimization.status == OptimizationStatus::Stopped,
        }
    }

    /// Whether p-values, probabilities and confidence may be shown.
    pub fn shows_probabilities(self) -> bool {
        !self.scripted
    }

    /// Whether a variant the engine marked may be called the winner.
    pub fn names_winner(self) -> bool {
        !self.stopped
    }

    /// Whether `variant` is shown as the winner.
    pub fn shows_winner(self, variant: &Variant) -> bool {
        variant.is_winner && self.names_winner()
    }
}
