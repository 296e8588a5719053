using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>ort-ratio [--points 100] [--file path] [--rounds 5]</c>: the ONNX Runtime inference ratio of a repaired MNIST model
/// re-exported by the current <see cref="PatchGraph"/>, without repairing again: the first run repairs the first N
/// misclassified test images and saves the repaired ONNX to the file; later runs read its patches back
/// (<see cref="RepairedOnnxImporter"/>), export them anew, and time original vs repaired (and vs the export before the
/// screen, <see cref="ScreenedGate"/>) with the ORT profile by operator (batches) and by node (single images).
/// </summary>
internal static class OrtRatio
{
    public static int Run(string[] args)
    {
        var (points, noise, rounds, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 5);
        var model = SharedData.LoadMnistModel();
        var net = model.Network;
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = LoadOrRepair(model, points, file, noise);
        var bytes = RepairedOnnxExporter.ToBytes(repaired.Repaired, model);
        // The export before the screen (ScreenedGate), timed interleaved too.
        var unscreened = RepairedOnnxExporter.ToBytes(repaired.Repaired, model, null, screened: false);
        Console.WriteLine($"load before: {MnistMacro.LoadAverage()}; {repaired.Repaired.Patches.Count} patches, {bytes.Length / 1024} KiB");
        var original = File.ReadAllBytes(SharedData.MnistModelPath);
        var inf = InferenceRatios.Measure(original, bytes, model.InputName, net, repaired.Repaired, xs, unscreened, rounds: rounds);
        Console.WriteLine($"  unscreened export: single {inf.OrtSingleLeanUs:F1} us ({inf.OrtSingleLean:F2}x);  batch 1024: {inf.OrtBatchLeanMs:F2} ms ({inf.OrtBatchLean:F2}x)");
        Console.WriteLine($"  ORT  single: {inf.OrtSingleOriginalUs:F1} us -> {inf.OrtSingleRepairedUs:F1} us ({inf.OrtSingle:F2}x);  batch 1024: {inf.OrtBatchOriginalMs:F2} ms -> {inf.OrtBatchRepairedMs:F2} ms ({inf.OrtBatch:F2}x)");
        Console.WriteLine($"  Core single: {inf.CoreSingleOriginalUs:F1} us -> {inf.CoreSingleRepairedUs:F1} us ({inf.CoreSingle:F2}x);  batch 1024: {inf.CoreBatchOriginalMs:F2} ms -> {inf.CoreBatchRepairedMs:F2} ms ({inf.CoreBatch:F2}x)");
        OrtProfile.Print("original", original, model.InputName, xs);
        OrtProfile.Print("repaired", bytes, model.InputName, xs);
        OrtProfile.PrintSingle("original", original, model.InputName, xs);
        OrtProfile.PrintSingle("repaired", bytes, model.InputName, xs);
        Console.WriteLine($"load after: {MnistMacro.LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// The repaired MNIST model saved in <paramref name="file"/>, read back; when the file is missing, the first
    /// <paramref name="points"/> misclassified test images are repaired and saved there first. With
    /// <paramref name="noise"/> e > 0 the images are the test images plus uniform noise in [-e, e], clamped to [0, 1]
    /// (image i seeded with <c>new Random(1900 + i)</c>): a way to get more misclassified points than the 10 000 test
    /// images have (about 200 at e = 0), from the same distribution.
    /// </summary>
    public static RepairedOnnxModel LoadOrRepair(OnnxModel model, int points, string file, double noise = 0)
    {
        if (!File.Exists(file))
        {
            var net = model.Network;
            var (xs, ys) = SharedData.LoadMnistTest();
            if (noise > 0) xs = Noisy(xs, noise);
            var wrong = Enumerable.Range(0, xs.Length).Where(i => SharedData.ArgMax(net.Evaluate(xs[i])) != ys[i]).Take(points);
            var buggy = wrong.Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]")).ToList();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
            File.WriteAllBytes(file, RepairedOnnxExporter.ToBytes(result.Network, model));
            Console.WriteLine($"repaired {points} points{(noise > 0 ? $" (noise {noise})" : "")}, {result.Patches.Count} patches in {clock.Elapsed.TotalSeconds:F0} s, saved {file}");
        }
        return RepairedOnnxImporter.TryLoad(file) ?? throw new InvalidOperationException($"{file} is not a repaired model");
    }

    /// <summary>Image i plus uniform noise in [-e, e] from <c>new Random(1900 + i)</c>, clamped to [0, 1].</summary>
    public static double[][] Noisy(double[][] images, double e) =>
        images.Select((x, i) =>
        {
            var random = new Random(1900 + i);
            return x.Select(v => Math.Clamp(v + e * (2 * random.NextDouble() - 1), 0, 1)).ToArray();
        }).ToArray();
}
