using System.Diagnostics;
using Reassure.Formats.Onnx;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Benchmarks;

/// <summary><c>conv-lp [--net avgpool]</c>: one thread, the region LPs of the first misclassified MNIST images of a conv net, timed.</summary>
internal static class ConvLpProbe
{
    public static int Run(string[] args)
    {
        string name = BenchmarkArgs.Option(args, "--net", "avgpool");
        int count = int.Parse(BenchmarkArgs.Option(args, "--points", "3"), System.Globalization.CultureInfo.InvariantCulture);
        var engine = BenchmarkArgs.Option(args, "--lp", "auto") == "glop" ? RegionLpEngine.Glop : RegionLpEngine.Auto;
        var model = OnnxImporter.Load(SharedData.File("vnncomp", "verivital", $"Convnet_{name}.onnx"));
        var net = model.Network;
        var (xs, ys) = SharedData.LoadMnistTest();
        var box = InputBox.Uniform(net.InputSize, 0, 1);
        var bounds = LinearBounds.Compute(net, box);
        Console.WriteLine($"{name}: hidden {net.HiddenCount}, unstable over [0,1]^n: {bounds.Unstable}; load {MnistMacro.LoadAverage()}");
        var wrong = Enumerable.Range(0, xs.Length).Where(i => SharedData.ArgMax(net.Evaluate(xs[i])) != ys[i]).Take(count).ToList();
        {
            // Build cost alone: the input form's GLOP model (x in the box, one row per neuron).
            var b0 = Stopwatch.StartNew();
            using var solver = Google.OrTools.LinearSolver.Solver.CreateSolver("GLOP");
            var vars = new Google.OrTools.LinearSolver.Variable[net.InputSize];
            for (int k = 0; k < vars.Length; k++) vars[k] = solver.MakeNumVar(0, 1, "");
            var layer = net.Layers[0];
            var cols = new int[layer.Map.MaxRowEntries];
            var vals = new double[layer.Map.MaxRowEntries];
            for (int j = 0; j < layer.Outputs; j++)
            {
                var row = solver.MakeConstraint(-layer.Bias[j], double.PositiveInfinity, "");
                int cnt = layer.Map.RowEntries(j, cols, vals);
                for (int e = 0; e < cnt; e++) row.SetCoefficient(vars[cols[e]], vals[e]);
            }
            Console.WriteLine($"GLOP model build alone: {b0.Elapsed.TotalSeconds:F3} s");
        }
        if (BenchmarkArgs.Option(args, "--lazy", "off") == "on")
        {
            foreach (var i in wrong)
            {
                var clock = Stopwatch.StartNew();
                var region = new LinearRegion(net, net.Pattern(xs[i]), box);
                _ = region.OutputMatrix;
                var layer = net.Layers[0];
                var cols = new int[layer.Map.MaxRowEntries];
                var vals = new double[layer.Map.MaxRowEntries];
                var rowCols = new int[layer.Outputs][];
                var rowVals = new double[layer.Outputs][];
                for (int j = 0; j < layer.Outputs; j++)
                {
                    int cnt = layer.Map.RowEntries(j, cols, vals);
                    rowCols[j] = cols[..cnt];
                    rowVals[j] = vals[..cnt];
                }
                using var solver = Google.OrTools.LinearSolver.Solver.CreateSolver("GLOP");
                solver.SetSolverSpecificParametersAsString(BenchmarkArgs.Option(args, "--params", "use_scaling:false use_preprocessing:false use_dual_simplex:true"));
                var vars = new Google.OrTools.LinearSolver.Variable[net.InputSize];
                for (int k = 0; k < vars.Length; k++) vars[k] = solver.MakeNumVar(0, 1, "");
                var added = new bool[layer.Outputs];
                int addedCount = 0, rounds = 0;
                double tRegion = clock.Elapsed.TotalSeconds;
                var times = new List<string>();
                var w = new double[net.OutputSize];
                var x = new double[net.InputSize];
                int cap = int.Parse(BenchmarkArgs.Option(args, "--add", "200"), System.Globalization.CultureInfo.InvariantCulture);
                for (int o = 0; o < net.OutputSize; o++)
                {
                    if (o == ys[i]) continue;
                    var c0 = Stopwatch.StartNew();
                    Array.Clear(w);
                    w[o] = 1;
                    w[ys[i]] = -1;
                    var cx = region.InputRow(w);
                    var obj = solver.Objective();
                    obj.Clear();
                    for (int k = 0; k < cx.Length; k++) if (cx[k] != 0) obj.SetCoefficient(vars[k], cx[k]);
                    obj.SetMaximization();
                    int r0 = rounds;
                    double value;
                    while (true)
                    {
                        var st = solver.Solve();
                        rounds++;
                        if (st != Google.OrTools.LinearSolver.Solver.ResultStatus.OPTIMAL) throw new InvalidOperationException(st.ToString());
                        for (int k = 0; k < x.Length; k++) x[k] = vars[k].SolutionValue();
                        value = obj.Value();
                        var viol = new List<(double V, int J)>();
                        for (int j = 0; j < layer.Outputs; j++)
                        {
                            if (added[j]) continue;
                            double z = layer.Bias[j];
                            var rc = rowCols[j]; var rv = rowVals[j];
                            for (int e = 0; e < rc.Length; e++) z += rv[e] * x[rc[e]];
                            double v = region.Pattern[j] ? -z : z;
                            if (v > 1e-9) viol.Add((v, j));
                        }
                        if (viol.Count == 0) break;
                        foreach (var (_, j) in viol.OrderByDescending(t => t.V).Take(cap))
                        {
                            double rhs = -layer.Bias[j];
                            var row = region.Pattern[j] ? solver.MakeConstraint(rhs, double.PositiveInfinity, "") : solver.MakeConstraint(double.NegativeInfinity, rhs, "");
                            for (int e = 0; e < rowCols[j].Length; e++) if (rowVals[j][e] != 0) row.SetCoefficient(vars[rowCols[j][e]], rowVals[j][e]);
                            added[j] = true;
                            addedCount++;
                        }
                    }
                    double constant = 0;
                    var off = region.OutputOffset;
                    for (int q = 0; q < w.Length; q++) constant += w[q] * off[q];
                    times.Add($"{c0.Elapsed.TotalSeconds:F3}({value + constant:G4},{rounds - r0}r)");
                }
                Console.WriteLine($"lazy test[{i}]: region {tRegion:F3} s, LPs: {string.Join(" ", times)}; total {clock.Elapsed.TotalSeconds:F2} s, rows {addedCount}, rounds {rounds}");
            }
            return 0;
        }
        foreach (var i in wrong)
        {
            var clock = Stopwatch.StartNew();
            var region = new LinearRegion(net, net.Pattern(xs[i]), box);
            _ = region.OutputMatrix;
            double tRegion = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using var lp = new RegionLp(region, args.Contains("--params") ? BenchmarkArgs.Option(args, "--params", "") : null, engine);
            var w = new double[net.OutputSize];
            var times = new List<string>();
            if (BenchmarkArgs.Option(args, "--zero-first", "off") == "on")
            {
                var z0 = Stopwatch.StartNew();
                lp.MaximizeOutput(w);
                times.Add($"zero-objective {z0.Elapsed.TotalSeconds:F3}");
            }
            for (int o = 0; o < net.OutputSize; o++)
            {
                if (o == ys[i]) continue;
                Array.Clear(w);
                w[o] = 1;
                w[ys[i]] = -1;
                var c0 = Stopwatch.StartNew();
                var r = lp.MaximizeBelow(w, default, 0, -1e-3);
                var cert = lp.Certificate();
                double tSolve = c0.Elapsed.TotalSeconds;
                c0.Restart();
                double ub = cert.UpperBound(region, w, default, 0, out double rounding);
                times.Add($"{tSolve:F3}+{c0.Elapsed.TotalSeconds:F3}({(r.Exact ? r.Value.ToString("G4") : "stop")}/{ub:G4})");
            }
            Console.WriteLine($"test[{i}]: region {tRegion:F3} s, LPs: {string.Join(" ", times)}; total {clock.Elapsed.TotalSeconds:F2} s, solves {lp.Solves}, lazy rounds {lp.LazyRounds}");
        }
        return 0;
    }
}
