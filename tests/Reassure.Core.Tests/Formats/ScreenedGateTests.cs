using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

/// <summary>
/// The screened gate (ScreenedGate): the export runs the patch network only on rows where the screen cannot prove every
/// gate 0, and its outputs are bit-identical to the unscreened export's, on every row, in ONNX Runtime (batch and single
/// image). The screen is sound as ONNX Runtime computes it: wherever it closes a patch, the unscreened graph's float32
/// gate is exactly 0.
/// </summary>
[TestClass]
public sealed class ScreenedGateTests
{
    private static readonly Lazy<(OnnxModel Model, double[][] X, RepairedNetwork Repaired, double[][] Near, List<BuggyInput> Buggy)> Mnist = new(() =>
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var x = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var y = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var net = model.Network;
        var buggy = Enumerable.Range(0, x.Length).Where(i => TinyNetworks.ArgMax(net.Evaluate(x[i])) != y[i]).Take(12)
            .Select(i => new BuggyInput(x[i], new ClassificationSpecification(y[i], 1e-3), $"test[{i}]")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
        Assert.IsTrue(result.AllFixed);
        // Points near the repaired images (uniform noise of growing size, seeded): many in the band 0 < g < 1.
        var random = new Random(19);
        var near = buggy.SelectMany(bi => new[] { 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3 }.Select(e =>
            bi.Input.Select(v => Math.Clamp(v + e * (2 * random.NextDouble() - 1), 0, 1)).ToArray())).ToArray();
        return (model, x, result.Network, near, buggy);
    });

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DoNotParallelize]
    [DataRow(false, DisplayName = "one level (12 patches)")]
    [DataRow(true, DisplayName = "two levels (7 groups)")]
    public void Mnist_ScreenedExport_IsBitIdenticalToTheUnscreened_On10000TestImages_BatchAndSingle(bool twoLevels)
    {
        var (model, xs, repaired, near, _) = Mnist.Value;
        var screened = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, twoLevels ? ScreenLevels.Two : ScreenLevels.Auto);
        var plain = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: false);
        var graph = ModelProto.Parser.ParseFrom(screened).Graph;
        Assert.AreEqual("If", graph.Node[^1].OpType, "the screened export ends in the If");
        // Nothing outside the original nodes reads a pre-activation on the closed path (ONNX Runtime may fuse Gemm + Relu).
        var pre = model.Network.Layers.Take(model.Network.Layers.Count - 1).Select(l => l.Names.PreActivation!).ToHashSet();
        Assert.IsFalse(graph.Node.Where(n => n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).SelectMany(n => n.Input).Any(pre.Contains));
        Assert.IsFalse(graph.Node.Any(n => n.OpType == "Concat"), "no Concat of the pre-activations on the closed path");

        // One batch of 10 000, batches of 100 (most with no open row: the else branch), and single images.
        var a = OrtRunner.Run(screened, xs);
        var b = OrtRunner.Run(plain, xs);
        var original = OrtRunner.Run(File.ReadAllBytes(TestData.File("models", "reassure-mnist-256x256.onnx")), xs);
        int inSupport = 0;
        var open = new List<int>();
        for (int i = 0; i < xs.Length; i++)
        {
            AssertBits(b[i], a[i], $"image {i}, batch of 10 000");
            bool any = repaired.InAnySupport(xs[i]);
            if (any) { inSupport++; open.Add(i); }
            else AssertBits(original[i], a[i], $"image {i} is outside every support: the original output");
        }
        for (int start = 0; start < xs.Length; start += 100)
        {
            var part = xs[start..(start + 100)];
            var ap = OrtRunner.Run(screened, part);
            for (int k = 0; k < part.Length; k++) AssertBits(b[start + k], ap[k], $"image {start + k}, batch of 100");
        }
        // Near the repaired images, where gates are in the band (0, 1): batch and single.
        var na = OrtRunner.Run(screened, near);
        var nb = OrtRunner.Run(plain, near);
        int band = 0;
        for (int k = 0; k < near.Length; k++)
        {
            AssertBits(nb[k], na[k], $"near point {k}");
            repaired.Evaluate(near[k], out var g);
            if (g.Any(v => v > 0 && v < 1)) band++;
        }
        Assert.IsGreaterThan(near.Length / 10, band, "some near points have a gate in (0, 1)");
        var singles = open.Concat(Enumerable.Range(0, 200)).Distinct().Select(i => xs[i]).Concat(near).ToList();
        var sa = RunSingles(screened, model.InputName, singles);
        var sb = RunSingles(plain, model.InputName, singles);
        for (int k = 0; k < singles.Count; k++) AssertBits(sb[k], sa[k], $"single image {k}");
        TestContext.WriteLine($"{repaired.Patches.Count} patches; {inSupport} of {xs.Length} images in some support; {band} of {near.Length} near points with a gate in (0, 1)");
        Assert.IsGreaterThanOrEqualTo(repaired.Patches.Count, inSupport, "each repaired image is in its own support");
    }

    [TestMethod]
    [DoNotParallelize]
    public void Mnist_Screen_ClosesOnlyGatesThatAreExactlyZeroInFloat32_On10000TestImages()
    {
        var (model, test, repaired, near, _) = Mnist.Value;
        var xs = test.Concat(near).ToArray();
        int pCount = repaired.Patches.Count;
        // The screen L [N, P] of the screened export and the gates g [N, P] of the unscreened one, as graph outputs.
        var screen = WithOutput(RepairedOnnxExporter.ToBytes(repaired, model), n => n.OpType == "MatMul" && n.Input.Any(i => i.Contains("screen", StringComparison.Ordinal)), pCount);
        var gates = WithOutput(RepairedOnnxExporter.ToBytes(repaired, model, null, screened: false), n => n.OpType == "HardSigmoid", pCount);
        var l = RunOutput(screen.Bytes, model.InputName, xs, screen.Name, pCount);
        var g = RunOutput(gates.Bytes, model.InputName, xs, gates.Name, pCount);
        int closedPairs = 0, openRows = 0, gatedRows = 0, inBand = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            bool rowOpen = false, rowGated = false;
            for (int p = 0; p < pCount; p++)
            {
                float li = l[i * pCount + p], gi = g[i * pCount + p];
                if (li >= (float)ScreenedGate.Threshold)
                {
                    closedPairs++;
                    Assert.AreEqual(0, BitConverter.SingleToInt32Bits(gi), $"image {i}, patch {p}: screen {li} closes it but the gate is {gi}");
                }
                else rowOpen = true;
                if (gi != 0) rowGated = true;
                if (gi > 0 && gi < 1) inBand++;
            }
            if (rowOpen) openRows++;
            if (rowGated) gatedRows++;
        }
        // The first level of a two-level screen: a group's screen >= T closes every member's gate.
        int w1 = model.Network.Layers[0].Outputs;
        var groups = ScreenedGate.MergedGroups(repaired.Patches.Select(p => Enumerable.Range(0, w1).Where(j => !p.Support.Pattern![j]).ToArray()).ToArray(), w1, ScreenedGate.GroupCount(pCount));
        var first = WithOutput(RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two), n => n.OpType == "MatMul" && n.Input.Any(i => i.Contains("groupscreen", StringComparison.Ordinal)), groups.Count);
        var lg = RunOutput(first.Bytes, model.InputName, xs, first.Name, groups.Count);
        int closedGroups = 0;
        for (int i = 0; i < xs.Length; i++)
            for (int c = 0; c < groups.Count; c++)
            {
                if (lg[i * groups.Count + c] < (float)ScreenedGate.Threshold) continue;
                closedGroups++;
                foreach (int p in groups[c])
                    Assert.AreEqual(0, BitConverter.SingleToInt32Bits(g[i * pCount + p]), $"image {i}, group {c} screen {lg[i * groups.Count + c]} closes patch {p}, whose gate is {g[i * pCount + p]}");
            }
        Assert.IsGreaterThan(0, closedGroups);
        TestContext.WriteLine($"first level: {closedGroups} of {xs.Length * groups.Count} (image, group) pairs closed, {groups.Count} groups");
        TestContext.WriteLine($"screen: {closedPairs} of {xs.Length * pCount} (image, patch) pairs closed; {openRows} images open, {gatedRows} with a non-zero gate ({inBand} gates in (0, 1))");
        Assert.IsGreaterThanOrEqualTo(gatedRows, openRows);
        Assert.IsLessThan(test.Length / 100 + near.Length, openRows, "the screen leaves under 1 % of the test images to the patch network");
        Assert.IsGreaterThan(0, inBand, "gates in (0, 1) are tested too");
    }

    [TestMethod]
    [DoNotParallelize]
    public void Mnist_ScreenedFile_ReadsBack_InTheFormsWrittenNowAndBefore_AndItsPatchesFixTheRepairedImages()
    {
        var (model, xs, repaired, _, buggy) = Mnist.Value;
        var now = RepairedOnnxExporter.ToBytes(repaired, model);
        var forms = new[]
        {
            (now, ScreenForm.Shared, ScreenLevels.One, "now, one level"),
            (RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two), ScreenForm.Shared, ScreenLevels.Two, "now, two levels"),
            (RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, ScreenForm.Merged), ScreenForm.Merged, ScreenLevels.Two, "two nested levels, merged groups, no identity"),
            (RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, ScreenForm.Nested), ScreenForm.Nested, ScreenLevels.Two, "two nested levels, groups farthest-first"),
            (RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, ScreenForm.TailFlat), ScreenForm.TailFlat, ScreenLevels.Two, "tail in the branches, two flat levels"),
            (RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.IdentityElse), ScreenForm.IdentityElse, ScreenLevels.One, "identity else branch"),
        };
        // Now: the original's last Gemm lives in both branches of the If (none in the main graph); before: in the main graph.
        var graph = ModelProto.Parser.ParseFrom(now).Graph;
        var lastGemm = model.Network.Layers[^1].Names.Weight!;
        Assert.IsFalse(graph.Node.Any(n => n.Input.Contains(lastGemm)), "the last layer is not in the main graph");
        Assert.IsFalse(graph.Initializer.Any(t => t.Name == lastGemm));
        var gate = graph.Node.Single(n => n.OpType == "If");
        var closed = gate.Attribute.Single(a => a.Name == "else_branch").G;
        Assert.AreEqual("Gemm", closed.Node.Single().OpType, "the closed branch is the original's last layer only");
        Assert.IsTrue(ModelProto.Parser.ParseFrom(forms[5].Item1).Graph.Node.Any(n => n.Input.Contains(lastGemm)));
        // The two-level forms differ: an inner If in the one written now.
        Assert.IsTrue(Writes(ModelProto.Parser.ParseFrom(forms[1].Item1).Graph.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G, "ScatterND"));
        Assert.IsFalse(forms[4].Item1.AsSpan().SequenceEqual(forms[1].Item1));
        Assert.IsFalse(forms[2].Item1.AsSpan().SequenceEqual(forms[1].Item1), "the identity after the recomputed pre-activations");
        var images = xs.Take(300).Concat(buggy.Select(b => b.Input)).ToList();
        foreach (var (bytes, form, levels, name) in forms)
        {
            var back = RepairedOnnxImporter.TryLoad(bytes, $"mnist-screened-{form}.onnx");
            Assert.IsNotNull(back, name);
            Assert.AreEqual(repaired.Patches.Count, back.Repaired.Patches.Count, name);
            // The original read back from the file's own nodes (the last layer lifted out of the If) is the original network.
            foreach (var x in images)
                CollectionAssert.AreEqual(model.Network.Evaluate(x), back.Original.Network.Evaluate(x), $"{name}: original network");
            foreach (var bi in buggy)
            {
                var y = back.Repaired.Evaluate(bi.Input);
                Assert.IsTrue(bi.Spec.IsMetBy(y), $"{name}: {bi.Id} is fixed by the patches read back");
            }
            for (int k = 0; k < images.Count; k += 7)
                CollectionAssert.AreEqual(repaired.Evaluate(images[k]), back.Repaired.Evaluate(images[k]), $"{name}: image {k}");
            // The file read back exports to the same graph (the importer's own check; here again, by hand).
            var again = ModelProto.Parser.ParseFrom(RepairedOnnxExporter.ToBytes(back.Repaired, back.Original, null, screened: true, levels, form));
            Assert.AreEqual(ModelProto.Parser.ParseFrom(bytes).Graph, again.Graph, name);
        }
        // A patch weight changed in the two-level file is refused (the comparison decides, not the levels read from it).
        var edited = ModelProto.Parser.ParseFrom(forms[1].Item1);
        var pdiff = FindInitializer(edited.Graph, "pdiff")!;
        var raw = pdiff.RawData.ToByteArray();
        raw[0] ^= 1;
        pdiff.RawData = Google.Protobuf.ByteString.CopyFrom(raw);
        var e = Assert.ThrowsExactly<ReassureException>(() => RepairedOnnxImporter.TryLoad(Google.Protobuf.MessageExtensions.ToByteArray(edited), "edited.onnx"));
        Assert.AreEqual(ErrorCodes.RepairedGraphMismatch, e.Code);
    }

    /// <summary>The first initializer whose name holds <paramref name="part"/>, in the graph or its subgraphs.</summary>
    private static TensorProto? FindInitializer(GraphProto g, string part) =>
        g.Initializer.FirstOrDefault(t => t.Name.Contains(part, StringComparison.Ordinal))
        ?? g.Node.SelectMany(n => n.Attribute).Where(a => a.G is not null).Select(a => FindInitializer(a.G, part)).FirstOrDefault(t => t is not null);

    [TestMethod]
    public void TinyNetwork_RebuiltExport_ScreenedEqualsUnscreened_InsideAndOutsideSupports_AndReadsBackInBothForms()
    {
        var net = TinyNetworks.Deep();
        var source = OnnxImporter.Load(OnnxExporter.ToBytes(net), "tiny.onnx");
        var buggy = new List<BuggyInput>();
        var points = TinyNetworks.RandomPoints(4000, 9).ToList();
        foreach (var x in points)
        {
            int label = x[1] > 0.1 ? 0 : 1;
            if (TinyNetworks.ArgMax(net.Evaluate(x)) == label) continue;
            buggy.Add(new BuggyInput(x, new ClassificationSpecification(label, 0.01), $"p{buggy.Count}"));
            if (buggy.Count == 12) break;
        }
        var result = Repairer.Repair(source.Network, buggy, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(result.AllFixed);
        var repaired = result.Network;
        foreach (var (screened, plain, auto) in new[]
        {
            (RepairedOnnxExporter.ToBytes(repaired, result.Specs), RepairedOnnxExporter.ToBytes(repaired, result.Specs, screened: false), true),
            (RepairedOnnxExporter.ToBytes(repaired, source, result.Specs), RepairedOnnxExporter.ToBytes(repaired, source, result.Specs, screened: false), true),
            (RepairedOnnxExporter.ToBytes(repaired, source, result.Specs, screened: true, ScreenLevels.Two), RepairedOnnxExporter.ToBytes(repaired, source, result.Specs, screened: false), false),
        })
        {
            Assert.IsTrue(ModelProto.Parser.ParseFrom(screened).Graph.Node.Any(n => n.OpType == "If" && n.Attribute.Any(at => at.G is not null && Writes(at.G, "ScatterND"))));
            var probe = buggy.Select(bi => bi.Input).Concat(points.Take(2000)).ToList();
            var a = OrtRunner.Run(screened, probe);
            var b = OrtRunner.Run(plain, probe);
            int inside = 0;
            for (int k = 0; k < probe.Count; k++)
            {
                AssertBits(b[k], a[k], $"point {k}");
                if (repaired.InAnySupport(probe[k])) inside++;
            }
            Assert.IsGreaterThanOrEqualTo(buggy.Count, inside);
            var sa = RunSingles(screened, "input", probe.Take(40).ToList());
            var sb = RunSingles(plain, "input", probe.Take(40).ToList());
            for (int k = 0; k < 40; k++) AssertBits(sb[k], sa[k], $"single point {k}");
            // Batches of 8 with one point inside a support (its row alone through the patch network) and none.
            for (int k = 0; k < buggy.Count; k++)
            {
                var batch = points.Skip(2000 + 8 * k).Take(7).Prepend(buggy[k].Input).ToList();
                var ba = OrtRunner.Run(screened, batch);
                var bb = OrtRunner.Run(plain, batch);
                for (int r = 0; r < batch.Count; r++) AssertBits(bb[r], ba[r], $"batch {k}, row {r}");
                var rest = batch.Skip(1).ToList();
                var ra = OrtRunner.Run(screened, rest);
                var rb = OrtRunner.Run(plain, rest);
                for (int r = 0; r < rest.Count; r++) AssertBits(rb[r], ra[r], $"batch {k} without its repaired point, row {r}");
            }
            // An empty batch runs.
            Assert.IsEmpty(RunOutput(screened, "input", [], "output", net.OutputSize, net.InputSize));
            // Both forms read back as the same patches.
            foreach (var bytes in auto ? new[] { screened, plain } : [plain])
            {
                var back = RepairedOnnxImporter.TryLoad(bytes, "tiny-repaired.onnx")!;
                Assert.AreEqual(repaired.Patches.Count, back.Repaired.Patches.Count);
            }
        }
    }

    /// <summary>
    /// ONNX's default-domain operators of opset 13 or earlier that a repaired export may write (a subset of the standard;
    /// an operator outside it, a newer one or another domain's, fails the test below).
    /// </summary>
    private static readonly HashSet<string> Opset13 = new(StringComparer.Ordinal)
    {
        "Abs", "Add", "ArgMax", "AveragePool", "Cast", "Ceil", "Clip", "Concat", "Constant", "Conv", "Div", "Expand",
        "Flatten", "Floor", "Gather", "GatherElements", "GatherND", "Gemm", "Greater", "HardSigmoid", "Identity", "If",
        "LeakyRelu", "Less", "MatMul", "Max", "MaxPool", "Min", "Mul", "Neg", "NonZero", "Not", "Or", "And", "Pad",
        "ReduceMax", "ReduceMin", "ReduceSum", "Relu", "Reshape", "ScatterND", "Shape", "Sign", "Slice", "Squeeze", "Sub",
        "Sum", "Transpose", "Unsqueeze", "Where", "Compress", "Equal", "TopK",
    };

    [TestMethod]
    [DataRow(false, DisplayName = "one level (12 patches)")]
    [DataRow(true, DisplayName = "two levels (7 groups)")]
    public void Mnist_ScreenedExport_IsStandardOnnx_Opset13_DefaultDomainOnly_InEverySubgraph(bool twoLevels)
    {
        var (model, _, repaired, _, _) = Mnist.Value;
        var file = ModelProto.Parser.ParseFrom(RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, twoLevels ? ScreenLevels.Two : ScreenLevels.Auto));
        Assert.HasCount(1, file.OpsetImport, "one opset import");
        Assert.IsTrue(file.OpsetImport[0].Domain is "" or "ai.onnx", $"opset domain '{file.OpsetImport[0].Domain}'");
        Assert.AreEqual(13L, file.OpsetImport[0].Version);
        var nodes = new List<NodeProto>();
        void Collect(GraphProto g)
        {
            foreach (var n in g.Node)
            {
                nodes.Add(n);
                foreach (var a in n.Attribute)
                {
                    if (a.G is not null) Collect(a.G);
                    foreach (var sub in a.Graphs) Collect(sub);
                }
            }
        }
        Collect(file.Graph);
        Assert.IsTrue(nodes.Count(n => n.OpType == "If") >= (twoLevels ? 2 : 1), "the screen's If (and the inner one with two levels)");
        foreach (var n in nodes)
        {
            Assert.IsTrue(n.Domain is "" or "ai.onnx", $"node {n.Name} ({n.OpType}) in domain '{n.Domain}'");
            Assert.Contains(n.OpType, Opset13, $"node {n.Name}: {n.OpType} is not an opset-13 operator this test knows");
        }
    }

    /// <summary>Whether a node of that type is in the graph or in one of its subgraphs.</summary>
    private static bool Writes(GraphProto g, string op) =>
        g.Node.Any(n => n.OpType == op || n.Attribute.Any(a => a.G is not null && Writes(a.G, op)));

    private static void AssertBits(float[] expected, float[] actual, string where)
    {
        for (int o = 0; o < expected.Length; o++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[o]), BitConverter.SingleToInt32Bits(actual[o]), $"{where}, output {o}: {expected[o]} vs {actual[o]}");
    }

    private static float[][] RunSingles(byte[] model, string inputName, IReadOnlyList<double[]> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        string outName = session.OutputMetadata.Keys.Single();
        using var run = new RunOptions();
        return inputs.Select(x =>
        {
            using var v = OrtValue.CreateTensorValueFromMemory(x.Select(t => (float)t).ToArray(), [1, x.Length]);
            using var outputs = session.Run(run, [inputName], [v], [outName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }).ToArray();
    }

    /// <summary>The model with the (first) output of the first node matching <paramref name="pick"/> as an extra graph output <c>[N, width]</c>.</summary>
    private static (byte[] Bytes, string Name) WithOutput(byte[] bytes, Func<NodeProto, bool> pick, int width)
    {
        var model = ModelProto.Parser.ParseFrom(bytes);
        var node = model.Graph.Node.First(pick);
        model.Graph.Output.Add(OnnxBuilder.FloatInfo(node.Output[0], "N", width));
        return (Google.Protobuf.MessageExtensions.ToByteArray(model), node.Output[0]);
    }

    /// <summary>One output of a model over a batch, flat <c>[N * width]</c>.</summary>
    private static float[] RunOutput(byte[] model, string inputName, IReadOnlyList<double[]> inputs, string output, int width, int inputWidth = 784)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var run = new RunOptions();
        var data = inputs.SelectMany(x => x.Select(t => (float)t)).ToArray();
        using var v = OrtValue.CreateTensorValueFromMemory(data, [inputs.Count, inputWidth]);
        using var outputs = session.Run(run, [inputName], [v], [output]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.HasCount(inputs.Count * width, y);
        return y;
    }
}
