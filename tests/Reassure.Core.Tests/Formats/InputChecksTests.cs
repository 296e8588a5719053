using Reassure.Formats;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Formats.Rows;
using Reassure.Repair;
using static Reassure.Tests.Formats.ModelBuilder;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

/// <summary>Issue 15: no bad input passes silently, outputs never destroy inputs (Core side).</summary>
[TestClass]
public sealed class InputChecksTests
{
    private static ReassureException Import(byte[] bytes) =>
        Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "m.onnx"));

    private static ModelBuilder Gemm(params double[] weights) => new ModelBuilder("x", [2], "y")
        .Float("W", [3, 2], weights).Float("b", [3], 0, 0, 0)
        .Node("Gemm", "fc", ["x", "W", "b"], "y", Int("transB", 1));

    [TestMethod]
    [DataRow(double.NaN)]
    [DataRow(double.PositiveInfinity)]
    [DataRow(double.NegativeInfinity)]
    public void NonFiniteInitializerIsRsr1007WithNameAndIndex(double bad)
    {
        var e = Import(Gemm(1, 2, 3, bad, 5, 6).Bytes());
        Assert.AreEqual(ErrorCodes.OnnxNonFinite, e.Code);
        StringAssert.Contains(e.Message, "initializer 'W'");
        StringAssert.Contains(e.Message, "element 3");
    }

    [TestMethod]
    public void NonFiniteConstantNodeIsRsr1007WithTheNode()
    {
        var t = new TensorProto { Name = "shift", DataType = 1 };
        t.Dims.Add(3);
        t.FloatData.Add([0f, float.NaN, 0f]);
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("W", [3, 2], 1, 2, 3, 4, 5, 6)
            .Node("Constant", "shift_const", [], "s", Tensor("value", t))
            .Node("Gemm", "fc", ["x", "W", "s"], "y", Int("transB", 1))
            .Bytes();
        var e = Import(bytes);
        Assert.AreEqual(ErrorCodes.OnnxNonFinite, e.Code);
        StringAssert.Contains(e.Message, "shift_const");
        StringAssert.Contains(e.Message, "element 1");

        var floats = new AttributeProto { Name = "value_floats", Type = AttributeProto.Types.AttributeType.Floats };
        floats.Floats.Add([0f, 0f, float.PositiveInfinity]);
        var e2 = Import(new ModelBuilder("x", [2], "y")
            .Float("W", [3, 2], 1, 2, 3, 4, 5, 6)
            .Node("Constant", "inf_const", [], "s", floats)
            .Node("Gemm", "fc", ["x", "W", "s"], "y", Int("transB", 1))
            .Bytes());
        Assert.AreEqual(ErrorCodes.OnnxNonFinite, e2.Code);
        StringAssert.Contains(e2.Message, "inf_const");
    }

    [TestMethod]
    public void InputDimBeyondIntIsRsr1004NotOverflow()
    {
        var e = Import(new ModelBuilder("x", [1L << 40], "y").Node("Relu", "r", ["x"], "y").Bytes());
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e.Code);
        StringAssert.Contains(e.Message, "1099511627776");
        var e2 = Import(new ModelBuilder("x", [1L << 20, 1L << 20], "y").Node("Relu", "r", ["x"], "y").Bytes());
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e2.Code);
    }

    private static ReassureException Rows(string[] lines, int width = 2, RowsHeader header = RowsHeader.Auto) =>
        Assert.ThrowsExactly<ReassureException>(() => RowsCsv.Parse(lines, width, "rows.csv", header));

    [TestMethod]
    public void AFirstLineWithOneBadCellIsAnErrorNotAHeader()
    {
        var nan = Rows(["1,NaN,0", "1,2,0", "3,4,1"]);
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, nan.Code);
        StringAssert.Contains(nan.Message, "rows.csv, line 1, column 2");
        var typo = Rows(["1,2x,0", "1,2,0"]);
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, typo.Code);
        StringAssert.Contains(typo.Message, "'2x'");
        StringAssert.Contains(typo.Message, "--header yes");
        // A header with no numeric cell is still a header.
        Assert.AreEqual(2, RowsCsv.Parse(["x0,x1,label", "1,2,0", "3,4,1"], 2, "rows.csv").Count);
    }

    [TestMethod]
    public void NonFiniteCellsAnywhereAreRsr1021()
    {
        foreach (var bad in new[] { "NaN", "Infinity", "-Infinity", "1e400", "", "0x1" })
        {
            var e = Rows(["x,y,label", "1,2,0", $"3,{bad},1"]);
            Assert.AreEqual(ErrorCodes.RowsNotNumeric, e.Code, bad);
            StringAssert.Contains(e.Message, "line 3, column 2");
        }
    }

    [TestMethod]
    public void HeaderOptionDecidesTheFirstLine()
    {
        string[] numericHeader = ["0,1,2", "5,6,0", "7,8,1"];
        Assert.AreEqual(3, RowsCsv.Parse(numericHeader, 2, "rows.csv").Count, "auto: an all-numeric first line is data");
        var yes = RowsCsv.Parse(numericHeader, 2, "rows.csv", RowsHeader.Yes);
        Assert.AreEqual(2, yes.Count);
        CollectionAssert.AreEqual(new[] { 2, 3 }, yes.Lines);
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, Rows(["x,y,label", "1,2,0"], header: RowsHeader.No).Code);
    }

    [TestMethod]
    public void CheckLabelsNamesTheLineAndTheRange()
    {
        var rows = RowsCsv.Parse(["x,y,label", "", "1,2,0", "3,4,5"], 2, "rows.csv");
        var e = Assert.ThrowsExactly<ReassureException>(() => rows.CheckLabels(3));
        Assert.AreEqual(ErrorCodes.RowsBadLabel, e.Code);
        StringAssert.Contains(e.Message, "rows.csv, line 4, column 3");
        StringAssert.Contains(e.Message, "0..2");
        Assert.AreSame(rows, rows.CheckLabels(6));
    }

    [TestMethod]
    public void WriteAllChecksEveryTargetBeforeRenamingAndLeavesNoTemporaryFile()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-atomic-");
        try
        {
            var a = Path.Combine(dir.FullName, "a.onnx");
            File.WriteAllText(a, "old");
            var manifest = Path.Combine(dir.FullName, "a.manifest.json");
            Directory.CreateDirectory(manifest);
            var e = Assert.ThrowsExactly<ReassureException>(() => AtomicFile.WriteAll([(a, [1, 2, 3]), (manifest, [4])]));
            Assert.AreEqual(ErrorCodes.OutputNotWritable, e.Code);
            Assert.AreEqual("old", File.ReadAllText(a), "nothing renamed");
            Assert.IsEmpty(Directory.GetFiles(dir.FullName, "*.tmp"));

            // A 240-byte name (the longest part of the temporary name is the short .rsr-XXXXXXXX.tmp).
            var longName = Path.Combine(dir.FullName, new string('n', 235) + ".onnx");
            var b = Path.Combine(dir.FullName, "b.json");
            AtomicFile.WriteAll([(longName, [7]), (b, [8, 9])]);
            CollectionAssert.AreEqual(new byte[] { 7 }, File.ReadAllBytes(longName));
            CollectionAssert.AreEqual(new byte[] { 8, 9 }, File.ReadAllBytes(b));
            Assert.IsEmpty(Directory.GetFiles(dir.FullName, "*.tmp"));
            Assert.IsEmpty(Directory.GetFiles(dir.FullName, ".*"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void OutputPathsMustDifferFromInputsAndEachOther()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-paths-");
        try
        {
            var model = Path.Combine(dir.FullName, "m.onnx");
            File.WriteAllText(model, "x");
            var link = Path.Combine(dir.FullName, "link.onnx");
            File.CreateSymbolicLink(link, model);
            var other = Path.Combine(dir.FullName, "r.onnx");
            OutputPaths.Check([("--model", model)], [("--out", other), ("--json", null)]);
            Assert.AreEqual(ErrorCodes.OutputCollision, Assert.ThrowsExactly<ReassureException>(() =>
                OutputPaths.Check([("--model", model)], [("--out", Path.Combine(dir.FullName, ".", "m.onnx"))])).Code);
            Assert.AreEqual(ErrorCodes.OutputCollision, Assert.ThrowsExactly<ReassureException>(() =>
                OutputPaths.Check([("--model", model)], [("--out", link)])).Code, "a symbolic link to the input");
            Assert.AreEqual(ErrorCodes.OutputCollision, Assert.ThrowsExactly<ReassureException>(() =>
                OutputPaths.Check([("--model", model)], [("--out", other), ("--json", other)])).Code);
            Assert.AreEqual(ErrorCodes.OutputNotWritable, Assert.ThrowsExactly<ReassureException>(() =>
                OutputPaths.Check([("--model", model)], [("--out", dir.FullName)])).Code);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void ManifestHashDetectsATornPair()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-pair-");
        try
        {
            var onnx = Path.Combine(dir.FullName, "r.onnx");
            File.WriteAllBytes(onnx, [1, 2, 3]);
            RepairManifest.CheckPair(onnx); // no manifest: nothing to check
            var manifest = RepairManifest.PathFor(onnx);
            File.WriteAllText(manifest, $"{{\"onnxSha256\": \"{RepairManifest.Sha256([1, 2, 3])}\"}}");
            RepairManifest.CheckPair(onnx);
            File.WriteAllBytes(onnx, [1, 2, 4]);
            var e = Assert.ThrowsExactly<ReassureException>(() => RepairManifest.CheckPair(onnx));
            Assert.AreEqual(ErrorCodes.TornOutputPair, e.Code);
            File.WriteAllText(manifest, "{ not json");
            Assert.AreEqual(ErrorCodes.TornOutputPair, Assert.ThrowsExactly<ReassureException>(() => RepairManifest.CheckPair(onnx)).Code);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void RuntimeMessagesLoseTheirAnsiColours()
    {
        var e = OnnxRuntimeFloat32Evaluator.RuntimeError(new InvalidOperationException("\u001b[1;31m2026 [E:onnxruntime] bad opset\u001b[m"), "m.onnx");
        Assert.AreEqual(ErrorCodes.OnnxRuntimeFailed, e.Code);
        Assert.DoesNotContain("\u001b", e.Message);
        StringAssert.Contains(e.Message, "bad opset");
    }

    [TestMethod]
    public void RepairOptionsAndMarginsAreCheckedByTheCoreToo()
    {
        var affine = new Networks.Network([new Networks.DenseLayer(2, 2, [1, 0, 0, 1], [0, 0], relu: false)]);
        BuggyInput[] one = [new([0.5, 0.1], new ClassificationSpecification(1), "row 1")];
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, Assert.ThrowsExactly<ReassureException>(() =>
            Repairer.Repair(affine, one, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance })).Code);
        var net = new Networks.Network([new Networks.DenseLayer(2, 2, [1, 0, 0, 1], [0, 0], relu: true), new Networks.DenseLayer(2, 2, [1, 0, 0, 1], [0, 0], relu: false)]);
        var ok = new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance };
        Assert.IsTrue(Repairer.Repair(net, one, ok).Inputs.Count == 1);
        foreach (var bad in new[] { ok with { Gamma = double.NaN }, ok with { Gamma = -1 }, ok with { MaxDegreeOfParallelism = 0 }, ok with { MaxTime = TimeSpan.Zero }, new RepairOptions { Float32Evaluator = null } })
            Assert.AreEqual(ErrorCodes.InvalidOption, Assert.ThrowsExactly<ReassureException>(() => Repairer.Repair(net, one, bad)).Code);
        foreach (var margin in new[] { -1.0, double.NaN, double.PositiveInfinity })
            Assert.AreEqual(ErrorCodes.BadSpecification, Assert.ThrowsExactly<ReassureException>(() => new ClassificationSpecification(1, margin).ToLinear(2)).Code);
    }
}
