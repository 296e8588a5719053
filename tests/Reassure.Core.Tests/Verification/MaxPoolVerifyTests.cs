using System.Globalization;
using System.Text;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Tests.Formats;
using Reassure.Verification;

namespace Reassure.Tests.Verification;

/// <summary>
/// verify --vnnlib on networks with a max pool (method.md §12): sound output bounds through the pool (checked by hand
/// and against sampling), counterexamples confirmed by the plain evaluator, "unknown" where the bounds stop.
/// </summary>
[TestClass]
public sealed class MaxPoolVerifyTests
{
    public TestContext TestContext { get; set; } = null!;

    private static double[] Values(int count, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>y0 = max relu(x) over one 2x2 window, y1 = 0.5 (the net of Regions.MaxPoolRegionTests).</summary>
    private static Network Tiny() => OnnxImporter.Load(new ModelBuilder("x", [1, 2, 2], "y")
        .Float("w", [1, 1, 1, 1], 1).Float("b", [1], 0)
        .Float("gw", [2, 1], 1, 0).Float("gb", [2], 0, 0.5)
        .Node("Conv", "conv", ["x", "w", "b"], "z")
        .Node("Relu", "relu", ["z"], "r")
        .Node("MaxPool", "pool", ["r"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2))
        .Node("Flatten", "flat", ["p"], "f", ModelBuilder.Int("axis", 1))
        .Node("Gemm", "gemm", ["f", "gw", "gb"], "y", ModelBuilder.Int("transB", 1)).Bytes(), "tiny.onnx").Network;

    private static double Lower(Network net, InputBox box, double[] c) => LinearBounds.OutputLowerBound(net, box, LinearBounds.Compute(net, box), c).Lower;

    [TestMethod]
    public void TheBoundsThroughAMaxPoolMatchTheHandValues()
    {
        var net = Tiny();
        var all = InputBox.Uniform(4, -1, 1);
        // min y0 = min max relu(x) = 0: y0 >= a_0 >= 0 (the ReLU's lower relaxation of [-1, 1] is 0).
        Assert.AreEqual(0, Lower(net, all, [1, 0]), 1e-15);
        // min -y0 = -max y0: no entry always wins, so y0 <= max relu(U) = 1.
        Assert.AreEqual(-1, Lower(net, all, [-1, 0]), 1e-15);
        // x0 in [0.6, 0.8], the others in [-0.5, 0.5]: entry 0 always wins, y0 = x0 exactly, min -y0 = -0.8.
        var dominated = new InputBox([0.6, -0.5, -0.5, -0.5], [0.8, 0.5, 0.5, 0.5]);
        Assert.AreEqual(-0.8, Lower(net, dominated, [-1, 0]), 1e-7);
        Assert.AreEqual(0.6, Lower(net, dominated, [1, 0]), 1e-7);
        // y0 - y1 >= 0.6 - 0.5 there: the property "y1 >= y0" cannot happen and is proved.
        var p = VnnLibReader.Parse("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const X_2 Real)(declare-const X_3 Real)" +
            "(declare-const Y_0 Real)(declare-const Y_1 Real)" +
            "(assert (>= X_0 0.6))(assert (<= X_0 0.8))(assert (>= X_1 -0.5))(assert (<= X_1 0.5))(assert (>= X_2 -0.5))(assert (<= X_2 0.5))(assert (>= X_3 -0.5))(assert (<= X_3 0.5))" +
            "(assert (>= Y_1 Y_0))");
        Assert.AreEqual(VerificationStatus.Holds, PropertyVerifier.Verify(net, p).Status);
    }

    [TestMethod]
    public void TheBoundsThroughAMaxPoolHoldAtSampledPoints()
    {
        // x [2, 5, 6] -> Conv 3 x 2x2 -> Relu -> MaxPool 2x2 stride 2 pads 0,0,1,1 -> Flatten -> Gemm 3 (ConvImportTests).
        var net = OnnxImporter.Load(new ModelBuilder("x", [2, 5, 6], "y")
            .Float("w", [3, 2, 2, 2], Values(24, 15)).Float("b", [3], Values(3, 16))
            .Float("gw", [3, 3 * 2 * 3], Values(54, 17)).Float("gb", [3], Values(3, 18))
            .Node("Conv", "conv", ["x", "w", "b"], "c")
            .Node("Relu", "relu", ["c"], "r")
            .Node("MaxPool", "pool", ["r"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2), ModelBuilder.Ints("pads", 0, 0, 1, 1))
            .Node("Flatten", "flat", ["p"], "f", ModelBuilder.Int("axis", 1))
            .Node("Gemm", "gemm", ["f", "gw", "gb"], "y", ModelBuilder.Int("transB", 1)).Bytes(), "test.onnx").Network;
        var rng = new Random(5);
        double tightest = double.PositiveInfinity;
        for (int trial = 0; trial < 40; trial++)
        {
            var centre = Values(60, 100 + trial);
            double radius = 0.02 + 0.5 * rng.NextDouble();
            var box = new InputBox(centre.Select(v => v - radius).ToArray(), centre.Select(v => v + radius).ToArray());
            var c = Values(3, 200 + trial);
            double lb = Lower(net, box, c);
            double min = double.PositiveInfinity;
            foreach (var x in Inputs.RandomBox(300, box.Lower, box.Upper, 300 + trial).Append(box.Center()))
            {
                var y = net.Evaluate(x);
                min = Math.Min(min, c[0] * y[0] + c[1] * y[1] + c[2] * y[2]);
            }
            Assert.IsLessThanOrEqualTo(min + 1e-12, lb, $"trial {trial}: bound {lb} above a sampled value {min}");
            tightest = Math.Min(tightest, min - lb);
        }
        TestContext.WriteLine($"smallest gap between a sampled minimum and its bound: {tightest:E3}");
    }

    [TestMethod]
    public void VerivitalMaxpoolPropertyIsProvedAndAMisclassifiedImageIsAConfirmedCounterexample()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "verivital", "Convnet_maxpool.onnx")).Network;
        var property = VnnLibReader.Read(TestData.File("vnncomp", "verivital", "specs", "maxpool_specs", "prop_0_0.004.vnnlib"));
        var result = PropertyVerifier.Verify(net, property, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(60) });
        TestContext.WriteLine($"prop_0_0.004: {result.StatusText} {result.Detail}");
        Assert.AreEqual(VerificationStatus.Holds, result.Status, result.Detail);
        // 2000 points of the box (and its corners' neighbourhood by sampling) keep label 2.
        var box = property.Cases[0].Box;
        foreach (var x in Inputs.RandomBox(2000, box.Lower, box.Upper, 7))
            Assert.IsFalse(property.Cases[0].IsUnsafe(net.Evaluate(x)));

        // The first misclassified test image, in a box of radius 0.004, with "its label does not win" as the unsafe set:
        // violated, and the counterexample is one the plain evaluator confirms.
        var before = net.EvaluateBatch(Inputs.MnistImages);
        int i = Enumerable.Range(0, before.Length).First(k => Inputs.ArgMax(before[k]) != Inputs.MnistLabels[k]);
        var text = Property(Inputs.MnistImages[i], 0.004, Inputs.MnistLabels[i]);
        var violated = PropertyVerifier.Verify(net, VnnLibReader.Parse(text), new VerificationOptions { MaxTime = TimeSpan.FromSeconds(60) });
        Assert.AreEqual(VerificationStatus.Violated, violated.Status);
        Assert.IsNotNull(violated.Counterexample);
        var y = net.Evaluate(violated.Counterexample);
        Assert.AreNotEqual(Inputs.MnistLabels[i], Inputs.ArgMax(y), "the evaluator confirms the counterexample");
        CollectionAssert.AreEqual(y, violated.Output);
    }

    /// <summary>A VNN-LIB robustness property: x within eps of the image (clipped to [0, 1]), unsafe when some other label reaches the label's score.</summary>
    private static string Property(double[] image, double eps, int label)
    {
        var s = new StringBuilder();
        for (int k = 0; k < image.Length; k++) s.Append(CultureInfo.InvariantCulture, $"(declare-const X_{k} Real)\n");
        for (int o = 0; o < 10; o++) s.Append(CultureInfo.InvariantCulture, $"(declare-const Y_{o} Real)\n");
        for (int k = 0; k < image.Length; k++)
            s.Append(CultureInfo.InvariantCulture, $"(assert (>= X_{k} {Math.Max(0, image[k] - eps):R}))\n(assert (<= X_{k} {Math.Min(1, image[k] + eps):R}))\n");
        s.Append("(assert (or\n");
        for (int o = 0; o < 10; o++) if (o != label) s.Append(CultureInfo.InvariantCulture, $"    (and (>= Y_{o} Y_{label}))\n");
        s.Append("))\n");
        return s.ToString();
    }
}
