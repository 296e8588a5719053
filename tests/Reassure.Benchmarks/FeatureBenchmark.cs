using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>feature [--net cifar10|avgpool|maxpool|all] [--layer NAME] [--threads n]</c> (issue 18, item 4): feature-space repair at a
/// hidden tensor, end to end (split, feature box, regions, patches, soundness in double and in ONNX Runtime on the whole
/// exported graph, the independent check, export).
/// <list type="bullet">
/// <item>cifar10: the centres of the six marabou-cifar10 VNN-LIB properties (CIFAR-10 test images), each relabelled to its
/// property's target label, repaired together at the last hidden layers; then each distinct centre alone, with the
/// other centres' outputs compared bit for bit (double and ONNX Runtime).</item>
/// <item>avgpool, maxpool: the centres of the verivital avgpool / maxpool properties relabelled to their runner-up class,
/// repaired at the flattened features (after the pool); every MNIST test image compared bit for bit. The staged boxes
/// are MNIST test images 921, 922, 923, 925, 926 widened by eps and clipped to [0, 1], so a centre lies within eps/2 of
/// its image (0.01 avgpool, 0.002 maxpool, checked against the idx file): those images can share a support.</item>
/// </list>
/// </summary>
internal static class FeatureBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string which = BenchmarkArgs.Option(args, "--net", "all");
        int threads = int.Parse(BenchmarkArgs.Option(args, "--threads", Environment.ProcessorCount.ToString(Inv)), Inv);
        string? layer = BenchmarkArgs.Option(args, "--layer", "") is { Length: > 0 } l ? l : null;
        Console.WriteLine($"Reassure feature-space benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores, threads {threads}, .NET {Environment.Version}; load {MnistMacro.LoadAverage()}");
        bool ok = true;
        if (which is "cifar10" or "all")
            foreach (var t in layer is null ? ["sequential/dense/Relu:0", "sequential/dense_1/Relu:0"] : new[] { layer }) ok &= Cifar(t, threads);
        if (which is "avgpool" or "all") ok &= Verivital("avgpool", layer ?? "9", threads);
        if (which is "maxpool" or "all") ok &= Verivital("maxpool", layer ?? "8", threads); // the Flatten after the MaxPool
        return ok ? 0 : 1;
    }

    private static bool Cifar(string layer, int threads)
    {
        string folder = Path.GetDirectoryName(SharedData.File("vnncomp", "marabou-cifar10", "cifar10_small.onnx"))!;
        var model = OnnxImporter.Load(Path.Combine(folder, "cifar10_small.onnx"));
        var files = Directory.GetFiles(folder, "networkcifar10_small_index*_eps*_target*_orig*.vnnlib").Order(StringComparer.Ordinal).ToList();
        var name = new Regex(@"index(\d+)_eps([\d.]+)_target(\d+)_orig(\d+)");
        var cases = files.Select(f =>
        {
            var m = name.Match(Path.GetFileName(f));
            var centre = VnnLibReader.Read(f).Hull().Center();
            return (Id: $"index{m.Groups[1].Value}/eps{m.Groups[2].Value}", Image: m.Groups[1].Value, X: centre,
                Target: int.Parse(m.Groups[3].Value, Inv), Orig: int.Parse(m.Groups[4].Value, Inv));
        }).ToList();
        Console.WriteLine($"cifar10_small at {layer}: {cases.Count} properties ({cases.Select(c => c.Image).Distinct().Count()} distinct centres); " +
            $"original labels at the centres {string.Join(",", cases.Select(c => SharedData.ArgMax(model.Network.Evaluate(c.X))))} (file names: {string.Join(",", cases.Select(c => c.Orig))})");
        var split = FeatureSplitter.Split(model, layer);
        Console.WriteLine($"  split: prefix {split.Split.Prefix.InputSize}-{string.Join("-", split.Split.Prefix.Layers.Select(x => x.Outputs))}, features {split.Split.FeatureSize}, " +
            $"suffix {string.Join("-", split.Split.Suffix.Layers.Select(x => x.Outputs))} ({split.Split.Suffix.HiddenCount} ReLUs)");
        var buggy = cases.Select(c => new BuggyInput(c.X, new ClassificationSpecification(c.Target, 1e-3), c.Id)).ToList();
        var options = new RepairOptions { MaxDegreeOfParallelism = threads };
        var evaluator = new OnnxFeatureFloat32Evaluator(split);
        var clock = Stopwatch.StartNew();
        var result = FeatureRepairer.Repair(split.Split, buggy, options, float32: evaluator);
        double seconds = clock.Elapsed.TotalSeconds;
        var bytes = FeatureOnnxExporter.ToBytes(split, result.Suffix.Network, result.Suffix.Specs);
        var ort = OnnxRuntimeFloat32Evaluator.Run(new InferenceSession(bytes), model, cases.Select(c => c.X).ToList());
        int ortFixed = cases.Select((c, k) => SharedData.ArgMax(ort[k]) == c.Target).Count(b => b);
        int proved = result.Suffix.Patches.Count(p => p.Verified);
        bool good = result.AllFixed && proved == result.Suffix.Patches.Count && ortFixed == cases.Count;
        Console.WriteLine($"  all {cases.Count} together: {seconds:F2} s; fixed {result.Suffix.FixedCount}/{cases.Count} (double and ONNX Runtime on the whole graph: {ortFixed}/{cases.Count}), " +
            $"patches {result.Suffix.Patches.Count}, proved {proved}/{result.Suffix.Patches.Count}; load {MnistMacro.LoadAverage()} {(good ? "OK" : "FAILED")}");
        foreach (var s in result.Inputs.Where(s => !s.IsFixed)) Console.WriteLine($"    {s.Id}: {s.ErrorCode} {s.Message}");

        // Each distinct centre alone: the other centres keep their outputs bit for bit.
        var original = new InferenceSession(File.ReadAllBytes(Path.Combine(folder, "cifar10_small.onnx")));
        foreach (var group in cases.GroupBy(c => c.Image))
        {
            var mine = group.ToList();
            var others = cases.Where(c => c.Image != group.Key).GroupBy(c => c.Image).Select(g => g.First()).ToList();
            clock.Restart();
            var one = FeatureRepairer.Repair(split.Split, mine.Select(c => new BuggyInput(c.X, new ClassificationSpecification(c.Target, 1e-3), c.Id)).ToList(), options, float32: evaluator);
            double s1 = clock.Elapsed.TotalSeconds;
            var b1 = FeatureOnnxExporter.ToBytes(split, one.Suffix.Network, one.Suffix.Specs);
            var xs = others.Select(c => c.X).ToList();
            int doubleSame = others.Count(c => model.Network.Evaluate(c.X).AsSpan().SequenceEqual(one.Evaluate(c.X)));
            var before32 = OnnxRuntimeFloat32Evaluator.Run(original, model, xs);
            var after32 = OnnxRuntimeFloat32Evaluator.Run(new InferenceSession(b1), model, xs);
            int floatSame = Enumerable.Range(0, xs.Count).Count(k => before32[k].AsSpan().SequenceEqual(after32[k]));
            bool g1 = one.AllFixed && one.Suffix.Patches.All(p => p.Verified) && doubleSame == others.Count && floatSame == others.Count;
            good &= g1;
            Console.WriteLine($"  image {group.Key} alone (target {mine[0].Target}): {s1:F2} s; fixed {one.Suffix.FixedCount}/{mine.Count}, patches {one.Suffix.Patches.Count}, " +
                $"proved {one.Suffix.Patches.Count(p => p.Verified)}; other centres bit-identical {doubleSame}/{others.Count} (double), {floatSame}/{others.Count} (ONNX Runtime) {(g1 ? "OK" : "FAILED")}");
        }
        return good;
    }

    private static bool Verivital(string net, string layer, int threads)
    {
        string path = SharedData.File("vnncomp", "verivital", $"Convnet_{net}.onnx");
        var model = OnnxImporter.Load(path);
        var (xs, ys) = SharedData.LoadMnistTest();
        var specs = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(path)!, "specs", $"{net}_specs"), "*.vnnlib").Order(StringComparer.Ordinal).ToList();
        var centres = specs.Select(f => (Id: Path.GetFileNameWithoutExtension(f), X: VnnLibReader.Read(f).Hull().Center())).ToList();
        var split = FeatureSplitter.Split(model, layer);
        Console.WriteLine($"verivital {net} at '{layer}': features {split.Split.FeatureSize}, suffix {string.Join("-", split.Split.Suffix.Layers.Select(x => x.Outputs))} ({split.Split.Suffix.HiddenCount} ReLUs); {centres.Count} property centres");
        var buggy = centres.Select(c =>
        {
            var y = model.Network.Evaluate(c.X);
            int top = SharedData.ArgMax(y);
            int runnerUp = Enumerable.Range(0, y.Length).Where(o => o != top).OrderByDescending(o => y[o]).First();
            return new BuggyInput(c.X, new ClassificationSpecification(runnerUp, 1e-3), $"{c.Id} ({top}->{runnerUp})");
        }).ToList();
        var clock = Stopwatch.StartNew();
        var result = FeatureRepairer.Repair(split.Split, buggy, new RepairOptions { MaxDegreeOfParallelism = threads }, float32: new OnnxFeatureFloat32Evaluator(split));
        double seconds = clock.Elapsed.TotalSeconds;
        int proved = result.Suffix.Patches.Count(p => p.Verified);
        // Double: the model cut at the tensor (the same arithmetic without patches) against the repaired one.
        var before = new double[xs.Length][];
        var after = new double[xs.Length][];
        Parallel.For(0, xs.Length, i => { before[i] = split.Split.Evaluate(xs[i]); after[i] = result.Evaluate(xs[i]); });
        int changed = Enumerable.Range(0, xs.Length).Count(i => !before[i].AsSpan().SequenceEqual(after[i]));
        var inSupport = Enumerable.Range(0, xs.Length).Where(i => result.InAnySupport(xs[i])).ToList();
        // float32: the original file and the exported repaired file in ONNX Runtime on every test image.
        var bytes = FeatureOnnxExporter.ToBytes(split, result.Suffix.Network, result.Suffix.Specs);
        var ortBefore = OnnxRuntimeFloat32Evaluator.Run(new InferenceSession(File.ReadAllBytes(path)), model, xs);
        var ortAfter = OnnxRuntimeFloat32Evaluator.Run(new InferenceSession(bytes), model, xs);
        int changed32 = Enumerable.Range(0, xs.Length).Count(i => !ortBefore[i].AsSpan().SequenceEqual(ortAfter[i]));
        var ortBuggy = OnnxRuntimeFloat32Evaluator.Run(new InferenceSession(bytes), model, buggy.Select(b => b.Input).ToList());
        int ortFixed = buggy.Select((b, k) => b.Spec.ToLinear(10).Slack(ortBuggy[k]) >= 0).Count(v => v);
        bool good = result.AllFixed && proved == result.Suffix.Patches.Count && changed <= inSupport.Count && ortFixed == buggy.Count;
        Console.WriteLine($"  {seconds:F2} s; fixed {result.Suffix.FixedCount}/{buggy.Count} (ONNX Runtime on the exported file {ortFixed}/{buggy.Count}), patches {result.Suffix.Patches.Count}, proved {proved}; " +
            $"MNIST test images: features in a support {inSupport.Count} ({string.Join(",", inSupport.Take(10))}), outputs changed {changed} (double), {changed32} (ONNX Runtime) of {xs.Length}; load {MnistMacro.LoadAverage()} {(good ? "OK" : "FAILED")}");
        foreach (var s in result.Inputs.Where(s => !s.IsFixed)) Console.WriteLine($"    {s.Id}: {s.ErrorCode} {s.Message}");
        return good;
    }
}
