using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Tests.Formats;
using static Reassure.Tests.Formats.ModelBuilder;

namespace Reassure.Cli.Tests;

/// <summary>
/// Issue 15 (items 4, 5, 7): every bad input ends in a code and exit 2 before any work, outputs never destroy inputs,
/// and the files left afterwards are exactly the expected ones. Inputs are tiny and generated.
/// </summary>
[TestClass]
public sealed class BadInputCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>2 -> 4 -> 3 ReLU network (the area tests' network).</summary>
    private static Network Tiny() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ]);

    private static int ArgMax(double[] y) => Array.IndexOf(y, y.Max());

    /// <summary>Points of [-1, 1]^2 the tiny network does not classify as <paramref name="label"/>.</summary>
    private static List<double[]> Wrong(int label, int count)
    {
        var net = Tiny();
        var list = new List<double[]>();
        for (int i = 0; i < 41 && list.Count < count; i++)
            for (int j = 0; j < 41 && list.Count < count; j += 7)
            {
                var x = new[] { -1 + 0.05 * i, -1 + 0.05 * j };
                if (ArgMax(net.Evaluate(x)) != label) list.Add(x);
            }
        Assert.HasCount(count, list);
        return list;
    }

    private static string Csv(IEnumerable<double[]> xs, int label) =>
        "x0,x1,label\n" + string.Concat(xs.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x[0]:R},{x[1]:R},{label}\n")));

    private sealed class Dir : IDisposable
    {
        public DirectoryInfo Info { get; } = Directory.CreateTempSubdirectory("reassure-bad-");

        public string this[string name] => Path.Combine(Info.FullName, name);

        public string Write(string name, string text)
        {
            File.WriteAllText(this[name], text);
            return this[name];
        }

        public string Write(string name, byte[] bytes)
        {
            File.WriteAllBytes(this[name], bytes);
            return this[name];
        }

        /// <summary>Names of the files and folders in the folder, sorted.</summary>
        public string Files() => string.Join(",", Info.EnumerateFileSystemInfos().Select(f => f.Name).Order(StringComparer.Ordinal));

        public void Dispose() => Info.Delete(recursive: true);
    }

    /// <summary>A folder with tiny.onnx and rows.csv (5 rows the network gets wrong, label 2).</summary>
    private static Dir TinyRepair()
    {
        var d = new Dir();
        OnnxExporter.Save(Tiny(), d["tiny.onnx"]);
        d.Write("rows.csv", Csv(Wrong(2, 5), 2));
        return d;
    }

    private static void AssertCode(string code, int exit, (int Code, string Out, string Err) r)
    {
        Assert.AreEqual(exit, r.Code, r.Err + r.Out);
        StringAssert.Contains(r.Err, code, r.Err);
        Assert.DoesNotContain("error: ", r.Err, "no bare exception");
        Assert.DoesNotContain("\u001b", r.Err, "no ANSI escape sequences");
    }

    // ---- 1. option values ----

    [TestMethod]
    [DataRow("--margin", "-1")]
    [DataRow("--margin", "0,5")]
    [DataRow("--margin", "NaN")]
    [DataRow("--margin", "0")]
    [DataRow("--margin", "Infinity")]
    [DataRow("--margin", "abc")]
    [DataRow("--gamma", "0")]
    [DataRow("--gamma", "-1")]
    [DataRow("--gamma", "NaN")]
    [DataRow("--gamma", "1e300")]
    [DataRow("--threads", "0")]
    [DataRow("--threads", "-3")]
    [DataRow("--threads", "1,5")]
    public void RepairRejectsABadOptionValueBeforeAnyWork(string option, string value)
    {
        using var d = TinyRepair();
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"], "--json", d["s.json"], option, value);
        AssertCode("RSR1060", 2, r);
        StringAssert.Contains(r.Err, option);
        StringAssert.Contains(r.Err, $"'{value}'");
        StringAssert.Contains(r.Err, "expected");
        Assert.AreEqual("rows.csv,tiny.onnx", d.Files(), "nothing written");
    }

    [TestMethod]
    [DataRow("--max-seconds", "NaN")]
    [DataRow("--max-seconds", "1e300")]
    [DataRow("--max-seconds", "0")]
    [DataRow("--max-seconds", "2,5")]
    [DataRow("--max-regions", "-5")]
    [DataRow("--max-regions", "0")]
    [DataRow("--max-regions", "1e3")]
    public void AreaAndVerifyRejectABadBudget(string option, string value)
    {
        using var d = new Dir();
        OnnxExporter.Save(Tiny(), d["tiny.onnx"]);
        d.Write("p.vnnlib", Property);
        var area = Run("area", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--out", d["r.onnx"], option, value);
        AssertCode("RSR1060", 2, area);
        StringAssert.Contains(area.Err, option);
        if (option == "--max-seconds")
            AssertCode("RSR1060", 2, Run("verify", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], option, value));
        Assert.AreEqual("p.vnnlib,tiny.onnx", d.Files());
    }

    [TestMethod]
    public void NumbersAreReadInTheInvariantCultureWhateverTheCurrentOne()
    {
        var culture = CultureInfo.CurrentCulture;
        try
        {
            // A comma-decimal culture (the machine may run in globalization-invariant mode, so build one).
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            using var d = TinyRepair();
            var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"], "--margin", "0.01", "--gamma", "2.5");
            Assert.AreEqual(0, r.Code, r.Err + r.Out);
            StringAssert.Contains(r.Out, "fixed 5/5");
            Assert.AreEqual("r.manifest.json,r.onnx,rows.csv,tiny.onnx", d.Files());
            var v = Run("verify", "--model", d["r.onnx"], "--rows", d["rows.csv"]);
            Assert.AreEqual(0, v.Code, v.Err + v.Out);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [TestMethod]
    public void HelpShowsTheExitCodes()
    {
        foreach (var verb in new[] { "inspect", "eval", "repair", "verify", "area" })
        {
            var r = Run(verb, "--help");
            Assert.AreEqual(0, r.Code);
            StringAssert.Contains(r.Out, "Exit codes: 0 success", verb);
        }
        StringAssert.Contains(Run("--help").Out, "2 bad input");
    }

    // ---- 2. rows CSV ----

    [TestMethod]
    [DataRow("NaN")]
    [DataRow("0.3x")]
    [DataRow("Infinity")]
    public void AFirstRowWithOneBadCellIsAnErrorNotAHeader(string bad)
    {
        using var d = TinyRepair();
        var rows = Wrong(2, 3);
        d.Write("bad.csv", string.Create(CultureInfo.InvariantCulture, $"{rows[0][0]:R},{bad},2\n{rows[1][0]:R},{rows[1][1]:R},2\n{rows[2][0]:R},{rows[2][1]:R},2\n"));
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["bad.csv"], "--out", d["r.onnx"]);
        AssertCode("RSR1021", 2, r);
        StringAssert.Contains(r.Err, "bad.csv, line 1, column 2");
        AssertCode("RSR1021", 2, Run("eval", "--model", d["tiny.onnx"], "--rows", d["bad.csv"]));
        AssertCode("RSR1021", 2, Run("verify", "--model", d["tiny.onnx"], "--rows", d["bad.csv"]));
        Assert.AreEqual("bad.csv,rows.csv,tiny.onnx", d.Files());
    }

    [TestMethod]
    public void NonFiniteValuesInLaterRowsAreErrors()
    {
        using var d = TinyRepair();
        d.Write("bad.csv", "x0,x1,label\n0.1,0.2,0\n0.3,1e400,1\n");
        var r = Run("eval", "--model", d["tiny.onnx"], "--rows", d["bad.csv"]);
        AssertCode("RSR1021", 2, r);
        StringAssert.Contains(r.Err, "line 3, column 2");
    }

    [TestMethod]
    public void AnAllNumericHeaderIsDataUnlessHeaderYes()
    {
        using var d = TinyRepair();
        d.Write("h.csv", "0,1,2\n0.1,0.2,0\n0.3,0.4,1\n");
        var auto = Run("eval", "--model", d["tiny.onnx"], "--rows", d["h.csv"], "--json", "-");
        Assert.AreEqual(0, auto.Code, auto.Err);
        StringAssert.Contains(auto.Out, "\"rows\":3");
        var yes = Run("eval", "--model", d["tiny.onnx"], "--rows", d["h.csv"], "--header", "yes", "--json", "-");
        Assert.AreEqual(0, yes.Code, yes.Err);
        StringAssert.Contains(yes.Out, "\"rows\":2");
        d.Write("t.csv", "x0,x1,label\n0.1,0.2,0\n");
        AssertCode("RSR1021", 2, Run("eval", "--model", d["tiny.onnx"], "--rows", d["t.csv"], "--header", "no"));
    }

    [TestMethod]
    public void EvalAndVerifyCheckLabelsLikeRepair()
    {
        using var d = TinyRepair();
        d.Write("l.csv", "x0,x1,label\n0.1,0.2,0\n0.3,0.4,3\n");
        foreach (var verb in new[] { "eval", "repair", "verify" })
        {
            var r = verb == "repair"
                ? Run("repair", "--model", d["tiny.onnx"], "--rows", d["l.csv"], "--out", d["r.onnx"])
                : Run(verb, "--model", d["tiny.onnx"], "--rows", d["l.csv"]);
            AssertCode("RSR1022", 2, r);
            StringAssert.Contains(r.Err, "l.csv, line 3, column 3", verb);
            StringAssert.Contains(r.Err, "0..2", verb);
        }
        Assert.AreEqual("l.csv,rows.csv,tiny.onnx", d.Files());
    }

    // ---- 3. ONNX ----

    private static ModelBuilder Gemm(long opset = 13, params double[] weights) => new ModelBuilder("x", [2], "y", opset)
        .Float("W", [3, 2], weights.Length == 0 ? [1, 2, 3, 4, 5, 6] : weights).Float("b", [3], 0, 0, 0)
        .Node("Gemm", "fc", ["x", "W", "b"], "y", Int("transB", 1));

    [TestMethod]
    public void NonFiniteWeightsAreRsr1007InEveryVerbAndRepairWritesNothing()
    {
        using var d = TinyRepair();
        d.Write("nan.onnx", Gemm(13, 1, 2, double.NaN, 4, 5, 6).Bytes());
        foreach (var args in new[]
        {
            new[] { "inspect", "--model", d["nan.onnx"] },
            ["eval", "--model", d["nan.onnx"], "--rows", d["rows.csv"]],
            ["repair", "--model", d["nan.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"], "--json", d["s.json"]],
        })
        {
            var r = Run(args);
            AssertCode("RSR1007", 2, r);
            StringAssert.Contains(r.Err, "initializer 'W'");
            StringAssert.Contains(r.Err, "element 2");
        }
        Assert.AreEqual("nan.onnx,rows.csv,tiny.onnx", d.Files());
    }

    [TestMethod]
    public void AnInputDimBeyondIntIsRsr1004()
    {
        using var d = new Dir();
        d.Write("big.onnx", new ModelBuilder("x", [1L << 40], "y").Node("Relu", "r", ["x"], "y").Bytes());
        var r = Run("inspect", "--model", d["big.onnx"]);
        AssertCode("RSR1004", 2, r);
        Assert.DoesNotContain("Overflow", r.Err);
    }

    [TestMethod]
    public void OnnxRuntimeRefusingTheModelInRepairIsRsr1008AndWritesNothing()
    {
        using var d = new Dir();
        d.Write("opset99.onnx", Gemm(99).Bytes());
        d.Write("rows.csv", "x0,x1,label\n0.5,-0.5,0\n");
        var r = Run("repair", "--model", d["opset99.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"], "--json", d["s.json"]);
        AssertCode("RSR1008", 2, r);
        StringAssert.Contains(r.Err, "opset99.onnx");
        AssertCode("RSR1008", 2, Run("verify", "--model", d["opset99.onnx"], "--rows", d["rows.csv"]));
        Assert.AreEqual("opset99.onnx,rows.csv", d.Files());
    }

    [TestMethod]
    public void AWrongBatchDimensionInVerifyIsRsr1008()
    {
        using var d = new Dir();
        var model = ModelProto.Parser.ParseFrom(Gemm().Bytes());
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = 2 };
        d.Write("batch2.onnx", model.ToByteArray());
        d.Write("rows.csv", "x0,x1,label\n0.5,-0.5,0\n");
        var r = Run("verify", "--model", d["batch2.onnx"], "--rows", d["rows.csv"], "--json", d["v.json"]);
        AssertCode("RSR1008", 2, r);
        StringAssert.Contains(r.Err, "batch2.onnx");
        Assert.AreEqual("batch2.onnx,rows.csv", d.Files());
    }

    // ---- 4. outputs ----

    [TestMethod]
    public void RepairOutputsThatCollideWithInputsOrEachOtherAreRsr1070()
    {
        using var d = TinyRepair();
        var model = File.ReadAllBytes(d["tiny.onnx"]);
        var rows = File.ReadAllText(d["rows.csv"]);
        (string, string[])[] cases =
        [
            ("--out = --model", ["--out", d["tiny.onnx"]]),
            ("--json = --out", ["--out", d["r.onnx"], "--json", d["r.onnx"]]),
            ("--json = --model", ["--out", d["r.onnx"], "--json", d["tiny.onnx"]]),
            ("--json = --rows", ["--out", d["r.onnx"], "--json", d["rows.csv"]]),
            ("--json = manifest", ["--out", d["r.onnx"], "--json", d["r.manifest.json"]]),
            ("--out = --rows", ["--out", d["rows.csv"]]),
            ("--out via ./", ["--out", Path.Combine(d.Info.FullName, ".", "tiny.onnx")]),
        ];
        foreach (var (name, outputs) in cases)
        {
            var r = Run(["repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], .. outputs]);
            AssertCode("RSR1070", 2, r);
            Assert.AreEqual("rows.csv,tiny.onnx", d.Files(), name);
        }
        File.CreateSymbolicLink(d["link.onnx"], d["tiny.onnx"]);
        AssertCode("RSR1070", 2, Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d["link.onnx"]));
        CollectionAssert.AreEqual(model, File.ReadAllBytes(d["tiny.onnx"]), "the model is untouched");
        Assert.AreEqual(rows, File.ReadAllText(d["rows.csv"]));
    }

    [TestMethod]
    public void JsonOfEvalVerifyAndAreaMustNotOverwriteAnInput()
    {
        using var d = TinyRepair();
        d.Write("p.vnnlib", Property);
        var before = d.Files();
        AssertCode("RSR1070", 2, Run("eval", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--json", d["rows.csv"]));
        AssertCode("RSR1070", 2, Run("eval", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--json", d["tiny.onnx"]));
        AssertCode("RSR1070", 2, Run("verify", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--json", d["tiny.onnx"]));
        AssertCode("RSR1070", 2, Run("verify", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--json", d["p.vnnlib"]));
        AssertCode("RSR1070", 2, Run("area", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--out", d["tiny.onnx"]));
        AssertCode("RSR1070", 2, Run("area", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--out", d["a.onnx"], "--json", d["a.onnx"]));
        AssertCode("RSR1070", 2, Run("area", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--out", d["p.vnnlib"]));
        Assert.AreEqual(before, d.Files());
        StringAssert.StartsWith(File.ReadAllText(d["rows.csv"]), "x0,x1,label");
        StringAssert.StartsWith(File.ReadAllText(d["p.vnnlib"]), "; output 2 wins");
    }

    [TestMethod]
    public void AManifestPathThatIsADirectoryIsRsr1071AndTheOnnxIsNotWritten()
    {
        using var d = TinyRepair();
        Directory.CreateDirectory(d["r.manifest.json"]);
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"]);
        AssertCode("RSR1071", 2, r);
        Assert.AreEqual("r.manifest.json,rows.csv,tiny.onnx", d.Files());
        AssertCode("RSR1071", 2, Run("area", "--model", d["tiny.onnx"], "--vnnlib", d.Write("p.vnnlib", Property), "--out", d["r.manifest.json"]));
    }

    [TestMethod]
    public void ARepairWhoseRowsAllConflictWritesNothing()
    {
        using var d = TinyRepair();
        var x = Wrong(0, 1)[0];
        int a = ArgMax(Tiny().Evaluate(x));
        int l1 = a == 1 ? 2 : 1, l2 = a == 1 ? 0 : (a == 2 ? 0 : 2);
        l2 = l2 == l1 ? 3 - l1 - a : l2;
        d.Write("conflict.csv", string.Create(CultureInfo.InvariantCulture, $"x0,x1,label\n{x[0]:R},{x[1]:R},{l1}\n{x[0]:R},{x[1]:R},{l2}\n"));
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["conflict.csv"], "--out", d["r.onnx"], "--json", d["s.json"]);
        AssertCode("RSR1050", 2, r);
        StringAssert.Contains(r.Out, "nothing written");
        Assert.AreEqual("conflict.csv,rows.csv,tiny.onnx", d.Files());

        // A partial repair (the conflict plus a row it can fix) is written, with exit 1.
        var good = Wrong(2, 1)[0];
        d.Write("partial.csv", File.ReadAllText(d["conflict.csv"]) + string.Create(CultureInfo.InvariantCulture, $"{good[0]:R},{good[1]:R},2\n"));
        var p = Run("repair", "--model", d["tiny.onnx"], "--rows", d["partial.csv"], "--out", d["r.onnx"], "--json", d["s.json"]);
        AssertCode("RSR1050", 1, p);
        StringAssert.Contains(p.Out, "fixed 1/3");
        Assert.AreEqual("conflict.csv,partial.csv,r.manifest.json,r.onnx,rows.csv,s.json,tiny.onnx", d.Files());
    }

    [TestMethod]
    public void TheManifestCarriesTheOnnxHashAndATornPairIsRsr1072()
    {
        using var d = TinyRepair();
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d["r.onnx"], "--json", d["s.json"]);
        Assert.AreEqual(0, r.Code, r.Err + r.Out);
        Assert.AreEqual("r.manifest.json,r.onnx,rows.csv,s.json,tiny.onnx", d.Files());
        using (var doc = JsonDocument.Parse(File.ReadAllText(d["r.manifest.json"])))
            Assert.AreEqual(RepairManifest.Sha256(File.ReadAllBytes(d["r.onnx"])), doc.RootElement.GetProperty("onnxSha256").GetString());
        Assert.AreEqual(0, Run("verify", "--model", d["r.onnx"], "--rows", d["rows.csv"]).Code);

        // A new ONNX beside an old manifest (a kill between the renames, or a copy by hand).
        File.Copy(d["tiny.onnx"], d["r.onnx"], overwrite: true);
        foreach (var args in new[]
        {
            new[] { "verify", "--model", d["r.onnx"], "--rows", d["rows.csv"] },
            ["eval", "--model", d["r.onnx"], "--rows", d["rows.csv"]],
            ["inspect", "--model", d["r.onnx"]],
        })
        {
            var t = Run(args);
            AssertCode("RSR1072", 2, t);
            StringAssert.Contains(t.Err, "r.manifest.json");
        }
    }

    [TestMethod]
    public void A240ByteOutputNameIsWritten()
    {
        using var d = TinyRepair();
        var name = new string('r', 235) + ".onnx";
        Assert.AreEqual(240, name.Length);
        var r = Run("repair", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--out", d[name]);
        Assert.AreEqual(0, r.Code, r.Err + r.Out);
        Assert.IsTrue(File.Exists(d[name]));
        Assert.IsTrue(File.Exists(d[new string('r', 235) + ".manifest.json"]));
        Assert.IsEmpty(d.Info.GetFiles("*.tmp"));
    }

    private const string Property = "; output 2 wins\n(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n" +
        "(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 -1))\n(assert (<= X_1 1))\n(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))\n";
}
