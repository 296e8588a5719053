using Reassure.Lp;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Patching;

/// <summary>
/// The fast patch of method.md §3. With V = [P; N] (N an orthonormal basis of P's null space) and, per spec row r,
/// [lo_r, hi_r] = [min, max] over the region of P_r y (one LP per finite bound):
/// <code>
///   alpha_r = min(1, (qu_r - ql_r - 2 s_r) / (hi_r - lo_r)),   beta_r = the smallest shift that brings
///   [alpha_r lo_r, alpha_r hi_r] + beta_r inside [ql_r + s_r, qu_r - s_r],   T = diag(alpha, 1, ..., 1)
///   C = (V^-1 T V - I) F,    d = (V^-1 T V - I) e + V^-1 beta
/// </code>
/// (s_r = Safety max(1, |lo_r|, |hi_r|), a margin against LP error; a row is moved only where it leaves [ql_r, qu_r].)
/// For classification (ql = -inf) alpha = 1 and the patch is the constant shift d = V^-1 beta.
/// Every LP solved to optimality leaves its row multipliers in <see cref="RowCertificates"/>, so that the check can
/// re-prove that row by weak duality without an LP (<see cref="PatchVerifier"/>).
/// </summary>
internal static class FastPatcher
{
    /// <summary>Relative safety added to every shift so that LP tolerances cannot leave a row a hair outside its bound.</summary>
    internal const double Safety = 1e-7;

    /// <summary>
    /// Relative distance below qu at which an early stop is asked for, so that a row the patch leaves alone (its
    /// shift P_r d is 0 up to rounding, about 1e-16) still checks with the recorded stop (<see cref="RowCertificates"/>).
    /// </summary>
    internal const double StopMargin = 1e-9;

    public static AffinePatch Build(LinearRegion region, LinearSpecification spec, RegionLp lp, CancellationToken ct) =>
        Build(region, spec, lp, ct, out _);

    /// <summary>
    /// Builds the patch and returns the multipliers of every row the build solved to optimality. With the outputs at a
    /// point of the region (<paramref name="outputsAtPoint"/>, e.g. at the buggy input), the rows are solved most violated
    /// first there: the rows
    /// that need their exact maximum leave a basis from which the early stops of the others come sooner (measured on
    /// the first 10 MNIST regions, one thread: 4.3 s against 4.65 s in row order). The order only changes the path GLOP
    /// takes to each maximum (the values agree to its tolerance); it depends on the point alone, not on threads.
    /// </summary>
    public static AffinePatch Build(LinearRegion region, LinearSpecification spec, RegionLp lp, CancellationToken ct, out RowCertificates certificates,
        double[]? outputsAtPoint = null)
    {
        int k = spec.Rows, m = spec.Outputs, n = region.Network.InputSize;
        var upperCerts = new DualCertificate?[k];
        var lowerCerts = new DualCertificate?[k];
        var upperStops = new double[k];
        Array.Fill(upperStops, double.NaN);
        certificates = new RowCertificates(upperCerts, lowerCerts, upperStops);
        var alpha = new double[m];
        var beta = new double[m];
        Array.Fill(alpha, 1.0);
        bool any = false;
        var w = new double[m];
        foreach (int r in SolveOrder(spec, outputsAtPoint))
        {
            for (int i = 0; i < m; i++) w[i] = spec.P[r, i];
            double hi = double.PositiveInfinity, lo = double.NegativeInfinity;
            if (!double.IsPositiveInfinity(spec.Upper[r]))
            {
                if (double.IsNegativeInfinity(spec.Lower[r]))
                {
                    // One-sided row: only "is the max below qu, else its value" is needed (method.md §8).
                    // A stop of the input-space simplex leaves multipliers (the check re-proves the row from them); a
                    // stop of GLOP leaves none (solving such rows to optimality only to get some was measured slower than
                    // re-solving them: lp-profile, build 9.8 s vs 5.2 + 2.4 s), so the stop itself is recorded too: the
                    // limit sits StopMargin below qu, room for the patch's rounding on this row.
                    double limit = spec.Upper[r] - StopMargin * Math.Max(1, Math.Abs(spec.Upper[r]));
                    var bound = lp.MaximizeBelow(w, default, 0, limit, ct);
                    hi = bound.Exact ? bound.Value : double.NegativeInfinity;
                    upperCerts[r] = bound.Certificate;
                    if (!bound.Exact) upperStops[r] = limit;
                }
                else
                {
                    hi = lp.MaximizeOutput(w, ct).Value;
                    upperCerts[r] = lp.Certificate();
                }
            }
            if (!double.IsNegativeInfinity(spec.Lower[r]))
            {
                for (int i = 0; i < m; i++) w[i] = -spec.P[r, i];
                lo = -lp.MaximizeOutput(w, ct).Value;
                lowerCerts[r] = lp.Certificate();
            }
            double ql = spec.Lower[r], qu = spec.Upper[r];
            if (double.IsNegativeInfinity(hi) && double.IsNegativeInfinity(lo)) continue; // proved inside: no change
            double scale = 1;
            if (!double.IsInfinity(hi)) scale = Math.Max(scale, Math.Abs(hi));
            if (!double.IsInfinity(lo)) scale = Math.Max(scale, Math.Abs(lo));
            double safety = Safety * scale;
            double a = 1;
            double width = qu - ql;
            if (!double.IsInfinity(ql) && !double.IsInfinity(qu) && hi > lo && hi - lo > width - 2 * safety)
            {
                // Scale to width qu - ql - 2 safety, so that the shift below, which leaves `safety` on the side it moves
                // to, leaves `safety` on the other side too (a scale to the full width put that side safety past it).
                a = (width > 2 * safety ? width - 2 * safety : width * (1 - Safety)) / (hi - lo);
            }
            double b = 0;
            if (a * hi > qu) b = qu - a * hi - safety;
            else if (a * lo < ql) b = ql - a * lo + safety;
            alpha[r] = a;
            beta[r] = b;
            if (a != 1 || b != 0) any = true;
        }
        if (!any) return AffinePatch.Zero(n, m);
        return Assemble(region, spec, alpha, beta, n, m);
    }

    /// <summary>Rows by decreasing P_r y - qu_r at the point (ties and no point: row order).</summary>
    private static int[] SolveOrder(LinearSpecification spec, double[]? y)
    {
        var order = Enumerable.Range(0, spec.Rows).ToArray();
        if (y is null || y.Length != spec.Outputs) return order;
        var excess = new double[spec.Rows];
        for (int r = 0; r < spec.Rows; r++)
            excess[r] = double.IsPositiveInfinity(spec.Upper[r]) ? double.NegativeInfinity : spec.Row(r, y) - spec.Upper[r];
        return order.OrderByDescending(r => excess[r]).ThenBy(r => r).ToArray();
    }

    private static AffinePatch Assemble(LinearRegion region, LinearSpecification spec, double[] alpha, double[] beta, int n, int m)
    {
        var v = DenseAlgebra.CompleteToSquare(spec.P);
        var d = DenseAlgebra.Solve(v, beta);
        if (alpha.All(a => a == 1)) return new AffinePatch(n, null, d);
        // M = V^-1 T V - I  [m, m]
        var vinv = DenseAlgebra.Inverse(v);
        var mm = new double[m, m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int q = 0; q < m; q++) s += vinv[i, q] * alpha[q] * v[q, j];
                mm[i, j] = s - (i == j ? 1 : 0);
            }
        var f = region.OutputMatrix; // [m, n]
        var e = region.OutputOffset; // [m]
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            double de = 0;
            for (int j = 0; j < m; j++)
            {
                if (mm[i, j] == 0) continue;
                Networks.Blas.Axpy(mm[i, j], f.AsSpan(j * n, n), c.AsSpan(i * n, n));
                de += mm[i, j] * e[j];
            }
            d[i] += de;
        }
        return new AffinePatch(n, c, d);
    }
}
