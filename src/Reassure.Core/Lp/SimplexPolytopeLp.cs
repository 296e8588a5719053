using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// A polytope LP (<see cref="IPolytopeLp"/>) answered by the input-space dual simplex: the rows a_r . x &lt;= b_r become
/// s_r = b_r - a_r . x >= 0 (<see cref="InputSimplex"/>, rows <c>[m, n]</c> dense, the basis kept from one objective to
/// the next). An optimum is kept only when its row multipliers close by weak duality: with t_r the reduced costs of the
/// rows at 0, y_r = max(0, -t_r) >= 0, r = c - A^T y and
/// <code>
///   max c . x &lt;= y . b + sum_j max(r_j lo_j, r_j hi_j)
/// </code>
/// the bound must lie within <see cref="RegionLp.CertificateSlack"/> (relative) of c . x at the maximiser; otherwise, and
/// when the simplex fails, GLOP (<see cref="PolytopeLp"/>) answers.
/// </summary>
internal sealed class SimplexPolytopeLp : IPolytopeLp
{
    private readonly IReadOnlyList<HalfSpace> _rows;
    private readonly InputBox _box;
    private readonly InputSimplex _simplex;
    private readonly double[] _t;       // [m] row reduced costs of the last solve
    private PolytopeLp? _glop;          // built on the first fallback

    /// <summary>Whether the simplex applies: every bound finite and at least one row.</summary>
    public static bool Applies(IReadOnlyList<HalfSpace> rows, InputBox box)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(box);
        if (rows.Count == 0) return false;
        for (int i = 0; i < box.Dimension; i++)
            if (!double.IsFinite(box.Lower[i]) || !double.IsFinite(box.Upper[i])) return false;
        return true;
    }

    /// <summary>Builds the simplex over <paramref name="rows"/> in <paramref name="box"/> (see <see cref="Applies"/>).</summary>
    public SimplexPolytopeLp(IReadOnlyList<HalfSpace> rows, InputBox box)
    {
        if (!Applies(rows, box)) throw new ArgumentException("The input-space simplex needs a finite box and at least one row.");
        _rows = rows;
        _box = box;
        int n = box.Dimension, m = rows.Count;
        var a = new double[m * n]; // [m, n]: s_r = b_r - a_r . x
        var b = new double[m];
        for (int r = 0; r < m; r++)
        {
            var row = rows[r].A;
            for (int j = 0; j < n; j++) a[r * n + j] = -row[j];
            b[r] = rows[r].B;
        }
        _simplex = new InputSimplex(a, b, box.Lower.ToArray(), box.Upper.ToArray());
        _t = new double[m];
    }

    /// <inheritdoc />
    public int Solves { get; private set; }

    /// <summary>Number of LPs GLOP answered because the simplex failed or its multipliers did not close.</summary>
    public int Fallbacks { get; private set; }

    /// <inheritdoc />
    public LpResult Maximize(ReadOnlySpan<double> c, double c0 = 0)
    {
        Solves++;
        if (_simplex.Maximize(c, double.NegativeInfinity, null) == InputSimplex.Status.Optimal)
        {
            var x = _simplex.X.ToArray();
            double value = Blas.Dot(c, x);
            if (UpperBound(c) <= value + RegionLp.CertificateSlack * Math.Max(1, Math.Abs(value))) return new LpResult(value + c0, x);
        }
        Fallbacks++;
        _glop ??= new PolytopeLp(_rows, _box);
        return _glop.Maximize(c, c0);
    }

    /// <summary>The weak-duality bound y . b + sum_j max(r_j lo_j, r_j hi_j) of the last solve's multipliers.</summary>
    private double UpperBound(ReadOnlySpan<double> c)
    {
        _simplex.RowReducedCosts(_t);
        int n = _box.Dimension;
        var reduced = c.ToArray(); // r = c - A^T y
        double bound = 0;
        for (int r = 0; r < _rows.Count; r++)
        {
            double y = Math.Max(0, -_t[r]);
            if (y == 0) continue;
            bound += y * _rows[r].B;
            Blas.Axpy(-y, _rows[r].A, reduced);
        }
        for (int j = 0; j < n; j++) bound += Math.Max(reduced[j] * _box.Lower[j], reduced[j] * _box.Upper[j]);
        return bound;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _simplex.Dispose();
        _glop?.Dispose();
    }
}
