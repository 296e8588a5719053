using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Tests.Formats;
using Reassure.Verification;

namespace Reassure.Tests.Repair;

[TestClass]
public sealed class BoxAreaRepairTests
{
    // On [-1, 1]^2 output 2 must be the strict argmax: unsafe = (Y0 >= Y2) or (Y1 >= Y2).
    private const string Tiny = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)" +
        "(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= X_1 -1)) (assert (<= X_1 1))" +
        "(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))";

    private static AreaRepairOptions Boxes => new() { Strategy = AreaRepairStrategy.Boxes };

    [TestMethod]
    public void Direction_IsMonotoneForAcasProperties_AndAbsentWhenRowsPullBothWays()
    {
        foreach (var p in new[] { "2", "3", "4", "7", "8" })
        {
            var prop = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", $"prop_{p}.vnnlib"));
            var v = MonotoneShift.Direction(prop);
            Assert.IsNotNull(v, $"prop_{p}");
            foreach (var row in prop.Cases.SelectMany(c => c.Unsafe).SelectMany(k => k.Constraints))
                for (int o = 0; o < v.Length; o++) Assert.IsGreaterThanOrEqualTo(0.0, row.A[o] * v[o], $"prop_{p} output {o}");
        }
        // prop 2, argmin decisions: one output other than COC is raised
        var net21 = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_2_1_batch_2000.onnx")).Network;
        var chosen = MonotoneShift.ChooseDirection(net21, VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib")), MonotoneShift.Decision.ArgMin, 500, 1)!;
        Assert.AreEqual(1, chosen.Count(v => v != 0));
        Assert.AreEqual(0.0, chosen[0]);
        Assert.AreEqual(1.0, chosen.Max());
        // prop 2: Y_j <= Y_0 -> v lowers Y_0 and raises the others
        var v2 = MonotoneShift.Direction(VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib")))!;
        Assert.IsLessThan(0.0, v2[0]);
        for (int o = 1; o < 5; o++) Assert.IsGreaterThan(0.0, v2[o]);
        // unsafe = (Y0 >= Y1) or (Y1 >= Y0 + 1): output 0 would have to go up for one and down for the other
        var opposed = VnnLibReader.Parse("(declare-const X_0 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)(assert (>= X_0 0)) (assert (<= X_0 1))" +
            "(assert (or (and (>= Y_0 Y_1)) (and (>= Y_1 (+ Y_0 1)))))", "opposed");
        Assert.IsNull(MonotoneShift.Direction(opposed));
        Assert.ThrowsExactly<ReassureException>(() => BoxAreaRepairer.Repair(new Network([new DenseLayer(1, 2, [1, -1], [0, 0], relu: false)]), opposed, Boxes));
    }

    [TestMethod]
    public void TinyNetwork_BoxRepair_HoldsOnTheBox_AndIsBitIdenticalOutsideEverySupport()
    {
        var net = TinyNetworks.TwoFourThree();
        var prop = VnnLibReader.Parse(Tiny, "tiny");
        Assert.AreEqual(VerificationStatus.Violated, PropertyVerifier.Verify(net, prop).Status);
        var r = AreaRepairer.Repair(net, prop, Boxes);
        Assert.AreEqual(AreaRepairStrategy.Boxes, r.Strategy);
        Assert.IsGreaterThan(0, r.Patched);
        Assert.AreEqual(VerificationStatus.Holds, r.After.Status, r.After.Detail);
        Assert.IsNull(MonotoneBoxProof.Check(r.Repaired, prop));
        int outside = 0, before = 0;
        foreach (var x in TinyNetworks.RandomPoints(20000, 11))
        {
            var y = net.Evaluate(x);
            if (prop.Cases[0].IsUnsafe(y)) before++;
            var yr = r.Repaired.Evaluate(x);
            Assert.IsFalse(prop.Cases[0].IsUnsafe(yr), $"({x[0]}, {x[1]})");
            if (r.Repaired.InAnySupport(x)) continue;
            outside++;
            CollectionAssert.AreEqual(y, yr, "outside every support the output is untouched");
        }
        Assert.IsGreaterThan(1000, before, "the tiny property is violated on a real share of the box");
        Assert.IsGreaterThan(1000, outside, "the patches stay local");
    }

    [TestMethod]
    public void Proof_RejectsAHalvedShift_AndAPatchTowardsTheUnsafeSet()
    {
        var net = TinyNetworks.TwoFourThree();
        var prop = VnnLibReader.Parse(Tiny, "tiny");
        var r = AreaRepairer.Repair(net, prop, Boxes);
        var halved = new RepairedNetwork(net, r.Repaired.Domain, r.Repaired.Patches
            .Select(p => (p.Region, new AffinePatch(2, null, p.Patch.D.Select(v => v * 0.01).ToArray()), p.Support, p.Norm)).ToList());
        var bad = MonotoneBoxProof.Verify(halved, prop)!;
        Assert.AreEqual(VerificationStatus.Violated, bad.Status, bad.Detail);
        Assert.IsTrue(prop.Cases[0].IsUnsafe(halved.Evaluate(bad.Counterexample!)), "the counterexample is confirmed on the repaired network");

        var wrong = new RepairedNetwork(net, r.Repaired.Domain, r.Repaired.Patches
            .Select(p => (p.Region, new AffinePatch(2, null, p.Patch.D.Select(v => -v).ToArray()), p.Support, p.Norm)).ToList());
        StringAssert.Contains(MonotoneBoxProof.Check(wrong, prop), "towards the unsafe set");
        Assert.IsNull(MonotoneBoxProof.Verify(wrong, prop));
    }

    [TestMethod]
    public void ExportedFile_CarriesTheProof_AndOnnxRuntimeAgrees()
    {
        var net = TinyNetworks.TwoFourThree();
        var prop = VnnLibReader.Parse(Tiny, "tiny");
        var r = AreaRepairer.Repair(net, prop, Boxes);
        var bytes = RepairedOnnxExporter.ToBytes(r.Repaired);
        var back = RepairedOnnxImporter.TryLoad(bytes, "boxes.onnx")!;
        Assert.IsNotNull(back);
        Assert.AreEqual(VerificationStatus.Holds, MonotoneBoxProof.Verify(back.Repaired, prop)!.Status);
        var points = TinyNetworks.RandomPoints(500, 12).ToList();
        var ort = OrtRunner.Run(bytes, points);
        for (int k = 0; k < points.Count; k++)
        {
            var y = r.Repaired.Evaluate(points[k]);
            for (int o = 0; o < 3; o++) Assert.AreEqual(y[o], ort[k][o], 1e-4 * (1 + Math.Abs(y[o])));
        }
    }

    [TestMethod]
    public void AcasXu_N2_1_Property2_RegionSearchOverBudget_FallsBackToSubBoxes_ProvedToHold()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_2_1_batch_2000.onnx")).Network;
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib"));
        // Auto: the search for violating regions runs out of its 3 s (the box holds hundreds of thousands of regions),
        // so the repair switches to sub-boxes, whose splitting gets the same budget and then patches what is open.
        var options = new AreaRepairOptions
        {
            Verification = new VerificationOptions { MaxTime = TimeSpan.FromSeconds(3) },
            Decision = MonotoneShift.Decision.ArgMin,
        };
        var r = AreaRepairer.Repair(net, prop, options);
        Assert.AreEqual(AreaRepairStrategy.Boxes, r.Strategy);
        StringAssert.Contains(r.Errors[0], "repaired by sub-boxes instead");
        Assert.AreEqual(VerificationStatus.Violated, r.Before.Status);
        Assert.AreEqual(VerificationStatus.Holds, r.After.Status, r.After.Detail);
        // ArgMin decisions: every patch raises one output k != 0 (COC), so an advisory can only change where k was it.
        var d = r.Repaired.Patches[^1].Patch.D;
        int k = Array.FindIndex(d, v => v != 0);
        Assert.IsGreaterThan(0, k);
        Assert.IsTrue(r.Repaired.Patches.All(p => p.Patch.D.Select((v, o) => o == k ? v >= 0 : v == 0).All(b => b)), "all patches raise output k only");
        int unsafeBefore = 0;
        foreach (var x in TinyNetworks.RandomPoints(20000, 13, prop.Cases[0].Box))
        {
            var y = net.Evaluate(x);
            var yr = r.Repaired.Evaluate(x);
            if (prop.Cases[0].IsUnsafe(y)) unsafeBefore++;
            Assert.IsFalse(prop.Cases[0].IsUnsafe(yr));
            int before = Array.IndexOf(y, y.Min()), after = Array.IndexOf(yr, yr.Min());
            if (before != after) Assert.AreEqual(k, before, "the advisory moved away from an output that was not raised");
        }
        Assert.IsGreaterThan(0, unsafeBefore);
    }
}
