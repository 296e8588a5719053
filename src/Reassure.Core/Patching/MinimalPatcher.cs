using Google.OrTools.LinearSolver;
using Reassure.Lp;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Patching;

/// <summary>
/// The minimal patch of method.md §3: minimise H over affine p(x) = C x + d subject to, for all x in R,
/// -H &lt;= C_i x + d_i &lt;= H and ql &lt;= P((F + C) x + e + d) &lt;= qu. Each "for all x in R = {A x &lt;= b}:
/// u . x &lt;= v" becomes, by LP duality, lambda >= 0 with A^T lambda = u and b . lambda &lt;= v (Fu and Li, ICLR 2022,
/// §4.2); the bounds are tightened by FastPatcher.Safety so that LP tolerances cannot leave a row outside. R's rows here are the pattern rows, the extra rows and the box faces. One LP in (C, d, H, lambdas).
/// </summary>
internal static class MinimalPatcher
{
    public static (AffinePatch Patch, double Norm) Build(LinearRegion region, LinearSpecification spec, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        int n = region.Network.InputSize, m = spec.Outputs, k = spec.Rows;
        var rows = new List<HalfSpace>(region.PolytopeRows());
        for (int i = 0; i < n; i++)
        {
            var up = new double[n]; up[i] = 1;
            rows.Add(new HalfSpace(up, region.Domain.Upper[i]));
            var dn = new double[n]; dn[i] = -1;
            rows.Add(new HalfSpace(dn, -region.Domain.Lower[i]));
        }
        var f = region.OutputMatrix; // [m, n]
        var e = region.OutputOffset; // [m]
        using var solver = LpBackend.CreateGlop();
        double inf = double.PositiveInfinity;
        var c = new Variable[m, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i, j] = solver.MakeNumVar(-inf, inf, "");
        var d = new Variable[m];
        for (int i = 0; i < m; i++) d[i] = solver.MakeNumVar(-inf, inf, "");
        var h = solver.MakeNumVar(0, inf, "H");

        // One universally quantified constraint: for all x in R, (sum_i uc_i C_i + u0) . x <= v0 + vd . d + vh H.
        void ForAll(double[] uc, double[] u0, double v0, double[] vd, double vh)
        {
            var lambda = new Variable[rows.Count];
            for (int q = 0; q < rows.Count; q++) lambda[q] = solver.MakeNumVar(0, inf, "");
            for (int j = 0; j < n; j++)
            {
                // sum_q A_qj lambda_q - sum_i uc_i C_ij = u0_j
                var eq = solver.MakeConstraint(u0[j], u0[j], "");
                for (int q = 0; q < rows.Count; q++) if (rows[q].A[j] != 0) eq.SetCoefficient(lambda[q], rows[q].A[j]);
                for (int i = 0; i < m; i++) if (uc[i] != 0) eq.SetCoefficient(c[i, j], -uc[i]);
            }
            // b . lambda - vd . d - vh H <= v0
            var le = solver.MakeConstraint(-inf, v0, "");
            for (int q = 0; q < rows.Count; q++) if (rows[q].B != 0) le.SetCoefficient(lambda[q], rows[q].B);
            for (int i = 0; i < m; i++) if (vd[i] != 0) le.SetCoefficient(d[i], -vd[i]);
            if (vh != 0) le.SetCoefficient(h, -vh);
        }

        var zeroN = new double[n];
        for (int i = 0; i < m; i++)
        {
            var uc = new double[m]; uc[i] = 1;
            var vd = new double[m]; vd[i] = -1;
            ForAll(uc, zeroN, 0, vd, 1);             // C_i x <= H - d_i
            var ucn = new double[m]; ucn[i] = -1;
            var vdp = new double[m]; vdp[i] = 1;
            ForAll(ucn, zeroN, 0, vdp, 1);           // -C_i x <= H + d_i
        }
        for (int r = 0; r < k; r++)
        {
            var pr = new double[m];
            for (int i = 0; i < m; i++) pr[i] = spec.P[r, i];
            var prF = new double[n];
            double prE = 0;
            for (int i = 0; i < m; i++)
            {
                if (pr[i] == 0) continue;
                Networks.Blas.Axpy(pr[i], f.AsSpan(i * n, n), prF);
                prE += pr[i] * e[i];
            }
            if (!double.IsPositiveInfinity(spec.Upper[r]))
            {
                // P_r C x + P_r F x <= qu - P_r e - P_r d
                ForAll(pr, prF, spec.Upper[r] - FastPatcher.Safety * Math.Max(1, Math.Abs(spec.Upper[r])) - prE, pr.Select(v => -v).ToArray(), 0);
            }
            if (!double.IsNegativeInfinity(spec.Lower[r]))
            {
                // -P_r C x - P_r F x <= -ql + P_r e + P_r d
                ForAll(pr.Select(v => -v).ToArray(), prF.Select(v => -v).ToArray(), -spec.Lower[r] - FastPatcher.Safety * Math.Max(1, Math.Abs(spec.Lower[r])) + prE, pr, 0);
            }
        }
        solver.Objective().SetCoefficient(h, 1);
        solver.Objective().SetMinimization();
        var status = solver.Solve();
        LpStatus.ThrowIfNotOptimal(status, "the minimal patch norm H");
        var cv = new double[m * n];
        var dv = new double[m];
        for (int i = 0; i < m; i++)
        {
            dv[i] = d[i].SolutionValue();
            for (int j = 0; j < n; j++) cv[i * n + j] = c[i, j].SolutionValue();
        }
        return (new AffinePatch(n, cv, dv), h.SolutionValue());
    }
}
