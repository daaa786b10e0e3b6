"""Learning From Data, lecture 21: digit 1 versus the rest, gradient descent versus SGD.

Each image is described by two numbers, as in the lecture: its *average intensity* (mean pixel
value, pixels scaled to [0, 1]) and its *symmetry* (minus the mean absolute difference between
the image and its mirror images, left-right and upside-down, averaged). A 2-10-1 tanh network
with targets ±1 and E_in = mean (h(x) − y)² is trained from the same initial weights by batch
gradient descent (one step per epoch) and by stochastic gradient descent (one step per sample),
each with the best learning rate of a small grid, and E_in is plotted as log10(error) against
log10(epoch), as on the slide.

The images are scikit-learn's bundled 8×8 digits, not the lecture's 16×16 postal digits. These
were size-normalised when they were made, so the average intensity is nearly the same for every
digit and the two features separate the 1s from the rest much less well than on the slide: the
demo prints the per-digit feature means and the accuracy against the majority-class baseline,
and the error curves stay far above the slide's. The optimisation result is the same: in the
same number of epochs, SGD reaches the lower error.
"""

from __future__ import annotations

import numpy as np

from ..datasets import digits, standardize
from ..layers import Dense
from ..network import Network
from ..optimizers import SGD

TITLE = "Digit 1 vs the rest from symmetry and intensity: gradient descent vs SGD"

EPOCHS = 100  # both methods, for the comparison
GD_EPOCHS = 1000  # batch gradient descent continues, to show how far behind it is
GD_RATES = (0.1, 0.3, 1.0)
SGD_RATES = (0.001, 0.003, 0.01)


def features(images: np.ndarray) -> np.ndarray:
    """(n, 8, 8) images with pixels in [0, 1] → (n, 2): symmetry, average intensity."""
    lr = np.abs(images - images[:, :, ::-1]).mean(axis=(1, 2))
    ud = np.abs(images - images[:, ::-1, :]).mean(axis=(1, 2))
    return np.c_[-(lr + ud) / 2, images.mean(axis=(1, 2))]


def _train(X, t, batch_size, lr, epochs):
    net = Network([Dense(2, 10, "tanh"), Dense(10, 1, "tanh")], loss="mse", seed=0, dtype="float64")
    errors: list[float] = []
    net.fit(
        X,
        t,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=SGD(lr),
        callbacks=[lambda n, e, logs: errors.append(n.loss(X, t))],  # E_in after each epoch
    )
    return net, errors


def run(demo) -> None:
    pixels, labels = digits()
    images = pixels.reshape(-1, 8, 8) / 16.0
    F = features(images)
    X, mean, scale = standardize(F)
    t = np.where(labels == 1, 1.0, -1.0)
    ones = labels == 1
    demo.say(f"{len(X)} images, {ones.sum()} of them 1s; features per digit (mean):")
    demo.say("  digit  symmetry  intensity")
    for k in range(10):
        m = labels == k
        demo.say(f"    {k}    {F[m, 0].mean():7.3f}    {F[m, 1].mean():7.3f}")
    demo.say("  (the intensity hardly varies: these 8×8 images were size-normalised)")

    gd_runs = {lr: _train(X, t, None, lr, EPOCHS) for lr in GD_RATES}
    sgd_runs = {lr: _train(X, t, 1, lr, EPOCHS) for lr in SGD_RATES}
    gd_lr = min(gd_runs, key=lambda lr: gd_runs[lr][1][-1])
    sgd_lr = min(sgd_runs, key=lambda lr: sgd_runs[lr][1][-1])
    # Gradient descent goes on from where its best run stopped (plain full-batch steps have no
    # state to carry, so this is the same as one run of GD_EPOCHS epochs).
    gd_net, gd_err = gd_runs[gd_lr]
    gd_net.fit(
        X,
        t,
        epochs=GD_EPOCHS - EPOCHS,
        optimizer=SGD(gd_lr),
        callbacks=[lambda n, e, logs: gd_err.append(n.loss(X, t))],
    )
    sgd_net, sgd_err = sgd_runs[sgd_lr]
    gd_at = gd_err[EPOCHS - 1]
    sgd_at = sgd_err[-1]
    catch = next((k + 1 for k, e in enumerate(gd_err) if e <= sgd_at), None)
    baseline = float(np.mean(~ones))
    acc_sgd = float(np.mean(sgd_net.predict_classes(X) == ones))
    acc_gd = float(np.mean(gd_net.predict_classes(X) == ones))
    demo.say()
    demo.say("2-10-1 tanh network, targets ±1, E_in = mean (h(x) − y)², same initial weights;")
    demo.say(
        f"best learning rate at epoch {EPOCHS}: gradient descent {gd_lr:g} of {GD_RATES}, "
        f"SGD {sgd_lr:g} of {SGD_RATES}"
    )
    demo.say(f"  E_in after {EPOCHS} epochs: gradient descent {gd_at:.4f}, SGD {sgd_at:.4f}")
    if catch is None:
        demo.say(
            f"  gradient descent has not reached SGD's error after {GD_EPOCHS} epochs "
            f"(E_in {gd_err[-1]:.4f})"
        )
    else:
        demo.say(f"  gradient descent needs {catch} epochs to reach it")
    demo.say(
        f"  accuracy, 1 vs rest: SGD {acc_sgd:.1%}, gradient descent ({GD_EPOCHS} epochs) "
        f"{acc_gd:.1%}; always answering 'not 1' scores {baseline:.1%}"
    )
    demo.result.numbers.update(
        {
            "n": len(X),
            "ones": int(ones.sum()),
            "feature_means": {int(k): F[labels == k].mean(axis=0).tolist() for k in range(10)},
            "gd_lr": gd_lr,
            "sgd_lr": sgd_lr,
            "gd_error": [float(e) for e in gd_err],
            "sgd_error": [float(e) for e in sgd_err],
            "gd_error_at_epochs": float(gd_at),
            "sgd_error_at_epochs": float(sgd_at),
            "gd_epochs_to_match_sgd": catch,
            "accuracy_sgd": acc_sgd,
            "accuracy_gd": acc_gd,
            "baseline": baseline,
            "epochs": EPOCHS,
        }
    )
    if demo.plots:
        _figures(demo, F, labels, mean, scale, sgd_net, gd_err, sgd_err, gd_lr, sgd_lr)


def _figures(demo, F, labels, mean, scale, net, gd_err, sgd_err, gd_lr, sgd_lr) -> None:
    from .. import plot

    fig, ax = plot.figure(6.4, 4.6)
    ax.plot(
        np.log10(np.arange(1, len(gd_err) + 1)),
        np.log10(gd_err),
        label=f"gradient descent (batch, η = {gd_lr:g})",
        color=plot.CLASS_COLORS[0],
        lw=1.8,
    )
    ax.plot(
        np.log10(np.arange(1, len(sgd_err) + 1)),
        np.log10(sgd_err),
        label=f"SGD (one sample per step, η = {sgd_lr:g})",
        color=plot.CLASS_COLORS[1],
        lw=1.8,
    )
    ax.axvline(np.log10(EPOCHS), color="gray", ls=":", lw=1)
    ax.text(np.log10(EPOCHS), max(np.log10(gd_err)), f" {EPOCHS} epochs", fontsize=8, va="top")
    ax.set_xlabel("log10(epoch)")
    ax.set_ylabel("log10(E_in)")
    ax.set_title("Digit 1 vs rest: in-sample error, gradient descent vs SGD")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    demo.save(fig, "digits-error.png")

    fig, axes = plot.figure(12, 4.8, 1, 2)
    ones = (labels == 1).astype(int)
    plot.scatter_classes(axes[0], F, ones, ["other digits", "digit 1"], s=10)
    axes[0].set_xlabel("symmetry (− mean |image − mirror image|)")
    axes[0].set_ylabel("average intensity")
    axes[0].set_title("The two features of each image")
    axes[0].grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    plot.decision_boundary(
        axes[1],
        net,
        F,
        ones,
        features=lambda P: (P - mean) / scale,
        names=["other digits", "digit 1"],
        margin=0.03,
        title="Boundary learned by SGD (ŷ = 0 line)",
        xlabel="symmetry",
        ylabel="average intensity",
    )
    fig.suptitle("Learning From Data's digits experiment on scikit-learn's 8×8 digits")
    demo.save(fig, "digits-features.png")
