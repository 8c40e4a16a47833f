"""Export the real datasets that optlab ships into small CSV files in ``optlab/datasets/``.

Dev-only: needs scikit-learn (its bundled copies of the public UCI / Efron et al. data); optlab
itself reads the CSVs with NumPy at run time, no download. Run from the repository root:

    .venv/bin/python tools/export_datasets.py

Each file: ``#`` comment lines (provenance, license), one header line with the column names (the
last column is the target), then one sample per line. Numbers are written in their shortest form
that reads back to the same float64, and the script checks that they do.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets

OUT = Path(__file__).resolve().parent.parent / "optlab" / "datasets"


def _fmt(v: float) -> str:
    return np.format_float_positional(float(v), unique=True, trim="-")


def _write(name: str, X, y, columns, target, provenance: list[str]) -> Path:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    lines = [f"# {line}" for line in provenance]
    lines.append(f"# Exported with scikit-learn {sklearn.__version__} by tools/export_datasets.py")
    lines.append(",".join(list(columns) + [target]))
    for row, t in zip(X, y):
        lines.append(",".join([_fmt(v) for v in row] + [_fmt(t)]))
    path = OUT / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")][1:]
    back = np.loadtxt(io.StringIO("\n".join(rows)), delimiter=",", ndmin=2)
    assert np.array_equal(back[:, :-1], X) and np.array_equal(back[:, -1], y.astype(float)), name
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    d = datasets.load_diabetes(scaled=False)
    _write("diabetes", d.data, d.target, d.feature_names, "progression", [
        "Diabetes: 442 patients, 10 baseline variables (age, sex, bmi, bp, s1..s6 blood serum measurements),",
        "target = a quantitative measure of disease progression one year after baseline. Raw, unscaled values.",
        "s1 tc total serum cholesterol, s2 ldl, s3 hdl, s4 tch (total cholesterol / HDL), s5 ltg, s6 glu.",
        "Source: B. Efron, T. Hastie, I. Johnstone, R. Tibshirani (2004), Least Angle Regression,",
        "Annals of Statistics 32(2):407-499; https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html",
        "Copy used: sklearn.datasets.load_diabetes(scaled=False) (scikit-learn, BSD-3-Clause).",
    ])
    b = datasets.load_breast_cancer()
    _write("breast_cancer", b.data, b.target, b.feature_names, "benign", [
        "Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features of cell nuclei from images of",
        "fine needle aspirates (mean, standard error and worst value of 10 measurements).",
        "Label: 0 = malignant (212), 1 = benign (357), as in scikit-learn.",
        "Source: W. H. Wolberg, W. N. Street, O. L. Mangasarian (November 1995), UCI Machine Learning Repository,",
        "https://archive.ics.uci.edu/ml/datasets/Breast+Cancer+Wisconsin+(Diagnostic) (UCI: CC BY 4.0).",
        "First use: W. N. Street, W. H. Wolberg, O. L. Mangasarian (1993), Nuclear feature extraction for",
        "breast tumor diagnosis, IS&T/SPIE Symposium on Electronic Imaging, vol. 1905, 861-870.",
        "Copy used: sklearn.datasets.load_breast_cancer() (scikit-learn, BSD-3-Clause).",
    ])
    g = datasets.load_digits()
    _write("digits", g.data, g.target, g.feature_names, "digit", [
        "Optical Recognition of Handwritten Digits: 1797 images of 8x8 pixels, values 0..16",
        "(counts of on pixels in 4x4 blocks of a 32x32 bitmap), labels 0..9; pixel_r_c = row r, column c.",
        "Source: E. Alpaydin, C. Kaynak (July 1998), Bogazici University, UCI Machine Learning Repository,",
        "https://archive.ics.uci.edu/ml/datasets/optical+recognition+of+handwritten+digits (UCI: CC BY 4.0);",
        "these are the 1797 samples of its test set (optdigits.tes), as shipped by scikit-learn.",
        "Copy used: sklearn.datasets.load_digits() (scikit-learn, BSD-3-Clause).",
    ])
    total = sum(p.stat().st_size for p in OUT.glob("*.csv"))
    for p in sorted(OUT.glob("*.csv")):
        print(f"{p.name}: {p.stat().st_size / 1024:.1f} KiB")
    print(f"total: {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
