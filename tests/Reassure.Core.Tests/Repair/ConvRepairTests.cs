using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Verification;
using Reassure.Repair;
using Reassure.Specifications;
using Reassure.Tests.Formats;

namespace Reassure.Tests.Repair;

/// <summary>
/// Point repair on a convolutional network (issue 18): the VNN-COMP verivital avgpool net (Conv + Relu + Pad +
/// AveragePool + Gemm, 23 328 ReLUs), first misclassified MNIST test images. Every image fixed in double and in float32,
/// every patch proved, test accuracy not lower, outputs outside every support bit-identical in the engine and, for the
/// exported file on the original graph, in ONNX Runtime.
/// </summary>
[TestClass]
public sealed class ConvRepairTests
{
    [TestMethod]
    [DoNotParallelize]
    public void VerivitalAvgpool_FirstThreeMisclassified_FixedProvedAndLocalInOnnxRuntime() =>
        FirstThreeMisclassified_FixedProvedAndLocalInOnnxRuntime("Convnet_avgpool.onnx");

    /// <summary>
    /// The verivital maxpool net (Conv + Relu + MaxPool 4x4 stride 4 + Gemm): the regions carry the winner of every
    /// window (method.md §12), so the same guarantees hold exactly.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    public void VerivitalMaxpool_FirstThreeMisclassified_FixedProvedAndLocalInOnnxRuntime() =>
        FirstThreeMisclassified_FixedProvedAndLocalInOnnxRuntime("Convnet_maxpool.onnx");

    private static void FirstThreeMisclassified_FixedProvedAndLocalInOnnxRuntime(string file)
    {
        var path = TestData.File("vnncomp", "verivital", file);
        var model = OnnxImporter.Load(path);
        var net = model.Network;
        var xs = Inputs.MnistImages;
        var ys = Inputs.MnistLabels;
        var before = net.EvaluateBatch(xs);
        var wrong = Enumerable.Range(0, xs.Length).Where(i => Inputs.ArgMax(before[i]) != ys[i]).Take(3).ToList();
        var buggy = wrong.Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
        foreach (var s in result.Inputs)
        {
            Assert.IsTrue(s.Fixed, $"{s.Id}: {s.Message}");
            Assert.AreEqual(true, s.FixedFloat32, $"{s.Id} in float32: {s.Message}");
        }
        Assert.IsTrue(result.Patches.All(p => p.Verified), "every patch passes the independent check");

        var after = result.Network.EvaluateBatch(xs);
        int correctBefore = Enumerable.Range(0, xs.Length).Count(i => Inputs.ArgMax(before[i]) == ys[i]);
        int correctAfter = Enumerable.Range(0, xs.Length).Count(i => Inputs.ArgMax(after[i]) == ys[i]);
        Assert.IsGreaterThanOrEqualTo(correctBefore + 3, correctAfter);
        var outside = Enumerable.Range(0, xs.Length).Where(i => !result.Network.InAnySupport(xs[i])).ToList();
        Assert.AreEqual(xs.Length - 3, outside.Count, "the supports hold only the repaired images among the test set");
        foreach (var i in outside) CollectionAssert.AreEqual(before[i], after[i], $"test[{i}] outside every support");

        // The repaired file keeps the original graph (opset 9 nodes rewritten to opset 13) and runs in ONNX Runtime:
        // the buggy images are fixed there and 300 images outside the supports give the original float32 outputs bit for bit.
        var bytes = RepairedOnnxExporter.ToBytes(result.Network, model);
        var ortBuggy = OrtRunner.Run(bytes, wrong.Select(i => xs[i]).ToList());
        for (int k = 0; k < wrong.Count; k++)
            Assert.AreEqual(ys[wrong[k]], Inputs.ArgMax(ortBuggy[k].Select(v => (double)v).ToArray()), $"test[{wrong[k]}] in ONNX Runtime");
        // The file reads back as a repaired model: its graph without the patch nodes (the opset-13 rewrite of Pad
        // included) is the original network, and its patches are the repair's.
        var back = RepairedOnnxImporter.TryLoad(bytes, "repaired.onnx");
        Assert.IsNotNull(back);
        Assert.HasCount(result.Network.Patches.Count, back.Repaired.Patches);
        for (int k = 0; k < wrong.Count; k++) CollectionAssert.AreEqual(result.Network.Evaluate(xs[wrong[k]]), back.Repaired.Evaluate(xs[wrong[k]]));
        var sample = outside.Take(300).Select(i => xs[i]).ToList();
        var ortBefore = OrtRunner.Run(File.ReadAllBytes(path), sample);
        var ortAfter = OrtRunner.Run(bytes, sample);
        for (int k = 0; k < sample.Count; k++) CollectionAssert.AreEqual(ortBefore[k], ortAfter[k], $"image {outside[k]} in ONNX Runtime");
    }

    [TestMethod]
    [DoNotParallelize]
    public void Cifar10Small_CounterexampleOfItsProperty_RepairedOnTwoConvolutionsAndThreeDenseLayers()
    {
        // The staged property (image 1189, eps 0.012, label 0, target 1) is violated; the verifier's counterexample is
        // classified 1. Repair it to its label 0: the layered LP with sparse convolution rows, the NHWC input kept in the
        // exported graph (its Transpose is part of the first map).
        var path = TestData.File("vnncomp", "marabou-cifar10", "cifar10_small.onnx");
        var model = OnnxImporter.Load(path);
        var net = model.Network;
        var property = VnnLibReader.Read(TestData.File("vnncomp", "marabou-cifar10", "networkcifar10_small_index1189_eps0.012_target1_orig0.vnnlib"));
        var verdict = PropertyVerifier.Verify(net, property);
        Assert.AreEqual(VerificationStatus.Violated, verdict.Status);
        var x = verdict.Counterexample!;
        Assert.AreEqual(1, Inputs.ArgMax(net.Evaluate(x)), "the counterexample makes the target label win");
        var result = Repairer.Repair(net, [new BuggyInput(x, new ClassificationSpecification(0, 1e-3), "cex")],
            new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), Domain = property.Hull() });
        Assert.IsTrue(result.AllFixed, result.Unfixed.FirstOrDefault()?.Message);
        Assert.IsTrue(result.Patches.All(p => p.Verified));
        var bytes = RepairedOnnxExporter.ToBytes(result.Network, model);
        var centre = property.Hull().Center();
        var ort = OrtRunner.Run(bytes, [x, centre]);
        Assert.AreEqual(0, Inputs.ArgMax(ort[0].Select(v => (double)v).ToArray()), "the repaired file classifies the counterexample 0 in ONNX Runtime");
        if (!result.Network.InAnySupport(centre))
            CollectionAssert.AreEqual(OrtRunner.Run(File.ReadAllBytes(path), [centre])[0], ort[1], "the box centre outside the support keeps its float32 outputs");
    }
}
