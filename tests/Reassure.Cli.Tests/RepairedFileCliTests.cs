using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

/// <summary>The tool reads its own files, and a verdict on a repaired file is about its graph, never its metadata alone.</summary>
[TestClass]
public sealed class RepairedFileCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestMethod]
    public void MnistRepairedFile_Inspect_Eval_EqualsVerifyRows_AndRepairAgainAddsPatches()
    {
        var model = TestData.File("models", "reassure-mnist-256x256.onnx");
        const int n = 1000;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), n);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), n);
        var net = OnnxImporter.Load(model).Network;
        var wrong = Enumerable.Range(0, n).Where(i => Reassure.Repair.Prediction.Of(net.Evaluate(images[i])) != labels[i]).Take(6).ToList();
        Assert.AreEqual(6, wrong.Count);
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            string Rows(string name, IEnumerable<int> idx)
            {
                var path = Path.Combine(dir.FullName, name);
                var list = idx.ToList();
                RowsCsv.Write(path, new RowSet(list.Select(i => images[i]).ToArray(), list.Select(i => labels[i]).ToArray(), name));
                return path;
            }
            var first = Rows("a.csv", wrong.Take(3));
            var second = Rows("b.csv", wrong.Skip(3));
            var both = Rows("ab.csv", wrong);
            var test = Rows("test.csv", Enumerable.Range(0, n));

            var r1 = Path.Combine(dir.FullName, "r1.onnx");
            var repair1 = Run("repair", "--model", model, "--rows", first, "--out", r1);
            Assert.AreEqual(0, repair1.Code, repair1.Err + repair1.Out);

            var inspect = Run("inspect", "--model", r1);
            Assert.AreEqual(0, inspect.Code, inspect.Err);
            StringAssert.Contains(inspect.Out, "Patches: ");
            StringAssert.Contains(inspect.Out, "graph checked against the repair metadata");
            StringAssert.Contains(inspect.Out, "Architecture: 784/256/256/10");

            // eval (double, Core) and verify --rows (float32, ONNX Runtime on the file) count the same rows.
            var eval = Run("eval", "--model", r1, "--rows", test, "--json", "-");
            Assert.AreEqual(0, eval.Code, eval.Err);
            double accuracy;
            using (var doc = JsonDocument.Parse(eval.Out)) accuracy = doc.RootElement.GetProperty("accuracy").GetDouble();
            var verify = Run("verify", "--model", r1, "--rows", test, "--json", "-");
            int passed;
            using (var doc = JsonDocument.Parse(verify.Out)) passed = doc.RootElement.GetProperty("passed").GetInt32();
            Assert.AreEqual(passed, (int)Math.Round(accuracy * n), $"eval {accuracy} vs verify {passed}/{n}");
            var evalOriginal = Run("eval", "--model", model, "--rows", test, "--json", "-");
            using (var doc = JsonDocument.Parse(evalOriginal.Out))
                Assert.IsTrue(accuracy > doc.RootElement.GetProperty("accuracy").GetDouble(), "eval reads the patches, not only the original network");

            // Incremental repair: the repaired file is repaired again with new rows; every row of both sets passes.
            var r2 = Path.Combine(dir.FullName, "r2.onnx");
            var repair2 = Run("repair", "--model", r1, "--rows", second, "--out", r2);
            Assert.AreEqual(0, repair2.Code, repair2.Err + repair2.Out);
            var back1 = RepairedOnnxImporter.TryLoad(r1)!;
            var back2 = RepairedOnnxImporter.TryLoad(r2)!;
            Assert.IsTrue(back2.Repaired.Patches.Count > back1.Repaired.Patches.Count);
            var all = Run("verify", "--model", r2, "--rows", both, "--json", "-");
            Assert.AreEqual(0, all.Code, all.Err + all.Out);
            StringAssert.Contains(all.Out, "\"passed\":6");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static readonly Reassure.Networks.Network Tiny = new(
    [
        new Reassure.Networks.DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new Reassure.Networks.DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ]);

    private const string Property = "; output 2 wins\n(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n" +
        "(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 -1))\n(assert (<= X_1 1))\n(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))\n";

    [TestMethod]
    [DataRow("metadata-on-original")]
    [DataRow("patch-nodes-removed")]
    [DataRow("patch-weight-zeroed")]
    [DataRow("metadata-d-zeroed")]
    [DataRow("metadata-removed")]
    public void VerifyVnnlib_OnATamperedRepairedFile_IsRSR1006_ExitTwo_NeverHolds(string tamper)
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var (model, prop, repaired) = AreaRepaired(dir);
            Assert.AreEqual(0, Run("verify", "--model", repaired, "--vnnlib", prop).Code, "the genuine file holds");

            var file = ModelProto.Parser.ParseFrom(File.ReadAllBytes(repaired));
            var meta = file.MetadataProps.Single(p => p.Key == "reassure.repair");
            ModelProto tampered;
            switch (tamper)
            {
                case "metadata-on-original":
                    tampered = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
                    tampered.MetadataProps.Add(meta.Clone());
                    break;
                case "patch-nodes-removed":
                    tampered = file.Clone();
                    var keep = tampered.Graph.Node.Where(nd => !nd.Name.StartsWith("reassure/", StringComparison.Ordinal)).ToList();
                    tampered.Graph.Node.Clear();
                    tampered.Graph.Node.AddRange(keep);
                    foreach (var nd in tampered.Graph.Node)
                        for (int k = 0; k < nd.Output.Count; k++)
                            if (nd.Output[k] == "reassure/original_output") nd.Output[k] = tampered.Graph.Output[0].Name;
                    break;
                case "patch-weight-zeroed":
                    tampered = file.Clone();
                    var w = tampered.Graph.Initializer.First(t => t.Name.StartsWith("reassure/", StringComparison.Ordinal) && t.RawData.Length > 8);
                    w.RawData = ByteString.CopyFrom(new byte[w.RawData.Length]);
                    break;
                case "metadata-d-zeroed":
                    tampered = file.Clone();
                    var entry = tampered.MetadataProps.Single(p => p.Key == "reassure.repair");
                    var json = JsonNode.Parse(entry.Value)!;
                    foreach (var p in json["patches"]!.AsArray()) p!["d"] = new JsonArray(p["d"]!.AsArray().Select(_ => (JsonNode?)JsonValue.Create(0.0)).ToArray());
                    entry.Value = json.ToJsonString();
                    break;
                default:
                    tampered = file.Clone();
                    tampered.MetadataProps.Clear();
                    break;
            }
            var bad = Path.Combine(dir.FullName, "tampered.onnx");
            File.WriteAllBytes(bad, tampered.ToByteArray());

            var (code, output, error) = Run("verify", "--model", bad, "--vnnlib", prop);
            Assert.AreEqual(2, code, output + error);
            StringAssert.StartsWith(error, "RSR1006: tampered.onnx");
            Assert.IsFalse(output.Contains("holds", StringComparison.Ordinal), output);
            // Every verb that reads a model says the same.
            Assert.AreEqual(2, Run("eval", "--model", bad, "--rows", WriteRow(dir)).Code);
            Assert.AreEqual(2, Run("inspect", "--model", bad).Code);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The tiny network, its property and its area-repaired file (regions strategy) in <paramref name="dir"/>.</summary>
    private static (string Model, string Property, string Repaired) AreaRepaired(DirectoryInfo dir)
    {
        var model = Path.Combine(dir.FullName, "tiny.onnx");
        OnnxExporter.Save(Tiny, model);
        var prop = Path.Combine(dir.FullName, "p.vnnlib");
        File.WriteAllText(prop, Property);
        var repaired = Path.Combine(dir.FullName, "repaired.onnx");
        var area = Run("area", "--model", model, "--vnnlib", prop, "--out", repaired, "--strategy", "regions");
        Assert.AreEqual(0, area.Code, area.Err + area.Out);
        return (model, prop, repaired);
    }

    private static string WriteRow(DirectoryInfo dir)
    {
        var path = Path.Combine(dir.FullName, "row.csv");
        File.WriteAllText(path, "0.5,0.5,2\n");
        return path;
    }

    [TestMethod]
    public void AreaAndRepair_OnAnAreaRepairedFile_AreAccepted()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var (_, prop, repaired) = AreaRepaired(dir);

            var again = Path.Combine(dir.FullName, "again.onnx");
            var area = Run("area", "--model", repaired, "--vnnlib", prop, "--out", again, "--json", "-");
            Assert.AreEqual(0, area.Code, area.Err + area.Out);
            StringAssert.Contains(area.Out, "\"patched\":0");
            CollectionAssert.AreEqual(File.ReadAllBytes(repaired), File.ReadAllBytes(again));

            var eval = Run("eval", "--model", repaired, "--rows", WriteRow(dir), "--json", "-");
            Assert.AreEqual(0, eval.Code, eval.Err);
            StringAssert.Contains(eval.Out, "\"accuracy\":1");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Clean output: stdout the human summary, stderr progress lines when redirected, bare `reassure` prints help.</summary>
[TestClass]
public sealed class OutputCliTests
{
    [TestMethod]
    public void BareReassure_PrintsHelpWithTheVerbsAndExitCodes()
    {
        var (code, output, error) = CliRunner.Run();
        Assert.AreEqual(0, code, error);
        foreach (var verb in new[] { "inspect", "eval", "repair", "verify", "area" }) StringAssert.Contains(output, verb);
        StringAssert.Contains(output, "Exit codes");
        Assert.IsFalse(error.Contains("Required command", StringComparison.Ordinal), error);
    }

    [TestMethod]
    public void Repair_ProgressGoesToStderrAsPlainLines_StdoutHasOnlyTheSummary()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var model = TestData.File("models", "reassure-mnist-256x256.onnx");
            var images = Reassure.Formats.Mnist.MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 400);
            var labels = Reassure.Formats.Mnist.MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), 400);
            var net = OnnxImporter.Load(model).Network;
            var wrong = Enumerable.Range(0, 400).Where(i => Reassure.Repair.Prediction.Of(net.Evaluate(images[i])) != labels[i]).Take(2).ToList();
            var rows = Path.Combine(dir.FullName, "b.csv");
            RowsCsv.Write(rows, new RowSet(wrong.Select(i => images[i]).ToArray(), wrong.Select(i => labels[i]).ToArray(), "b"));
            var (code, output, error) = CliRunner.Run("repair", "--model", model, "--rows", rows, "--out", Path.Combine(dir.FullName, "r.onnx"));
            Assert.AreEqual(0, code, error);
            Assert.AreEqual(1, output.Trim().Split('\n').Length, output);
            StringAssert.StartsWith(output, "fixed 2/2 rows with ");
            StringAssert.Contains(error, "reassure repair: patches ");
            StringAssert.Contains(error, "reassure repair: verify ");
            Assert.IsFalse(error.Contains('\u001b'), "no ANSI escapes when redirected");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>The issue's own reproduction on the real ACAS Xu network N1_9 and property 3.</summary>
[TestClass]
public sealed class AcasTamperCliTests
{
    [TestMethod]
    public void RepairMetadataCopiedOntoTheUnrepairedAcasNetwork_VerifyIsRSR1006_NotHolds()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var model = TestData.File("vnncomp", "acasxu", "ACASXU_run2a_1_9_batch_2000.onnx");
            var prop = TestData.File("vnncomp", "acasxu", "prop_3.vnnlib");
            var original = Run("verify", "--model", model, "--vnnlib", prop, "--json", "-");
            Assert.AreNotEqual(0, original.Code, "N1_9 does not meet property 3");
            StringAssert.Contains(original.Out, "\"result\":\"violated\"");

            // A repaired N1_9 file (one point of property 3's box moved to another advisory).
            var net = OnnxImporter.Load(model).Network;
            var x = new[] { -0.301, 0.0, 0.4934, 0.3, 0.3 };
            int now = Reassure.Repair.Prediction.Of(net.Evaluate(x), argMin: true);
            var rows = Path.Combine(dir.FullName, "row.csv");
            File.WriteAllText(rows, string.Join(",", x.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + $",{(now + 1) % 5}\n");
            var repaired = Path.Combine(dir.FullName, "n19-repaired.onnx");
            var repair = Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--argmin");
            Assert.AreEqual(0, repair.Code, repair.Err + repair.Out);
            Assert.IsNotNull(RepairedOnnxImporter.TryLoad(repaired), "the genuine file reads");

            // Its metadata on the unrepaired network: the graph is byte for byte the original one.
            var tampered = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
            tampered.MetadataProps.Add(ModelProto.Parser.ParseFrom(File.ReadAllBytes(repaired)).MetadataProps.Single(p => p.Key == "reassure.repair"));
            var bad = Path.Combine(dir.FullName, "n19-tampered.onnx");
            File.WriteAllBytes(bad, tampered.ToByteArray());
            var (code, output, error) = Run("verify", "--model", bad, "--vnnlib", prop);
            Assert.AreEqual(2, code, output + error);
            StringAssert.StartsWith(error, "RSR1006: n19-tampered.onnx");
            Assert.IsFalse(output.Contains("holds", StringComparison.Ordinal), output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);
}
