using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>
/// Point-wise repair of the REASSURE MNIST network (784-256-256-10) on the first misclassified MNIST test images,
/// as in the authors' experiment (method.md §7): every image fixed (double and ONNX Runtime float32), test accuracy
/// not below 98.0 %, outputs of test images outside every support bit-identical, ND printed.
/// </summary>
[TestClass]
public sealed class MnistRepairTests
{
    private static readonly Lazy<(OnnxModel Model, double[][] X, int[] Y, double[][] Before)> Data = new(() =>
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var x = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var y = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        return (model, x, y, model.Network.EvaluateBatch(x));
    });

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DoNotParallelize]
    public void FirstTenMisclassified_AllFixed_AccuracyKept_LocalityBitIdentical() => RepairFirst(10, checkOrtLocality: true);

    [TestMethod]
    [DoNotParallelize]
    public void FirstHundredMisclassified_AllFixed_AccuracyKept() => RepairFirst(100, checkOrtLocality: false);

    private void RepairFirst(int count, bool checkOrtLocality)
    {
        var (model, xs, ys, before) = Data.Value;
        var net = model.Network;
        var wrong = Enumerable.Range(0, xs.Length).Where(i => TinyNetworks.ArgMax(before[i]) != ys[i]).Take(count).ToList();
        Assert.AreEqual(count, wrong.Count);
        if (count == 10) CollectionAssert.AreEqual(new[] { 15, 217, 247, 321, 340, 445, 447, 448, 495, 582 }, wrong, "method.md §7 names these indices");
        var buggy = wrong.Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]")).ToList();
        var options = new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) };
        var clock = Stopwatch.StartNew();
        var result = Repairer.Repair(net, buggy, options);
        double seconds = clock.Elapsed.TotalSeconds;

        foreach (var s in result.Inputs)
        {
            Assert.IsTrue(s.Fixed, $"{s.Id}: {s.Message}");
            Assert.AreEqual(true, s.FixedFloat32, $"{s.Id} in float32: {s.Message}");
        }
        Assert.IsTrue(result.Patches.All(p => p.Verified), "every patch passes the independent LP check");

        var after = result.Network.EvaluateBatch(xs);
        int correct = 0, outside = 0;
        double nd = 0;
        var outsideIdx = new List<int>();
        for (int i = 0; i < xs.Length; i++)
        {
            if (TinyNetworks.ArgMax(after[i]) == ys[i]) correct++;
            nd += Softmax(before[i]).Zip(Softmax(after[i])).Max(t => Math.Abs(t.First - t.Second));
            if (result.Network.InAnySupport(xs[i])) continue;
            outside++;
            outsideIdx.Add(i);
            for (int o = 0; o < 10; o++)
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(before[i][o]), BitConverter.DoubleToInt64Bits(after[i][o]), $"test image {i} is outside every support but its output changed");
        }
        double accuracy = correct / (double)xs.Length;
        TestContext.WriteLine($"points {count}: fixed {result.FixedCount}/{count}, patches {result.Patches.Count}, LPs {result.Timings.LinearPrograms}, " +
            $"seconds {seconds:F1} (patches {result.Timings.Patches.TotalSeconds:F1}, verify {result.Timings.Verify.TotalSeconds:F1}), " +
            $"accuracy {100 * accuracy:F2} % (published {(count == 10 ? "98.1" : "99.0")}), ND {nd / xs.Length:F6} (published {(count == 10 ? "0.0001" : "0.0012")}), " +
            $"outside supports {outside}, max gamma {result.Patches.Max(p => p.Gamma)}");
        Assert.IsTrue(accuracy >= 0.98, $"accuracy {accuracy:P2}");
        Assert.IsTrue(outside > xs.Length / 2, $"{outside} images outside every support");

        if (!checkOrtLocality) return;
        // Locality in ONNX Runtime: the repaired graph built on the original file gives bit-identical float32 outputs.
        using var original = new InferenceSession(File.ReadAllBytes(TestData.File("models", "reassure-mnist-256x256.onnx")));
        var repairedBytes = RepairedOnnxExporter.ToBytes(result.Network, model);
        // The gate is the signed product over the 512 neurons (dead zone), not the 2H = 1024 form.
        // (Behind the screen, the patch network's constants are the initializers of the If's open branch.)
        var graph = Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(repairedBytes).Graph;
        var signs = graph.Initializer.Concat(graph.Node.SelectMany(n => n.Attribute).Where(a => a.G is not null).SelectMany(a => a.G.Initializer))
            .Single(t => t.Name.Contains("signs", StringComparison.Ordinal));
        CollectionAssert.AreEqual(new long[] { 512, result.Network.Patches.Count }, signs.Dims.ToArray());
        using var repaired = new InferenceSession(repairedBytes);
        var probe = outsideIdx.Take(2000).Select(i => xs[i]).ToList();
        var ya = OnnxRuntimeFloat32Evaluator.Run(original, model, probe);
        var yb = OnnxRuntimeFloat32Evaluator.Run(repaired, model, probe);
        for (int k = 0; k < probe.Count; k++)
            for (int o = 0; o < 10; o++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits((float)ya[k][o]), BitConverter.SingleToInt32Bits((float)yb[k][o]), $"ORT output of an image outside every support changed (row {k})");
        // And the repaired graph agrees with the Core evaluator within 1e-4 on all buggy images and the probe.
        var check = probe.Take(500).Concat(buggy.Select(b => b.Input)).ToList();
        var ort = OnnxRuntimeFloat32Evaluator.Run(repaired, model, check);
        double worst = 0;
        for (int k = 0; k < check.Count; k++)
        {
            var y = result.Network.Evaluate(check[k]);
            for (int o = 0; o < 10; o++) worst = Math.Max(worst, Math.Abs(y[o] - ort[k][o]));
        }
        TestContext.WriteLine($"max |ORT - Core| on the repaired model: {worst:E2}");
        Assert.IsTrue(worst <= 1e-4, $"max |ORT - Core| = {worst}");
    }

    private static double[] Softmax(double[] v)
    {
        double max = v.Max();
        var e = v.Select(t => Math.Exp(t - max)).ToArray();
        double sum = e.Sum();
        return e.Select(t => t / sum).ToArray();
    }
}
