using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>Repair of a repaired network: new patches are added and every earlier guarantee is kept.</summary>
[TestClass]
public sealed class IncrementalRepairTests
{
    private static List<BuggyInput> Buggy(Network net, int seed, int count, Func<double[], int> label, string prefix)
    {
        var list = new List<BuggyInput>();
        foreach (var x in TinyNetworks.RandomPoints(20000, seed))
        {
            int t = label(x);
            if (TinyNetworks.ArgMax(net.Evaluate(x)) == t) continue;
            list.Add(new BuggyInput(x, new ClassificationSpecification(t, 0.01), $"{prefix}{list.Count}"));
            if (list.Count == count) break;
        }
        return list;
    }

    private static int Rule(double[] x) => x[1] > 0.1 ? 0 : 1;

    [TestMethod]
    public void SecondRepair_FixesNewRows_KeepsOldRows_AndOldPatchesReprove()
    {
        var net = TinyNetworks.Deep();
        var first = Buggy(net, 9, 10, Rule, "a");
        var r1 = Repairer.Repair(net, first, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1, Gamma = 50, Domain = TinyNetworks.Box });
        Assert.IsTrue(r1.AllFixed);
        // New bugs found after release: points the first repair did not touch (none inside the first supports).
        var second = Buggy(net, 31, 200, Rule, "b").Where(b => !r1.Network.InAnySupport(b.Input)
            && !first.Any(a => a.Input.AsSpan().SequenceEqual(b.Input))).Take(8).ToList();
        Assert.IsTrue(second.Count >= 4, $"{second.Count} new buggy points");

        var r2 = Repairer.Repair(r1.Network, r1.Specs, second, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });

        Assert.IsTrue(r2.AllFixed, string.Join("; ", r2.Unfixed.Select(u => u.Message)));
        Assert.IsTrue(r2.Network.Patches.Count > r1.Network.Patches.Count);
        foreach (var a in first) Assert.IsTrue(a.Spec.IsMetBy(r2.Network.Evaluate(a.Input)), $"{a.Id} stays fixed");
        Assert.IsTrue(r2.Patches.All(p => p.Verified), "new and earlier patches pass the independent check");
        Assert.AreEqual(r2.Network.Patches.Count, r2.Specs.Count);
        // Locality: outside every support of the second repair, bit-identical to the original network.
        foreach (var x in TinyNetworks.RandomPoints(3000, 77))
            if (!r2.Network.InAnySupport(x))
                Assert.IsTrue(RegressionCheck.SameBits(net.Evaluate(x), r2.Network.Evaluate(x)));
        // Inside every earlier region the output is still the earlier patch's: same as after the first repair.
        // (the telescoping sum has more terms now, so equal up to rounding).
        foreach (var a in first)
        {
            var y1 = r1.Network.Evaluate(a.Input);
            var y2 = r2.Network.Evaluate(a.Input);
            for (int o = 0; o < y1.Length; o++) Assert.AreEqual(y1[o], y2[o], 1e-12, $"{a.Id}");
        }
    }

    [TestMethod]
    public void NewRowInAnEarlierRegion_SameLabel_RebuildsThatPatchForBoth()
    {
        var net = TinyNetworks.Deep();
        var first = Buggy(net, 9, 1, Rule, "a");
        var r1 = Repairer.Repair(net, first, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        var region = r1.Network.Patches[0].Region;
        // Same region, a wider margin: the rebuilt patch must meet both.
        var again = new BuggyInput(first[0].Input, new ClassificationSpecification(((ClassificationSpecification)first[0].Spec).Label, 0.5), "b0");
        var r2 = Repairer.Repair(r1.Network, r1.Specs, [again], new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(r2.AllFixed, string.Join("; ", r2.Unfixed.Select(u => u.Message)));
        Assert.AreEqual(r1.Network.Patches.Count, r2.Network.Patches.Count, "rebuilt in place, no new patch");
        Assert.IsTrue(r2.Patches[0].Verified);
        Assert.IsTrue(again.Spec.IsMetBy(r2.Network.Evaluate(again.Input)));
        Assert.IsTrue(region.Contains(again.Input));
    }

    [TestMethod]
    public void NewRowInAnEarlierRegion_OtherLabel_IsRSR1050_AndTheEarlierPatchStays()
    {
        var net = TinyNetworks.Deep();
        var first = Buggy(net, 9, 1, Rule, "a");
        var r1 = Repairer.Repair(net, first, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        int label = ((ClassificationSpecification)first[0].Spec).Label;
        var other = new BuggyInput(first[0].Input, new ClassificationSpecification((label + 1) % net.OutputSize, 0.01), "b0");
        var r2 = Repairer.Repair(r1.Network, r1.Specs, [other], new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.AreEqual(ErrorCodes.ConflictingRequirements, r2.Inputs[0].ErrorCode);
        Assert.IsFalse(r2.Inputs[0].IsFixed);
        CollectionAssert.AreEqual(r1.Network.Evaluate(first[0].Input), r2.Network.Evaluate(first[0].Input));
    }

    [TestMethod]
    public void IncrementalRepair_ThroughTheFile_KeepsEveryPatch()
    {
        var net = TinyNetworks.Deep();
        var source = OnnxImporter.Load(OnnxExporter.ToBytes(net), "tiny.onnx");
        var first = Buggy(source.Network, 9, 6, Rule, "a");
        var r1 = Repairer.Repair(source.Network, first, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1, Gamma = 50, Domain = TinyNetworks.Box });
        var file1 = RepairedOnnxExporter.ToBytes(r1.Network, source, r1.Specs);
        var back = RepairedOnnxImporter.TryLoad(file1, "r1.onnx")!;
        var second = Buggy(source.Network, 31, 300, Rule, "b").Where(b => !r1.Network.InAnySupport(b.Input)).Take(4).ToList();
        var r2 = Repairer.Repair(back.Repaired, back.Specs, second, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(r2.AllFixed, string.Join("; ", r2.Unfixed.Select(u => $"{u.Id} {u.ErrorCode} {u.Message}")));
        var file2 = RepairedOnnxExporter.ToBytes(r2.Network, back.Original, r2.Specs);
        var back2 = RepairedOnnxImporter.TryLoad(file2, "r2.onnx")!;
        Assert.AreEqual(r2.Network.Patches.Count, back2.Repaired.Patches.Count);
        foreach (var b in first.Concat(second)) Assert.IsTrue(b.Spec.IsMetBy(back2.Repaired.Evaluate(b.Input)), b.Id);
    }

    [TestMethod]
    public void Merge_SameRowsTakeTheTighterBound_DifferentLabelsDoNotMerge()
    {
        var a = new ClassificationSpecification(1, 0.1).ToLinear(3);
        var b = new ClassificationSpecification(1, 0.5).ToLinear(3);
        var m = LinearSpecification.Merge(a, b)!;
        Assert.AreEqual(2, m.Rows);
        Assert.IsTrue(m.Upper.All(u => u == -0.5));
        Assert.IsNull(LinearSpecification.Merge(a, new ClassificationSpecification(2, 0.1).ToLinear(3)));
    }
}
