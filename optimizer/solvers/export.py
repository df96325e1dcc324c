"""Write a ``LinearModel`` as CPLEX LP (``.lp``) or free MPS (``.mps``) for audit.

``write_model(model, path)`` chooses the format by suffix. The text is
deterministic (same model → same bytes), uses the model's column and row
names sanitised for the format, and writes every coefficient with ``repr``
so it reads back exactly. Infinite bounds become ``free``/``-inf`` (LP) or
``FR``/``MI``/``PL`` (MPS); integer columns go to ``Generals``/``Binary``
(LP) or between ``MARKER INTORG``/``INTEND`` lines (MPS, with explicit
bounds so no reader applies the old "integer means binary" default).
A row with both sides infinite constrains nothing and is not written. LP
readers take no ``lo <= expr <= hi`` syntax, so in .lp a ranged row is
written as two rows ``<name>_lo`` (≥) and ``<name>_hi`` (≤); .mps keeps one
row with a RANGES entry.
The objective constant is written as a constant term (LP) and as minus the
objective row's RHS (MPS convention).

Names: a non-ASCII character (中文) becomes ``u`` + its code point in hex,
other characters outside ``[A-Za-z0-9_.]`` (spaces, ``:``) become ``_``; a
name that would start with a digit, ``.`` or ``e``/``E`` + digit, or be a
format keyword (``free``, ``bin``, ``end`` ...), gets a leading ``_``;
duplicates after sanitising get ``_<index>`` appended.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.allocation.model import LinearModel
from optimizer.errors import OutputError
from optimizer.solvers.base import integer_mask

_KEYWORDS = {"free", "inf", "infinity", "st", "s.t.", "subject", "to", "bounds", "bound",
             "end", "generals", "general", "gen", "binary", "binaries", "bin", "minimize",
             "maximize", "min", "max", "obj", "rhs", "bnd", "rng", "marker"}
_TERMS_PER_LINE = 8     # keep LP lines short for strict readers (CPLEX: 560 chars)


def write_model(model: LinearModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (.lp or .mps); returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".lp", ".mps"):
        raise OutputError(f"cannot export a model to {path.name!r}: the name must end in "
                          f".lp or .mps", file=path)
    text = lp_text(model) if suffix == ".lp" else mps_text(model)
    try:
        path.write_text(text, encoding="ascii", newline="\n")
    except OSError as exc:
        raise OutputError(f"cannot write the model: {exc.strerror}", file=path) from exc
    return path


def sanitise_names(names: np.ndarray) -> np.ndarray:
    """Format-safe, unique ASCII names (see the module docstring)."""
    s = pd.Series(np.asarray(names, dtype=object)).astype(str)
    # 中文 stays readable as its code points (企业 → u4f01u4e1a), the rest becomes "_".
    s = s.str.replace(r"[^\x00-\x7f]", lambda m: f"u{ord(m.group()):04x}", regex=True)
    s = s.str.replace(r"[^A-Za-z0-9_.]", "_", regex=True)
    bad_start = s.str.match(r"^([0-9.]|[eE][0-9]|$)") | s.str.lower().isin(_KEYWORDS)
    s = s.where(~bad_start, "_" + s)
    dup = s.duplicated(keep="first")
    s = s.where(~dup, s + "_" + pd.Series(np.arange(s.size)).astype(str))
    return s.to_numpy(dtype=object)


def _fmt(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.size, dtype=object)
    out[:] = list(map(repr, np.asarray(values, dtype=np.float64).tolist()))
    return out


def _clean_matrix(model: LinearModel) -> sp.csr_matrix:
    A = model.A.tocsr(copy=True).astype(np.float64)
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    return A


def _names(model: LinearModel) -> tuple[np.ndarray, np.ndarray]:
    cols, rows = model.names_or_default()
    return sanitise_names(cols), sanitise_names(rows)


# ---------------------------------------------------------------- CPLEX LP

def lp_text(model: LinearModel) -> str:
    cols, rows = _names(model)
    parts = ["\\ MuJun allocation model (CPLEX LP format)\n",
             "Maximize\n" if model.sense == "max" else "Minimize\n",
             _lp_objective(model, cols), "Subject To\n", _lp_rows(model, cols, rows),
             "Bounds\n", _lp_bounds(model, cols), _lp_integers(model, cols), "End\n"]
    return "".join(parts)


def _lp_terms(coefs: np.ndarray, names: np.ndarray) -> np.ndarray:
    sign = np.where(coefs < 0, "- ", "+ ").astype(object)
    return sign + _fmt(np.abs(coefs)) + " " + names


def _lp_objective(model: LinearModel, cols: np.ndarray) -> str:
    c = np.asarray(model.c, dtype=np.float64)
    nz = np.flatnonzero(c)
    terms = list(_lp_terms(c[nz], cols[nz])) if nz.size else [f"0 {cols[0]}"] if cols.size else []
    if model.offset:
        terms.append(_lp_terms(np.array([model.offset]), np.array([""], dtype=object))[0].rstrip())
    lines = [" ".join(terms[k:k + _TERMS_PER_LINE]) for k in range(0, len(terms), _TERMS_PER_LINE)]
    return " obj: " + "\n   ".join(lines or ["0"]) + "\n"


def _lp_rows(model: LinearModel, cols: np.ndarray, rows: np.ndarray) -> str:
    """Terms are built for all nonzeros at once; then one join per row."""
    A = _clean_matrix(model)
    lo, hi = np.asarray(model.row_lb, np.float64), np.asarray(model.row_ub, np.float64)
    lengths = np.diff(A.indptr)
    terms = _lp_terms(A.data, cols[A.indices]) if A.nnz else np.empty(0, dtype=object)
    pos = np.arange(A.nnz) - np.repeat(A.indptr[:-1], lengths)
    breaks = (pos % _TERMS_PER_LINE) == _TERMS_PER_LINE - 1
    terms[breaks] = terms[breaks] + "\n  "
    empty_body = f"0 {cols[0]}" if cols.size else "0"   # a row needs a term
    ranged = np.isfinite(lo) & np.isfinite(hi) & (lo != hi)
    tails = _lp_senses(lo, hi)
    row_terms = np.split(terms, A.indptr[1:-1]) if A.shape[0] > 1 else [terms]
    text_rows = []
    for i in np.flatnonzero(np.isfinite(lo) | np.isfinite(hi)):
        body = " ".join(row_terms[i]) or empty_body
        if ranged[i]:
            # LP readers (HiGHS, CPLEX) take no "lo <= expr <= hi": two rows, same x.
            text_rows.append(f" {rows[i]}_lo: {body} >= {float(lo[i])!r}\n"
                             f" {rows[i]}_hi: {body} <= {float(hi[i])!r}\n")
        else:
            text_rows.append(f" {rows[i]}: {body} {tails[i]}\n")
    return "".join(text_rows)


def _lp_senses(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    out = np.empty(lo.size, dtype=object)
    eq = lo == hi
    out[eq] = "= " + _fmt(lo[eq])
    le = ~eq & np.isfinite(hi)
    out[le] = "<= " + _fmt(hi[le])
    ge = ~eq & ~np.isfinite(hi) & np.isfinite(lo)
    out[ge] = ">= " + _fmt(lo[ge])
    return out


def _lp_bounds(model: LinearModel, cols: np.ndarray) -> str:
    lb, ub = np.asarray(model.lb, np.float64), np.asarray(model.ub, np.float64)
    out = np.full(lb.size, "", dtype=object)
    flo, fhi = np.isfinite(lb), np.isfinite(ub)
    fixed = flo & (lb == ub)
    out[fixed] = " " + cols[fixed] + " = " + _fmt(lb[fixed]) + "\n"
    both = flo & fhi & ~fixed
    out[both] = " " + _fmt(lb[both]) + " <= " + cols[both] + " <= " + _fmt(ub[both]) + "\n"
    only_lo = flo & ~fhi & (lb != 0)
    out[only_lo] = " " + cols[only_lo] + " >= " + _fmt(lb[only_lo]) + "\n"
    only_hi = ~flo & fhi
    out[only_hi] = " -inf <= " + cols[only_hi] + " <= " + _fmt(ub[only_hi]) + "\n"
    free = ~flo & ~fhi
    out[free] = " " + cols[free] + " free\n"
    return "".join(out.tolist())


def _lp_integers(model: LinearModel, cols: np.ndarray) -> str:
    integer = integer_mask(model)
    binary = integer & (np.asarray(model.lb) == 0) & (np.asarray(model.ub) == 1)
    text = ""
    for title, mask in (("Generals", integer & ~binary), ("Binary", binary)):
        if mask.any():
            text += title + "\n" + "".join((" " + cols[mask] + "\n").tolist())
    return text


# ---------------------------------------------------------------- free MPS

def mps_text(model: LinearModel) -> str:
    cols, rows = _names(model)
    lo, hi = np.asarray(model.row_lb, np.float64), np.asarray(model.row_ub, np.float64)
    keep = np.isfinite(lo) | np.isfinite(hi)
    kind = np.where(lo == hi, "E", np.where(np.isfinite(lo), "G", "L")).astype(object)
    parts = ["NAME mujun\n", "OBJSENSE\n    MAX\n" if model.sense == "max" else
             "OBJSENSE\n    MIN\n", "ROWS\n N obj\n",
             "".join((" " + kind[keep] + " " + rows[keep] + "\n").tolist()),
             "COLUMNS\n", _mps_columns(model, cols, rows, keep), "RHS\n",
             _mps_rhs(model, rows, keep), _mps_ranges(lo, hi, rows, keep), "BOUNDS\n",
             _mps_bounds(model, cols), "ENDATA\n"]
    return "".join(parts)


def _mps_columns(model: LinearModel, cols: np.ndarray, rows: np.ndarray,
                 keep: np.ndarray) -> str:
    A = _clean_matrix(model)[np.flatnonzero(keep)].tocsc()
    A.sort_indices()
    c = sp.csr_matrix(np.asarray(model.c, np.float64).reshape(1, -1))
    # One stacked column-major matrix: row 0 is the objective, then the kept rows.
    full = sp.vstack([c, A]).tocsc()
    full.eliminate_zeros()
    full.sort_indices()
    row_names = np.concatenate([np.array(["obj"], dtype=object), rows[keep]])
    counts = np.diff(full.indptr)
    col_of = np.repeat(np.arange(model.n_cols), counts)
    lines = "    " + cols[col_of] + " " + row_names[full.indices] + " " + _fmt(full.data) + "\n"
    lonely = np.flatnonzero(counts == 0)  # a column in no row still has to be declared
    lines = np.insert(lines, full.indptr[lonely], "    " + cols[lonely] + " obj 0.0\n")
    order_col = np.insert(col_of, full.indptr[lonely], lonely)
    integer = integer_mask(model)[order_col]
    starts = integer & ~np.r_[False, integer[:-1]]
    ends = integer & ~np.r_[integer[1:], False]
    lines[starts] = "    MARKER 'MARKER' 'INTORG'\n" + lines[starts]
    lines[ends] = lines[ends] + "    MARKER 'MARKER' 'INTEND'\n"
    return "".join(lines.tolist())


def _mps_rhs(model: LinearModel, rows: np.ndarray, keep: np.ndarray) -> str:
    lo, hi = np.asarray(model.row_lb, np.float64), np.asarray(model.row_ub, np.float64)
    rhs = np.where(np.isfinite(lo), lo, hi)
    mask = keep & (rhs != 0)
    text = "".join(("    RHS " + rows[mask] + " " + _fmt(rhs[mask]) + "\n").tolist())
    if model.offset:
        text = f"    RHS obj {-float(model.offset)!r}\n" + text
    return text


def _mps_ranges(lo: np.ndarray, hi: np.ndarray, rows: np.ndarray, keep: np.ndarray) -> str:
    ranged = keep & np.isfinite(lo) & np.isfinite(hi) & (lo != hi)
    if not ranged.any():
        return ""
    return "RANGES\n" + "".join(
        ("    RNG " + rows[ranged] + " " + _fmt(hi[ranged] - lo[ranged]) + "\n").tolist())


def _mps_bounds(model: LinearModel, cols: np.ndarray) -> str:
    lb, ub = np.asarray(model.lb, np.float64), np.asarray(model.ub, np.float64)
    integer = integer_mask(model)
    flo, fhi = np.isfinite(lb), np.isfinite(ub)
    out = np.full(lb.size, "", dtype=object)
    fixed = flo & (lb == ub)
    out[fixed] = " FX BND " + cols[fixed] + " " + _fmt(lb[fixed]) + "\n"
    free = ~flo & ~fhi
    out[free] = " FR BND " + cols[free] + "\n"
    mi = ~flo & fhi
    out[mi] = " MI BND " + cols[mi] + "\n UP BND " + cols[mi] + " " + _fmt(ub[mi]) + "\n"
    write_lo = flo & ~fixed & ((lb != 0) | integer | (fhi & (ub < 0)))
    out[write_lo] = " LO BND " + cols[write_lo] + " " + _fmt(lb[write_lo]) + "\n"
    up = flo & fhi & ~fixed
    out[up] = out[up] + " UP BND " + cols[up] + " " + _fmt(ub[up]) + "\n"
    pl = flo & ~fhi & integer
    out[pl] = out[pl] + " PL BND " + cols[pl] + "\n"
    return "".join(out.tolist())
