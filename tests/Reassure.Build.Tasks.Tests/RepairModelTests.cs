using System.Text.Json;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;

namespace Reassure.Build.Tasks.Tests;

/// <summary>The task in process with a fake build engine: outputs, gate errors, warnings.</summary>
[TestClass]
public sealed class RepairModelTests
{
    [TestMethod]
    public void PassingGate_WritesRepairedModelManifestAndReport()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();

        Assert.IsTrue(task.Execute(), engine.Describe());

        Assert.IsEmpty(engine.Errors, engine.Describe());
        Assert.AreEqual(f.Output, task.RepairedModel);
        Assert.IsTrue(File.ReadAllBytes(f.Output).Length > File.ReadAllBytes(f.Model).Length, "the repaired graph holds the patches");
        using var manifest = JsonDocument.Parse(File.ReadAllText(f.Manifest));
        Assert.AreEqual(5, manifest.RootElement.GetProperty("fixed").GetInt32());
        Assert.AreEqual(5, manifest.RootElement.GetProperty("total").GetInt32());
        Assert.AreEqual(Reassure.Repair.RepairManifest.Sha256(File.ReadAllBytes(f.Output)), manifest.RootElement.GetProperty("onnxSha256").GetString());
        var report = File.ReadAllText(f.Report);
        StringAssert.Contains(report, "Gate: **passed**");
        StringAssert.Contains(report, "| accuracy before | 98.00 % (294/300) |");
        StringAssert.Contains(report, "| accuracy after | 98.00 % (294/300) |");
        Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(f.Output)!, "*.tmp"), "no temporary files are left");
    }

    [TestMethod]
    public void RepairedModel_ClassifiesBuggyRowsAsTheirLabels_InOnnxRuntime()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        Assert.IsTrue(task.Execute(), engine.Describe());

        var buggy = RowsCsv.Read(f.Buggy, 2);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(f.Output);
        string input = session.InputMetadata.Keys.Single();
        for (int r = 0; r < buggy.Count; r++)
        {
            var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(buggy.Inputs[r].Select(v => (float)v).ToArray(), [1, 2]);
            using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input, tensor)]);
            var y = results.First().AsEnumerable<float>().Select(v => (double)v).ToArray();
            Assert.AreEqual(buggy.Labels[r], Reassure.Repair.Prediction.Of(y), $"buggy row {r}");
        }
    }

    [TestMethod]
    public void MinAccuracyAboveTheModels_FailsWithRSR2002_PrintsBothFigures_WritesNoModel()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.MinAccuracy = "1.0";

        Assert.IsFalse(task.Execute());

        var error = engine.Errors.Single();
        Assert.AreEqual("RSR2002", error.Code);
        Assert.AreEqual(f.Regression, error.File);
        StringAssert.Contains(error.Message, "98.00 %");
        StringAssert.Contains(error.Message, "100.00 %");
        Assert.IsFalse(File.Exists(f.Output));
        Assert.IsNull(task.RepairedModel);
        StringAssert.Contains(File.ReadAllText(f.Report), "Gate: **FAILED**");
    }

    [TestMethod]
    public void AccuracyDrop_AtEngineDefaultGamma_FailsWithRSR2002_UnlessTheDropIsAllowed()
    {
        // At gamma 1 the supports of this unit-square model reach far beyond their regions (294/300 -> 248/300).
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.Gamma = null;
        Assert.IsFalse(task.Execute());
        var error = engine.Errors.Single();
        Assert.AreEqual("RSR2002", error.Code);
        StringAssert.Contains(error.Message, "98.00 % (294/300) before repair");

        var (lenient, engine2) = f.Task();
        lenient.Gamma = null;
        lenient.MaxAccuracyDrop = "20";
        Assert.IsTrue(lenient.Execute(), engine2.Describe());
    }

    [TestMethod]
    public void ConflictingBuggyRows_FailWithRSR2001_AtTheirLines()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.BuggyRows = f.Write("conflict.csv", "x0,x1,label\n\n0.5,0.5,0\n0.5,0.5,1\n");

        Assert.IsFalse(task.Execute());

        var notFixed = engine.Errors.Where(e => e.Code == "RSR2001").ToList();
        Assert.IsNotEmpty(notFixed, engine.Describe());
        Assert.IsTrue(notFixed.All(e => e.File == task.BuggyRows));
        CollectionAssert.IsSubsetOf(notFixed.Select(e => e.LineNumber).ToList(), new[] { 3, 4 });
        Assert.IsFalse(File.Exists(f.Output));
    }

    [TestMethod]
    public void HeaderOnlyBuggyRows_WarnRSR2101_AndCopyTheModelThrough()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.BuggyRows = f.Write("none.csv", "x0,x1,label\n");

        Assert.IsTrue(task.Execute(), engine.Describe());

        Assert.AreEqual("RSR2101", engine.Warnings.Single(w => w.Code == "RSR2101").Code);
        CollectionAssert.AreEqual(File.ReadAllBytes(f.Model), File.ReadAllBytes(f.Output));
    }

    [TestMethod]
    public void NoRegressionRows_WarnRSR2102_AndStillRepair()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.RegressionRows = "";

        Assert.IsTrue(task.Execute(), engine.Describe());

        Assert.AreEqual(1, engine.Warnings.Count(w => w.Code == "RSR2102"));
        Assert.IsTrue(File.Exists(f.Output));
    }

    [TestMethod]
    public void BuggyRowTheModelAlreadyGetsRight_WarnsRSR2103()
    {
        using var f = new Fixture();
        var regression = RowsCsv.Read(f.Regression, 2);
        var original = OnnxImporter.Load(f.Model).Network;
        int r = Enumerable.Range(0, regression.Count).First(i => Reassure.Repair.Prediction.Of(original.Evaluate(regression.Inputs[i])) == regression.Labels[i]);
        var (task, engine) = f.Task();
        task.BuggyRows = f.Write("right.csv", string.Join(",", regression.Inputs[r].Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + $",{regression.Labels[r]}\n");

        Assert.IsTrue(task.Execute(), engine.Describe());

        var warning = engine.Warnings.Single(w => w.Code == "RSR2103");
        Assert.AreEqual(1, warning.LineNumber);
    }

    [TestMethod]
    public void MissingModel_FailsWithRSR1001()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.Model = f.PathOf("missing.onnx");

        Assert.IsFalse(task.Execute());

        Assert.AreEqual("RSR1001", engine.Errors.Single().Code);
        Assert.IsFalse(File.Exists(f.Output));
    }

    [TestMethod]
    public void RowOfTheWrongWidth_FailsWithRSR1020_AtItsLine()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.RegressionRows = f.Write("bad.csv", "x0,x1,label\n0.1,0.2,0\n0.1,0.2,0.3,1\n");

        Assert.IsFalse(task.Execute());

        var error = engine.Errors.Single();
        Assert.AreEqual("RSR1020", error.Code);
        Assert.AreEqual(task.RegressionRows, error.File);
        Assert.AreEqual(3, error.LineNumber);
    }

    [TestMethod]
    [DataRow("MinAccuracy", "abc")]
    [DataRow("MinAccuracy", "1.5")]
    [DataRow("MaxAccuracyDrop", "-1")]
    [DataRow("Mode", "slow")]
    [DataRow("Gamma", "0")]
    public void BadParameter_FailsWithRSR1060(string name, string value)
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        typeof(RepairModel).GetProperty(name)!.SetValue(task, value);

        Assert.IsFalse(task.Execute());

        Assert.AreEqual("RSR1060", engine.Errors.Single().Code);
        Assert.IsFalse(File.Exists(f.Output));
    }

    [TestMethod]
    public void FailedGate_RemovesAModelLeftByAnEarlierBuild()
    {
        using var f = new Fixture();
        var (pass, _) = f.Task();
        Assert.IsTrue(pass.Execute());
        Assert.IsTrue(File.Exists(f.Output));

        var (fail, _) = f.Task();
        fail.MinAccuracy = "0.99";
        Assert.IsFalse(fail.Execute());
        Assert.IsFalse(File.Exists(f.Output));
    }

    [TestMethod]
    public void OutputEqualToAnInput_FailsWithRSR1070_AndWritesNothing()
    {
        using var f = new Fixture();
        var model = File.ReadAllBytes(f.Model);
        var (task, engine) = f.Task();
        task.Output = f.Model;

        Assert.IsFalse(task.Execute());

        Assert.AreEqual("RSR1070", engine.Errors.Single().Code, engine.Describe());
        CollectionAssert.AreEqual(model, File.ReadAllBytes(f.Model));
        Assert.IsFalse(File.Exists(f.PathOf("classifier.manifest.json")));

        var (task2, engine2) = f.Task();
        task2.Report = f.Regression;
        Assert.IsFalse(task2.Execute());
        Assert.AreEqual("RSR1070", engine2.Errors.Single().Code, engine2.Describe());
        Assert.IsFalse(File.Exists(f.Output));
    }
}
