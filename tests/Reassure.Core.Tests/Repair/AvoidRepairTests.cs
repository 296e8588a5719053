using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>The avoid specification (method.md §10): "must not predict k" as "target t wins", its rules, and repairs with it.</summary>
[TestClass]
public sealed class AvoidRepairTests
{
    [TestMethod]
    public void Previous_IsTheLabelBefore_AndWrapsZeroToTheLast()
    {
        Assert.AreEqual(9, AvoidSpecification.Target(0, 10, AvoidTargetRule.Previous));
        Assert.AreEqual(0, AvoidSpecification.Target(1, 10, AvoidTargetRule.Previous));
        Assert.AreEqual(8, AvoidSpecification.Target(9, 10, AvoidTargetRule.Previous));
        Assert.AreEqual(2, AvoidSpecification.Target(0, 3, AvoidTargetRule.Previous));
        Assert.AreEqual(1, AvoidSpecification.Target(0, 2, AvoidTargetRule.Previous));
    }

    [TestMethod]
    public void BestOther_IsTheLargestOtherOutput_TiesTakeTheLowestIndex_ArgMinTheSmallest()
    {
        Assert.AreEqual(2, AvoidSpecification.Target(0, 4, AvoidTargetRule.BestOther, [5.0, 1.0, 3.0, 2.0]));
        Assert.AreEqual(1, AvoidSpecification.Target(2, 4, AvoidTargetRule.BestOther, [1.0, 4.0, 9.0, 4.0]), "tie between 1 and 3: the lowest index");
        Assert.AreEqual(0, AvoidSpecification.Target(1, 3, AvoidTargetRule.BestOther, [2.0, 2.0, 2.0]));
        Assert.AreEqual(1, AvoidSpecification.Target(3, 4, AvoidTargetRule.BestOther, [5.0, 1.0, 3.0, 0.5], argMin: true), "argmin: the smallest other output");
        // Already not predicted: the best other label is the predicted one.
        Assert.AreEqual(0, AvoidSpecification.Target(2, 3, AvoidTargetRule.BestOther, [7.0, 1.0, 3.0]));
    }

    [TestMethod]
    public void BadLabelsAndOutputs_AreBadSpecifications()
    {
        Assert.AreEqual(ErrorCodes.BadSpecification, Assert.ThrowsExactly<ReassureException>(() => AvoidSpecification.Target(10, 10, AvoidTargetRule.Previous)).Code);
        Assert.AreEqual(ErrorCodes.BadSpecification, Assert.ThrowsExactly<ReassureException>(() => AvoidSpecification.Target(-1, 10, AvoidTargetRule.Previous)).Code);
        Assert.AreEqual(ErrorCodes.BadSpecification, Assert.ThrowsExactly<ReassureException>(() => AvoidSpecification.Target(0, 1, AvoidTargetRule.Previous)).Code);
        Assert.AreEqual(ErrorCodes.BadSpecification, Assert.ThrowsExactly<ReassureException>(() => AvoidSpecification.Target(0, 3, AvoidTargetRule.BestOther, [1.0, 2.0])).Code);
        Assert.AreEqual(AvoidTargetRule.BestOther, AvoidSpecification.Parse("best-other"));
        Assert.AreEqual(AvoidTargetRule.Previous, AvoidSpecification.Parse(AvoidSpecification.Name(AvoidTargetRule.Previous)));
        Assert.IsNull(AvoidSpecification.Parse("next"));
    }

    [TestMethod]
    public void Create_BestOther_ReadsTheOriginalNetwork()
    {
        var net = TinyNetworks.TwoFourThree();
        var x = new[] { 0.1, 0.1 };
        var y = net.Evaluate(x);
        int k = TinyNetworks.ArgMax(y);
        var spec = AvoidSpecification.Create(net, x, k, AvoidTargetRule.BestOther, 0.01);
        int expected = Enumerable.Range(0, 3).Where(i => i != k).OrderByDescending(i => y[i]).ThenBy(i => i).First();
        Assert.AreEqual(new ClassificationSpecification(expected, 0.01), spec);
        Assert.AreEqual(new ClassificationSpecification((k + 2) % 3, 0.01), AvoidSpecification.Create(net, x, k, AvoidTargetRule.Previous, 0.01));
    }

    [TestMethod]
    public void ConflictingAvoidTargetsInOneRegion_AreSplit_AndEveryRowAvoidsItsLabel()
    {
        var net = TinyNetworks.TwoFourThree();
        var a = new[] { 0.1, 0.1 };
        var b = new[] { 0.3, 0.05 };
        var c = new[] { 0.2, 0.2 };
        Assert.AreEqual(net.Pattern(a), net.Pattern(b), "a and b must share a region");
        Assert.AreEqual(net.Pattern(a), net.Pattern(c), "a and c must share a region");
        // Avoid 1 -> target 0, avoid 0 -> target 2 (previous, m = 3): one region, two targets.
        int[] avoid = [1, 0, 1];
        var points = new[] { a, b, c };
        var buggy = points.Select((x, i) => new BuggyInput(x, AvoidSpecification.Create(net, x, avoid[i], AvoidTargetRule.Previous, 0.01), $"p{i}")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, Gamma = 1.0, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(result.AllFixed, string.Join("; ", result.Inputs.Select(i => i.Message)));
        for (int i = 0; i < points.Length; i++)
        {
            int label = TinyNetworks.ArgMax(result.Network.Evaluate(points[i]));
            Assert.AreNotEqual(avoid[i], label, $"p{i} still predicts its avoided label");
            Assert.AreEqual((avoid[i] + 2) % 3, label, $"p{i} gets its target");
        }
        Assert.IsTrue(result.Patches.Count >= 2 && result.Patches.All(p => p.SplitRows >= 1), "the region is split by a bisector");
        Assert.IsTrue(result.Patches.All(p => p.Verified));
    }

    [TestMethod]
    [DoNotParallelize]
    public void Watermark_First20_Removed_InDoubleAndFloat32_EveryPatchProved()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-watermark-150.onnx"));
        var net = model.Network;
        var rows = RowsCsv.Read(TestData.File("models", "watermark.csv"), net.InputSize, net.OutputSize);
        Assert.AreEqual(100, rows.Count);
        const int n = 20;
        for (int i = 0; i < n; i++) Assert.AreEqual(rows.Labels[i], TinyNetworks.ArgMax(net.Evaluate(rows.Inputs[i])), $"watermark {i} predicted before");
        var buggy = Enumerable.Range(0, n)
            .Select(i => new BuggyInput(rows.Inputs[i], AvoidSpecification.Create(net, rows.Inputs[i], rows.Labels[i], AvoidTargetRule.Previous), $"wm[{i}]"))
            .ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
        Assert.IsTrue(result.AllFixed, string.Join("; ", result.Inputs.Where(s => !s.IsFixed).Select(s => $"{s.Id}: {s.Message}")));
        Assert.IsTrue(result.Patches.Count > 0 && result.Patches.All(p => p.Verified), "every patch proved over its region");

        using var session = new InferenceSession(RepairedOnnxExporter.ToBytes(result.Network, model, result.Specs));
        var data = new float[n * net.InputSize];
        for (int i = 0; i < n; i++) for (int j = 0; j < net.InputSize; j++) data[i * net.InputSize + j] = (float)rows.Inputs[i][j];
        using var output = session.Run([NamedOnnxValue.CreateFromTensor(model.InputName, new DenseTensor<float>(data, [n, net.InputSize]))]);
        var y = output.First().AsEnumerable<float>().Select(v => (double)v).ToArray();
        for (int i = 0; i < n; i++)
        {
            int target = (rows.Labels[i] + 9) % 10;
            Assert.AreEqual(target, TinyNetworks.ArgMax(result.Network.Evaluate(rows.Inputs[i])), $"wm[{i}] in double");
            Assert.AreEqual(target, TinyNetworks.ArgMax(y[(i * 10)..(i * 10 + 10)]), $"wm[{i}] in ONNX Runtime float32");
        }
    }
}
