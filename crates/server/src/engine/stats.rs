//! The statistics that compare prompt variants in an optimization: sample summaries, the
//! paired comparison of a variant against the control on the same simulated users, Holm's
//! correction when several variants are tested at once, and the chance that each arm is best.
//!
//! Everything here is pure arithmetic. The special functions (log-gamma, the incomplete beta
//! and gamma functions, the normal and Student t distributions) are written out here rather
//! than taken from a crate, so that the numbers are ours to test and cannot shift under us
//! with a dependency; each names the method it follows.

use std::f64::consts::{PI, SQRT_2};

use crate::engine::rng::SeededRng;

pub mod best;
pub mod fisher;

/// The name of the test behind [`PairedComparison::p_value`], for reports.
pub const PAIRED_TEST: &str = "paired t-test, two-sided";

/// Beyond this many degrees of freedom the Student t distribution is computed as the normal
/// plus the first term of its expansion in 1/df: what that leaves out, O(1/df²), is below
/// 1e-13 there, less than the incomplete beta's rounding (its continued fraction cancels
/// more and more as df grows); infinite degrees of freedom need this path anyway.
const NORMAL_APPROXIMATION_DF: f64 = 1e7;

/// Relative precision the iterative special functions stop at.
const PRECISION: f64 = f64::EPSILON;

/// Stands in for zero in Lentz's continued fractions, whose divisions must never see zero.
const TINY: f64 = 1e-300;

/// Sample summary with a 95% t-interval for the mean.
///
/// `sd` is the sample standard deviation (divisor n - 1). With no values every field is 0.
/// With a single value the spread is unknown: `sd` is reported as 0 and the interval
/// collapses to the value, so read `n` before trusting a narrow interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

/// Summarizes `values` (expected finite): mean, sample standard deviation and the 95%
/// Student t interval for the mean, `mean ± t_{0.975, n-1} · sd / √n`.
///
/// Degenerate samples follow [`Summary`]: no values give all zeros, one value (or values
/// that are all equal) give an interval collapsed to the mean.
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    if n == 0 {
        return Summary {
            mean: 0.0,
            sd: 0.0,
            n: 0,
            ci95_low: 0.0,
            ci95_high: 0.0,
        };
    }
    let mean = mean(values);
    let sd = sample_sd(values, mean);
    // Checked before the quantile is used so that a zero spread never meets an infinite
    // quantile (0 · ∞ is NaN).
    let half_width = if sd == 0.0 {
        0.0
    } else {
        student_t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt()
    };
    Summary {
        mean,
        sd,
        n,
        ci95_low: mean - half_width,
        ci95_high: mean + half_width,
    }
}

/// A variant against the control, paired on the same simulated users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedComparison {
    /// Number of pairs (simulated users both arms met).
    pub n: usize,
    /// Mean of `variant - control` over the pairs: positive when the variant scored higher.
    pub mean_difference: f64,
    /// Sample standard deviation of the differences (divisor n - 1).
    pub sd_difference: f64,
    /// Lower end of the t-interval for the mean difference at the requested confidence.
    pub ci_low: f64,
    /// Upper end of that interval.
    pub ci_high: f64,
    /// `mean_difference / (sd_difference / √n)`; ±infinity when every pair moved by the
    /// same non-zero amount, 0 when none moved.
    pub t_statistic: f64,
    /// Two-sided p-value of the paired t-test ([`PAIRED_TEST`]) with n - 1 degrees of freedom.
    pub p_value: f64,
    /// P(true mean difference > 0 | data) under a flat prior, whose posterior for the mean
    /// difference is a t with n - 1 degrees of freedom: `T_{n-1}(mean / se)`.
    pub probability_better: f64,
    /// The smallest true mean difference this many pairs would detect at the requested
    /// confidence and power: `(t_{1-α/2, n-1} + t_{power, n-1}) · sd / √n`, with the observed
    /// spread standing in for the true one.
    pub minimum_detectable_effect: f64,
}

/// Compares `variant` against `control`, pair by pair (`variant[i]` and `control[i]` come from
/// the same simulated user), by a two-sided paired t-test.
///
/// `confidence` (0.95 for a 95% interval) sets the interval and the test's alpha
/// (`1 - confidence`) in the minimum detectable effect; `power` (commonly 0.8) is the chance
/// of detecting that effect. Both are probabilities in (0, 1); at 1 the interval or the
/// effect becomes infinite.
///
/// Returns `None` when the lengths differ or there are fewer than 2 pairs. When every pair
/// differs by the same amount there is no noise left to doubt: the p-value is 0 (1 if the
/// amount is 0), `probability_better` is 1, 0 or 0.5 by its sign, and the interval and the
/// minimum detectable effect collapse to the difference and 0.
pub fn paired_comparison(
    control: &[f64],
    variant: &[f64],
    confidence: f64,
    power: f64,
) -> Option<PairedComparison> {
    if control.len() != variant.len() || control.len() < 2 {
        return None;
    }
    let differences: Vec<f64> = variant.iter().zip(control).map(|(v, c)| v - c).collect();
    let n = differences.len();
    let degrees_of_freedom = (n - 1) as f64;
    let mean_difference = mean(&differences);
    let sd_difference = sample_sd(&differences, mean_difference);
    let standard_error = sd_difference / (n as f64).sqrt();

    if standard_error == 0.0 {
        let (t_statistic, p_value, probability_better) = if mean_difference > 0.0 {
            (f64::INFINITY, 0.0, 1.0)
        } else if mean_difference < 0.0 {
            (f64::NEG_INFINITY, 0.0, 0.0)
        } else {
            (0.0, 1.0, 0.5)
        };
        return Some(PairedComparison {
            n,
            mean_difference,
            sd_difference,
            ci_low: mean_difference,
            ci_high: mean_difference,
            t_statistic,
            p_value,
            probability_better,
            minimum_detectable_effect: 0.0,
        });
    }

    let critical_t = student_t_quantile((1.0 + confidence) / 2.0, degrees_of_freedom);
    let power_t = student_t_quantile(power, degrees_of_freedom);
    let t_statistic = mean_difference / standard_error;
    // The tail is computed directly rather than as 1 - cdf so that small p-values keep
    // their digits.
    let p_value = (2.0 * student_t_upper_tail(t_statistic.abs(), degrees_of_freedom)).min(1.0);
    Some(PairedComparison {
        n,
        mean_difference,
        sd_difference,
        ci_low: mean_difference - critical_t * standard_error,
        ci_high: mean_difference + critical_t * standard_error,
        t_statistic,
        p_value,
        probability_better: student_t_cdf(t_statistic, degrees_of_freedom),
        minimum_detectable_effect: (critical_t + power_t) * standard_error,
    })
}

/// Holm–Bonferroni adjusted p-values, in the order given (as R's `p.adjust(p, "holm")`).
///
/// The i-th smallest of m p-values is multiplied by m - i + 1, then a running maximum keeps
/// the adjusted values in the order of the raw ones, and each is capped at 1. A NaN stays NaN
/// and does not count towards m, as R does with `NA`.
pub fn holm_adjust(p_values: &[f64]) -> Vec<f64> {
    let mut ascending: Vec<usize> = (0..p_values.len())
        .filter(|&index| !p_values[index].is_nan())
        .collect();
    ascending.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let tests = ascending.len();
    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running_max = 0.0_f64;
    for (rank, &index) in ascending.iter().enumerate() {
        let scaled = ((tests - rank) as f64 * p_values[index]).min(1.0);
        running_max = running_max.max(scaled);
        adjusted[index] = running_max;
    }
    adjusted
}

/// The standard normal distribution function Φ(x), through erfc, to a relative error of
/// about 1e-14 in the lower tail as well (Φ(-10) ≈ 7.6e-24 keeps its digits).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// The standard normal quantile Φ⁻¹(p): Acklam's rational approximation (relative error
/// 1.15e-9) refined by one Halley step to full double precision.
///
/// `p <= 0` gives -infinity and `p >= 1` +infinity; NaN gives NaN.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p > 0.5 {
        // 1 - p is exact for p in [0.5, 1] (Sterbenz), and the lower tail is where the
        // refinement can measure its error precisely.
        return -lower_normal_quantile(1.0 - p);
    }
    lower_normal_quantile(p)
}

/// Φ⁻¹(p) for 0 < p <= 0.5.
fn lower_normal_quantile(p: f64) -> f64 {
    // Peter J. Acklam, "An algorithm for computing the inverse normal cumulative
    // distribution function" (2003).
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.38357751867269e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const TAIL_START: f64 = 0.02425;

    let estimate = if p < TAIL_START {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };

    // Acklam's refinement: one Halley step on Φ(x) - p.
    let error = normal_cdf(estimate) - p;
    let step = error * (2.0 * PI).sqrt() * (estimate * estimate / 2.0).exp();
    if !step.is_finite() {
        // Only for p near the smallest doubles, where exp(x²/2) overflows; the estimate is
        // already as good as such a p can be represented.
        return estimate;
    }
    estimate - step / (1.0 + estimate * step / 2.0)
}

/// The Student t distribution function with `df` degrees of freedom (`df` may be
/// fractional), through the regularized incomplete beta function:
/// P(T <= -|t|) = I_{df/(df+t²)}(df/2, 1/2) / 2.
///
/// The relative error is about 1e-14 up to 1e5 degrees of freedom, growing to about 1e-10
/// near 1e7; above that (including infinity) it is the normal distribution function with a
/// 1/df correction. `df <= 0` or a NaN argument gives NaN.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t < 0.0 {
        student_t_upper_tail(-t, df)
    } else {
        1.0 - student_t_upper_tail(t, df)
    }
}

/// P(T > t) for t >= 0, computed directly so that small tails keep their digits.
fn student_t_upper_tail(t: f64, df: f64) -> f64 {
    if df > NORMAL_APPROXIMATION_DF {
        // Abramowitz and Stegun §26.7: P(T > t) = Q(t) + φ(t) (t³ + t) / (4 df) + O(1/df²).
        if t > 40.0 {
            // Both terms underflow to 0 here, and t³ alone could overflow into ∞ · 0.
            return 0.0;
        }
        let normal_density = (-t * t / 2.0).exp() / (2.0 * PI).sqrt();
        return normal_cdf(-t) + normal_density * (t * t * t + t) / (4.0 * df);
    }
    let ratio = t * t / df;
    let half_df = df / 2.0;
    if ratio.is_infinite() {
        // t² / df overflowed, so x = df / (df + t²) ≈ df / t² is below the smallest double,
        // but the tail, of order x^(df/2), need not be. There I_x(a, b) = x^a / (a B(a, b))
        // to a relative O(x), which nothing can see.
        let ln_x = df.ln() - 2.0 * t.ln();
        return 0.5 * (half_df * ln_x - half_df.ln() - ln_beta(half_df, 0.5)).exp();
    }
    // x = df / (df + t²) and 1 - x, each formed without a subtraction that would cancel; at
    // t = 0 the division by 0 gives the right limit.
    let x = 1.0 / (1.0 + ratio);
    let one_minus_x = 1.0 / (1.0 + 1.0 / ratio);
    0.5 * regularized_incomplete_beta(half_df, 0.5, x, one_minus_x)
}

/// The Student t density with `df` degrees of freedom.
fn student_t_density(t: f64, df: f64) -> f64 {
    // Γ((df+1)/2) / (Γ(df/2) √(df π)) = 1 / (B(df/2, 1/2) √df), as Γ(1/2) = √π.
    (-ln_beta(df / 2.0, 0.5) - 0.5 * df.ln() - (df + 1.0) / 2.0 * (t * t / df).ln_1p()).exp()
}

/// The Student t quantile: the t with `student_t_cdf(t, df) == p`, found by Newton's method
/// kept inside a bracket by bisection.
///
/// `p <= 0` gives -infinity and `p >= 1` +infinity, as does an answer too large for a double
/// (tiny p with df well below 1). Above 1e7 degrees of freedom it is the normal quantile with
/// a 1/df correction. `df <= 0` or a NaN argument gives NaN.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if df > NORMAL_APPROXIMATION_DF {
        // Cornish–Fisher (Abramowitz and Stegun §26.7): t_p = z + (z³ + z) / (4 df) + O(1/df²).
        let z = normal_quantile(p);
        return z + (z * z * z + z) / (4.0 * df);
    }
    if p > 0.5 {
        // The distribution is symmetric, 1 - p is exact here, and the lower tail is computed
        // without cancellation.
        return -lower_student_t_quantile(1.0 - p, df);
    }
    lower_student_t_quantile(p, df)
}

/// The Student t quantile for 0 < p <= 0.5 (so the answer is <= 0).
fn lower_student_t_quantile(p: f64, df: f64) -> f64 {
    const MAX_STEPS: usize = 400;
    if p == 0.5 {
        return 0.0;
    }
    // The t has heavier tails than the normal, so its quantile lies at or below the normal
    // one: that is the bracket's upper end. Its lower end doubles until it passes below p.
    let mut high = normal_quantile(p);
    let mut low = 2.0 * high - 1.0;
    while student_t_upper_tail(-low, df) >= p {
        high = low;
        low *= 2.0;
        if low.is_infinite() {
            return f64::NEG_INFINITY;
        }
    }

    let mut t = high;
    for _ in 0..MAX_STEPS {
        let excess = student_t_upper_tail(-t, df) - p;
        if excess == 0.0 {
            return t;
        }
        if excess > 0.0 {
            high = t;
        } else {
            low = t;
        }
        let newton = t - excess / student_t_density(t, df);
        let next = if newton > low && newton < high {
            newton
        } else {
            0.5 * (low + high)
        };
        if (next - t).abs() <= 2.0 * PRECISION * next.abs() {
            return next;
        }
        t = next;
    }
    t
}

/// erfc(x), the complementary error function: erfc(x) = Q(1/2, x²) for x >= 0 and
/// 2 - erfc(-x) = 1 + P(1/2, x²) below (Abramowitz and Stegun 7.1.2, 6.5.17).
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let (lower, upper) = regularized_incomplete_gamma(0.5, x * x);
    if x >= 0.0 {
        upper
    } else {
        1.0 + lower
    }
}

/// The regularized incomplete gamma functions (P(a, x), Q(a, x) = 1 - P(a, x)) for a > 0,
/// x >= 0: by the series below x = a + 1 and by Lentz's continued fraction for Q above it,
/// where each converges fast (Numerical Recipes, 2nd ed., §6.2, `gser` and `gcf`).
fn regularized_incomplete_gamma(a: f64, x: f64) -> (f64, f64) {
    const MAX_TERMS: usize = 1000;
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if x.is_infinite() {
        return (1.0, 0.0);
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let mut denominator = a;
        let mut term = 1.0 / a;
        let mut sum = term;
        for _ in 0..MAX_TERMS {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * PRECISION {
                break;
            }
        }
        let lower = sum * front;
        (lower, 1.0 - lower)
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..=MAX_TERMS {
            let i = i as f64;
            let an = -i * (i - a);
            b += 2.0;
            d = away_from_zero(an * d + b).recip();
            c = away_from_zero(b + an / c);
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < PRECISION {
                break;
            }
        }
        let upper = front * h;
        (1.0 - upper, upper)
    }
}

/// The regularized incomplete beta function I_x(a, b) for a, b > 0 (Numerical Recipes, 2nd
/// ed., §6.4, `betai`). The caller passes `one_minus_x` as well, so that it keeps its digits
/// when x is close to 1.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64, one_minus_x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if one_minus_x <= 0.0 {
        return 1.0;
    }
    // ln(x) and ln(1 - x) from whichever of the two is further from 1, where ln loses nothing.
    let ln_x = if x > 0.5 {
        (-one_minus_x).ln_1p()
    } else {
        x.ln()
    };
    let ln_one_minus_x = if one_minus_x > 0.5 {
        (-x).ln_1p()
    } else {
        one_minus_x.ln()
    };
    let front = (a * ln_x + b * ln_one_minus_x - ln_beta(a, b)).exp();
    // The continued fraction converges fast only below the distribution's mean; above it,
    // I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x, one_minus_x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, one_minus_x, x) / b
    }
}

/// The continued fraction for I_x(a, b) (Numerical Recipes, 2nd ed., §6.4, `betacf`):
/// I_x(a, b) = front / a · 1 / (1 + d₁ / (1 + d₂ / (1 + d₃ / …))), with
/// d₂ₘ = m (b - m) x / ((a + 2m - 1)(a + 2m)) and
/// d₂ₘ₊₁ = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
fn beta_continued_fraction(a: f64, b: f64, x: f64, one_minus_x: f64) -> f64 {
    // For large a near the distribution's mean, d₁ is close to -1 and the top level cancels,
    // magnifying rounding a thousandfold at a = 5000 (the t tail at 10⁴ degrees of freedom).
    // So for x near 1, 1 + d₁ is formed from 1 - x (for small x and large b that form would
    // cancel instead), and the top two levels are combined by hand:
    // 1 / (1 + d₁ / (1 + d₂ / u)) = (1 + d₂ / u) / ((1 + d₁) + d₂ / u),
    // where u = 1 + d₃ / (1 + d₄ / …) is left to Lentz's method.
    let one_plus_d1 = if x > 0.5 {
        ((1.0 - b) + (a + b) * one_minus_x) / (a + 1.0)
    } else {
        1.0 - (a + b) * x / (a + 1.0)
    };
    let d2 = beta_fraction_coefficient(a, b, x, 2);
    let below_d2 = d2 / continued_fraction(|k| beta_fraction_coefficient(a, b, x, k + 2));
    (1.0 + below_d2) / away_from_zero(one_plus_d1 + below_d2)
}

/// The coefficient dₖ of [`beta_continued_fraction`], for k >= 1.
fn beta_fraction_coefficient(a: f64, b: f64, x: f64, k: usize) -> f64 {
    let m = (k / 2) as f64;
    if k.is_multiple_of(2) {
        m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
    } else {
        -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
    }
}

/// 1 + c(1) / (1 + c(2) / (1 + c(3) / …)), by the modified Lentz method (Numerical Recipes,
/// 2nd ed., §5.2).
fn continued_fraction(coefficient: impl Fn(usize) -> f64) -> f64 {
    // The beta fraction needs on the order of √max(a, b) terms at worst.
    const MAX_TERMS: usize = 20_000;
    let mut value = 1.0;
    let mut c = 1.0;
    let mut d = 0.0;
    for k in 1..=MAX_TERMS {
        let coefficient = coefficient(k);
        d = away_from_zero(1.0 + coefficient * d).recip();
        c = away_from_zero(1.0 + coefficient / c);
        let delta = c * d;
        value *= delta;
        if (delta - 1.0).abs() < PRECISION {
            break;
        }
    }
    value
}

/// `value`, or [`TINY`] if it is so close to zero that dividing by it would blow up.
fn away_from_zero(value: f64) -> f64 {
    if value.abs() < TINY {
        TINY
    } else {
        value
    }
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b) for a, b > 0.
///
/// With a large argument the three log-gammas are large and nearly cancel, losing digits (1e-10
/// at 1e5); there their Stirling parts are cancelled by hand and only the small corrections
/// are subtracted, as R's `lbeta` does.
fn ln_beta(a: f64, b: f64) -> f64 {
    const LARGE: f64 = 10.0;
    let (small, large) = if a < b { (a, b) } else { (b, a) };
    let total = small + large;
    if small >= LARGE {
        let correction =
            stirling_correction(small) + stirling_correction(large) - stirling_correction(total);
        -0.5 * large.ln()
            + 0.5 * (2.0 * PI).ln()
            + correction
            + (small - 0.5) * (small / total).ln()
            + large * (-small / total).ln_1p()
    } else if large >= LARGE {
        let correction = stirling_correction(large) - stirling_correction(total);
        ln_gamma(small) + correction + small - small * total.ln()
            + (large - 0.5) * (-small / total).ln_1p()
    } else {
        ln_gamma(small) + ln_gamma(large) - ln_gamma(total)
    }
}

/// ln Γ(x) - ((x - 1/2) ln x - x + ln √(2π)) for x >= 10: Stirling's series, whose first
/// omitted term is below 1e-16 there.
fn stirling_correction(x: f64) -> f64 {
    // B_2k / (2k (2k - 1)) for k = 1..7.
    const COEFFICIENTS: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
    ];
    let inverse_square = 1.0 / (x * x);
    COEFFICIENTS
        .iter()
        .rev()
        .fold(0.0, |sum, c| sum * inverse_square + c)
        / x
}

/// ln Γ(x) for x > 0, by the Lanczos approximation with g = 7 and nine coefficients
/// (relative error about 1e-15), with Euler's reflection below 1/2.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x) Γ(1 - x) = π / sin(πx).
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let series = COEFFICIENTS
        .iter()
        .enumerate()
        .skip(1)
        .fold(COEFFICIENTS[0], |series, (i, c)| {
            series + c / (x + i as f64)
        });
    let t = x + G + 0.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (divisor n - 1) around `mean`; 0 for fewer than 2 values.
fn sample_sd(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values marked "mpmath" were computed with mpmath 1.3 at 40 significant
    // digits (`mp.dps = 40`), with the Student t as `betainc(df/2, 1/2, 0, df/(df+t²),
    // regularized=True) / 2` for the lower tail.

    /// The sleep data (Student, 1908; R's `sleep` data set): extra hours of sleep of ten
    /// patients under drug 1 (group 1) and drug 2 (group 2).
    const SLEEP_GROUP_1: [f64; 10] = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const SLEEP_GROUP_2: [f64; 10] = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

    fn assert_near(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected} ± {tolerance:e}, got {actual}"
        );
    }

    fn assert_relatively_near(actual: f64, expected: f64, relative_tolerance: f64) {
        assert!(
            (actual - expected).abs() <= relative_tolerance * expected.abs(),
            "expected {expected:e} within a relative {relative_tolerance:e}, got {actual:e}"
        );
    }

    #[test]
    fn normal_cdf_matches_reference_values() {
        // Textbook: z = 1.959964 is the two-sided 95% point.
        assert_near(normal_cdf(1.959964), 0.975, 1e-8);
        assert_eq!(normal_cdf(0.0), 0.5);
        // mpmath: ncdf(x).
        assert_relatively_near(normal_cdf(1.0), 0.841_344_746_068_542_9, 1e-15);
        assert_relatively_near(normal_cdf(5.0), 0.999_999_713_348_428_1, 1e-15);
        assert_relatively_near(normal_cdf(-3.0), 1.349_898_031_630_094_5e-3, 1e-13);
        assert_relatively_near(normal_cdf(-10.0), 7.619_853_024_160_525e-24, 1e-12);
        assert_relatively_near(normal_cdf(-37.5), 4.605_353_009_581_955e-308, 1e-11);
    }

    #[test]
    fn normal_cdf_at_the_extremes_is_zero_or_one() {
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(-40.0), 0.0);
        assert_eq!(normal_cdf(40.0), 1.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
    }

    #[test]
    fn erfc_matches_reference_values() {
        // mpmath: erfc(x); erfc(-1) = 2 - erfc(1) (Abramowitz and Stegun table 7.1:
        // erf(1) = 0.8427007929).
        assert_relatively_near(erfc(0.5), 0.479_500_122_186_953_5, 1e-14);
        assert_relatively_near(erfc(1.0), 0.157_299_207_050_285_13, 1e-14);
        assert_relatively_near(erfc(-1.0), 1.842_700_792_949_715, 1e-15);
        assert_relatively_near(erfc(3.0), 2.209_049_699_858_544e-5, 1e-13);
        assert_relatively_near(erfc(10.0), 2.088_487_583_762_545e-45, 1e-12);
        assert_eq!(erfc(0.0), 1.0);
    }

    #[test]
    fn normal_quantile_matches_reference_values() {
        // mpmath: the root of ncdf(x) = p.
        assert_near(normal_quantile(0.975), 1.959_963_984_540_054_2, 1e-14);
        assert_near(normal_quantile(0.025), -1.959_963_984_540_054_2, 1e-14);
        assert_near(normal_quantile(0.8), 0.841_621_233_572_914_2, 1e-14);
        assert_near(normal_quantile(0.999), 3.090_232_306_167_813_5, 1e-13);
        assert_near(normal_quantile(0.841_344_746_068_543), 1.0, 1e-14);
        assert_relatively_near(normal_quantile(1e-10), -6.361_340_902_404_057, 1e-14);
        assert_relatively_near(normal_quantile(1e-300), -37.047_096_299_361_2, 1e-13);
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn normal_quantile_inverts_the_cdf_and_is_infinite_at_zero_and_one() {
        for p in [1e-200, 1e-20, 1e-5, 0.001, 0.024, 0.025, 0.1, 0.3, 0.49] {
            let z = normal_quantile(p);
            assert_relatively_near(normal_cdf(z), p, 1e-13);
            // 1 - upper is exact, where 1 - p need not be.
            let upper = 1.0 - p;
            assert_eq!(normal_quantile(upper), -normal_quantile(1.0 - upper));
        }
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(-0.5), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(f64::MIN_POSITIVE).is_finite());
        assert!(normal_quantile(f64::NAN).is_nan());
    }

    #[test]
    fn ln_gamma_matches_reference_values() {
        // By hand: Γ(1/2) = √π, Γ(1) = Γ(2) = 1, Γ(10) = 9! = 362880.
        assert_near(ln_gamma(0.5), 0.5 * PI.ln(), 1e-14);
        assert_near(ln_gamma(1.0), 0.0, 1e-14);
        assert_near(ln_gamma(2.0), 0.0, 1e-14);
        assert_relatively_near(ln_gamma(10.0), 362_880.0_f64.ln(), 1e-15);
        // mpmath: loggamma(x).
        assert_relatively_near(ln_gamma(0.1), 2.252_712_651_734_206, 1e-14);
        assert_relatively_near(ln_gamma(1e6), 12_815_504.569_147_612, 1e-15);
    }

    #[test]
    fn ln_beta_agrees_with_closed_forms_and_with_ln_gamma() {
        // By hand: B(1, 1) = 1, B(1/2, 1/2) = π, B(a, 1) = 1 / a.
        assert_near(ln_beta(1.0, 1.0), 0.0, 1e-14);
        assert_near(ln_beta(0.5, 0.5), PI.ln(), 1e-14);
        assert_near(ln_beta(30.0, 1.0), -(30.0_f64.ln()), 1e-14);
        // mpmath: log(beta(a, b)), through both large-argument arrangements.
        assert_relatively_near(ln_beta(20.0, 30.0), -33.968_820_791_977_383, 1e-14);
        assert_relatively_near(ln_beta(5000.0, 0.5), -3.686_206_652_783_460_3, 1e-14);
        assert_relatively_near(ln_beta(0.5, 5e5), -5.988_816_495_777_464, 1e-14);
        assert_relatively_near(
            ln_beta(20.0, 30.0),
            ln_gamma(20.0) + ln_gamma(30.0) - ln_gamma(50.0),
            1e-13,
        );
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        let beta = |a: f64, b: f64, x: f64| regularized_incomplete_beta(a, b, x, 1.0 - x);
        // By hand: I_x(2, 3) = Σ_{j=2..4} C(4, j) x^j (1-x)^(4-j) = 0.5248 at x = 0.4.
        assert_near(beta(2.0, 3.0, 0.4), 0.5248, 1e-14);
        for x in [0.01, 0.3, 0.5, 0.9, 0.999] {
            // I_x(a, 1) = x^a and I_x(1, b) = 1 - (1-x)^b.
            assert_relatively_near(beta(3.5, 1.0, x), x.powf(3.5), 1e-13);
            assert_near(beta(1.0, 7.0, x), 1.0 - (1.0 - x).powi(7), 1e-14);
        }
        // By symmetry I_{1/2}(a, a) = 1/2.
        assert_near(beta(40.0, 40.0, 0.5), 0.5, 1e-14);
        // mpmath: betainc(0.5, 7.5, 0, 0.2, regularized=True).
        assert_near(beta(0.5, 7.5, 0.2), 0.928_120_402_498_800_1, 1e-14);
        assert_eq!(beta(2.0, 3.0, 0.0), 0.0);
        assert_eq!(beta(2.0, 3.0, 1.0), 1.0);
    }

    #[test]
    fn student_t_cdf_matches_closed_forms() {
        // By hand: with 1 degree of freedom (Cauchy) F(t) = 1/2 + atan(t)/π; with 2,
        // F(t) = 1/2 + t / (2 √(2 + t²)).
        for t in [-30.0, -2.5, -1.0, -0.1, 0.0, 0.4, 1.0, 7.0] {
            let cauchy = 0.5 + f64::atan(t) / PI;
            assert_near(student_t_cdf(t, 1.0), cauchy, 1e-15);
            let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert_near(student_t_cdf(t, 2.0), two, 1e-15);
        }
        assert_eq!(student_t_cdf(1.0, 1.0), 0.75);
        // Far in the Cauchy tail, where t² overflows: F(-t) = atan(1/t)/π ≈ 1/(π t).
        assert_relatively_near(student_t_cdf(-1e200, 1.0), 1.0 / (PI * 1e200), 1e-12);
    }

    #[test]
    fn student_t_cdf_matches_reference_values() {
        // Table: t_{0.975, 10} = 2.228139.
        assert_near(student_t_cdf(2.228139, 10.0), 0.975, 1e-8);
        // mpmath.
        assert_relatively_near(student_t_cdf(-2.0, 5.0), 0.050_969_739_414_929_18, 1e-14);
        assert_relatively_near(student_t_cdf(3.0, 30.0), 0.997_305_017_967_174_1, 1e-15);
        assert_relatively_near(student_t_cdf(-40.0, 3.0), 1.719_034_039_457_926_4e-5, 1e-13);
        assert_relatively_near(student_t_cdf(0.3, 200.0), 0.617_755_634_905_336, 1e-14);
        assert_relatively_near(student_t_cdf(-2.0, 1e4), 0.022_763_630_330_717_72, 1e-13);
        assert_relatively_near(student_t_cdf(2.0, 1e6), 0.977_249_733_074_340_4, 1e-13);
        assert_relatively_near(student_t_cdf(-5.0, 9e6), 2.866_569_406_290_590_5e-7, 1e-10);
    }

    #[test]
    fn student_t_cdf_with_huge_df_is_the_normal() {
        // mpmath: the t with 1e8 degrees of freedom, on the far side of the switch to the
        // normal expansion.
        assert_relatively_near(student_t_cdf(-2.0, 1e8), 0.022_750_133_297_953_376, 1e-13);
        for x in [-6.0, -1.5, 0.0, 0.7, 3.0] {
            assert_eq!(student_t_cdf(x, f64::INFINITY), normal_cdf(x));
            assert_near(student_t_cdf(x, 1e15), normal_cdf(x), 1e-15);
        }
    }

    #[test]
    fn student_t_cdf_at_the_extremes_is_zero_or_one_and_rejects_bad_df() {
        for df in [0.5, 1.0, 3.0, 1e3, 1e9, f64::INFINITY] {
            assert_eq!(student_t_cdf(f64::NEG_INFINITY, df), 0.0);
            assert_eq!(student_t_cdf(f64::INFINITY, df), 1.0);
            assert_eq!(student_t_cdf(0.0, df), 0.5);
        }
        assert!(student_t_cdf(1.0, 0.0).is_nan());
        assert!(student_t_cdf(1.0, -3.0).is_nan());
        assert!(student_t_cdf(f64::NAN, 3.0).is_nan());
    }

    #[test]
    fn student_t_quantile_matches_table_values() {
        // Table (e.g. R: qt(0.975, 10) = 2.228139), to the table's digits.
        assert_near(student_t_quantile(0.975, 10.0), 2.228139, 5e-7);
        assert_near(student_t_quantile(0.975, 1.0), 12.7062, 5e-5);
        assert_near(student_t_quantile(0.95, 30.0), 1.697261, 5e-7);
        assert_near(student_t_quantile(0.995, 3.0), 5.840909, 5e-7);
        // mpmath, to full precision.
        assert_relatively_near(
            student_t_quantile(0.975, 10.0),
            2.228_138_851_986_275,
            1e-14,
        );
        assert_relatively_near(
            student_t_quantile(0.975, 1.0),
            12.706_204_736_174_705,
            1e-14,
        );
        assert_relatively_near(
            student_t_quantile(0.95, 30.0),
            1.697_260_886_593_957_8,
            1e-14,
        );
        assert_relatively_near(student_t_quantile(0.8, 9.0), 0.883_403_859_685_534_6, 1e-14);
        assert_relatively_near(
            student_t_quantile(0.9999, 4.0),
            13.033_671_720_896_456,
            1e-13,
        );
        assert_relatively_near(
            student_t_quantile(0.975, 1000.0),
            1.962_339_080_826_408_5,
            1e-14,
        );
        assert_relatively_near(student_t_quantile(1e-8, 3.0), -479.525_069_579_738_3, 1e-13);
    }

    #[test]
    fn student_t_quantile_matches_closed_forms() {
        // By hand: with 2 degrees of freedom t_p = a √(2 / (1 - a²)), a = 2p - 1, so
        // t_{0.975, 2} = 0.95 √(2 / 0.0975) = 4.3026527...; with 1, t_p = -cot(πp).
        assert_relatively_near(student_t_quantile(0.975, 2.0), 4.302_652_729_749_464, 1e-14);
        assert_relatively_near(
            student_t_quantile(1e-8, 1.0),
            -31_830_988.618_379_057,
            1e-12,
        );
        assert_relatively_near(student_t_quantile(1e-300, 1.0), -1.0 / (PI * 1e-300), 1e-12);
        assert_eq!(student_t_quantile(0.5, 7.0), 0.0);
    }

    #[test]
    fn student_t_quantile_inverts_the_cdf() {
        for df in [0.7, 1.0, 2.0, 3.0, 9.0, 29.0, 250.0, 1e4, 1e6] {
            for p in [1e-12, 1e-4, 0.01, 0.025, 0.2, 0.45] {
                let t = student_t_quantile(p, df);
                assert_relatively_near(student_t_cdf(t, df), p, 1e-12);
                // 1 - upper is exact, where 1 - p need not be.
                let upper = 1.0 - p;
                assert_eq!(
                    student_t_quantile(upper, df),
                    -student_t_quantile(1.0 - upper, df)
                );
            }
        }
    }

    #[test]
    fn student_t_quantile_handles_the_edges() {
        assert_eq!(student_t_quantile(0.0, 5.0), f64::NEG_INFINITY);
        assert_eq!(student_t_quantile(1.0, 5.0), f64::INFINITY);
        // The answer is beyond the largest double.
        assert_eq!(student_t_quantile(1e-300, 0.5), f64::NEG_INFINITY);
        assert!(student_t_quantile(0.9, 0.0).is_nan());
        assert!(student_t_quantile(f64::NAN, 5.0).is_nan());
        // Huge df: the normal quantile, with its 1/df correction.
        assert_eq!(
            student_t_quantile(0.975, f64::INFINITY),
            normal_quantile(0.975)
        );
        // mpmath: the 0.975 quantile at 1e8 degrees of freedom.
        assert_relatively_near(
            student_t_quantile(0.975, 1e8),
            1.959_964_008_262_766_8,
            1e-14,
        );
    }

    #[test]
    fn summarize_matches_r_t_test_interval() {
        // R: t.test(sleep$extra[sleep$group == 1]) gives mean 0.75 and
        // "95 percent confidence interval: -0.5297804 2.0297804"; sd(...) = 1.78901.
        let summary = summarize(&SLEEP_GROUP_1);
        assert_eq!(summary.n, 10);
        assert_near(summary.mean, 0.75, 1e-15);
        assert_near(summary.sd, 1.789_009_657_759_162_4, 1e-14);
        assert_near(summary.ci95_low, -0.529_780_4, 5e-8);
        assert_near(summary.ci95_high, 2.029_780_4, 5e-8);
        // mpmath, to full precision.
        assert_near(summary.ci95_low, -0.529_780_413_526_232_5, 1e-14);
        assert_near(summary.ci95_high, 2.029_780_413_526_232_6, 1e-14);
    }

    #[test]
    fn summarize_of_empty_single_and_constant_samples_collapses() {
        assert_eq!(
            summarize(&[]),
            Summary {
                mean: 0.0,
                sd: 0.0,
                n: 0,
                ci95_low: 0.0,
                ci95_high: 0.0
            }
        );
        assert_eq!(
            summarize(&[42.5]),
            Summary {
                mean: 42.5,
                sd: 0.0,
                n: 1,
                ci95_low: 42.5,
                ci95_high: 42.5
            }
        );
        let constant = summarize(&[3.0, 3.0, 3.0]);
        assert_eq!((constant.ci95_low, constant.ci95_high), (3.0, 3.0));
    }

    #[test]
    fn paired_comparison_matches_r_on_the_sleep_data() {
        // R: t.test(extra ~ group, data = sleep, paired = TRUE) (group 1 - group 2) prints
        // t = -4.0621, df = 9, p-value = 0.002833, 95 percent confidence interval
        // -2.4598858 -0.7001142, mean difference -1.58. Here the variant is group 2, so the
        // signs flip.
        let comparison = paired_comparison(&SLEEP_GROUP_1, &SLEEP_GROUP_2, 0.95, 0.8)
            .expect("ten pairs of equal length");
        assert_eq!(comparison.n, 10);
        assert_near(comparison.mean_difference, 1.58, 1e-14);
        assert_near(comparison.t_statistic, 4.0621, 5e-5);
        assert_near(comparison.p_value, 0.002833, 5e-7);
        assert_near(comparison.ci_low, 0.700_114_2, 5e-8);
        assert_near(comparison.ci_high, 2.459_885_8, 5e-8);
        // mpmath, to full precision.
        assert_near(comparison.sd_difference, 1.229_995_483_279_873_2, 1e-14);
        assert_near(comparison.t_statistic, 4.062_127_683_382_036, 1e-13);
        assert_relatively_near(comparison.p_value, 0.002_832_890_197_384_273, 1e-12);
        assert_near(comparison.ci_low, 0.700_114_236_723_017_2, 1e-14);
        assert_near(comparison.ci_high, 2.459_885_763_276_983, 1e-14);
        // T_9(t) = 1 - p/2 for a positive t.
        assert_near(
            comparison.probability_better,
            0.998_583_554_901_307_9,
            1e-14,
        );
        // (t_{0.975, 9} + t_{0.8, 9}) · sd / √10.
        assert_near(
            comparison.minimum_detectable_effect,
            1.223_493_401_218_351_3,
            1e-13,
        );
    }

    #[test]
    fn paired_comparison_worked_by_hand_with_two_degrees_of_freedom() {
        // Differences 1, 2, 3: mean 2, sd 1, se 1/√3, t = 2√3. With 2 degrees of freedom
        // P(|T| > t) = 1 - t / √(2 + t²) = 1 - √(6/7) = 0.0741799..., and t_{0.975, 2} =
        // 4.3026527..., so the interval is 2 ± 4.3026527 / √3 = (-0.4841377, 4.4841377).
        let comparison = paired_comparison(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0], 0.95, 0.8)
            .expect("three pairs of equal length");
        assert_near(comparison.mean_difference, 2.0, 1e-15);
        assert_near(comparison.sd_difference, 1.0, 1e-15);
        assert_near(comparison.t_statistic, 2.0 * 3.0_f64.sqrt(), 1e-14);
        assert_near(comparison.p_value, 1.0 - (6.0_f64 / 7.0).sqrt(), 1e-15);
        assert_near(
            comparison.probability_better,
            (1.0 + (6.0_f64 / 7.0).sqrt()) / 2.0,
            1e-15,
        );
        assert_near(comparison.ci_low, -0.484_137_711_750_331_07, 1e-14);
        assert_near(comparison.ci_high, 4.484_137_711_750_331, 1e-14);
    }

    #[test]
    fn paired_comparison_is_antisymmetric_in_its_arms() {
        let forward =
            paired_comparison(&SLEEP_GROUP_1, &SLEEP_GROUP_2, 0.9, 0.8).expect("ten pairs");
        let backward =
            paired_comparison(&SLEEP_GROUP_2, &SLEEP_GROUP_1, 0.9, 0.8).expect("ten pairs");
        assert_eq!(backward.mean_difference, -forward.mean_difference);
        assert_eq!(backward.p_value, forward.p_value);
        assert_near(
            backward.probability_better,
            1.0 - forward.probability_better,
            1e-15,
        );
        assert_near(backward.ci_low, -forward.ci_high, 1e-14);
        assert_eq!(
            backward.minimum_detectable_effect,
            forward.minimum_detectable_effect
        );
    }

    #[test]
    fn paired_comparison_needs_equal_lengths_and_two_pairs() {
        assert_eq!(paired_comparison(&[1.0, 2.0], &[1.0], 0.95, 0.8), None);
        assert_eq!(paired_comparison(&[1.0], &[2.0], 0.95, 0.8), None);
        assert_eq!(paired_comparison(&[], &[], 0.95, 0.8), None);
    }

    #[test]
    fn paired_comparison_with_zero_variance_is_certain_of_the_sign() {
        let better =
            paired_comparison(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5], 0.95, 0.8).expect("three pairs");
        assert_eq!(better.p_value, 0.0);
        assert_eq!(better.probability_better, 1.0);
        assert_eq!(better.minimum_detectable_effect, 0.0);
        assert_eq!((better.ci_low, better.ci_high), (0.5, 0.5));
        assert_eq!(better.t_statistic, f64::INFINITY);

        let worse =
            paired_comparison(&[1.0, 2.0, 3.0], &[0.0, 1.0, 2.0], 0.95, 0.8).expect("three pairs");
        assert_eq!(worse.p_value, 0.0);
        assert_eq!(worse.probability_better, 0.0);
        assert_eq!(worse.t_statistic, f64::NEG_INFINITY);

        let same =
            paired_comparison(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 0.95, 0.8).expect("three pairs");
        assert_eq!(same.p_value, 1.0);
        assert_eq!(same.probability_better, 0.5);
        assert_eq!(same.t_statistic, 0.0);
        assert_eq!(same.minimum_detectable_effect, 0.0);
        assert_eq!((same.ci_low, same.ci_high), (0.0, 0.0));
    }

    #[test]
    fn minimum_detectable_effect_shrinks_like_one_over_root_n() {
        // Differences alternating -1, +1: mean 0 and the same spread at every even n.
        let alternating = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|i| if i % 2 == 0 { -1.0 } else { 1.0 })
                .collect()
        };
        let effect = |n: usize| {
            paired_comparison(&vec![0.0; n], &alternating(n), 0.95, 0.8)
                .expect("equal lengths")
                .minimum_detectable_effect
        };
        let (small, large) = (effect(100), effect(400));
        // Four times the pairs, half the effect; a little less than half, as the t
        // quantiles shrink towards the normal ones too.
        let ratio = large / small;
        assert!((0.49..0.5).contains(&ratio), "ratio {ratio}");
        // At large n it approaches (z_{0.975} + z_{0.8}) · sd / √n.
        let comparison = paired_comparison(&vec![0.0; 10_000], &alternating(10_000), 0.95, 0.8)
            .expect("equal lengths");
        let normal_effect =
            (normal_quantile(0.975) + normal_quantile(0.8)) * comparison.sd_difference / 100.0;
        assert_relatively_near(comparison.minimum_detectable_effect, normal_effect, 1e-3);
    }

    #[test]
    fn holm_adjust_matches_r_p_adjust() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") gives 0.03 0.06 0.06 0.02:
        // sorted, 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06.
        let adjusted = holm_adjust(&[0.01, 0.04, 0.03, 0.005]);
        for (actual, expected) in adjusted.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert_near(*actual, expected, 1e-15);
        }
        // R: p.adjust(c(0.5, 0.4, 0.01), "holm") gives 0.80 0.80 0.03.
        let adjusted = holm_adjust(&[0.5, 0.4, 0.01]);
        for (actual, expected) in adjusted.iter().zip([0.8, 0.8, 0.03]) {
            assert_near(*actual, expected, 1e-15);
        }
    }

    #[test]
    fn holm_adjust_caps_at_one_and_handles_edges() {
        assert_eq!(holm_adjust(&[0.6, 0.7]), vec![1.0, 1.0]);
        assert_eq!(holm_adjust(&[]), Vec::<f64>::new());
        assert_eq!(holm_adjust(&[0.2]), vec![0.2]);
        // A NaN stays NaN and is not counted: the others are adjusted as a pair.
        let adjusted = holm_adjust(&[0.01, f64::NAN, 0.02]);
        assert_near(adjusted[0], 0.02, 1e-15);
        assert!(adjusted[1].is_nan());
        assert_near(adjusted[2], 0.02, 1e-15);
    }
}
