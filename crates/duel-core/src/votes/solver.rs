//! The numeric solver under both fits ([`super::rating`] and
//! [`super::style_control`]): Newton's method with a backtracking line search on a
//! smooth, strictly convex objective, and the Cholesky solve of each Newton system.
//! It knows nothing of models or votes: an objective is a [`Convex`].

/// A smooth, strictly convex function for [`newton`] to minimise.
pub(crate) trait Convex {
    /// The number of variables.
    fn dim(&self) -> usize;
    /// The value at `x`; with `derivatives`, also writes the gradient and the Hessian
    /// (row-major, `dim × dim`) over whatever the two buffers held.
    fn eval(&self, x: &[f64], derivatives: Option<(&mut [f64], &mut [f64])>) -> f64;
    /// The gradient and the Hessian alone, for an objective that saves work without
    /// the value.
    fn derivatives(&self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) {
        self.eval(x, Some((grad, hess)));
    }
}

/// When [`newton`] stops, besides after 100 steps, and when it trusts a step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tolerance {
    /// Every component of the gradient below this: converged.
    pub gradient: f64,
    /// A step that moved no variable by more than this was the last.
    pub moved: f64,
    /// A Newton step smaller than this in every variable is taken whole, without
    /// looking at the value there, and is the last: this close to the optimum Newton
    /// converges quadratically, so what is left is of the order of its square. 0: never.
    pub last_step: f64,
    /// A Newton step smaller than this in every variable is taken whole without the
    /// line search (pure Newton, where the objective is all but quadratic), as long
    /// as the gradient shrinks; so the value is not needed. 0: never.
    pub trusted_step: f64,
}

fn largest(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Minimises `objective` from `start` by Newton's method with a backtracking line
/// search. The value, gradient and Hessian are computed in one pass at each point
/// tried, so an accepted point's derivatives are ready for the next step.
pub(crate) fn newton(objective: &impl Convex, start: &[f64], tolerance: Tolerance) -> Vec<f64> {
    let n = objective.dim();
    let mut theta = start.to_vec();
    let mut grad = vec![0.0; n];
    let mut hess = vec![0.0; n * n];
    // The value at theta, when it was computed: not yet where the first step may well
    // be trusted.
    let mut f = if tolerance.trusted_step > 0.0 {
        objective.derivatives(&theta, &mut grad, &mut hess);
        None
    } else {
        Some(objective.eval(&theta, Some((&mut grad, &mut hess))))
    };
    for _ in 0..100 {
        if grad.iter().all(|g| g.abs() < tolerance.gradient) {
            break;
        }
        let Some(mut step) = cholesky_solve(&mut hess, &grad, n) else {
            break;
        };
        if step.iter().all(|s| s.abs() < tolerance.last_step) {
            for (x, s) in theta.iter_mut().zip(&step) {
                *x -= s;
            }
            break;
        }
        if step.iter().all(|s| s.abs() < tolerance.trusted_step) {
            let before = largest(&grad);
            let next: Vec<f64> = theta.iter().zip(&step).map(|(x, s)| x - s).collect();
            objective.derivatives(&next, &mut grad, &mut hess);
            if largest(&grad) < before {
                let moved = largest(&step);
                theta = next;
                f = None;
                if moved < tolerance.moved {
                    break;
                }
                continue;
            }
            // No progress: back to theta, and the line search.
            f = Some(objective.eval(&theta, Some((&mut grad, &mut hess))));
            let Some(again) = cholesky_solve(&mut hess, &grad, n) else {
                break;
            };
            step = again;
        }
        let f_here = match f {
            Some(f) => f,
            None => objective.eval(&theta, None),
        };
        let slope: f64 = -grad.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>();
        let mut t = 1.0;
        let mut next: Vec<f64>;
        loop {
            next = theta.iter().zip(&step).map(|(x, s)| x - t * s).collect();
            let f_next = objective.eval(&next, Some((&mut grad, &mut hess)));
            if f_next <= f_here + 1e-4 * t * slope || t < 1e-10 {
                f = Some(f_next);
                break;
            }
            t /= 2.0;
        }
        let moved = theta
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        theta = next;
        if moved < tolerance.moved {
            break;
        }
    }
    theta
}

/// Solves `a·x = b` for a symmetric positive definite `a` (row-major, overwritten).
pub(crate) fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= a[i * n + k] * y[k];
        }
        y[i] /= a[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= a[k * n + i] * y[k];
        }
        y[i] /= a[i * n + i];
    }
    Some(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ½·xᵀAx − bᵀx, whose minimum solves A·x = b.
    struct Quadratic {
        a: [f64; 4],
        b: [f64; 2],
    }

    impl Convex for Quadratic {
        fn dim(&self) -> usize {
            2
        }

        fn eval(&self, x: &[f64], derivatives: Option<(&mut [f64], &mut [f64])>) -> f64 {
            let ax = [
                self.a[0] * x[0] + self.a[1] * x[1],
                self.a[2] * x[0] + self.a[3] * x[1],
            ];
            if let Some((grad, hess)) = derivatives {
                grad[0] = ax[0] - self.b[0];
                grad[1] = ax[1] - self.b[1];
                hess.copy_from_slice(&self.a);
            }
            0.5 * (x[0] * ax[0] + x[1] * ax[1]) - self.b[0] * x[0] - self.b[1] * x[1]
        }
    }

    const TIGHT: Tolerance = Tolerance {
        gradient: 1e-12,
        moved: 1e-14,
        last_step: 0.0,
        trusted_step: 0.0,
    };

    #[test]
    fn cholesky_solves_a_positive_definite_system_and_refuses_another() {
        let mut a = [4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut a, &[2.0, 1.0], 2).expect("positive definite");
        // 4x + 2y = 2, 2x + 3y = 1: x = 0.5, y = 0.
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        let mut indefinite = [1.0, 2.0, 2.0, 1.0];
        assert_eq!(cholesky_solve(&mut indefinite, &[1.0, 1.0], 2), None);
    }

    #[test]
    fn newton_finds_a_quadratic_s_minimum_with_and_without_trusted_steps() {
        let q = Quadratic {
            a: [4.0, 2.0, 2.0, 3.0],
            b: [2.0, 1.0],
        };
        for tolerance in [
            TIGHT,
            Tolerance {
                trusted_step: 10.0,
                ..TIGHT
            },
        ] {
            let x = newton(&q, &[5.0, -3.0], tolerance);
            assert!((x[0] - 0.5).abs() < 1e-9 && x[1].abs() < 1e-9, "{x:?}");
        }
    }
}
