//! The chance that each arm of an optimization is the best, from the same paired data the
//! tests use: each variant's differences from the control on the cells every arm met.
//!
//! The mean differences get the flat-prior posterior of a multivariate normal sample with
//! unknown covariance: a multivariate Student t with n - 1 degrees of freedom, centred on the
//! observed mean differences, with scale S / n (S the sample covariance of the differences
//! across cells). Sharing the cells is what makes the arms' draws move together, as the data
//! do. With one variant this is exactly the t posterior behind `probabilityBetterThanControl`,
//! so the two numbers agree.

use super::{student_t_cdf, SeededRng};

/// Monte Carlo draws when there are two or more variants.
pub const DRAWS: usize = 20_000;

/// P(arm is best) for the control (index 0, difference 0 by definition) and each variant.
///
/// `differences[c][k]` is variant k's difference from the control on cell c; every row has
/// the same length (the variants). With fewer than 2 cells nothing is known and every arm
/// gets an equal share. Deterministic for a seed; the shares sum to 1.
pub fn probability_best(differences: &[Vec<f64>], seed: u64) -> Vec<f64> {
    let variants = differences.first().map_or(0, Vec::len);
    let arms = variants + 1;
    let n = differences.len();
    if n < 2 || variants == 0 {
        return vec![1.0 / arms as f64; arms];
    }
    let means: Vec<f64> = (0..variants)
        .map(|k| differences.iter().map(|row| row[k]).sum::<f64>() / n as f64)
        .collect();
    let covariance = sample_covariance(differences, &means);
    let df = (n - 1) as f64;
    if variants == 1 {
        let better = one_variant_probability(means[0], covariance[0][0], n);
        return vec![1.0 - better, better];
    }
    let scale: Vec<Vec<f64>> = covariance
        .iter()
        .map(|row| row.iter().map(|v| v / n as f64).collect())
        .collect();
    let factor = cholesky(&scale);
    let mut rng = SeededRng::new(seed);
    let mut wins = vec![0.0; arms];
    let mut normals = vec![0.0; variants];
    let mut draw = vec![0.0; arms];
    for _ in 0..DRAWS {
        for z in normals.iter_mut() {
            *z = rng.normal();
        }
        let shrink = (chi_square(&mut rng, n - 1) / df).sqrt();
        draw[0] = 0.0;
        for k in 0..variants {
            let correlated: f64 = (0..=k).map(|j| factor[k][j] * normals[j]).sum();
            draw[k + 1] = means[k] + correlated / shrink;
        }
        let best = draw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let leaders: Vec<usize> = (0..arms).filter(|&i| draw[i] == best).collect();
        let share = 1.0 / leaders.len().max(1) as f64;
        for index in leaders {
            wins[index] += share;
        }
    }
    wins.iter().map(|w| w / DRAWS as f64).collect()
}

/// `T_{n-1}(mean / se)`, with a zero spread read as certainty of the sign.
fn one_variant_probability(mean: f64, variance: f64, n: usize) -> f64 {
    let standard_error = (variance / n as f64).sqrt();
    if standard_error == 0.0 {
        return if mean > 0.0 {
            1.0
        } else if mean < 0.0 {
            0.0
        } else {
            0.5
        };
    }
    student_t_cdf(mean / standard_error, (n - 1) as f64)
}

fn sample_covariance(rows: &[Vec<f64>], means: &[f64]) -> Vec<Vec<f64>> {
    let divisor = (rows.len() - 1) as f64;
    let entry = |a: usize, b: usize| {
        rows.iter()
            .map(|row| (row[a] - means[a]) * (row[b] - means[b]))
            .sum::<f64>()
            / divisor
    };
    (0..means.len())
        .map(|a| (0..means.len()).map(|b| entry(a, b)).collect())
        .collect()
}

/// The lower-triangular L with L·Lᵀ = `matrix`. A direction with no spread left (an arm
/// whose differences are constant, or one that moves exactly with another) gets a zero
/// column: its draws do not vary along it.
fn cholesky(matrix: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = matrix.len();
    let mut factor = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let partial: f64 = (0..j).map(|m| factor[i][m] * factor[j][m]).sum();
            if i == j {
                let pivot = matrix[i][i] - partial;
                factor[i][i] = if pivot > 1e-12 * matrix[i][i].abs().max(1e-300) {
                    pivot.sqrt()
                } else {
                    0.0
                };
            } else if factor[j][j] > 0.0 {
                factor[i][j] = (matrix[i][j] - partial) / factor[j][j];
            }
        }
    }
    factor
}

/// A χ² draw with `df` degrees of freedom: twice a Gamma(df / 2) draw.
fn chi_square(rng: &mut SeededRng, df: usize) -> f64 {
    2.0 * gamma(rng, df as f64 / 2.0)
}

/// A Gamma(shape, 1) draw by Marsaglia and Tsang's method ("A simple method for generating
/// gamma variables", 2000), with their boost for shapes below 1.
fn gamma(rng: &mut SeededRng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.normal();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[f64]) -> Vec<Vec<f64>> {
        values.iter().map(|&v| vec![v]).collect()
    }

    #[test]
    fn with_one_variant_it_is_the_probability_better_than_control() {
        let differences = [1.2, -0.4, 2.5, 0.3, 1.1, -0.8, 0.9, 1.7];
        let shares = probability_best(&column(&differences), 1);
        let comparison =
            super::super::paired_comparison(&[0.0; 8], &differences, 0.95, 0.8).unwrap();
        assert_eq!(shares[1], comparison.probability_better);
        assert!((shares[0] + shares[1] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn shares_sum_to_one_and_are_deterministic_for_the_seed() {
        let rows: Vec<Vec<f64>> = (0..12)
            .map(|c| {
                let noise = ((c * 7) % 5) as f64 - 2.0;
                vec![noise + 0.5, noise * 0.5 - 0.2, -noise]
            })
            .collect();
        let first = probability_best(&rows, 11);
        assert_eq!(first.len(), 4);
        assert!((first.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(probability_best(&rows, 11), first);
        assert_ne!(probability_best(&rows, 12), first);
    }

    #[test]
    fn a_clearly_better_variant_is_almost_surely_best() {
        let rows: Vec<Vec<f64>> = (0..10)
            .map(|c| {
                let noise = ((c * 3) % 4) as f64 - 1.5;
                vec![noise * 0.2, 10.0 + noise, 0.5 - noise * 0.3]
            })
            .collect();
        let shares = probability_best(&rows, 5);
        assert!(shares[2] > 0.999, "{shares:?}");
    }

    #[test]
    fn two_variants_that_move_together_split_by_their_gap_not_their_noise() {
        // Variant B = variant A + 1 on every cell: however noisy A is, B is always ahead of
        // it. An unpaired reading would give A a fair share.
        let rows: Vec<Vec<f64>> = (0..10)
            .map(|c| {
                let a = ((c * 5) % 7) as f64 * 3.0 - 9.0;
                vec![a, a + 1.0]
            })
            .collect();
        let shares = probability_best(&rows, 3);
        assert_eq!(shares[1], 0.0, "{shares:?}");
    }

    #[test]
    fn chi_square_draws_have_the_right_mean_and_variance() {
        let mut rng = SeededRng::new(9);
        for df in [1usize, 2, 7, 30] {
            let draws: Vec<f64> = (0..40_000).map(|_| chi_square(&mut rng, df)).collect();
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let variance =
                draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64;
            let d = df as f64;
            // Mean df, variance 2·df; 40 000 draws put both within a few percent.
            assert!((mean - d).abs() < 0.05 * d + 0.05, "df {df}: mean {mean}");
            assert!(
                (variance - 2.0 * d).abs() < 0.1 * 2.0 * d + 0.1,
                "df {df}: variance {variance}"
            );
        }
    }

    #[test]
    fn fewer_than_two_cells_know_nothing() {
        assert_eq!(probability_best(&[vec![3.0, 1.0]], 1), vec![1.0 / 3.0; 3]);
        assert_eq!(probability_best(&[], 1), vec![1.0]);
    }
}
