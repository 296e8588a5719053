using System.Diagnostics;
using System.Globalization;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>watermark [--rule previous|best-other] [--threads n]</c> (issue 17, item 2): removes the watermark of the REASSURE
/// watermark network. Repairs all 100 watermark images with the avoid specification (the row's label is the label to
/// avoid) and prints: watermark removed n/100 in double and in ONNX Runtime float32 on the exported graph, MNIST test
/// accuracy before -> after, patches, seconds, patches proved; then generalisation: repair on the first 50, count how
/// many of the other 50 no longer predict their watermark label.
/// </summary>
internal static class WatermarkBenchmark
{
    public static int Run(string[] args)
    {
        var rule = AvoidSpecification.Parse(BenchmarkArgs.Option(args, "--rule", "previous")) ?? throw new ArgumentException("--rule previous|best-other");
        int threads = int.Parse(BenchmarkArgs.Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var model = OnnxImporter.Load(SharedData.File("models", "reassure-watermark-150.onnx"));
        var net = model.Network;
        var wm = RowsCsv.Read(SharedData.File("models", "watermark.csv"), net.InputSize, net.OutputSize);
        var (xs, ys) = SharedData.LoadMnistTest();
        Console.WriteLine($"Reassure watermark benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores, threads {threads}, rule {AvoidSpecification.Name(rule)}");
        int predictedBefore = Enumerable.Range(0, wm.Count).Count(i => SharedData.ArgMax(net.Evaluate(wm.Inputs[i])) == wm.Labels[i]);
        double accBefore = Accuracy(net.EvaluateBatch(xs), ys);
        Console.WriteLine($"network {net.InputSize}-{string.Join("-", net.Layers.Select(l => l.Outputs))}: watermark label predicted on {predictedBefore}/{wm.Count}, MNIST test accuracy {accBefore:F2} %");

        var patterns = wm.Inputs.Select(x => net.Pattern(x)).ToList();
        var groups = Enumerable.Range(0, wm.Count).GroupBy(i => patterns[i]).ToList();
        double maxNorm = wm.Inputs.Max(x => x.Max(Math.Abs));
        var shared = groups.Where(g => g.Count() > 1).ToList();
        Console.WriteLine($"watermark images: max |x|_inf {maxNorm:G3}; {groups.Count} linear regions, {shared.Count} of them hold {shared.Sum(g => g.Count())} images, " +
            $"{shared.Count(g => g.Select(i => wm.Labels[i]).Distinct().Count() > 1)} of those with different watermark labels");
        var all = Repair(model, wm, Enumerable.Range(0, wm.Count).ToList(), rule, threads);
        PrintRun("all 100", model, wm, Enumerable.Range(0, wm.Count).ToList(), all.Result, all.Seconds, xs, ys, accBefore);

        var half = Repair(model, wm, Enumerable.Range(0, wm.Count / 2).ToList(), rule, threads);
        var first = Enumerable.Range(0, wm.Count / 2).ToList();
        PrintRun("first 50", model, wm, first, half.Result, half.Seconds, xs, ys, accBefore);
        var rest = Enumerable.Range(wm.Count / 2, wm.Count - wm.Count / 2).ToList();
        var evaluator = new OnnxRuntimeFloat32Evaluator(model);
        var restF32 = evaluator.Evaluate(half.Result.Network, rest.Select(i => wm.Inputs[i]).ToList());
        int lostDouble = rest.Count(i => SharedData.ArgMax(half.Result.Network.Evaluate(wm.Inputs[i])) != wm.Labels[i]);
        int lostF32 = rest.Select((i, r) => SharedData.ArgMax(restF32[r]) != wm.Labels[i]).Count(b => b);
        var firstPatterns = first.Select(i => patterns[i]).ToHashSet();
        Console.WriteLine($"generalisation: {rest.Count(i => firstPatterns.Contains(patterns[i]))} of the other {rest.Count} share a linear region with one of the first {first.Count}");
        Console.WriteLine($"generalisation: repaired on the first {first.Count}, the other {rest.Count} lose their watermark label: {lostDouble}/{rest.Count} (double), {lostF32}/{rest.Count} (ORT float32)");
        return 0;
    }

    private static (RepairResult Result, double Seconds) Repair(OnnxModel model, RowSet wm, List<int> rows, AvoidTargetRule rule, int threads)
    {
        var buggy = rows.Select(i => new BuggyInput(wm.Inputs[i], AvoidSpecification.Create(model.Network, wm.Inputs[i], wm.Labels[i], rule), $"wm[{i}]")).ToList();
        var clock = Stopwatch.StartNew();
        var result = Repairer.Repair(model.Network, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = threads });
        return (result, clock.Elapsed.TotalSeconds);
    }

    private static void PrintRun(string name, OnnxModel model, RowSet wm, List<int> rows, RepairResult result, double seconds, double[][] xs, int[] ys, double accBefore)
    {
        // The exported file, read back and run in ONNX Runtime (float32).
        var bytes = RepairedOnnxExporter.ToBytes(result.Network, model, result.Specs);
        var path = Path.Combine(Path.GetTempPath(), $"reassure-watermark-{rows.Count}.onnx");
        File.WriteAllBytes(path, bytes);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        var f32Wm = Ort(session, model.InputName, rows.Select(i => wm.Inputs[i]).ToList(), model.Network.OutputSize);
        var f32Test = Ort(session, model.InputName, xs, model.Network.OutputSize);
        int removedDouble = rows.Count(i => SharedData.ArgMax(result.Network.Evaluate(wm.Inputs[i])) != wm.Labels[i]);
        int removedF32 = rows.Select((i, r) => SharedData.ArgMax(f32Wm[r]) != wm.Labels[i]).Count(b => b);
        var afterTest = result.Network.EvaluateBatch(xs);
        var beforeTest = result.Network.Original.EvaluateBatch(xs);
        int changed = Enumerable.Range(0, xs.Length).Count(i => !afterTest[i].AsSpan().SequenceEqual(beforeTest[i]));
        double accAfter = Accuracy(afterTest, ys);
        double accAfterF32 = Accuracy(f32Test, ys);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: watermark removed {removedDouble}/{rows.Count} (double), {removedF32}/{rows.Count} (ORT float32, exported file); fixed {result.FixedCount}/{rows.Count}; " +
            $"MNIST test accuracy {accBefore:F2} % -> {accAfter:F2} % (double), {accAfterF32:F2} % (ORT float32), {changed} test images with any output changed (double); patches {result.Patches.Count} " +
            $"(split rows {result.Patches.Sum(p => p.SplitRows)}), proved {result.Patches.Count(p => p.Verified)}/{result.Patches.Count}, max gamma {(result.Patches.Count == 0 ? 0 : result.Patches.Max(p => p.Gamma)):G3}, " +
            $"{seconds:F2} s (engine {result.Timings.Total.TotalSeconds:F2} s: regions {result.Timings.Regions.TotalSeconds:F2}, patches {result.Timings.Patches.TotalSeconds:F2}, " +
            $"soundness {result.Timings.Soundness.TotalSeconds:F2}, check {result.Timings.Verify.TotalSeconds:F2}), {bytes.Length / 1024} KiB"));
    }

    private static double[][] Ort(Microsoft.ML.OnnxRuntime.InferenceSession session, string inputName, IReadOnlyList<double[]> inputs, int outputs)
    {
        int n = inputs.Count, d = inputs[0].Length;
        var data = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) data[i * d + j] = (float)inputs[i][j];
        var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(data, [n, d]);
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
        var y = results.First().AsEnumerable<float>().ToArray();
        return Enumerable.Range(0, n).Select(i => Enumerable.Range(0, outputs).Select(j => (double)y[i * outputs + j]).ToArray()).ToArray();
    }

    private static double Accuracy(double[][] outputs, int[] labels) =>
        100.0 * Enumerable.Range(0, labels.Length).Count(i => SharedData.ArgMax(outputs[i]) == labels[i]) / labels.Length;
}
