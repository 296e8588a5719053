using System.Text.Json;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

[TestClass]
public sealed class CliTests
{
    private static string MnistModel => TestData.File("models", "reassure-mnist-256x256.onnx");

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static DirectoryInfo TempDir() => Directory.CreateTempSubdirectory("reassure-cli-");

    [TestMethod]
    public void InspectShowsLayersAndParameterCount()
    {
        var (code, output, error) = Run("inspect", "--model", MnistModel);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Architecture: 784/256/256/10");
        StringAssert.Contains(output, "Parameters: 269322");
        StringAssert.Contains(output, "layers.1.weight");
        StringAssert.Contains(output, "Input: input [N,784]");
        StringAssert.Contains(output, "opset 13");
    }

    [TestMethod]
    public void InspectReadsNNet()
    {
        var (code, output, error) = Run("inspect", "--model", TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet"));
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Architecture: 3/25/25/25/25/25/5");
    }

    [TestMethod]
    public void EvalGivesTheCoreAccuracyAndWritesJson()
    {
        const int n = 300;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), n);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), n);
        var net = OnnxImporter.Load(MnistModel).Network;
        int correct = net.EvaluateBatch(images).Where((y, i) => Array.IndexOf(y, y.Max()) == labels[i]).Count();
        var dir = TempDir();
        try
        {
            var rows = Path.Combine(dir.FullName, "mnist300.csv");
            RowsCsv.Write(rows, new RowSet(images, labels, "mnist"));
            var json = Path.Combine(dir.FullName, "out", "eval.json");
            var (code, output, error) = Run("eval", "--model", MnistModel, "--rows", rows, "--json", json);
            Assert.AreEqual(0, code, error);
            // stdout: the human summary; the file: the machine one; --json -: the machine one on stdout.
            StringAssert.StartsWith(output, "accuracy ");
            StringAssert.Contains(output, $"({correct}/{n} rows get their label)");
            var piped = Run("eval", "--model", MnistModel, "--rows", rows, "--json", "-");
            Assert.AreEqual(0, piped.Code, piped.Err);
            foreach (var text in new[] { piped.Out, File.ReadAllText(json) })
            {
                using var doc = JsonDocument.Parse(text);
                Assert.AreEqual(n, doc.RootElement.GetProperty("rows").GetInt32());
                Assert.AreEqual((double)correct / n, doc.RootElement.GetProperty("accuracy").GetDouble());
            }
            Assert.IsGreaterThan(0.9, (double)correct / n);
            var (code2, output2, _) = Run("eval", "--model", MnistModel, "--rows", rows, "--argmin", "--json", "-");
            Assert.AreEqual(0, code2);
            using var argmin = JsonDocument.Parse(output2);
            Assert.IsLessThan(0.1, argmin.RootElement.GetProperty("accuracy").GetDouble(), "argmin picks the least likely digit");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void BadRowsFileExitsTwoWithRsr1020()
    {
        var dir = TempDir();
        try
        {
            var rows = Path.Combine(dir.FullName, "bad.csv");
            File.WriteAllText(rows, "1,2,3,0\n");
            var (code, output, error) = Run("eval", "--model", MnistModel, "--rows", rows);
            Assert.AreEqual(2, code);
            StringAssert.StartsWith(error, "RSR1020: bad.csv, line 1");
            Assert.AreEqual("", output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void MissingModelAndMissingOptionExitTwo()
    {
        var (code, _, error) = Run("inspect", "--model", Path.Combine(Path.GetTempPath(), $"none-{Guid.NewGuid():N}.onnx"));
        Assert.AreEqual(2, code);
        StringAssert.StartsWith(error, "RSR1001");
        var (code2, _, error2) = Run("eval", "--model", MnistModel);
        Assert.AreEqual(2, code2);
        StringAssert.Contains(error2, "--rows");
    }
}

[TestClass]
public sealed class RepairVerifyCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestMethod]
    public void RepairFixesEveryRowAndVerifyConfirmsFromTheFilesAlone()
    {
        var model = TestData.File("models", "reassure-mnist-256x256.onnx");
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 400);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), 400);
        var net = OnnxImporter.Load(model).Network;
        var wrong = Enumerable.Range(0, images.Length).Where(i => Array.IndexOf(net.Evaluate(images[i]), net.Evaluate(images[i]).Max()) != labels[i]).Take(4).ToList();
        Assert.AreEqual(4, wrong.Count);
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var rows = Path.Combine(dir.FullName, "buggy.csv");
            RowsCsv.Write(rows, new RowSet(wrong.Select(i => images[i]).ToArray(), wrong.Select(i => labels[i]).ToArray(), "buggy"));
            var before = Run("verify", "--model", model, "--rows", rows);
            Assert.AreEqual(1, before.Code, "the original model must fail the buggy rows");
            StringAssert.Contains(before.Err, "RSR2001");

            var repaired = Path.Combine(dir.FullName, "repaired.onnx");
            var summary = Path.Combine(dir.FullName, "summary.json");
            var (code, output, error) = Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--json", summary);
            Assert.AreEqual(0, code, error + output);
            using (var doc = JsonDocument.Parse(File.ReadAllText(summary)))
            {
                Assert.AreEqual(4, doc.RootElement.GetProperty("total").GetInt32());
                Assert.AreEqual(4, doc.RootElement.GetProperty("fixed").GetInt32());
                Assert.IsTrue(doc.RootElement.GetProperty("patches").GetInt32() >= 1);
                Assert.IsTrue(doc.RootElement.GetProperty("seconds").GetDouble() > 0);
            }
            Assert.IsTrue(File.Exists(Path.Combine(dir.FullName, "repaired.manifest.json")));
            Assert.AreEqual(0, Directory.GetFiles(dir.FullName, "*.tmp*").Length, "no temporary files left");

            var after = Run("verify", "--model", repaired, "--rows", rows, "--json", "-");
            Assert.AreEqual(0, after.Code, after.Err);
            StringAssert.Contains(after.Out, "\"passed\":4");

            // By default the input-space simplex builds every patch and every row comes with multipliers (stopped rows too),
            // so the check proves all nine rows of every patch by certificates, with no LP.
            using (var doc = JsonDocument.Parse(File.ReadAllText(summary)))
            {
                var c = doc.RootElement.GetProperty("check");
                Assert.AreEqual("certificate", c.GetProperty("formulation").GetString());
                Assert.AreEqual(0, c.GetProperty("rowsByBuildStop").GetInt32());
                Assert.AreEqual(0, c.GetProperty("linearPrograms").GetInt32());
                Assert.AreEqual(9 * doc.RootElement.GetProperty("patches").GetInt32(), c.GetProperty("rowsCertified").GetInt32());
                Assert.AreEqual(doc.RootElement.GetProperty("linearPrograms").GetInt32(), doc.RootElement.GetProperty("simplexLinearPrograms").GetInt32());
                Assert.AreEqual(0, doc.RootElement.GetProperty("glopFallbacks").GetInt32());
            }
            // With GLOP only, the rows its dual simplex stopped early on have no multipliers: the default check proves
            // them from that stop; --check strict solves them again.
            int stops;
            var glop = Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--json", summary, "--lp", "glop");
            Assert.AreEqual(0, glop.Code, glop.Err + glop.Out);
            using (var doc = JsonDocument.Parse(File.ReadAllText(summary)))
            {
                var c = doc.RootElement.GetProperty("check");
                stops = c.GetProperty("rowsByBuildStop").GetInt32();
                Assert.IsTrue(stops > 0, "MNIST rows GLOP's dual simplex stops early on");
                Assert.AreEqual(0, c.GetProperty("linearPrograms").GetInt32());
                Assert.AreEqual(9 * doc.RootElement.GetProperty("patches").GetInt32(), stops + c.GetProperty("rowsCertified").GetInt32());
                Assert.AreEqual(0, doc.RootElement.GetProperty("simplexLinearPrograms").GetInt32());
            }
            var strict = Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--json", summary, "--check", "strict", "--lp", "glop");
            Assert.AreEqual(0, strict.Code, strict.Err + strict.Out);
            using (var doc = JsonDocument.Parse(File.ReadAllText(summary)))
            {
                var c = doc.RootElement.GetProperty("check");
                Assert.AreEqual(0, c.GetProperty("rowsByBuildStop").GetInt32());
                Assert.IsTrue(c.GetProperty("linearPrograms").GetInt32() >= stops, $"{c.GetProperty("linearPrograms")} LPs for {stops} stopped rows");
                Assert.AreEqual(doc.RootElement.GetProperty("patches").GetInt32(), doc.RootElement.GetProperty("verified").GetInt32());
            }
            Assert.AreEqual(2, Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--check", "none").Code, "an unknown check is a usage error");
            Assert.AreEqual(2, Run("repair", "--model", model, "--rows", rows, "--out", repaired, "--lp", "cplex").Code, "an unknown LP solver is a usage error");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void RepairWithALabelOutsideTheOutputsIsABadInput()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var rows = Path.Combine(dir.FullName, "bad.csv");
            File.WriteAllText(rows, "100,100,-2,7\n");
            var outPath = Path.Combine(dir.FullName, "r.onnx");
            var (code, _, error) = Run("repair", "--model", TestData.File("models", "hcas-pra1-tau05.onnx"), "--rows", rows, "--out", outPath);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "RSR1022");
            Assert.IsFalse(File.Exists(outPath), "bad input leaves no output file");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

[TestClass]
public sealed class AreaCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestMethod]
    [DataRow("regions")]
    [DataRow("boxes")]
    public void AreaThenVerifyFromTheRepairedFileAloneHolds(string strategy)
    {
        // 2 -> 4 -> 3 network; property: on [-1, 1]^2 output 2 must be the strict argmax.
        var net = new Reassure.Networks.Network(
        [
            new Reassure.Networks.DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
            new Reassure.Networks.DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
        ]);
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var model = Path.Combine(dir.FullName, "tiny.onnx");
            OnnxExporter.Save(net, model);
            var prop = Path.Combine(dir.FullName, "p.vnnlib");
            File.WriteAllText(prop, "; output 2 wins\n(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n" +
                "(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 -1))\n(assert (<= X_1 1))\n(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))\n");
            var before = Run("verify", "--model", model, "--vnnlib", prop, "--json", "-");
            Assert.AreEqual(1, before.Code, before.Err);
            StringAssert.Contains(before.Out, "\"result\":\"violated\"");

            var repaired = Path.Combine(dir.FullName, "repaired.onnx");
            var json = Path.Combine(dir.FullName, "area.json");
            var area = Run("area", "--model", model, "--vnnlib", prop, "--out", repaired, "--json", json, "--strategy", strategy);
            Assert.AreEqual(0, area.Code, area.Err + area.Out);
            using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
            {
                Assert.AreEqual("holds", doc.RootElement.GetProperty("result").GetString());
                Assert.IsTrue(doc.RootElement.GetProperty("patched").GetInt32() > 0);
                Assert.AreEqual(strategy, doc.RootElement.GetProperty("strategy").GetString());
                if (strategy == "regions") Assert.IsTrue(doc.RootElement.GetProperty("regions").GetInt32() > 0);
            }
            var after = Run("verify", "--model", repaired, "--vnnlib", prop);
            Assert.AreEqual(0, after.Code, after.Err + after.Out);
            StringAssert.StartsWith(after.Out, "holds (");

            // The file alone rebuilds the repaired network: it agrees with ONNX Runtime on the file.
            var back = RepairedOnnxImporter.TryLoad(repaired)!;
            Assert.IsNotNull(back);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(repaired);
            var points = Enumerable.Range(0, 200).Select(k => new[] { -1 + 0.01 * k, 1 - 0.0093 * k }).ToList();
            var ort = OnnxRuntimeFloat32Evaluator.Run(session, back.Original.Network.InputName, 2, points);
            for (int k = 0; k < points.Count; k++)
            {
                var y = back.Repaired.Evaluate(points[k]);
                for (int o = 0; o < 3; o++) Assert.AreEqual(y[o], ort[k][o], 1e-4);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Runs the command line in process and captures its exit code, output and error text.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = ReassureCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
