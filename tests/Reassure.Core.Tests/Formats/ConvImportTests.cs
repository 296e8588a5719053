using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;

namespace Reassure.Tests.Formats;

/// <summary>
/// The structured operators (Conv, AveragePool, GlobalAveragePool, Pad, BatchNormalization, Transpose, Dropout, a trailing
/// Softmax), each on a small graph against ONNX Runtime, and the staged convolutional networks' facts.
/// </summary>
[TestClass]
public sealed class ConvImportTests
{
    public TestContext TestContext { get; set; } = null!;

    private static double[] Values(int count, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>Imports <paramref name="bytes"/>, evaluates it and ONNX Runtime on random inputs, and returns the max |difference|.</summary>
    private double CompareWithOrt(byte[] bytes, int inputs, int seed, Func<double[], double[]>? post = null)
    {
        var net = OnnxImporter.Load(bytes, "test.onnx").Network;
        Assert.AreEqual(inputs, net.InputSize);
        var rows = Inputs.RandomBox(40, Enumerable.Repeat(-1.0, inputs).ToArray(), Enumerable.Repeat(1.0, inputs).ToArray(), seed);
        var ort = OrtRunner.Run(bytes, rows);
        double max = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var y = net.Evaluate(rows[r]);
            if (post is not null) y = post(y);
            Assert.HasCount(y.Length, ort[r]);
            for (int j = 0; j < y.Length; j++) max = Math.Max(max, Math.Abs(y[j] - ort[r][j]));
        }
        TestContext.WriteLine($"max |core - ort| = {max:E3}");
        return max;
    }

    [TestMethod]
    public void Conv2dMapIsTheHandComputedConvolution()
    {
        // x [1, 3, 3], W [1, 1, 2, 2] = [1 2; 3 4], stride 1, no padding: y[0, 0] = x00 + 2 x01 + 3 x10 + 4 x11.
        var conv = SparseMap.Conv2d(1, 3, 3, [1, 2, 3, 4], 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, out int oh, out int ow);
        Assert.AreEqual((2, 2), (oh, ow));
        double[] x = [1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8];
        var y = new double[4];
        conv.Apply(x, y);
        CollectionAssert.AreEqual(new[] { 1 + 20 + 3000 + 40000.0, 10 + 200 + 30000 + 400000.0, 1000 + 20000 + 3e6 + 4e7, 10000 + 200000 + 3e7 + 4e8 }, y);
        Assert.AreEqual(4, conv.MaxRowEntries);
        // M^T u equals the dense transpose.
        var dense = conv.ToDense();
        double[] u = [1, -2, 0.5, 3];
        var v = new double[9];
        conv.ApplyTranspose(u, v);
        for (int i = 0; i < 9; i++)
        {
            double s = 0;
            for (int o = 0; o < 4; o++) s += dense[o * 9 + i] * u[o];
            Assert.AreEqual(s, v[i], 1e-12);
        }
    }

    [TestMethod]
    public void ConvWithGroupsStridesPadsAndDilationsMatchesOnnxRuntime()
    {
        // x [2, 6, 5] -> Conv(4 out, group 2, k 3x2, stride 2x1, pads 1,0,2,1, dilation 1x2) -> Relu -> Flatten -> Gemm 3.
        var w = Values(4 * 1 * 3 * 2, 1);
        var b = Values(4, 2);
        var model = new ModelBuilder("x", [2, 6, 5], "y")
            .Float("w", [4, 1, 3, 2], w).Float("b", [4], b)
            .Node("Conv", "conv", ["x", "w", "b"], "c", ModelBuilder.Int("group", 2), ModelBuilder.Ints("kernel_shape", 3, 2),
                ModelBuilder.Ints("strides", 2, 1), ModelBuilder.Ints("pads", 1, 0, 2, 1), ModelBuilder.Ints("dilations", 1, 2))
            .Node("Relu", "relu", ["c"], "r")
            .Node("Flatten", "flat", ["r"], "f", ModelBuilder.Int("axis", 1));
        // Output size: H = (6 + 3 - 3) / 2 + 1 = 4, W = (5 + 1 - 3) / 1 + 1 = 4: 4 x 4 x 4 = 64.
        model.Float("gw", [3, 64], Values(3 * 64, 3)).Float("gb", [3], Values(3, 4))
            .Node("Gemm", "gemm", ["f", "gw", "gb"], "y", ModelBuilder.Int("transB", 1));
        var bytes = model.Bytes();
        var net = OnnxImporter.Load(bytes, "test.onnx").Network;
        Assert.AreEqual(64, net.Layers[0].Outputs);
        StringAssert.StartsWith(net.Layers[0].Map.Kind, "conv 2x6x5 -> 4x4x4");
        Assert.IsLessThanOrEqualTo(1e-5, CompareWithOrt(bytes, 60, 5));
    }

    [TestMethod]
    public void BatchNormPadAndPoolsFoldIntoAffineMapsAndMatchOnnxRuntime()
    {
        // x [2, 4, 4] -> Conv 3x3 pad 1 -> BatchNormalization -> Relu -> Pad (constant 0.25, one column left and one row
        // at the bottom) -> AveragePool 2x2 stride 2 pads 0,0,1,1 (count_include_pad 0) -> Relu -> GlobalAveragePool -> Flatten.
        var model = new ModelBuilder("x", [2, 4, 4], "y", opset: 13)
            .Float("w", [3, 2, 3, 3], Values(3 * 2 * 9, 6)).Float("b", [3], Values(3, 7))
            .Float("scale", [3], 1.5, -0.5, 2).Float("bnb", [3], 0.1, -0.2, 0.3).Float("mean", [3], 0.05, -0.1, 0.2).Float("var", [3], 0.8, 1.2, 0.3)
            .Int64("pads", 0, 0, 0, 1, 0, 0, 1, 0).Float("padv", [], 0.25)
            .Node("Conv", "conv", ["x", "w", "b"], "c", ModelBuilder.Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", "bn", ["c", "scale", "bnb", "mean", "var"], "n", ModelBuilder.Flt("epsilon", 1e-3f))
            .Node("Relu", "relu", ["n"], "r")
            .Node("Pad", "pad", ["r", "pads", "padv"], "p")
            .Node("AveragePool", "pool", ["p"], "a", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2), ModelBuilder.Ints("pads", 0, 0, 1, 1))
            .Node("Dropout", "drop", ["a"], "d")
            .Node("Relu", "relu2", ["d"], "r2")
            .Node("GlobalAveragePool", "gap", ["r2"], "g")
            .Node("Flatten", "flat", ["g"], "y", ModelBuilder.Int("axis", 1));
        var bytes = model.Bytes();
        var net = OnnxImporter.Load(bytes, "test.onnx").Network;
        Assert.HasCount(3, net.Layers); // conv+bn | pad+pool | global pool
        Assert.IsFalse(net.AllDense);
        Assert.IsLessThanOrEqualTo(1e-5, CompareWithOrt(bytes, 32, 8));
    }

    [TestMethod]
    public void NhwcTransposeAndTrailingSoftmaxAreImportedExactly()
    {
        // x [4, 3, 2] (NHWC) -> Transpose to NCHW [2, 4, 3] -> Conv 2x2 -> Relu -> Transpose back (NHWC) -> Reshape -> MatMul -> Softmax.
        var model = new ModelBuilder("x", [4, 3, 2], "y", opset: 13)
            .Float("w", [3, 2, 2, 2], Values(24, 9)).Float("b", [3], Values(3, 10))
            .Int64("shape", -1, 18).Float("m", [18, 4], Values(72, 11))
            .Node("Transpose", "t1", ["x"], "t", ModelBuilder.Ints("perm", 0, 3, 1, 2))
            .Node("Conv", "conv", ["t", "w", "b"], "c")
            .Node("Relu", "relu", ["c"], "r")
            .Node("Transpose", "t2", ["r"], "rt", ModelBuilder.Ints("perm", 0, 2, 3, 1))
            .Node("Reshape", "reshape", ["rt", "shape"], "f")
            .Node("MatMul", "mm", ["f", "m"], "logits")
            .Node("Softmax", "softmax", ["logits"], "y", ModelBuilder.Int("axis", -1));
        var bytes = model.Bytes();
        var onnx = OnnxImporter.Load(bytes, "test.onnx");
        Assert.AreEqual("Softmax", onnx.StrippedOutputOperator);
        Assert.AreEqual("logits", onnx.LogitsName);
        static double[] Softmax(double[] z)
        {
            double max = z.Max();
            var e = z.Select(v => Math.Exp(v - max)).ToArray();
            double s = e.Sum();
            return e.Select(v => v / s).ToArray();
        }
        Assert.IsLessThanOrEqualTo(1e-6, CompareWithOrt(bytes, 24, 12, Softmax));
    }

    [TestMethod]
    public void SoftmaxThatIsNotTheLastOperatorIsRefused()
    {
        var bytes = new ModelBuilder("x", [4], "y")
            .Float("w", [4, 4], Values(16, 13)).Float("b", [4], Values(4, 14))
            .Node("Softmax", "softmax", ["x"], "s", ModelBuilder.Int("axis", -1))
            .Node("Gemm", "gemm", ["s", "w", "b"], "y", ModelBuilder.Int("transB", 1)).Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "test.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedOperator, e.Code);
        StringAssert.Contains(e.Message, "Softmax");
    }

    [TestMethod]
    public void APropertyOnAStrippedSoftmaxMayOnlyCompareOutputs()
    {
        const string header = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n";
        var comparison = VnnLibReader.Parse(header + "(assert (>= Y_1 Y_0))\n");
        Assert.IsTrue(comparison.OnlyComparesOutputs);
        comparison.RequireComparisonsOnly("Softmax");
        var threshold = VnnLibReader.Parse(header + "(assert (>= Y_0 0.5))\n");
        Assert.IsFalse(threshold.OnlyComparesOutputs);
        threshold.RequireComparisonsOnly(null); // no stripped operator: any property
        var e = Assert.ThrowsExactly<ReassureException>(() => threshold.RequireComparisonsOnly("Softmax"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedOperator, e.Code);
    }

    [TestMethod]
    public void MaxPoolAfterReluEvaluatesExactlyAndCarriesItsWinnersInRegions()
    {
        // x [2, 5, 6] -> Conv 3 x 2x2 -> Relu -> MaxPool 2x2 stride 2 pads 0,0,1,1 -> Flatten -> Gemm 3.
        var bytes = new ModelBuilder("x", [2, 5, 6], "y")
            .Float("w", [3, 2, 2, 2], Values(24, 15)).Float("b", [3], Values(3, 16))
            .Float("gw", [3, 3 * 2 * 3], Values(54, 17)).Float("gb", [3], Values(3, 18))
            .Node("Conv", "conv", ["x", "w", "b"], "c")
            .Node("Relu", "relu", ["c"], "r")
            .Node("MaxPool", "pool", ["r"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2), ModelBuilder.Ints("pads", 0, 0, 1, 1))
            .Node("Flatten", "flat", ["p"], "f", ModelBuilder.Int("axis", 1))
            .Node("Gemm", "gemm", ["f", "gw", "gb"], "y", ModelBuilder.Int("transB", 1)).Bytes();
        var net = OnnxImporter.Load(bytes, "test.onnx").Network;
        Assert.IsTrue(net.HasMaxPool);
        Assert.AreEqual(3 * 4 * 5, net.HiddenCount);
        Assert.AreEqual(18, net.Layers[0].ActivationWidth);
        Assert.IsLessThanOrEqualTo(1e-5, CompareWithOrt(bytes, 60, 19));
        // Regions carry the winner of every window (one per pooled output, the padded window included): on the region
        // of x the network is its affine map (method.md §12).
        var x = Values(60, 20);
        var pattern = net.Pattern(x);
        Assert.HasCount(18, pattern.Winners!);
        var region = new Reassure.Regions.LinearRegion(net, pattern, InputBox.Uniform(60, -1, 1));
        Assert.IsTrue(region.Contains(x));
        var y = net.Evaluate(x);
        var f = region.OutputMatrix;
        for (int o = 0; o < 3; o++)
        {
            double v = region.OutputOffset[o];
            for (int i = 0; i < 60; i++) v += f[o * 60 + i] * x[i];
            Assert.AreEqual(y[o], v, 1e-12);
        }
        // What has no exact treatment of the winners yet refuses with RSR1015, never an approximation: enumerating the
        // regions of a box, and a max pool in a network with more than one hidden layer.
        var e = Assert.ThrowsExactly<ReassureException>(() => Reassure.Lp.RegionEnumerator.Enumerate(net, InputBox.Uniform(60, -1, 1), null, _ => true));
        Assert.AreEqual(ErrorCodes.MaxPoolNotAnalysable, e.Code);
        StringAssert.Contains(e.Message, "winners");
        var deeper = new ModelBuilder("x", [2, 5, 6], "y")
            .Float("w", [3, 2, 2, 2], Values(24, 15)).Float("b", [3], Values(3, 16))
            .Float("gw", [4, 3 * 2 * 3], Values(72, 17)).Float("gb", [4], Values(4, 18))
            .Float("hw", [2, 4], Values(8, 21)).Float("hb", [2], Values(2, 22))
            .Node("Conv", "conv", ["x", "w", "b"], "c")
            .Node("Relu", "relu", ["c"], "r")
            .Node("MaxPool", "pool", ["r"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2), ModelBuilder.Ints("pads", 0, 0, 1, 1))
            .Node("Flatten", "flat", ["p"], "f", ModelBuilder.Int("axis", 1))
            .Node("Gemm", "gemm", ["f", "gw", "gb"], "g", ModelBuilder.Int("transB", 1))
            .Node("Relu", "relu2", ["g"], "gr")
            .Node("Gemm", "gemm2", ["gr", "hw", "hb"], "y", ModelBuilder.Int("transB", 1)).Bytes();
        var deep = OnnxImporter.Load(deeper, "deeper.onnx").Network;
        e = Assert.ThrowsExactly<ReassureException>(() => Reassure.Repair.Repairer.Repair(deep, [new Reassure.Repair.BuggyInput(x, new Reassure.Specifications.ClassificationSpecification(0, 1e-3))]));
        Assert.AreEqual(ErrorCodes.MaxPoolNotAnalysable, e.Code);
        StringAssert.Contains(e.Message, "more than one hidden layer");
    }

    [TestMethod]
    public void MaxPoolOnAnAffineValueIsRefused()
    {
        var bytes = new ModelBuilder("x", [1, 4, 4], "y")
            .Node("MaxPool", "pool", ["x"], "p", ModelBuilder.Ints("kernel_shape", 2, 2), ModelBuilder.Ints("strides", 2, 2))
            .Node("Flatten", "flat", ["p"], "y", ModelBuilder.Int("axis", 1)).Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "test.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedOperator, e.Code);
        StringAssert.Contains(e.Message, "Relu");
    }

    [TestMethod]
    public void VerivitalMaxpoolHasThePublishedAccuracy()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "verivital", "Convnet_maxpool.onnx")).Network;
        Assert.AreEqual(32 * 27 * 27, net.HiddenCount);
        Assert.AreEqual(32 * 6 * 6, net.Layers[0].ActivationWidth);
        var outputs = net.EvaluateBatch(Inputs.MnistImages);
        int correct = outputs.Where((y, i) => Inputs.ArgMax(y) == Inputs.MnistLabels[i]).Count();
        Assert.AreEqual(9792, correct, "published test accuracy 97.92 %");
    }

    [TestMethod]
    public void VerivitalAvgpoolHasOneConvolutionLayerAndThePublishedAccuracy()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "verivital", "Convnet_avgpool.onnx")).Network;
        Assert.HasCount(2, net.Layers);
        Assert.AreEqual(32 * 27 * 27, net.HiddenCount);
        Assert.AreEqual(4 * 32 * 27 * 27, net.Layers[0].Map.StoredWeights); // 4 taps per neuron, never a dense [23328, 784]
        var outputs = net.EvaluateBatch(Inputs.MnistImages);
        int correct = outputs.Where((y, i) => Inputs.ArgMax(y) == Inputs.MnistLabels[i]).Count();
        Assert.AreEqual(9795, correct, "published test accuracy 97.95 %");
    }

    [TestMethod]
    public void Cifar10SmallReadsAsTwoConvolutionsAndThreeDenseLayers()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "marabou-cifar10", "cifar10_small.onnx")).Network;
        CollectionAssert.AreEqual(new[] { 1800, 576, 128, 64, 10 }, net.Layers.Select(l => l.Outputs).ToArray());
        Assert.AreEqual(2568, net.HiddenCount, "info.txt: 2568 ReLUs");
        Assert.IsFalse(net.Layers[0].IsDense);
        Assert.IsFalse(net.Layers[1].IsDense);
        // The box centre is CIFAR-10 test image 1189, label 0 (file name); the network classifies it correctly.
        var property = VnnLibReader.Read(TestData.File("vnncomp", "marabou-cifar10", "networkcifar10_small_index1189_eps0.012_target1_orig0.vnnlib"));
        Assert.AreEqual(0, Inputs.ArgMax(net.Evaluate(property.Hull().Center())));
    }
}
