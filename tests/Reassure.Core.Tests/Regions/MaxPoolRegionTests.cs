using Reassure.Formats.Onnx;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;
using Reassure.Tests.Formats;

namespace Reassure.Tests.Regions;

/// <summary>
/// Max pooling as part of the linear region (method.md §12), on a net small enough to check by hand:
/// x [1, 2, 2] -> Conv 1x1 (weight 1, bias 0: z = x) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm, y0 = max relu(x),
/// y1 = 0.5. At x* = (0.8, 0.2, -0.3, 0.5) the signs are (+, +, -, +), entry 0 wins, and the region is
/// { x0, x1, x3 >= 0, x2 &lt;= 0, x1 &lt;= x0, x3 &lt;= x0 } in [-1, 1]^4, on which y = (x0, 0.5).
/// </summary>
[TestClass]
public sealed class MaxPoolRegionTests
{
    private static readonly double[] Star = [0.8, 0.2, -0.3, 0.5];
    private static readonly InputBox Box = InputBox.Uniform(4, -1, 1);

    private static byte[] ModelBytes() => new ModelBuilder("x", [1, 2, 2], "y")
        .Float("w", [1, 1, 1, 1], 1).Float("b", [1], 0)
        .Float("gw", [2, 1], 1, 0).Float("gb", [2], 0, 0.5)
        .Node("Conv", "conv", ["x", "w", "b"], "z")
        .Node("Relu", "relu", ["z"], "r")
        .Node("MaxPool", "pool", ["r"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2))
        .Node("Flatten", "flat", ["p"], "f", ModelBuilder.Int("axis", 1))
        .Node("Gemm", "gemm", ["f", "gw", "gb"], "y", ModelBuilder.Int("transB", 1)).Bytes();

    private static OnnxModel Model() => OnnxImporter.Load(ModelBytes(), "maxpool-tiny.onnx");

    [TestMethod]
    public void ThePatternCarriesTheWinnerAndTheRegionItsRows()
    {
        var net = Model().Network;
        var pattern = net.Pattern(Star);
        CollectionAssert.AreEqual(new[] { true, true, false, true }, Enumerable.Range(0, 4).Select(j => pattern[j]).ToArray());
        CollectionAssert.AreEqual(new[] { 0 }, pattern.Winners);
        CollectionAssert.AreEqual(new[] { (1, 0), (3, 0) }, pattern.WinnerPairs());

        var region = new LinearRegion(net, pattern, Box);
        CollectionAssert.AreEqual(new double[] { 1, 0, 0, 0, 0, 0, 0, 0 }, region.OutputMatrix);
        CollectionAssert.AreEqual(new[] { 0, 0.5 }, region.OutputOffset);
        var rows = region.PolytopeRows();
        Assert.HasCount(4 + 2, rows); // one per neuron, then x1 - x0 <= 0 and x3 - x0 <= 0
        CollectionAssert.AreEqual(new double[] { -1, 1, 0, 0 }, rows[4].A);
        Assert.AreEqual(0, rows[4].B);
        CollectionAssert.AreEqual(new double[] { -1, 0, 0, 1 }, rows[5].A);
        Assert.AreEqual(0, rows[5].B);

        Assert.IsTrue(region.Contains([0.6, 0.3, -0.3, 0.5]));
        Assert.IsFalse(region.Contains([0.45, 0.1, -0.3, 0.5]), "x3 wins: same signs, another winner");
        Assert.IsFalse(region.Contains([0.6, 0.7, -0.3, 0.5]), "x1 wins");
        // On the region the network is the affine map: y0 = x0.
        CollectionAssert.AreEqual(new[] { 0.6, 0.5 }, net.Evaluate([0.6, 0.3, -0.3, 0.5]));
    }

    [TestMethod]
    public void TiesGoToTheLowestIndexAndAnInactiveWinnerPoolsZero()
    {
        var net = Model().Network;
        var tie = net.Pattern([0.5, 0.5, 0, 0.1]);
        CollectionAssert.AreEqual(new[] { 0 }, tie.Winners);
        CollectionAssert.AreEqual(new[] { (1, 0), (2, 0), (3, 0) }, tie.WinnerPairs(), "z2 = 0 counts as active");

        var dead = net.Pattern([-0.2, -0.1, -0.3, -0.4]);
        CollectionAssert.AreEqual(new[] { 1 }, dead.Winners, "the largest pre-activation wins even below 0");
        Assert.IsEmpty(dead.WinnerPairs(), "every entry is inactive: the signs alone fix the pooled value 0");
        var region = new LinearRegion(net, dead, Box);
        CollectionAssert.AreEqual(new double[8], region.OutputMatrix);
        Assert.IsTrue(region.Contains([-0.9, -0.5, -0.1, -0.7]), "another entry may be the largest: the pooled value is 0 either way");
        Assert.AreNotEqual(dead, net.Pattern([-0.9, -0.5, -0.1, -0.7]), "its pattern differs by the winner only");
    }

    [TestMethod]
    public void TheRegionLpHoldsTheWinnerRowsAndItsCertificateProvesThem()
    {
        var net = Model().Network;
        var region = new LinearRegion(net, net.Pattern(Star), Box);
        using var lp = new RegionLp(region);
        // max over the region of y1 - y0 = 0.5 - x0, smallest x0 = max(x1, x3, 0) = 0.
        var r = lp.MaximizeOutput([-1, 1]);
        Assert.AreEqual(0.5, r.Value, 1e-12);
        double ub = lp.Certificate().UpperBound(region, [-1, 1], [], 0, out double rounding);
        Assert.AreEqual(0.5, ub, 1e-9);
        Assert.IsLessThan(1e-12, rounding);
        // max of x1 - x0 is 0 on the region (the winner row), 1 on the same signs without it.
        var wins = lp.MaximizeInput([-1, 1, 0, 0]);
        Assert.AreEqual(0, wins.Value, 1e-12);
        ub = lp.Certificate().UpperBound(region, [0, 0], [-1, 1, 0, 0], 0, out _);
        Assert.AreEqual(0, ub, 1e-9);
        // A certificate without the winner multipliers does not prove it: they carry the bound.
        var y = (double[])lp.Certificate().Y.Clone();
        Array.Clear(y, net.HiddenCount, y.Length - net.HiddenCount);
        Assert.IsGreaterThan(0.5, new DualCertificate(y).UpperBound(region, [0, 0], [-1, 1, 0, 0], 0, out _));
    }

    [TestMethod]
    public void TheGateReadsTheWinnerMarginInTheEngineAndInOnnxRuntime()
    {
        var model = Model();
        var net = model.Network;
        var region = new LinearRegion(net, net.Pattern(Star), Box);
        var support = new Support(region.Pattern, [], 10); // dead zone 1/16: g = min(1, (1 - D) 16/15)
        CollectionAssert.AreEqual(new[] { 0 }, support.WinnerWindows);
        Assert.AreEqual(4 + 1, support.RowCount);
        // (point, deficit D by hand): winner margin max z - z0, sign violations.
        (double[] X, double Gate)[] cases =
        [
            ([0.6, 0.3, -0.3, 0.5], 1),                          // in the region
            ([0.45, 0.1, -0.3, 0.5], (1 - 0.5) * 16 / 15),       // x3 wins by 0.05: D = 10 * 0.05
            ([0.45, 0.1, 0.02, 0.5], (1 - 0.7) * 16 / 15),       // and z2 = 0.02 > 0 against its sign: D = 0.5 + 0.2
            ([0.3, 0.1, -0.3, 0.5], 0),                          // x3 wins by 0.2 > 1/gamma: D = 1
        ];
        foreach (var (x, gate) in cases)
        {
            Assert.AreEqual(gate, support.Gate(x, net.PreActivations(x)), 1e-12, string.Join(",", x));
        }
        Assert.AreEqual(1 / 0.2, support.GammaToExclude(cases[3].X, net.PreActivations(cases[3].X)), 1e-9);

        // One constant patch d = (-0.3, 0.3): the output is f + g d (K' = |d|), in double and in ONNX Runtime.
        var repaired = new RepairedNetwork(net, Box, [(region, new AffinePatch(4, null, [-0.3, 0.3]), support, 0.3)]);
        var bytes = RepairedOnnxExporter.ToBytes(repaired, model);
        var ort = OrtRunner.Run(bytes, cases.Select(c => c.X).ToList());
        var ortOriginal = OrtRunner.Run(ModelBytes(), cases.Select(c => c.X).ToList());
        for (int k = 0; k < cases.Length; k++)
        {
            var f = net.Evaluate(cases[k].X);
            var y = repaired.Evaluate(cases[k].X);
            Assert.AreEqual(f[0] - 0.3 * cases[k].Gate, y[0], 1e-12);
            Assert.AreEqual(f[1] + 0.3 * cases[k].Gate, y[1], 1e-12);
            Assert.AreEqual(y[0], ort[k][0], 1e-5, $"case {k} in ONNX Runtime");
            Assert.AreEqual(y[1], ort[k][1], 1e-5, $"case {k} in ONNX Runtime");
        }
        CollectionAssert.AreEqual(ortOriginal[3], ort[3], "outside the support ONNX Runtime gives the original output bit for bit");
        // The file reads back with its winners.
        var back = RepairedOnnxImporter.TryLoad(bytes, "repaired.onnx");
        Assert.IsNotNull(back);
        Assert.AreEqual(region.Pattern, back.Repaired.Patches[0].Region.Pattern);
    }

    [TestMethod]
    public void APointRepairPatchesTheWholeRegionAndIsProved()
    {
        var model = Model();
        var net = model.Network;
        var result = Repairer.Repair(net, [new BuggyInput(Star, new ClassificationSpecification(1, 0.01), "x*")],
            new RepairOptions { Domain = Box, Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
        Assert.IsTrue(result.Inputs[0].Fixed, result.Inputs[0].Message);
        Assert.AreEqual(true, result.Inputs[0].FixedFloat32, result.Inputs[0].Message);
        Assert.HasCount(1, result.Patches);
        Assert.IsTrue(result.Patches[0].Verified);
        // max over the region of y0 - y1 is 1 - 0.5 = 0.5, so the patch moves y0 - y1 down by 0.51 (the margin) or a hair more.
        var d = result.Network.Patches[0].Patch.D;
        Assert.AreEqual(-0.51, d[0] - d[1], 1e-6);
        // Every point of the region now gets label 1, the corner x0 = 1 included; a point that misses the pattern by more
        // than 1/gamma (gamma = 1: here two signs by 0.6 and 0.5) is untouched.
        foreach (var x in new[] { Star, [1, 1, -1, 1], [0.6, 0.3, -0.3, 0.5] })
        {
            var y = result.Network.Evaluate(x);
            Assert.IsLessThanOrEqualTo(-0.01 + 1e-9, y[0] - y[1], string.Join(",", x));
        }
        double[] away = [-0.6, 0.05, 0.5, 0.5];
        Assert.AreEqual(1.0, result.Network.Patches[0].Support.Gamma);
        CollectionAssert.AreEqual(net.Evaluate(away), result.Network.Evaluate(away));
    }
}
