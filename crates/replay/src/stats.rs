//! Small statistics shared by the engines and the generators: the median
//! of prices, and the one standard normal sampler (Box-Muller).

use rand::Rng;
use shortfall_core::Wad;

/// The lower median (the middle value, the lower of the two middle ones
/// for an even count); None when `v` is empty.
pub(crate) fn median(mut v: Vec<Wad>) -> Option<Wad> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    Some(v[(v.len() - 1) / 2])
}

/// Box-Muller: two independent standard normals (cosine and sine arms)
/// from two uniforms, `u1` in (0, 1].
fn box_muller(u1: f64, u2: f64) -> (f64, f64) {
    let r = (-2.0 * u1.ln()).sqrt();
    let th = std::f64::consts::TAU * u2;
    (r * th.cos(), r * th.sin())
}

/// A standard normal, the cosine arm only, `u1` drawn from
/// `[EPSILON, 1)` (the book generators' stream: changing the draw would
/// change every generated book).
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    box_muller(u1, u2).0
}

/// Standard normals two per pair of uniforms, `u1 = 1 - U[0, 1)` (the
/// simulated paths' stream): the sine arm is kept for the next draw.
#[derive(Debug, Default)]
pub(crate) struct NormalPairs {
    spare: Option<f64>,
}

impl NormalPairs {
    pub(crate) fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen::<f64>();
        let (c, s) = box_muller(u1, u2);
        self.spare = Some(s);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn median_is_the_lower_middle() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![Wad(3), Wad(1), Wad(2)]), Some(Wad(2)));
        assert_eq!(median(vec![Wad(4), Wad(1), Wad(3), Wad(2)]), Some(Wad(2)));
    }

    #[test]
    fn pairs_use_both_arms_of_one_draw() {
        let mut a = ChaCha8Rng::seed_from_u64(1);
        let mut b = a.clone();
        let mut n = NormalPairs::default();
        let (x, y) = (n.sample(&mut a), n.sample(&mut a));
        let u1: f64 = 1.0 - b.gen::<f64>();
        let u2: f64 = b.gen::<f64>();
        assert_eq!((x, y), box_muller(u1, u2));
        // The second draw used no randomness.
        assert_eq!(a.gen::<u64>(), b.gen::<u64>());
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut r = ChaCha8Rng::seed_from_u64(9);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut r)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
    }
}
