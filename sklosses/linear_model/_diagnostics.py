"""What a fit says when its result may be poor: errors that name what went
wrong (a NaN in ``X``, a model that overflowed), and warnings that name the
cause and what to try (steps too large, rows cut, no convergence)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._engine import _sgd
from ._schedules import AUTO_MAX_VISITS
from ._validation import check_finite


class Diagnostics:
    """The errors and warnings of an SGD estimator's fit."""

    def _check_epoch(self, X, epoch, n_clipped, n_nonfinite, finite, warned):
        """What the engine found in epoch ``epoch``: raise for a NaN or
        infinity in ``X``, or for a model or objective no longer ``finite``;
        warn of clipped gradients unless the run ``warned`` already. Returns
        whether the run has warned."""
        if n_nonfinite:
            check_finite(X, self)  # NaN or infinity in X, or divergence
        if not finite:
            self._raise_overflow(epoch)
        if n_clipped and not warned:
            self._warn_diverging(epoch, n_clipped)
            return True
        return warned

    def _raise_overflow(self, epoch):
        raise ValueError(
            f"Floating-point under-/overflow occurred at epoch #{epoch}. "
            "Scaling input data with StandardScaler or MinMaxScaler might "
            f"help. The model is no longer finite.{self._smaller_steps()}"
        )

    def _warn_diverging(self, epoch, n_clipped):
        # scikit-learn clips such gradients silently; the coefficients stay
        # finite but mean little, so say so without failing the fit.
        warnings.warn(
            f"SGD is diverging at epoch #{epoch}: the loss gradient exceeded "
            f"{_sgd.MAX_DLOSS:.0e} for {n_clipped} samples and was clipped. The "
            "steps are too large for this data; scaling the input (and, for "
            "a regression, the target) with StandardScaler or MinMaxScaler "
            f"might help.{self._smaller_steps()}",
            ConvergenceWarning,
            stacklevel=4,
        )

    @staticmethod
    def _warn_cut_rows(n_cut, split_norm):
        warnings.warn(
            f"{n_cut} rows have a weighted squared norm over {AUTO_MAX_VISITS} "
            f"times {split_norm:.3g}, the 90th percentile of the rows': "
            "learning_rate='auto' trains them with smaller steps, as if their "
            "weight were smaller. Rows this far out are often data errors; "
            "clipping them, or scaling with RobustScaler or "
            "QuantileTransformer, would let them count in full.",
            UserWarning,
            stacklevel=4,
        )

    def _smaller_steps(self):
        """What makes this schedule's steps smaller, as advice to append."""
        if self.learning_rate == "auto":
            return ""  # the steps follow the data's scale
        if self.learning_rate == "optimal":
            return " A larger alpha might help too."
        return " A smaller eta0 might help too."

    def _warn_if_not_converged(self, results):
        """Warn when a fit's result may be poor: the training objective ended
        far above its best, or was still falling when ``max_iter`` stopped it.

        ``results``: the :class:`SGDResult` of each model of the fit.
        """
        auto = self.learning_rate == "auto"
        # The averaged model's objective, watched by "auto", moves smoothly;
        # the objective of the iterates, which the other schedules watch,
        # wanders more.
        far = 0.1 if auto else 1.0
        for result in results:
            curve = result.curves["loss"]
            best = int(np.argmin(curve))
            excess = curve[-1] - curve[best]
            if excess > far * abs(curve[best]) and excess > 1e-12:
                above = f"{excess / abs(curve[best]):.0%} " if curve[best] else ""
                warnings.warn(
                    f"The training objective ended at {curve[-1]:.4g}, {above}"
                    f"above its best, {curve[best]:.4g} at epoch {best + 1}: "
                    "the steps were too large for this data. Scaling the input "
                    "with StandardScaler or MinMaxScaler might help."
                    f"{self._smaller_steps()}",
                    ConvergenceWarning,
                    stacklevel=3,
                )
                return
        if self.tol is None or self.n_iter_ < self.max_iter:
            return
        if not auto:
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return
        falling = [r for r in results if r.remaining > self.tol]
        if falling:
            worst = max(falling, key=lambda r: r.remaining)
            models = "" if len(results) == 1 else f" (of {len(falling)} models)"
            warnings.warn(
                "Maximum number of iteration reached before convergence: the "
                f"training objective{models} was still falling at epoch "
                f"{worst.n_iter}, by {worst.remaining / worst.n_iter:.2g} of its "
                "value in the last epoch, an estimated "
                f"{worst.remaining:.2g} of its value above its minimum "
                f"(tol={self.tol}). Consider increasing max_iter to improve the "
                "fit; where the classes are nearly separable, or categories "
                "rare, a larger alpha also makes the objective quicker to "
                "minimize.",
                ConvergenceWarning,
                stacklevel=3,
            )
