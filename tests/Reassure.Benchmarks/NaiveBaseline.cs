using System.Diagnostics;
using Google.OrTools.LinearSolver;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Regions;
using Reassure.Repair;

namespace Reassure.Benchmarks;

/// <summary>
/// The naive baseline of issue 6: per objective a fresh GLOP model (default parameters) over x only, the region
/// as its explicit polytope rows A x &lt;= b (<see cref="LinearRegion.PolytopeRows"/>), the box as 2n ROWS (x free),
/// no reuse of anything between LPs. It computes the same maxima as the engine's <see cref="RegionLp"/>
/// (max over the region of P_r y for every finite upper bound of the specification: 9 for MNIST classification),
/// so the two can be timed on the same regions in the same run and their optima compared.
/// </summary>
internal static class NaiveBaseline
{
    /// <param name="EngineSeconds">RegionLp solving every objective to optimality (MaximizeOutput).</param>
    /// <param name="EngineAsUsedSeconds">RegionLp as the repair uses it for one-sided rows (MaximizeBelow at qu: stops once max &lt; qu is proved).</param>
    /// <param name="MaxDifference">max |naive - engine| over all optima, and over the as-used results that are exact.</param>
    /// <param name="EarlyStops">As-used calls settled by the dual bound; <paramref name="StopsConsistent"/>: the naive optimum is below qu for each of them.</param>
    /// <param name="GlopAsUsedSeconds">The same as-used calls on RegionLp with GLOP only (<see cref="RegionLpEngine.Glop"/>): the engine before the input-space simplex.</param>
    /// <param name="Fallbacks">LPs the input-space simplex handed to GLOP in the engine runs.</param>
    public sealed record Outcome(int Regions, int LinearPrograms, double NaiveSeconds, double EngineSeconds, double EngineAsUsedSeconds, double MaxDifference,
        int EarlyStops, bool StopsConsistent, double GlopAsUsedSeconds, int Fallbacks);

    /// <summary>The regions (one per input, pattern of the input, no split rows) and the objectives w = P_r of every row with a finite upper bound.</summary>
    public static List<(LinearRegion Region, double[][] Objectives, double[] Limits)> Regions(Network net, InputBox domain, IReadOnlyList<BuggyInput> inputs)
    {
        var list = new List<(LinearRegion, double[][], double[])>();
        foreach (var input in inputs)
        {
            var spec = input.Spec.ToLinear(net.OutputSize);
            var objectives = new List<double[]>();
            var limits = new List<double>();
            for (int r = 0; r < spec.Rows; r++)
            {
                if (double.IsPositiveInfinity(spec.Upper[r])) continue;
                var w = new double[spec.Outputs];
                for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
                objectives.Add(w);
                limits.Add(spec.Upper[r]);
            }
            list.Add((new LinearRegion(net, net.Pattern(input.Input), domain), objectives.ToArray(), limits.ToArray()));
        }
        return list;
    }

    /// <summary>
    /// Runs both on every region, sequentially (one thread each, same machine state): naive first, then the engine's
    /// RegionLp (construction plus one MaximizeOutput per objective), then as the repair uses it (MaximizeBelow), with
    /// GLOP only and with the input-space simplex first. Region extraction (G, F, rows) is done before
    /// either clock starts, so only LP work is compared.
    /// </summary>
    public static Outcome Run(Network net, InputBox domain, IReadOnlyList<BuggyInput> inputs, Action<string>? log = null)
    {
        var regions = Regions(net, domain, inputs);
        double naiveTotal = 0, exactTotal = 0, usedTotal = 0, glopTotal = 0, maxDiff = 0;
        int lps = 0, stops = 0, fallbacks = 0;
        bool consistent = true;
        for (int k = 0; k < regions.Count; k++)
        {
            var (region, objectives, limits) = regions[k];
            var rows = region.PolytopeRows(); // also computes F and e
            var f = region.OutputMatrix;
            var e = region.OutputOffset;
            var naive = new double[objectives.Length];
            var clock = Stopwatch.StartNew();
            for (int o = 0; o < objectives.Length; o++) naive[o] = SolveFresh(rows, domain, f, e, objectives[o]);
            double tNaive = clock.Elapsed.TotalSeconds;

            clock.Restart();
            using (var lp = new RegionLp(region))
            {
                for (int o = 0; o < objectives.Length; o++) maxDiff = Math.Max(maxDiff, Math.Abs(naive[o] - lp.MaximizeOutput(objectives[o]).Value));
                fallbacks += lp.Fallbacks;
            }
            double tExact = clock.Elapsed.TotalSeconds;

            // As the repair asks: max below qu, an early stop where the dual bound proves it (stops counted for the
            // default engine, timed with GLOP only as well).
            double AsUsed(RegionLpEngine engine, bool count)
            {
                var timer = Stopwatch.StartNew();
                using (var lp = new RegionLp(region, null, engine))
                {
                    for (int o = 0; o < objectives.Length; o++)
                    {
                        var bound = lp.MaximizeBelow(objectives[o], default, 0, limits[o]);
                        if (bound.Exact) maxDiff = Math.Max(maxDiff, Math.Abs(naive[o] - bound.Value));
                        else
                        {
                            if (count) stops++;
                            if (naive[o] >= limits[o]) consistent = false;
                        }
                    }
                    if (count) fallbacks += lp.Fallbacks;
                }
                return timer.Elapsed.TotalSeconds;
            }
            double tGlop = AsUsed(RegionLpEngine.Glop, false);
            double tUsed = AsUsed(RegionLpEngine.Auto, true);
            naiveTotal += tNaive; exactTotal += tExact; usedTotal += tUsed; glopTotal += tGlop;
            lps += objectives.Length;
            log?.Invoke($"  baseline region {k + 1}/{regions.Count} ({inputs[k].Id}): naive {tNaive:F2} s, engine exact {tExact:F2} s, engine as used {tUsed:F2} s (GLOP only {tGlop:F2} s); max |diff| so far {maxDiff:E1}, early stops so far {stops}");
        }
        return new Outcome(regions.Count, lps, naiveTotal, exactTotal, usedTotal, maxDiff, stops, consistent, glopTotal, fallbacks);
    }

    /// <summary>max (w^T F) . x + w . e over { x : A x &lt;= b, lo &lt;= x &lt;= hi (as rows) } in a brand-new GLOP model.</summary>
    public static double SolveFresh(IReadOnlyList<HalfSpace> rows, InputBox box, double[] f, double[] e, double[] w)
    {
        int n = box.Dimension, m = w.Length;
        using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
        double inf = double.PositiveInfinity;
        var x = new Variable[n];
        for (int i = 0; i < n; i++) x[i] = solver.MakeNumVar(-inf, inf, "");
        for (int i = 0; i < n; i++)
        {
            var lo = solver.MakeConstraint(box.Lower[i], inf, "");
            lo.SetCoefficient(x[i], 1);
            var hi = solver.MakeConstraint(-inf, box.Upper[i], "");
            hi.SetCoefficient(x[i], 1);
        }
        foreach (var r in rows)
        {
            var c = solver.MakeConstraint(-inf, r.B, "");
            for (int i = 0; i < n; i++) if (r.A[i] != 0) c.SetCoefficient(x[i], r.A[i]);
        }
        var objective = solver.Objective();
        double constant = 0;
        for (int o = 0; o < m; o++)
        {
            constant += w[o] * e[o];
        }
        for (int i = 0; i < n; i++)
        {
            double c = 0;
            for (int o = 0; o < m; o++) c += w[o] * f[o * n + i];
            if (c != 0) objective.SetCoefficient(x[i], c);
        }
        objective.SetMaximization();
        var status = solver.Solve();
        if (status != Solver.ResultStatus.OPTIMAL) throw new InvalidOperationException($"Naive baseline: GLOP status {status}.");
        return objective.Value() + constant;
    }
}
