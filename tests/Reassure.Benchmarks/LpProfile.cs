using System.Diagnostics;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>lp-profile [--points 10] [--cold]</c>: one thread, per MNIST region of the first N misclassified test images, where
/// the build and the independent check spend their time (solver construction, exact rows, early-stopped rows,
/// certificates); <c>--cold</c> also times each early-stopped row re-solved in a fresh solver under GLOP's initial-basis
/// heuristics.
/// </summary>
internal static class LpProfile
{
    public static int Run(string[] args)
    {
        int points = args.Length > 1 && args[0] == "--points" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        var net = SharedData.LoadMnistModel().Network;
        var (xs, ys) = SharedData.LoadMnistTest();
        var wrong = Enumerable.Range(0, xs.Length).Where(i => SharedData.ArgMax(net.Evaluate(xs[i])) != ys[i]).Take(points).ToList();
        var box = InputBox.Uniform(net.InputSize, 0, 1);
        DualCertificate.NeuronBoundsOf(net, box);
        bool layeredCheck = !args.Contains("--no-check");
        double buildCpu = 0;
        double build = 0, buildNew = 0, check = 0, checkNew = 0, certTime = 0;
        int exact = 0, stopped = 0;
        long iterations = 0;
        foreach (int i in wrong)
        {
            var region = new LinearRegion(net, net.Pattern(xs[i]), box);
            _ = region.OutputMatrix;
            var spec = new ClassificationSpecification(ys[i], 1e-3).ToLinear(net.OutputSize);
            double cpu0 = CpuClock.ThreadUs();
            var sw = Stopwatch.StartNew();
            using var lp = new RegionLp(region);
            buildNew += sw.Elapsed.TotalSeconds;
            var patch = FastPatcher.Build(region, spec, lp, default, out var certs);
            build += sw.Elapsed.TotalSeconds;
            buildCpu += (CpuClock.ThreadUs() - cpu0) / 1e6;
            exact += certs.Upper.Count(c => c is not null);
            stopped += lp.EarlyStops;
            iterations += lp.SimplexIterations;
            sw.Restart();
            var outcome = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certs);
            certTime += sw.Elapsed.TotalSeconds;
            sw.Restart();
            using (var fresh = new RegionLp(region)) checkNew += sw.Elapsed.TotalSeconds;
            sw.Restart();
            var layered = layeredCheck ? PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Layered) : outcome;
            check += sw.Elapsed.TotalSeconds;
            if (args.Contains("--certificate-cost"))
            {
                var w1 = new double[net.OutputSize];
                for (int o = 0; o < w1.Length; o++) w1[o] = spec.P[0, o];
                lp.MaximizeOutput(w1);
                var tc = Stopwatch.StartNew();
                for (int k = 0; k < 100; k++) lp.Certificate();
                Console.WriteLine($"  reading the multipliers: {tc.Elapsed.TotalMilliseconds / 100:F3} ms per certificate");
            }
            if (args.Contains("--cold"))
            {
                foreach (var prm in new[] { RegionLp.DefaultParameters, RegionLp.DefaultParameters + " initial_basis:NONE", RegionLp.DefaultParameters + " initial_basis:BIXBY", RegionLp.DefaultParameters + " initial_basis:MAROS" })
                {
                    using var fresh = new RegionLp(region, prm, RegionLpEngine.Glop); // GLOP settings only matter to GLOP
                    var times = new List<string>();
                    var w0 = new double[net.OutputSize];
                    for (int r = 0; r < spec.Rows; r++)
                    {
                        if (certs.Upper[r] is not null) continue;
                        for (int o = 0; o < w0.Length; o++) w0[o] = spec.P[r, o];
                        var t0 = Stopwatch.StartNew();
                        var bd = fresh.MaximizeBelow(w0, [], 0, spec.Upper[r]);
                        times.Add($"{t0.Elapsed.TotalMilliseconds:F0}{(bd.Exact ? "x" : "")}");
                    }
                    Console.WriteLine($"  [{prm}] early rows in a fresh solver, ms: {string.Join(" ", times)}");
                }
            }
            Console.WriteLine($"test[{i}]: build {lp.Solves} LPs ({lp.EarlyStops} early; {lp.SimplexSolves} by the input-space simplex in {lp.SimplexIterations} iterations, warm starts kept {lp.SimplexWarmStarts.Kept} rows and dropped {lp.SimplexWarmStarts.Dropped}, {lp.Fallbacks} to GLOP), certificate check {outcome.Certified} rows + {outcome.LinearPrograms} LPs, verified {outcome.Verified}/{layered.Verified}");
        }
        Console.WriteLine($"{wrong.Count} regions: build {build:F2} s (thread CPU {buildCpu:F2} s; solver construction {buildNew:F2}), exact rows {exact}, early stops {stopped}, simplex iterations {iterations}; " +
            $"layered check {check:F2} s (construction {checkNew:F2}); certificate check {certTime:F2} s");
        Console.WriteLine($"load after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
