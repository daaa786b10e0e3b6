"""scikit-learn's bundled digits: the practitioner's smoke test of the whole training path."""

from sklearn.model_selection import train_test_split

import chainrule as cr


def test_digits_reach_97_percent():
    X, y = cr.datasets.digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    Xtr, mean, scale = cr.datasets.standardize(Xtr)
    Xte, _, _ = cr.datasets.standardize(Xte, mean, scale)
    net = cr.Network(
        [cr.Dense(64, 100, "relu"), cr.Dense(100, 10, "softmax")], loss="cross_entropy", seed=0
    )
    history = net.fit(Xtr, ytr, epochs=30, batch_size=32, optimizer=cr.SGD(0.05, momentum=0.9))
    assert net.accuracy(Xte, yte) >= 0.97
    assert history.loss[-1] < history.loss[0]
