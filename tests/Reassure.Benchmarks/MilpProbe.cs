using Reassure.Specifications;
using System.Diagnostics;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Verification;

namespace Reassure.Benchmarks;

/// <summary><c>milp-probe NET.onnx PROP.vnnlib</c>: per conjunction CROWN / alpha-CROWN bound, sign-PGD best margin, MILP time (SCIP log).</summary>
internal static class MilpProbe
{
    public static int Run(string[] args)
    {
        string dir = args.Contains("--dir") ? args[Array.IndexOf(args, "--dir") + 1] : "mnistfc";
        var net = OnnxImporter.Load(SharedData.File("vnncomp", dir, args[0])).Network;
        var prop = VnnLibReader.Read(SharedData.File("vnncomp", dir, args[1]));
        bool log = args.Contains("--log");
        var cs = prop.Cases[0];
        var box = cs.Box;
        var sw = Stopwatch.StartNew();
        var bounds = LinearBounds.Compute(net, box);
        Console.WriteLine($"bounds {sw.Elapsed.TotalSeconds:F2} s, unstable {bounds.Unstable}");
        if (net.HasMaxPool || !net.AllDense) { }
        for (int l = 0; l < net.Layers.Count - 1; l++) { int u = 0, on = 0; for (int j = net.HiddenOffsets[l]; j < net.HiddenOffsets[l] + net.Layers[l].Outputs; j++) { if (bounds.Lower[j] < 0 && bounds.Upper[j] > 0) u++; if (bounds.Lower[j] >= 0) on++; } Console.WriteLine($"layer {l}: unstable {u}, active {on}"); }
        for (int k = 0; k < cs.Unsafe.Count; k++)
        {
            var conj = cs.Unsafe[k];
            var row = conj.Constraints[0];
            var (lb, _, _) = LinearBounds.OutputLowerBound(net, box, bounds, row.A);
            sw.Restart();
            var a20 = AlphaCrown.Optimize(net, box, bounds, conj.Constraints, 20, 1e-7);
            var a200 = AlphaCrown.Optimize(net, box, bounds, conj.Constraints, 200, 1e-7);
            double ta = sw.Elapsed.TotalSeconds;
            // value at alpha minimiser
            double vMin = -conj.Constraints[0].Slack(net.Evaluate(a200.Minimizer));
            Console.WriteLine($"conj {k}: CROWN {lb:F3} alpha20 {a20.Bound:F3} alpha200 {a200.Bound:F3} ({ta:F2} s) f at alpha minimiser {vMin:F3}");
        }
        if (args.Contains("--verify"))
        {
            double max = args.Contains("--max") ? double.Parse(args[Array.IndexOf(args, "--max") + 1], System.Globalization.CultureInfo.InvariantCulture) : 60;
            foreach (var (restarts, minSteps) in new[] { (32, 100), (0, 100), (32, 0) })
            {
                sw.Restart();
                var r = PropertyVerifier.Verify(net, prop, new VerificationOptions { AttackRestarts = restarts, AttackRestartsBeforeMilp = restarts, MinimizerAttackSteps = minSteps, RegionAscentLps = args.Contains("--ascent-lps") ? int.Parse(args[Array.IndexOf(args, "--ascent-lps") + 1]) : 8, MaxTime = TimeSpan.FromSeconds(max) });
                Console.WriteLine($"verify restarts {restarts} minimiser steps {minSteps}: {r.StatusText} {sw.Elapsed.TotalSeconds:F2} s LPs {r.LinearPrograms} {r.Detail}");
            }
        }
        if (args.Contains("--pgd"))
        {
            var rng = new Random(1);
            for (int k = 0; k < cs.Unsafe.Count; k++)
            {
                sw.Restart();
                var row = cs.Unsafe[k].Constraints[0];
                double best = double.PositiveInfinity;
                for (int r = 0; r < 50; r++)
                {
                    var (b, _) = ProbeGrad.Pgd(net, box, row, box.Sample(rng), 200, 0.25);
                    best = Math.Min(best, b);
                }
                var line = $"PGD conj {k}: best of 50x200 {best:F4}";
                foreach (int its in new[] { 1, 20, 200 })
                {
                    var a = AlphaCrown.Optimize(net, box, bounds, cs.Unsafe[k].Constraints, its, 1e-7);
                    foreach (int steps in new[] { 30, 60, 100, 200 })
                        foreach (double s0 in new[] { 0.1, 0.25, 0.5 })
                        {
                            var (ba, _) = ProbeGrad.Pgd(net, box, row, a.Minimizer, steps, s0);
                            line += $" | a{its} n{steps} s{s0}: {ba:F3}";
                        }
                }
                Console.WriteLine(line);
            }
        }
        if (args.Contains("--milp"))
        {
            int only = args.Contains("--conj") ? int.Parse(args[Array.IndexOf(args, "--conj") + 1]) : -1;
            for (int k = 0; k < cs.Unsafe.Count; k++)
            {
                if (only >= 0 && k != only) continue;
                sw.Restart();
                var r = MilpCheck.Check(net, box, bounds, cs.Unsafe[k], 1e-7, TimeSpan.FromSeconds(60), default, log);
                double v = r.Candidate is null ? double.NaN : -cs.Unsafe[k].Constraints[0].Slack(net.Evaluate(r.Candidate));
                Console.WriteLine($"MILP conj {k}: {r.Status} {sw.Elapsed.TotalSeconds:F2} s, candidate value {v:F4}");
            }
        }
        return 0;
    }
}

internal static class ProbeGrad
{
    /// <summary>sign PGD with step decay from a start; returns best value of a.f(x) - b.</summary>
    public static (double Best, double[] X) Pgd(Network net, InputBox box, OutputConstraint row, double[] start, int steps, double step0)
    {
        var x = (double[])start.Clone();
        double best = double.PositiveInfinity; double[] bx = x;
        double step = step0;
        for (int it = 0; it < steps; it++)
        {
            var y = net.Evaluate(x);
            double v = -row.Slack(y);
            if (v < best) { best = v; bx = (double[])x.Clone(); }
            var g = SignGradientDescent.Gradient(net, x, row.A); // the engine's backward pass
            for (int i = 0; i < x.Length; i++) x[i] = Math.Clamp(x[i] - step * (box.Upper[i] - box.Lower[i]) * Math.Sign(g[i]), box.Lower[i], box.Upper[i]);
            step *= Math.Pow(0.01, 1.0 / steps);
        }
        return (best, bx);
    }
}
