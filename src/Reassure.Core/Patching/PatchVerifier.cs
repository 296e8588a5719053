using Reassure.Lp;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Patching;

/// <summary>
/// The independent check of method.md §3/§6: for every specification row r, the max over R of
/// P_r((F + C) x + e + d) must be &lt;= qu_r (and the min >= ql_r). Three forms: the default
/// (<see cref="CheckFormulation.Certificate"/>) re-proves each row from the row multipliers y the build's LP left
/// (weak duality, <see cref="DualCertificate.UpperBound"/>: max &lt;= y . b + sum_k max(r_k lo_k, r_k hi_k),
/// r = c - A^T y recomputed in double from the network's weights, plus a rounding bound), proves a row the build's
/// dual simplex stopped early on from that stop (max P_r y &lt; L_r) plus the patch's own term bounded in closed form,
/// and solves only the remaining rows as LPs in a fresh solver; the layered form solves every row
/// in a fresh solver; the polytope form over the explicit polytope rows (<see cref="PolytopeLp"/>). Also gives the
/// patch's max-norm over the region.
/// </summary>
public static class PatchVerifier
{
    /// <summary>Which LP form the check solves.</summary>
    public enum CheckFormulation
    {
        /// <summary>Layered variables (x and one per hidden neuron), a fresh solver.</summary>
        Layered,
        /// <summary>Explicit polytope rows over x only.</summary>
        Polytope,
        /// <summary>
        /// Rows with build multipliers proved by weak duality in double (no LP); rows the build's dual simplex stopped
        /// early on by that stop plus the patch's own term (no LP); the others as <see cref="Layered"/>.
        /// A certificate row passes only if its bound plus the rounding bound is &lt;= the spec bound (no tolerance).
        /// </summary>
        Certificate,
        /// <summary>
        /// As <see cref="Certificate"/>, but rows the build stopped early on are solved again by LP in a fresh solver
        /// (the stricter check before the stops were reused; about a quarter of the 100-point MNIST repair's time).
        /// </summary>
        CertificateAndLp,
    }

    /// <summary>Slack a verified patch may miss by, relative to max(1, |bound|): LP feasibility tolerance.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>
    /// Result of a check: the worst slack among the rows solved to optimality or proved by a certificate (bound minus
    /// certified bound; >= -tolerance when verified; rows whose maximum GLOP's dual bound proved below qu have positive
    /// slack and are not counted; +infinity when all were), the LPs solved, the row sides proved by a certificate and
    /// those proved by the build's own early stop.
    /// </summary>
    public sealed record Outcome(bool Verified, double WorstSlack, int LinearPrograms, int Certified = 0, int ByBuildStop = 0);

    /// <summary>
    /// Checks that f + p meets <paramref name="spec"/> on all of <paramref name="region"/>. The layered form runs in a
    /// fresh solver with the patched objective (the network part on the last hidden layer, C on x); the polytope
    /// form rebuilds the region from its explicit rows A x &lt;= b (slower on wide inputs, shares nothing with the build).
    /// </summary>
    public static Outcome Check(LinearRegion region, AffinePatch patch, LinearSpecification spec,
        CheckFormulation formulation = CheckFormulation.Certificate, RowCertificates? certificates = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(patch);
        ArgumentNullException.ThrowIfNull(spec);
        return formulation switch
        {
            CheckFormulation.Layered => CheckLayered(region, patch, spec, null, false),
            CheckFormulation.Polytope => CheckPolytope(region, patch, spec),
            CheckFormulation.CertificateAndLp => CheckLayered(region, patch, spec, certificates, false),
            _ => CheckLayered(region, patch, spec, certificates, true),
        };
    }

    /// <summary>
    /// Layered check; with <paramref name="certificates"/>, a row side whose multipliers give
    /// bound + rounding &lt;= the spec bound is proved without LP (slack = spec bound - that), the rest by LP in a
    /// fresh solver built only when some row needs it.
    /// </summary>
    private static Outcome CheckLayered(LinearRegion region, AffinePatch patch, LinearSpecification spec, RowCertificates? certificates, bool reuseStops)
    {
        RegionLp? lp = null;
        RegionLp Solver() => lp ??= new RegionLp(region);
        try
        {
            int n = region.Network.InputSize, m = spec.Outputs;
            double worst = double.PositiveInfinity;
            bool ok = true;
            int certified = 0, stopped = 0;
            var w = new double[m];
            var negW = new double[m];
            for (int r = 0; r < spec.Rows; r++)
            {
                for (int i = 0; i < m; i++) w[i] = spec.P[r, i];
                // P_r (f(x) + C x + d) = P_r y + (P_r C) . x + P_r d
                var c = new double[n];
                double c0 = 0;
                for (int i = 0; i < m; i++)
                {
                    if (w[i] == 0) continue;
                    if (patch.C is not null) Networks.Blas.Axpy(w[i], patch.C.AsSpan(i * n, n), c);
                    c0 += w[i] * patch.D[i];
                }
                if (!double.IsPositiveInfinity(spec.Upper[r]))
                {
                    if (TryCertificate(region, certificates?.Upper[r], w, c, c0, spec.Upper[r], out double proved))
                    {
                        worst = Math.Min(worst, proved);
                        certified++;
                    }
                    else if (reuseStops && certificates?.UpperStops is { } stops && TryStop(region.Domain, stops[r], c, c0, spec.Upper[r]))
                    {
                        stopped++;
                    }
                    else
                    {
                        // The dual simplex stops once its bound proves max < qu; otherwise the exact max gives the slack.
                        var bound = Solver().MaximizeBelow(w, c, c0, spec.Upper[r]);
                        if (bound.Exact)
                        {
                            double slack = spec.Upper[r] - bound.Value;
                            worst = Math.Min(worst, slack);
                            if (slack < -Tolerance * Math.Max(1, Math.Abs(spec.Upper[r]))) ok = false;
                        }
                    }
                }
                if (!double.IsNegativeInfinity(spec.Lower[r]))
                {
                    for (int i = 0; i < m; i++) negW[i] = -w[i];
                    var negC = c.Select(v => -v).ToArray();
                    if (TryCertificate(region, certificates?.Lower[r], negW, negC, -c0, -spec.Lower[r], out double proved))
                    {
                        worst = Math.Min(worst, proved);
                        certified++;
                    }
                    else
                    {
                        double slack = -Solver().Maximize(negW, negC, -c0).Value - spec.Lower[r];
                        worst = Math.Min(worst, slack);
                        if (slack < -Tolerance * Math.Max(1, Math.Abs(spec.Lower[r]))) ok = false;
                    }
                }
            }
            return new Outcome(ok, worst, lp?.Solves ?? 0, certified, stopped);
        }
        finally
        {
            lp?.Dispose();
        }
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> proves max over the region of w . y + c . x + c0 &lt;= limit:
    /// bound + rounding bound &lt;= limit, with <paramref name="slack"/> = limit - (bound + rounding bound).
    /// </summary>
    private static bool TryCertificate(LinearRegion region, DualCertificate? certificate, double[] w, double[] c, double c0, double limit, out double slack)
    {
        slack = double.NaN;
        if (certificate is null || certificate.Y.Length != region.Network.HiddenCount + region.ExtraRows.Count + region.WinnerPairs.Length) return false;
        // A scaled patch moves part of the objective onto x; carry the multipliers over (any multipliers are sound).
        double bound = certificate.ForObjective(region, w, c).UpperBound(region, w, c, c0, out double rounding);
        double proved = bound + rounding;
        if (!(proved <= limit)) return false; // NaN or not closed: the row goes to an LP
        slack = limit - proved;
        return true;
    }

    /// <summary>
    /// Whether the build's early stop (max over the region of P_r y &lt; <paramref name="stop"/>, GLOP's dual bound) and
    /// the patch term P_r (C x + d) = c . x + c0, bounded over the box in closed form, give max &lt;= limit:
    /// stop + c0 + sum_i max(c_i lo_i, c_i hi_i) + rounding &lt;= limit (rounding: 2^-52 (n + 2) times the sum of the
    /// sizes of the terms). The stop is as strong as the LP the check would solve again (the same dual simplex claim
    /// on the same objective, only without the patch's constant); what the check adds is the patch's own term.
    /// </summary>
    private static bool TryStop(Networks.InputBox box, double stop, double[] c, double c0, double limit)
    {
        if (double.IsNaN(stop) || double.IsInfinity(stop)) return false;
        double sum = stop + c0, size = Math.Abs(stop) + Math.Abs(c0);
        for (int i = 0; i < c.Length; i++)
        {
            if (c[i] == 0) continue;
            double t = Math.Max(c[i] * box.Lower[i], c[i] * box.Upper[i]);
            sum += t;
            size += Math.Abs(t);
        }
        double rounding = Math.Pow(2, -52) * (c.Length + 2) * size;
        return sum + rounding <= limit;
    }

    private static Outcome CheckPolytope(LinearRegion region, AffinePatch patch, LinearSpecification spec)
    {
        int n = region.Network.InputSize, m = spec.Outputs;
        var f = region.OutputMatrix;
        var e = region.OutputOffset;
        using var lp = LpBackend.Polytope(region.PolytopeRows(), region.Domain);
        double worst = double.PositiveInfinity;
        bool ok = true;
        for (int r = 0; r < spec.Rows; r++)
        {
            // objective c . x + c0 with c = P_r (F + C), c0 = P_r (e + d)
            var c = new double[n];
            double c0 = 0;
            for (int i = 0; i < m; i++)
            {
                double pri = spec.P[r, i];
                if (pri == 0) continue;
                Networks.Blas.Axpy(pri, f.AsSpan(i * n, n), c);
                if (patch.C is not null) Networks.Blas.Axpy(pri, patch.C.AsSpan(i * n, n), c);
                c0 += pri * (e[i] + patch.D[i]);
            }
            if (!double.IsPositiveInfinity(spec.Upper[r]))
            {
                double hi = lp.Maximize(c, c0).Value;
                double slack = spec.Upper[r] - hi;
                worst = Math.Min(worst, slack);
                if (slack < -Tolerance * Math.Max(1, Math.Abs(spec.Upper[r]))) ok = false;
            }
            if (!double.IsNegativeInfinity(spec.Lower[r]))
            {
                double lo = -lp.Maximize(c.Select(v => -v).ToArray(), -c0).Value;
                double slack = lo - spec.Lower[r];
                worst = Math.Min(worst, slack);
                if (slack < -Tolerance * Math.Max(1, Math.Abs(spec.Lower[r]))) ok = false;
            }
        }
        return new Outcome(ok, worst, lp.Solves);
    }

    /// <summary>max over the region of |p(x)|_inf (2m LPs for an affine patch, none for a constant one).</summary>
    public static double Norm(LinearRegion region, AffinePatch patch, RegionLp? lp = null)
    {
        if (patch.C is null) return patch.D.Max(Math.Abs);
        int n = region.Network.InputSize;
        var owned = lp is null;
        lp ??= new RegionLp(region);
        try
        {
            double norm = 0;
            for (int i = 0; i < patch.Outputs; i++)
            {
                var row = patch.C.AsSpan(i * n, n).ToArray();
                norm = Math.Max(norm, lp.MaximizeInput(row, patch.D[i]).Value);
                norm = Math.Max(norm, lp.MaximizeInput(row.Select(v => -v).ToArray(), -patch.D[i]).Value);
            }
            return norm;
        }
        finally
        {
            if (owned) lp.Dispose();
        }
    }
}
