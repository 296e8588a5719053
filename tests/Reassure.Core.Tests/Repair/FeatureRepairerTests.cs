using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;
using Reassure.Tests.Formats;

namespace Reassure.Tests.Repair;

/// <summary>
/// Feature-space repair (method.md §13) on a hand-checkable 2-2-2-2 ONNX network cut at its hidden tensors, and on the
/// REASSURE MNIST network (784-256-256-10) cut at its first hidden layer's Relu output.
/// </summary>
[TestClass]
public sealed class FeatureRepairerTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// x [N, 2] -> Gemm(I) -> h1 = relu(x) -> Gemm([[1, -1], [1, 1]]) -> z2 -> Relu -> h2 -> Gemm(I) -> y = h2.
    /// So y = (relu(relu(x1) - relu(x2)), relu(x1) + relu(x2)) on [-1, 1]^2.
    /// </summary>
    internal static OnnxModel Tiny() => OnnxImporter.Load(TinyBytes(), "tiny.onnx");

    internal static byte[] TinyBytes() =>
        new ModelBuilder("x", [2], "y")
            .Float("w1", [2, 2], 1, 0, 0, 1).Float("b1", [2], 0, 0)
            .Float("w2", [2, 2], 1, -1, 1, 1).Float("b2", [2], 0, 0)
            .Float("w3", [2, 2], 1, 0, 0, 1).Float("b3", [2], 0, 0)
            .Node("Gemm", "g1", ["x", "w1", "b1"], "z1", ModelBuilder.Int("transB", 1))
            .Node("Relu", "r1", ["z1"], "h1")
            .Node("Gemm", "g2", ["h1", "w2", "b2"], "z2", ModelBuilder.Int("transB", 1))
            .Node("Relu", "r2", ["z2"], "h2")
            .Node("Gemm", "g3", ["h2", "w3", "b3"], "y", ModelBuilder.Int("transB", 1))
            .Bytes();

    [TestMethod]
    public void Split_AtReluOutput_FeaturesAreTheReluAndTheBoxIsTheirRange()
    {
        var split = FeatureSplitter.Split(Tiny(), "h1").Split;
        Assert.IsTrue(split.PrefixRelu);
        Assert.AreEqual(1, split.Suffix.HiddenCount / 2);
        CollectionAssert.AreEqual(new[] { 0.5, 0.0 }, split.Features([0.5, -0.3]));
        var x = new[] { 0.2, 0.6 };
        CollectionAssert.AreEqual(Tiny().Network.Evaluate(x), split.Evaluate(x), "s(phi(x)) = f(x)");
        var box = split.Bounds(InputBox.Uniform(2, -1, 1));
        for (int k = 0; k < 2; k++)
        {
            Assert.AreEqual(0, box.Lower[k]);
            Assert.AreEqual(1, box.Upper[k], 1e-8);
            Assert.IsTrue(box.Upper[k] >= 1, "sound: relu(x_k) reaches 1");
        }
    }

    [TestMethod]
    public void Split_AtPreActivation_SuffixStartsWithTheRelu()
    {
        var split = FeatureSplitter.Split(Tiny(), "z2").Split;
        Assert.IsFalse(split.PrefixRelu);
        Assert.AreEqual(2, split.Suffix.HiddenCount, "the Relu of z2 is the suffix's hidden layer");
        Assert.AreEqual("z2", split.Suffix.Layers[0].Names.PreActivation);
        CollectionAssert.AreEqual(new[] { -0.4, 0.8 }, split.Features([0.2, 0.6]).Select(v => Math.Round(v, 12)).ToArray());
        var box = split.Bounds(InputBox.Uniform(2, -1, 1));
        Assert.AreEqual(-1, box.Lower[0], 1e-8);
        Assert.AreEqual(1, box.Upper[0], 1e-8);
        Assert.AreEqual(0, box.Lower[1], 1e-8);
        Assert.AreEqual(2, box.Upper[1], 1e-8);
    }

    [TestMethod]
    public void Split_Refusals_NameTheReason()
    {
        var model = Tiny();
        var e = Assert.ThrowsExactly<ReassureException>(() => FeatureSplitter.Split(model, "nope"));
        Assert.AreEqual(ErrorCodes.UnknownLayer, e.Code);
        StringAssert.Contains(e.Message, "'h1'");
        e = Assert.ThrowsExactly<ReassureException>(() => FeatureSplitter.Split(model, "z1"));
        Assert.AreEqual(ErrorCodes.FeatureSplitUnsupported, e.Code);
        StringAssert.Contains(e.Message, "before any Relu");
        e = Assert.ThrowsExactly<ReassureException>(() => FeatureSplitter.Split(model, "y"));
        Assert.AreEqual(ErrorCodes.FeatureSplitUnsupported, e.Code);
    }

    /// <summary>
    /// Cut at h2, the network after it is one affine layer (y = h2): a single linear region, so the patch is limited to a
    /// box around the buggy features (box support, r = 0.05 of the point's largest feature). x = (0.2, 0.6): h2 = (0, 0.8),
    /// class 1, required class 0: fixed and proved on the box; x' = (0.35, 0.6) (h2 = (0, 0.95): its deficit 20 (0.15 - 0.04) / 0.8
    /// is above 1) keeps its output bit for bit, in double and in ONNX Runtime; x'' = (0.25, 0.6) (h2 = (0, 0.85)) is in the
    /// band beyond the box.
    /// </summary>
    [TestMethod]
    public void Tiny_AffineSuffix_BoxSupport_FixesTheInput_OthersUnchanged()
    {
        var model = Tiny();
        var split = FeatureSplitter.Split(model, "h2");
        Assert.AreEqual(0, split.Split.Suffix.HiddenCount);
        var buggy = new[] { new BuggyInput([0.2, 0.6], new ClassificationSpecification(0, 0.05), "x") };
        var result = FeatureRepairer.Repair(split.Split, buggy, new RepairOptions { Domain = InputBox.Uniform(2, -1, 1) }, float32: new OnnxFeatureFloat32Evaluator(split));
        Assert.IsTrue(result.AllFixed, result.Inputs[0].Message);
        Assert.AreEqual(true, result.Inputs[0].FixedFloat32);
        var patch = result.Suffix.Network.Patches.Single();
        Assert.IsNull(patch.Support.Pattern, "box support only");
        Assert.IsNotNull(patch.Support.Box);
        Assert.AreEqual(0.05 * 0.8, patch.Support.Box.HalfWidth[1], 1e-12);
        Assert.IsTrue(result.Suffix.Patches[0].Verified);
        Assert.IsTrue(result.InAnySupport([0.25, 0.6]));
        var near = new[] { 0.35, 0.6 };
        Assert.IsFalse(result.InAnySupport(near));
        CollectionAssert.AreEqual(split.Split.Evaluate(near), result.Evaluate(near));
        var bytes = FeatureOnnxExporter.ToBytes(split, result.Suffix.Network, result.Suffix.Specs);
        var ort = OrtRunner.Run(bytes, [[0.2, 0.6], near]);
        var orig = OrtRunner.Run(TinyBytes(), [near]);
        Assert.IsTrue(ort[0][0] > ort[0][1], "ONNX Runtime: class 0");
        CollectionAssert.AreEqual(orig[0], ort[1], "ONNX Runtime: bit-identical off the box");
        StringAssert.Contains(Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).MetadataProps.Single(p => p.Key == "reassure.repair").Value, "supportBox");
    }

    /// <summary>
    /// The verivital avgpool network (Conv, Relu, Pad, AveragePool, Flatten, Gemm) cut at its flattened features '9': one
    /// affine layer after it, so box supports. Three misclassified-on-purpose MNIST test images (relabelled to their
    /// runner-up class) are fixed in double and in ONNX Runtime on the exported file, each patch proved on its box; of the
    /// first 1000 test images, every one whose features fall outside all supports keeps its ONNX Runtime output bit for bit.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    public void VerivitalAvgpool_FlattenedFeatures_BoxSupports_Fixed_OthersBitIdentical() =>
        FlattenedFeatures_BoxSupports_Fixed_OthersBitIdentical("Convnet_avgpool.onnx", "9");

    /// <summary>
    /// The verivital maxpool network (Conv, Relu, MaxPool 4x4, Flatten, Gemm) cut at its flattened features: the prefix
    /// computes maxpool(relu(conv x)) exactly (method.md §12) and the dense suffix is repaired over a box of features.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    public void VerivitalMaxpool_FlattenedFeatures_BoxSupports_Fixed_OthersBitIdentical()
    {
        var model = OnnxImporter.Load(TestData.File("vnncomp", "verivital", "Convnet_maxpool.onnx"));
        var tensors = FeatureSplitter.Tensors(model);
        var flat = tensors.Single(t => t.Operator == "Flatten");
        var pooled = tensors.Single(t => t.Operator == "MaxPool");
        Assert.IsNull(flat.Refusal, flat.Refusal);
        Assert.IsNull(pooled.Refusal, pooled.Refusal);
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 20);
        foreach (var name in new[] { flat.Name, pooled.Name })
        {
            var split = FeatureSplitter.Split(model, name).Split;
            Assert.IsNotNull(split.PrefixPool);
            foreach (var x in xs) CollectionAssert.AreEqual(model.Network.Evaluate(x), split.Evaluate(x), "the cut network is the network, bit for bit");
        }
        FlattenedFeatures_BoxSupports_Fixed_OthersBitIdentical("Convnet_maxpool.onnx", flat.Name);
    }

    private static void FlattenedFeatures_BoxSupports_Fixed_OthersBitIdentical(string file, string tensor)
    {
        var model = OnnxImporter.Load(TestData.File("vnncomp", "verivital", file));
        var split = FeatureSplitter.Split(model, tensor);
        Assert.AreEqual(1152, split.Split.FeatureSize);
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 1000);
        var buggy = new[] { 10, 20, 30 }.Select(i =>
        {
            var y = model.Network.Evaluate(xs[i]);
            int top = TinyNetworks.ArgMax(y);
            int runnerUp = Enumerable.Range(0, 10).Where(o => o != top).OrderByDescending(o => y[o]).First();
            return new BuggyInput(xs[i], new ClassificationSpecification(runnerUp, 1e-3), $"test[{i}]");
        }).ToList();
        var result = FeatureRepairer.Repair(split.Split, buggy, new RepairOptions { Domain = InputBox.Uniform(784, 0, 1) }, float32: new OnnxFeatureFloat32Evaluator(split));
        foreach (var s in result.Inputs) Assert.IsTrue(s.IsFixed, $"{s.Id}: {s.Message}");
        Assert.IsTrue(result.Suffix.Patches.All(p => p.Verified));
        var bytes = FeatureOnnxExporter.ToBytes(split, result.Suffix.Network, result.Suffix.Specs);
        using var repaired = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        using var original = new Microsoft.ML.OnnxRuntime.InferenceSession(File.ReadAllBytes(TestData.File("vnncomp", "verivital", file)));
        var outside = Enumerable.Range(0, xs.Length).Where(i => !result.InAnySupport(xs[i])).ToList();
        Assert.IsTrue(outside.Count >= xs.Length - 3, $"{xs.Length - outside.Count} test images in a support");
        var a = OnnxRuntimeFloat32Evaluator.Run(original, model, outside.Select(i => xs[i]).ToList());
        var b = OnnxRuntimeFloat32Evaluator.Run(repaired, model, outside.Select(i => xs[i]).ToList());
        for (int k = 0; k < outside.Count; k++) CollectionAssert.AreEqual(a[k], b[k], $"test image {outside[k]}");
        var fixedOrt = OnnxRuntimeFloat32Evaluator.Run(repaired, model, buggy.Select(x => x.Input).ToList());
        for (int k = 0; k < buggy.Count; k++) Assert.IsTrue(buggy[k].Spec.ToLinear(10).Slack(fixedOrt[k]) >= 0, buggy[k].Id);
    }

    [TestMethod]
    public void Split_SkipConnection_IsRefused()
    {
        // s = Gemm(h1) + h1, then Relu: cut at z2 = Gemm(h1), the Add after it reads h1 from before it.
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("w1", [2, 2], 1, 0, 0, 1).Float("b1", [2], 0, 0)
            .Float("w2", [2, 2], 1, -1, 1, 1).Float("b2", [2], 0, 0)
            .Float("w3", [2, 2], 1, 0, 0, 1).Float("b3", [2], 0, 0)
            .Node("Gemm", "g1", ["x", "w1", "b1"], "z1", ModelBuilder.Int("transB", 1))
            .Node("Relu", "r1", ["z1"], "h1")
            .Node("Gemm", "g2", ["h1", "w2", "b2"], "z2", ModelBuilder.Int("transB", 1))
            .Node("Add", "skip", ["z2", "h1"], "s")
            .Node("Relu", "r2", ["s"], "h2")
            .Node("Gemm", "g3", ["h2", "w3", "b3"], "y", ModelBuilder.Int("transB", 1))
            .Bytes();
        var model = OnnxImporter.Load(bytes, "skip.onnx");
        var e = Assert.ThrowsExactly<ReassureException>(() => FeatureSplitter.Split(model, "z2"));
        Assert.AreEqual(ErrorCodes.FeatureSplitUnsupported, e.Code);
        StringAssert.Contains(e.Message, "'h1'");
        Assert.IsNotNull(FeatureSplitter.Split(model, "s"), "the sum itself cuts the graph");
    }

    [TestMethod]
    public void Tensors_ListEveryHiddenTensorWithWhetherItCanBeCut()
    {
        var tensors = FeatureSplitter.Tensors(Tiny());
        CollectionAssert.AreEqual(new[] { "z1", "h1", "z2", "h2" }, tensors.Select(t => t.Name).ToArray());
        Assert.IsNotNull(tensors[0].Refusal);
        Assert.IsNull(tensors[1].Refusal);
        Assert.AreEqual(2, tensors[1].SuffixRelus);
        Assert.AreEqual(2, tensors[2].SuffixRelus);
        Assert.AreEqual(0, tensors[3].SuffixRelus);
        Assert.AreEqual("2", tensors[1].Shape);
    }

    /// <summary>
    /// x = (0.2, 0.6): h1 = (0.2, 0.6), z2 = (-0.4, 0.8), y = (0, 0.8), class 1; required: class 0. The feature region is
    /// {u in U : u1 - u2 &lt;= 0}. x' = (-0.5, 0.6) lies in another input region (x1 &lt; 0) but in the same feature region: it
    /// is repaired too. x'' = (1, -0.5) (features (1, 0), deficit gamma (u1 - u2) = 1 at gamma = 1: off the support) keeps its output bit for bit,
    /// in double and in ONNX Runtime.
    /// </summary>
    [TestMethod]
    public void Tiny_RepairAtH1_FixesTheInput_ProvedInFeatureSpace_LocalInFeatureSpace()
    {
        var model = Tiny();
        var onnxSplit = FeatureSplitter.Split(model, "h1");
        var split = onnxSplit.Split;
        var buggy = new[] { new BuggyInput([0.2, 0.6], new ClassificationSpecification(0, 0.05), "x") };
        var result = FeatureRepairer.Repair(split, buggy, new RepairOptions { Domain = InputBox.Uniform(2, -1, 1) }, float32: new OnnxFeatureFloat32Evaluator(onnxSplit));
        Assert.IsTrue(result.AllFixed, result.Inputs[0].Message);
        Assert.AreEqual(true, result.Inputs[0].FixedFloat32);
        Assert.AreEqual(1, result.Suffix.Patches.Count);
        Assert.IsTrue(result.Suffix.Patches[0].Verified);
        CollectionAssert.AreEqual(new[] { 0 }, result.Suffix.Patches[0].Inputs.ToArray());
        Assert.AreEqual(0, TinyNetworks.ArgMax(result.Evaluate([0.2, 0.6])));
        Assert.AreEqual(0, TinyNetworks.ArgMax(result.Evaluate([-0.5, 0.6])), "same feature region (0, 0.6): repaired as well");
        var far = new[] { 1, -0.5 };
        Assert.IsFalse(result.InAnySupport(far));
        var before = model.Network.Evaluate(far);
        var after = result.Evaluate(far);
        for (int o = 0; o < 2; o++) Assert.AreEqual(BitConverter.DoubleToInt64Bits(before[o]), BitConverter.DoubleToInt64Bits(after[o]));

        var bytes = FeatureOnnxExporter.ToBytes(onnxSplit, result.Suffix.Network, result.Suffix.Specs);
        var ort = OrtRunner.Run(bytes, [[0.2, 0.6], far]);
        var orig = OrtRunner.Run(TinyBytes(), [far]);
        Assert.IsTrue(ort[0][0] > ort[0][1], "ONNX Runtime: class 0");
        Assert.AreEqual(BitConverter.SingleToInt32Bits(orig[0][0]), BitConverter.SingleToInt32Bits(ort[1][0]), "ONNX Runtime: bit-identical outside the support");
        Assert.AreEqual(BitConverter.SingleToInt32Bits(orig[0][1]), BitConverter.SingleToInt32Bits(ort[1][1]));
        var meta = Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).MetadataProps;
        Assert.AreEqual("h1", meta.Single(p => p.Key == FeatureOnnxExporter.LayerKey).Value);
        var read = Assert.ThrowsExactly<ReassureException>(() => RepairedOnnxImporter.TryLoad(bytes, "repaired.onnx"));
        Assert.AreEqual(ErrorCodes.RepairedModelUnsupported, read.Code);
    }

    [TestMethod]
    public void Tiny_InputOutsideTheGivenFeatureBox_IsReportedNotDropped()
    {
        var split = FeatureSplitter.Split(Tiny(), "h1").Split;
        var buggy = new[] { new BuggyInput([0.2, 0.6], new ClassificationSpecification(0, 0.05), "x"), new BuggyInput([0.9, 0.95], new ClassificationSpecification(0, 0.05), "y") };
        var result = FeatureRepairer.Repair(split, buggy, new RepairOptions { CheckFloat32 = false }, featureBox: InputBox.Uniform(2, 0, 0.8));
        Assert.IsTrue(result.Inputs[0].IsFixed);
        Assert.AreEqual(ErrorCodes.InputOutsideDomain, result.Inputs[1].ErrorCode);
        StringAssert.Contains(result.Inputs[1].Message, "feature box");
        Assert.AreEqual(1, result.Inputs[1].Index);
    }

    /// <summary>
    /// The REASSURE MNIST network cut after its first hidden layer: the first ten misclassified test images, each required
    /// to get its true label, are all fixed (double and ONNX Runtime on the whole exported graph), every patch proved over
    /// its feature region; test images whose features fall outside every support keep their outputs bit for bit.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    public void Mnist_FirstHiddenLayer_TenMisclassified_AllFixed_OthersUnchanged()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var tensors = FeatureSplitter.Tensors(model);
        TestContext.WriteLine(string.Join("; ", tensors.Select(t => $"{t.Name} ({t.Operator}, [{t.Shape}], relus after {t.SuffixRelus}, {t.Refusal ?? "ok"})")));
        var layer = tensors.First(t => t.Operator == "Relu" && t.Refusal is null);
        Assert.AreEqual(256, layer.SuffixRelus, "cut after the first hidden layer: one hidden layer of 256 after it");
        var onnxSplit = FeatureSplitter.Split(model, layer.Name);
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var before = model.Network.EvaluateBatch(xs);
        var wrong = Enumerable.Range(0, xs.Length).Where(i => TinyNetworks.ArgMax(before[i]) != ys[i]).Take(10).ToList();
        var buggy = wrong.Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]")).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = FeatureRepairer.Repair(onnxSplit.Split, buggy, new RepairOptions { Domain = InputBox.Uniform(784, 0, 1) }, float32: new OnnxFeatureFloat32Evaluator(onnxSplit));
        double seconds = clock.Elapsed.TotalSeconds;
        foreach (var s in result.Inputs)
        {
            Assert.IsTrue(s.IsFixed, $"{s.Id}: {s.Message}");
            Assert.AreEqual(true, s.FixedFloat32);
        }
        Assert.IsTrue(result.Suffix.Patches.All(p => p.Verified));
        int outside = 0, changed = 0, correct = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            var y = result.Evaluate(xs[i]);
            if (TinyNetworks.ArgMax(y) == ys[i]) correct++;
            bool same = y.Zip(before[i]).All(t => BitConverter.DoubleToInt64Bits(t.First) == BitConverter.DoubleToInt64Bits(t.Second));
            if (!same) changed++;
            if (result.InAnySupport(xs[i])) continue;
            outside++;
            Assert.IsTrue(same, $"test image {i}: features outside every support but the output changed");
        }
        TestContext.WriteLine($"layer {layer.Name}: fixed 10/10, patches {result.Suffix.Patches.Count}, seconds {seconds:F2}, accuracy {correct / 100.0:F2} %, outside supports {outside}, changed {changed}");
        Assert.IsTrue(outside > xs.Length / 2, $"{outside} images outside every support");
        Assert.IsTrue(correct >= 9800, $"accuracy {correct / 100.0} %");
    }

    /// <summary>
    /// cifar10_small (NHWC input, Transpose, two Conv + Relu, three dense layers) cut at sequential/dense/Relu:0 (the first
    /// dense layer's output; 64 ReLUs after it): the centre of the marabou-cifar10 property index1189 (a CIFAR-10 test
    /// image, label 0) relabelled to the property's target 1 is repaired to it, in double and in ONNX Runtime on the whole
    /// exported graph (NHWC batch), and its patch is proved over its feature region.
    /// </summary>
    [TestMethod]
    public void Cifar10Small_DenseRelu_PropertyCentreRelabelledToItsTarget_FixedAndProved()
    {
        var model = OnnxImporter.Load(TestData.File("vnncomp", "marabou-cifar10", "cifar10_small.onnx"));
        var centre = Reassure.Formats.VnnLib.VnnLibReader.Read(TestData.File("vnncomp", "marabou-cifar10", "networkcifar10_small_index1189_eps0.012_target1_orig0.vnnlib")).Hull().Center();
        Assert.AreEqual(0, TinyNetworks.ArgMax(model.Network.Evaluate(centre)), "the file name's original label");
        var split = FeatureSplitter.Split(model, "sequential/dense/Relu:0");
        Assert.AreEqual(128, split.Split.FeatureSize);
        Assert.AreEqual(64, split.Split.Suffix.HiddenCount);
        CollectionAssert.AreEqual(model.Network.Evaluate(centre), split.Split.Evaluate(centre), "s(phi(x)) = f(x) through the convolutions");
        var result = FeatureRepairer.Repair(split.Split, [new BuggyInput(centre, new ClassificationSpecification(1, 1e-3), "index1189")], float32: new OnnxFeatureFloat32Evaluator(split));
        Assert.IsTrue(result.AllFixed, result.Inputs[0].Message);
        Assert.AreEqual(true, result.Inputs[0].FixedFloat32);
        Assert.IsTrue(result.Suffix.Patches.All(p => p.Verified));
        Assert.AreEqual(1, TinyNetworks.ArgMax(result.Evaluate(centre)));
        var bytes = FeatureOnnxExporter.ToBytes(split, result.Suffix.Network, result.Suffix.Specs);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        var y = OnnxRuntimeFloat32Evaluator.Run(session, model, [centre])[0];
        Assert.AreEqual(1, TinyNetworks.ArgMax(y), "ONNX Runtime on the whole exported graph");
    }
}
