using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Patching;

/// <summary>
/// The support's gate g = clamp((1 - D) / (1 - delta), 0, 1) (D the summed row deficit, delta the dead zone), by hand,
/// and its two ONNX forms: the signed product over H neurons (dead zone) and the exact sum over 2H (files without one).
/// </summary>
[TestClass]
public sealed class SupportTests
{
    private const double Tolerance = 1e-12;

    // One explicit row x <= 0 in 1-D: the deficit at x is clamp(gamma x, 0, 1).
    private static Support Row(double gamma, double deadZone) => new(null, [new HalfSpace([1.0], 0)], gamma, deadZone);

    [TestMethod]
    [DataRow(-0.5, 1.0)]           // inside: D = 0
    [DataRow(0.03, 1.0)]           // D = 0.03 <= 1/16: dead zone, still exactly 1
    [DataRow(0.0625, 1.0)]         // D = delta exactly
    [DataRow(0.5, 0.5 / 0.9375)]   // (1 - 0.5) / (15/16)
    [DataRow(0.99, 0.01 / 0.9375)]
    [DataRow(1.0, 0.0)]            // D = 1: off
    [DataRow(3.0, 0.0)]
    public void Gate_WithDeadZone_IsOneUpToDeltaThenFallsLinearlyToZeroAtOne(double x, double expected)
    {
        Assert.AreEqual(expected, Row(1.0, Support.DefaultDeadZone).Gate([x], []), Tolerance);
    }

    [TestMethod]
    [DataRow(-0.5, 1.0)]
    [DataRow(0.03, 0.97)]
    [DataRow(0.5, 0.5)]
    [DataRow(1.0, 0.0)]
    public void Gate_WithoutDeadZone_IsMethodSection4sReluOfOneMinusDeficit(double x, double expected)
    {
        Assert.AreEqual(expected, Row(1.0, 0).Gate([x], []), Tolerance);
    }

    [TestMethod]
    public void Gate_PatternRows_ReadTheSignsOfThePreActivations_AndGammaScalesTheBand()
    {
        // Pattern (active, inactive): deficits clamp(-gamma z0, 0, 1) and clamp(gamma z1, 0, 1).
        var support = new Support(ActivationPattern.FromBits([true, false]), [], 10, Support.DefaultDeadZone);
        Assert.AreEqual(1.0, support.Gate([], [0.3, -2.0]), Tolerance, "pattern met");
        Assert.AreEqual(1.0, support.Gate([], [-0.002, 0.003]), Tolerance, "D = 0.05 is inside the dead zone");
        Assert.AreEqual((1 - 0.5) / 0.9375, support.Gate([], [-0.02, 0.03]), Tolerance, "D = 0.2 + 0.3");
        Assert.AreEqual(0.0, support.Gate([], [-0.1, 0.0]), Tolerance, "one neuron off by 1/gamma");
        Assert.AreEqual(support.DeadZone, support.WithGamma(20).DeadZone, "WithGamma keeps the dead zone");
        Assert.AreEqual(1 / 0.1, support.GammaToExclude([], [-0.1, 0.0]), 1e-9, "the zero set does not depend on the dead zone");
    }

    [TestMethod]
    public void DeadZone_OutsideZeroToHalf_IsRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Row(1, -0.1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Row(1, 0.6));
    }

    [TestMethod]
    public void SignedForm_IsUsedUpToAboutSixHundredNeuronsAtTheDefaultDeadZone()
    {
        Assert.IsTrue(PatchGraph.SignedFormIsExact(512, Support.DefaultDeadZone), "MNIST 256 + 256");
        Assert.IsTrue(PatchGraph.SignedFormIsExact(647, Support.DefaultDeadZone));
        Assert.IsFalse(PatchGraph.SignedFormIsExact(648, Support.DefaultDeadZone));
        Assert.IsFalse(PatchGraph.SignedFormIsExact(10, 0), "no dead zone: the exact 2H form");
    }

    /// <summary>
    /// A repaired tiny network exported with the dead zone (signed form) and without it (as files written before it,
    /// exact 2H form): both compute the Core evaluator's function within 1e-4, points outside every support are
    /// bit-identical to the original in ONNX Runtime, and the metadata carries the dead zone (absent reads as 0).
    /// Wide bands (gamma 1) make some points lie in two supports, so that the If's suffix-maximum branch runs for the
    /// whole batch while single rows outside any overlap take the other branch.
    /// </summary>
    [TestMethod]
    [DataRow(Support.DefaultDeadZone)]
    [DataRow(0.0)]
    public void Export_BothGateForms_MatchCore_AndKeepLocality(double deadZone)
    {
        var net = TinyNetworks.Deep();
        var buggy = new List<BuggyInput>();
        foreach (var x in TinyNetworks.RandomPoints(4000, 9))
        {
            int label = x[1] > 0.1 ? 0 : 1;
            if (TinyNetworks.ArgMax(net.Evaluate(x)) == label) continue;
            buggy.Add(new BuggyInput(x, new ClassificationSpecification(label, 0.01), $"p{buggy.Count}"));
            if (buggy.Count == 40) break;
        }
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, Gamma = 1.0, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(result.AllFixed);
        var repaired = new RepairedNetwork(net, result.Network.Domain, result.Network.Patches
            .Select(p => (p.Region, p.Patch, new Support(p.Support.Pattern, p.Support.Rows, p.Support.Gamma, deadZone), p.Norm)).ToList());
        Assert.IsTrue(repaired.Patches.Count >= 3, $"{repaired.Patches.Count} patches");
        var bytes = RepairedOnnxExporter.ToBytes(repaired);
        var reread = RepairedOnnxImporter.TryLoad(bytes, "tiny.onnx")!.Repaired;
        Assert.IsTrue(reread.Patches.All(p => p.Support.DeadZone == deadZone), "metadata round trip of the dead zone");

        var points = TinyNetworks.RandomPoints(3000, 23).Concat(buggy.Select(b => b.Input)).ToList();
        int overlapping = points.Count(x => { repaired.Evaluate(x, out var g); return g.Count(v => v > 0) >= 2; });
        Assert.IsTrue(overlapping > 0, "some point must lie in two supports (the If's suffix-maximum branch)");
        using var session = new InferenceSession(bytes);
        var batch = OnnxRuntimeFloat32Evaluator.Run(session, net.InputName, 2, points);
        double worst = 0, worstSingle = 0;
        for (int k = 0; k < points.Count; k++)
        {
            var y = repaired.Evaluate(points[k]);
            for (int o = 0; o < y.Length; o++) worst = Math.Max(worst, Math.Abs(y[o] - batch[k][o]));
        }
        foreach (var x in points.Take(300))
        {
            var single = OnnxRuntimeFloat32Evaluator.Run(session, net.InputName, 2, [x])[0];
            var y = repaired.Evaluate(x);
            for (int o = 0; o < y.Length; o++) worstSingle = Math.Max(worstSingle, Math.Abs(y[o] - single[o]));
        }
        Assert.IsTrue(worst <= 1e-4, $"batch: max |ORT - Core| = {worst}");
        using (var empty = session.Run([NamedOnnxValue.CreateFromTensor(net.InputName, new DenseTensor<float>(Array.Empty<float>(), [0, 2]))]))
            CollectionAssert.AreEqual(new[] { 0, net.OutputSize }, empty.First().AsTensor<float>().Dimensions.ToArray(), "an empty batch runs");
        Assert.IsTrue(worstSingle <= 1e-4, $"single rows: max |ORT - Core| = {worstSingle}");

        using var original = new InferenceSession(RepairedOnnxExporter.ToBytes(new RepairedNetwork(net, TinyNetworks.Box, [])));
        var outside = points.Where(x => !repaired.InAnySupport(x)).ToList();
        Assert.IsTrue(outside.Count > 100, $"{outside.Count} points outside");
        var ya = OnnxRuntimeFloat32Evaluator.Run(original, net.InputName, 2, outside);
        var yb = OnnxRuntimeFloat32Evaluator.Run(session, net.InputName, 2, outside);
        for (int k = 0; k < outside.Count; k++)
            for (int o = 0; o < ya[k].Length; o++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits((float)ya[k][o]), BitConverter.SingleToInt32Bits((float)yb[k][o]), "outside every support");
    }

    [TestMethod]
    public void Metadata_WithoutDeadZone_ReadsAsZero()
    {
        var net = TinyNetworks.TwoFourThree();
        var x = new[] { 0.1, 0.1 };
        var result = Repairer.Repair(net, [new BuggyInput(x, new ClassificationSpecification(2, 0.01), "a")], new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.AreEqual(Support.DefaultDeadZone, result.Network.Patches[0].Support.DeadZone, "new repairs get the dead zone");
        string json = RepairMetadata.Write(result.Network, null);
        StringAssert.Contains(json, "\"deadZone\":0.0625");
        string old = json.Replace(",\"deadZone\":0.0625", "", StringComparison.Ordinal);
        Assert.AreNotEqual(json, old);
        var (read, _) = RepairMetadata.Read(old, net, "old.onnx");
        Assert.AreEqual(0.0, read.Patches[0].Support.DeadZone);
    }
}
