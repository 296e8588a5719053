using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>
/// Issue 6: parallel repair across regions must not change the result. The repaired ONNX of the first 6
/// misclassified MNIST test images is byte-identical whether the regions are patched on 1 thread or on 2.
/// </summary>
[TestClass]
public sealed class ThreadCountDeterminismTests
{
    [TestMethod]
    [DoNotParallelize]
    public void RepairedOnnx_IsByteIdentical_ForOneAndTwoThreads()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var net = model.Network;
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 1000);
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), 1000);
        var buggy = Enumerable.Range(0, xs.Length)
            .Where(i => TinyNetworks.ArgMax(net.Evaluate(xs[i])) != ys[i])
            .Take(6)
            .Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]"))
            .ToList();
        Assert.HasCount(6, buggy);

        byte[] Run(int threads)
        {
            var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = threads });
            Assert.IsTrue(result.AllFixed, $"{threads} thread(s): {result.Inputs.FirstOrDefault(s => s.ErrorCode is not null)?.Message}");
            Assert.HasCount(6, result.Patches, "six images, six regions, six patches");
            return RepairedOnnxExporter.ToBytes(result.Network, model);
        }

        var one = Run(1);
        var two = Run(2);
        int firstDiff = Enumerable.Range(0, Math.Min(one.Length, two.Length)).FirstOrDefault(k => one[k] != two[k], -1);
        Assert.AreEqual(one.Length, two.Length, "length of the repaired ONNX differs between 1 and 2 threads");
        Assert.AreEqual(-1, firstDiff, $"the repaired ONNX differs between 1 and 2 threads at byte {firstDiff}");
    }
}
