//! Fisher's exact test on a 2×2 table: did the failure rate change between two windows?
//! Used where counts may be small, so that "verified" never rests on a normal approximation.

use super::ln_gamma;

/// The name of the test behind [`two_sided`], for reports.
pub const FISHER_TEST: &str = "Fisher's exact test, two-sided";

/// Two-sided p-value of Fisher's exact test for the table
/// `[[a, b], [c, d]]` (rows: before and after; columns: failed and not failed).
///
/// As R's `fisher.test`: the probabilities of every table with the same margins that is no
/// more likely than the observed one are summed, with a relative tolerance of 1e-7 for ties.
pub fn two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let col1 = a + c;
    let total = a + b + c + d;
    if total == 0 {
        return 1.0;
    }
    let row2 = total - row1;
    let low = col1.saturating_sub(row2);
    let high = row1.min(col1);
    let ln_p = |x: u64| ln_choose(row1, x) + ln_choose(row2, col1 - x) - ln_choose(total, col1);
    let observed = ln_p(a);
    let threshold = observed + (1.0 + 1e-7f64).ln();
    let p: f64 = (low..=high)
        .map(ln_p)
        .filter(|&lp| lp <= threshold)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_r_fisher_test() {
        // R: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value = 0.4857143 (the tea tasting).
        assert!((two_sided(3, 1, 1, 3) - 0.485_714_285_714_285_7).abs() < 1e-9);
        // By the definition with exact binomials (Python's math.comb): 0.010943838608941.
        assert!((two_sided(12, 30, 3, 40) - 0.010_943_838_608_941_12).abs() < 1e-12);
        assert!((two_sided(12, 30, 3, 40) - brute_force(12, 30, 3, 40)).abs() < 1e-12);
        assert!((two_sided(20, 10, 5, 25) - 0.000_181_000_062_444_596_5).abs() < 1e-13);
    }

    #[test]
    fn equal_tables_are_not_significant_and_empty_ones_are_one() {
        assert!((two_sided(10, 20, 10, 20) - 1.0).abs() < 1e-9);
        assert_eq!(two_sided(0, 0, 0, 0), 1.0);
        assert!((two_sided(0, 5, 0, 5) - 1.0).abs() < 1e-12);
    }

    /// The hypergeometric probabilities summed the long way, with exact binomials.
    fn brute_force(a: u64, b: u64, c: u64, d: u64) -> f64 {
        fn choose(n: u64, k: u64) -> f64 {
            (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
        }
        let (row1, row2, col1) = (a + b, c + d, a + c);
        let total = choose(row1 + row2, col1);
        let p = |x: u64| choose(row1, x) * choose(row2, col1 - x) / total;
        let observed = p(a);
        (col1.saturating_sub(row2)..=row1.min(col1))
            .map(p)
            .filter(|&q| q <= observed * (1.0 + 1e-7))
            .sum()
    }
}
