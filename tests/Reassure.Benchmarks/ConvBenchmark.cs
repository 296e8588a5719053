using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>conv [--net avgpool|maxpool|both] [--points 10,100] [--threads n] [--baseline-points 10|0]</c> (issue 18): point repair of the first N
/// misclassified MNIST test images on the VNN-COMP verivital convolutional networks, end to end (regions, LPs, patches,
/// soundness in double and float32, the independent check, export on the original graph). Prints seconds and LP counts,
/// fixed/proved counts, the test accuracy before and after, and whether every test image outside all supports keeps its
/// outputs bit for bit (in double through the engine, and in float32 through ONNX Runtime on the exported file). Then, in
/// the same run, the first <c>--baseline-points</c> repaired with every region row in GLOP's model from the start
/// (<see cref="Reassure.Lp.RegionLpEngine.GlopAllRows"/>), and the ratio to this run's figure for as many points.
/// </summary>
internal static class ConvBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var points = BenchmarkArgs.Option(args, "--points", "10,100").Split(',').Select(s => int.Parse(s, Inv)).ToArray();
        int threads = int.Parse(BenchmarkArgs.Option(args, "--threads", Environment.ProcessorCount.ToString(Inv)), Inv);
        string which = BenchmarkArgs.Option(args, "--net", "both");
        int baselinePoints = int.Parse(BenchmarkArgs.Option(args, "--baseline-points", "10"), Inv); // 0: no baseline
        var nets = which == "both" ? new[] { "avgpool", "maxpool" } : [which];
        Console.WriteLine($"Reassure conv benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores, threads {threads}, .NET {Environment.Version}; load {MnistMacro.LoadAverage()}");
        var (xs, ys) = SharedData.LoadMnistTest();
        bool ok = true;
        foreach (var name in nets)
        {
            string path = SharedData.File("vnncomp", "verivital", $"Convnet_{name}.onnx");
            var model = OnnxImporter.Load(path);
            var net = model.Network;
            var before = net.EvaluateBatch(xs);
            var wrong = Enumerable.Range(0, xs.Length).Where(i => SharedData.ArgMax(before[i]) != ys[i]).ToList();
            int correctBefore = xs.Length - wrong.Count;
            Console.WriteLine($"{name}: {net.InputSize}-{string.Join("-", net.Layers.Select(l => l.Outputs))} ({string.Join("; ", net.Layers.Select(l => l.Map.Kind + (l.MaxPool is { } mp ? " + relu + " + mp.Kind : "")))}), " +
                $"test accuracy {100.0 * correctBefore / xs.Length:F2} % ({wrong.Count} misclassified)");
            var first = Enumerable.Range(0, 1000).ToList();
            var ortFirst = Ort(File.ReadAllBytes(path), model.InputName, xs, first);
            double maxDiff = 0;
            foreach (var i in first) for (int o = 0; o < net.OutputSize; o++) maxDiff = Math.Max(maxDiff, Math.Abs(before[i][o] - ortFirst[i][o]));
            Console.WriteLine($"  ONNX Runtime agreement on the first 1000 test images: max |double - float32 ORT| = {maxDiff:E2}");
            BuggyInput Buggy(int i) => new(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]");
            var warm = Stopwatch.StartNew();
            Repairer.Repair(net, [Buggy(wrong[^1])], new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = threads });
            Console.WriteLine($"  warm-up (not counted): one repair of test[{wrong[^1]}] in {warm.Elapsed.TotalSeconds:F2} s");
            var seconds10 = new Dictionary<int, double>();
            foreach (int count in points)
            {
                var buggy = wrong.Take(count).Select(Buggy).ToList();
                var options = new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = threads };
                var clock = Stopwatch.StartNew();
                var result = Repairer.Repair(net, buggy, options);
                var exportClock = Stopwatch.StartNew();
                var bytes = RepairedOnnxExporter.ToBytes(result.Network, model);
                double export = exportClock.Elapsed.TotalSeconds;
                double seconds = clock.Elapsed.TotalSeconds;
                var t = result.Timings;
                int proved = result.Patches.Count(p => p.Verified);
                var after = result.Network.EvaluateBatch(xs);
                int correctAfter = Enumerable.Range(0, xs.Length).Count(i => SharedData.ArgMax(after[i]) == ys[i]);
                // Outside every support: outputs bit-identical in double (engine) and in float32 (ONNX Runtime on the exported file).
                var outside = Enumerable.Range(0, xs.Length).Where(i => !result.Network.InAnySupport(xs[i])).ToList();
                int doubleSame = outside.Count(i => before[i].AsSpan().SequenceEqual(after[i]));
                var ortBefore = Ort(File.ReadAllBytes(path), model.InputName, xs, outside);
                var ortAfter = Ort(bytes, model.InputName, xs, outside);
                int floatSame = Enumerable.Range(0, outside.Count).Count(k => ortBefore[k].AsSpan().SequenceEqual(ortAfter[k]));
                // The repaired file in ONNX Runtime agrees with the engine on the buggy points (argmax).
                var ortBuggy = Ort(bytes, model.InputName, xs, wrong.Take(count).ToList());
                int ortFixed = Enumerable.Range(0, count).Count(k => SharedData.ArgMax(ortBuggy[k].Select(v => (double)v).ToArray()) == ys[wrong[k]]);
                bool good = result.FixedCount == count && proved == result.Patches.Count && correctAfter >= correctBefore
                    && doubleSame == outside.Count && floatSame == outside.Count && ortFixed == count;
                ok &= good;
                seconds10[count] = seconds;
                Console.WriteLine($"  points {count}: {seconds:F2} s{Target(count)} (regions {t.Regions.TotalSeconds:F2}, patches+LPs {t.Patches.TotalSeconds:F2}, soundness {t.Soundness.TotalSeconds:F2}, " +
                    $"check {t.Verify.TotalSeconds:F2}, export {export:F2}), {t.LinearPrograms} LPs; fixed {result.FixedCount}/{count}, patches {result.Patches.Count}, proved {proved}/{result.Patches.Count}; " +
                    $"accuracy {100.0 * correctBefore / xs.Length:F2} % -> {100.0 * correctAfter / xs.Length:F2} %; outside every support {outside.Count} images: " +
                    $"bit-identical {doubleSame} (double), {floatSame} (ONNX Runtime float32); repaired file fixes {ortFixed}/{count} in ONNX Runtime; load {MnistMacro.LoadAverage()} {(good ? "OK" : "FAILED")}");
            }
            if (baselinePoints > 0)
            {
                // Baseline in the same run: the same points with every region row in GLOP's model from the start and
                // presolve on (RegionLpEngine.GlopAllRows, the input form before lazy rows), end to end as above.
                var buggy = wrong.Take(baselinePoints).Select(Buggy).ToList();
                var options = new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = threads, LpEngine = Reassure.Lp.RegionLpEngine.GlopAllRows };
                var clock = Stopwatch.StartNew();
                var result = Repairer.Repair(net, buggy, options);
                _ = RepairedOnnxExporter.ToBytes(result.Network, model);
                double baseline = clock.Elapsed.TotalSeconds;
                var t = result.Timings;
                string ratio = seconds10.TryGetValue(baselinePoints, out double ours) ? $"; baseline / this run's {ours:F2} s = {baseline / ours:F2}x" : "";
                Console.WriteLine($"  baseline, points {baselinePoints}, every row in GLOP's model, presolve on: {baseline:F2} s (patches+LPs {t.Patches.TotalSeconds:F2}), {t.LinearPrograms} LPs, " +
                    $"fixed {result.FixedCount}/{baselinePoints}, proved {result.Patches.Count(p => p.Verified)}/{result.Patches.Count}{ratio}; load {MnistMacro.LoadAverage()}");
            }
        }
        if (BenchmarkArgs.Option(args, "--cifar", "on") != "off" && File.Exists(Path.Combine(SharedData.Root, "vnncomp", "marabou-cifar10", "cifar10_small.onnx")))
        {
            // cifar10_small: the centre (a CIFAR-10 test image) and 99 random points of each staged property's box.
            string dir = Path.Combine(SharedData.Root, "vnncomp", "marabou-cifar10");
            var model = OnnxImporter.Load(Path.Combine(dir, "cifar10_small.onnx"));
            using var session = new InferenceSession(File.ReadAllBytes(Path.Combine(dir, "cifar10_small.onnx")));
            double maxDiff = 0;
            int pointCount = 0, boxes = 0, labelled = 0;
            foreach (var file in Directory.GetFiles(dir, "*.vnnlib").Order(StringComparer.Ordinal))
            {
                var box = Reassure.Formats.VnnLib.VnnLibReader.Read(file).Hull();
                var rng = new Random(1);
                var rows = new List<double[]> { box.Center() };
                for (int k = 0; k < 99; k++) rows.Add(Enumerable.Range(0, box.Dimension).Select(i => box.Lower[i] + rng.NextDouble() * (box.Upper[i] - box.Lower[i])).ToArray());
                var ort = OnnxRuntimeFloat32Evaluator.Run(session, model, rows);
                for (int r = 0; r < rows.Count; r++)
                {
                    var y = model.Network.Evaluate(rows[r]);
                    for (int o = 0; o < y.Length; o++) maxDiff = Math.Max(maxDiff, Math.Abs(y[o] - ort[r][o]));
                }
                int label = int.Parse(System.Text.RegularExpressions.Regex.Match(Path.GetFileName(file), @"orig(\d+)").Groups[1].Value, Inv);
                if (SharedData.ArgMax(model.Network.Evaluate(box.Center())) == label) labelled++;
                pointCount += rows.Count;
                boxes++;
            }
            Console.WriteLine($"cifar10_small: {boxes} property boxes, {pointCount} points: max |double - float32 ORT| = {maxDiff:E2}; box centres classified as their label {labelled}/{boxes}");
        }
        return ok ? 0 : 1;
    }

    /// <summary>The issue 18 target beside a figure: 100 points in under 60 s (2 cores).</summary>
    private static string Target(int count) => count == 100 ? " (target < 60 s, issue 18)" : "";

    /// <summary>float32 outputs of ONNX Runtime for the listed images, one image per call (the verivital files have batch 1).</summary>
    private static float[][] Ort(byte[] model, string inputName, double[][] xs, List<int> rows)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var dims = session.InputMetadata[inputName].Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
        var outName = session.OutputMetadata.Keys.Single();
        using var run = new RunOptions();
        var result = new float[rows.Count][];
        for (int k = 0; k < rows.Count; k++)
        {
            var data = xs[rows[k]].Select(v => (float)v).ToArray();
            using var x = OrtValue.CreateTensorValueFromMemory(data, dims);
            using var outputs = session.Run(run, [inputName], [x], [outName]);
            result[k] = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        return result;
    }
}
