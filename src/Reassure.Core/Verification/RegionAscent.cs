using Google.OrTools.LinearSolver;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// Exact local search over linear regions for a counterexample of one unsafe conjunction A y &lt;= b (issue 21).
/// On the region R_s of an activation pattern s the network is affine, y = F x + e (method.md §1), so
/// <code>
///   t* = max t   s.t.  x in box,  s'_j (g_j . x + h_j) >= 0  (every neuron j the box bounds leave unstable),
///                      a_r . (F x + e) - b_r + t &lt;= 0  (every row r),  t &lt;= 1
/// </code>
/// is an LP, and t* &gt; 0 means its maximiser x* lies strictly inside the unsafe set: a candidate counterexample
/// (the caller confirms it with the plain evaluator). Otherwise the walk moves to the pattern with every neuron flipped
/// whose sign row is binding with a non-zero dual at x*: x* has z_j = 0 there, and a neuron at 0 meets both signs
/// (relu(0) = 0 either way, so no later pre-activation changes), so x* lies in the new region too and t* never
/// decreases. The walk ends at a region whose optimum is held only by the box (a local maximum of the margin over the
/// box), at a pattern seen before, or after the given number of LPs. Started from the best point of a
/// gradient descent it turns a near miss of the descent into the exact optimum of the regions around it; started from
/// a MILP point on the boundary of the unsafe set (feasible only within the solver's tolerances) it moves it inside.
/// </summary>
internal static class RegionAscent
{
    /// <summary>The walk's outcome: a point with t* &gt; 0 (or null), the best t*, and the LPs solved.</summary>
    public readonly record struct Result(double[]? Candidate, double Margin, int LinearPrograms);

    /// <summary>Walks from the region of <paramref name="start"/> for at most <paramref name="maxLps"/> LPs.</summary>
    public static Result Run(Network net, InputBox box, NeuronBounds bounds, OutputConjunction conj, double[] start, int maxLps, Func<bool>? stop = null)
    {
        if (net.HasMaxPool) return new Result(null, double.NegativeInfinity, 0); // the LP below has no winner rows
        int n = net.InputSize, m = net.OutputSize, hCount = net.HiddenCount;
        var unstable = new List<int>();
        for (int j = 0; j < hCount; j++) if (bounds.Lower[j] < 0 && bounds.Upper[j] > 0) unstable.Add(j);
        var pattern = ActivationPattern.FromPreActivations(net.PreActivations(start));
        var seen = new HashSet<ActivationPattern>();
        var g = new double[hCount * n];
        double best = double.NegativeInfinity;
        int lps = 0;
        while (lps < maxLps && seen.Add(pattern) && (stop is null || !stop()))
        {
            var region = new LinearRegion(net, pattern, box);
            region.WriteNeuronGradients(g);
            var h = region.NeuronOffsets;
            using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
            solver.SetSolverSpecificParametersAsString(RegionLp.RobustParameters);
            var x = new Variable[n];
            for (int i = 0; i < n; i++) x[i] = solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
            var t = solver.MakeNumVar(double.NegativeInfinity, 1, "");
            var signRows = new Constraint[unstable.Count];
            for (int u = 0; u < unstable.Count; u++)
            {
                int j = unstable[u];
                // active: g.x + h >= 0; inactive: g.x + h <= 0
                var c = pattern[j] ? solver.MakeConstraint(-h[j], double.PositiveInfinity, "") : solver.MakeConstraint(double.NegativeInfinity, -h[j], "");
                for (int i = 0; i < n; i++) { double v = g[j * n + i]; if (v != 0) c.SetCoefficient(x[i], v); }
                signRows[u] = c;
            }
            var e = region.OutputOffset;
            foreach (var row in conj.Constraints)
            {
                var coef = region.InputRow(row.A);
                double rhs = row.B;
                for (int o = 0; o < m; o++) rhs -= row.A[o] * e[o];
                var c = solver.MakeConstraint(double.NegativeInfinity, rhs, "");
                for (int i = 0; i < n; i++) if (coef[i] != 0) c.SetCoefficient(x[i], coef[i]);
                c.SetCoefficient(t, 1);
            }
            solver.Objective().SetCoefficient(t, 1);
            solver.Objective().SetMaximization();
            var status = solver.Solve();
            lps++;
            if (status != Solver.ResultStatus.OPTIMAL) break; // an empty region (only from a flip) or solver trouble: nothing to claim
            double tv = t.SolutionValue();
            if (tv <= best) break;
            best = tv;
            if (tv > 0)
            {
                var xs = new double[n];
                for (int i = 0; i < n; i++) xs[i] = Math.Clamp(x[i].SolutionValue(), box.Lower[i], box.Upper[i]);
                return new Result(xs, tv, lps);
            }
            var next = pattern;
            bool flipped = false;
            for (int u = 0; u < unstable.Count; u++)
            {
                if (Math.Abs(signRows[u].DualValue()) <= 1e-12) continue;
                next = next.Flip(unstable[u]);
                flipped = true;
            }
            if (!flipped) break; // only the box holds the optimum: a local maximum
            pattern = next;
        }
        return new Result(null, best, lps);
    }
}
