"""Plots of training: :class:`LossCurveDisplay`.

matplotlib is an optional dependency (``pip install "sklosses[plot]"``); it is
imported when something is drawn.
"""

import re

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._optional import import_optional


def _pyplot():
    return import_optional("matplotlib.pyplot", "LossCurveDisplay", extra="plot")


class LossCurveDisplay:
    """Training and validation loss per epoch, with the best epoch marked.

    The way to judge a fit is its trend: the training objective must fall,
    and a validation loss that turns up while the training objective keeps
    falling is over-fitting. Create it with :meth:`from_estimator`, or from
    curves and call :meth:`plot`. It follows scikit-learn's display
    conventions.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Mean training objective (loss plus penalty) per epoch.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the validation split per epoch.
    best_epoch : int, default=None
        The epoch to mark, counted from 1.
    loss_name : str, default=None
        Name of the loss, for the axis label.
    estimator_name : str, default=None
        Name of the estimator, for the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    lines_ : list of matplotlib Line2D
        The training curve, then the validation curve when there is one.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at the best epoch.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the number
        of training samples.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_diabetes
    >>> from sklosses import SGDRegressor
    >>> from sklosses.plotting import LossCurveDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = SGDRegressor(learning_rate="auto", early_stopping=True,
    ...                      random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(model)
    >>> [line.get_label() for line in display.lines_]
    ['training objective', 'validation loss']
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        best_epoch=None,
        loss_name=None,
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.best_epoch = best_epoch
        self.loss_name = loss_name
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        log_scale : bool, default=False
            Use a logarithmic loss axis, to see the end of a long decrease.

        Returns
        -------
        display : LossCurveDisplay
            This object, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        prefix = f"{self.estimator_name}: " if self.estimator_name else ""
        epochs = np.arange(1, len(self.loss_curve) + 1)
        (training,) = ax.plot(
            epochs, self.loss_curve, marker=".", label=f"{prefix}training objective"
        )
        self.lines_ = [training]
        if self.validation_loss_curve is not None:
            (validation,) = ax.plot(
                np.arange(1, len(self.validation_loss_curve) + 1),
                self.validation_loss_curve,
                marker=".",
                label=f"{prefix}validation loss",
            )
            self.lines_.append(validation)
        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            self.best_epoch_line_ = ax.axvline(
                self.best_epoch,
                color="0.4",
                linestyle=":",
                label=f"best epoch ({self.best_epoch})",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(self.loss_name or "loss")
        if log_scale:
            ax.set_yscale("log")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, log_scale=False):
        """Draw the curves a fitted sklosses estimator recorded.

        Parameters
        ----------
        estimator : fitted SGDClassifier or SGDRegressor, or a Pipeline ending
            in one
            The fitted model; its ``loss_curve_``, ``validation_loss_curve_``
            (with early stopping) and ``best_epoch_`` are drawn.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        name : str, default=None
            Name of the estimator in the legend.
        log_scale : bool, default=False
            Use a logarithmic loss axis.

        Returns
        -------
        display : LossCurveDisplay
        """
        _pyplot()
        model = estimator[-1] if hasattr(estimator, "steps") else estimator
        check_is_fitted(model)
        if not hasattr(model, "loss_curve_"):
            raise TypeError(
                f"{type(model).__name__} records no loss_curve_: LossCurveDisplay "
                "draws sklosses's SGDClassifier and SGDRegressor."
            )
        loss_name = f"{_rounded_repr(model.loss_)}: objective / loss"
        return cls(
            loss_curve=model.loss_curve_,
            validation_loss_curve=getattr(model, "validation_loss_curve_", None),
            best_epoch=getattr(model, "best_epoch_", None),
            loss_name=loss_name,
            estimator_name=name,
        ).plot(ax=ax, log_scale=log_scale)


def _rounded_repr(loss):
    """``repr(loss)`` with long numbers cut to 4 significant digits."""
    return re.sub(
        r"-?\d+\.\d{5,}(e-?\d+)?", lambda m: f"{float(m.group()):.4g}", repr(loss)
    )
