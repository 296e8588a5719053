using Reassure.Formats.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Reassure.Build.Tasks.Tests;

/// <summary>Feature-space repair through the task (Layer, FeatureBox) and through item metadata in a real build.</summary>
[TestClass]
public sealed class FeatureLayerTests
{
    [TestMethod]
    public void Layer_RepairsAfterTheTensor_GatePasses_WritesTheOriginalGraphWithThePatches()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        task.Layer = "layers.0.relu";
        // Local in feature space only: on this 2-input classifier a feature region of the 12 ReLUs after layers.0.relu
        // holds much of the plane, and the regression rows there move with the patch (measured: 98.00 % -> 60.67 %). The
        // accuracy gate is opened here; this test is about the task's wiring.
        task.MaxAccuracyDrop = "100";
        Assert.IsTrue(task.Execute(), engine.Describe());
        Assert.IsEmpty(engine.Errors, engine.Describe());
        Assert.AreEqual(f.Output, task.RepairedModel);
        Assert.AreEqual("layers.0.relu", Metadata(f.Output)[FeatureOnnxExporter.LayerKey]);
        StringAssert.Contains(File.ReadAllText(f.Report), "Gate: **passed**");
        StringAssert.Contains(File.ReadAllText(f.Report), "| accuracy before | 98.00 % (294/300) |");
        Assert.IsTrue(File.Exists(Path.ChangeExtension(f.Report, ".html")), "the HTML report is written (figures on the rows' features)");
    }

    [TestMethod]
    public void BadLayerOrBox_FailsWithItsCode_WritesNoModel()
    {
        foreach (var (layer, box, code) in new[] { ("nope", "", "RSR1053"), ("layers.0.z", "", "RSR1058"), ("", "0:1", "RSR1060"), ("layers.0.relu", "2:1", "RSR1060") })
        {
            using var f = new Fixture();
            var (task, engine) = f.Task();
            task.Layer = layer;
            task.FeatureBox = box;
            Assert.IsFalse(task.Execute(), $"{layer} {box}");
            Assert.IsTrue(engine.Errors.Any(e => e.Code == code), $"{layer} {box}: {engine.Describe()}");
            Assert.IsFalse(File.Exists(f.Output));
        }
    }

    [TestMethod]
    public void ItemMetadata_LayerAndFeatureBox_ReachTheTask_InARealBuild()
    {
        using var f = new Fixture();
        Assert.IsTrue(File.Exists(DotnetBuild.TasksAssembly), $"the task is not built: {DotnetBuild.TasksAssembly}");
        var project = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "GateFixture.csproj"))
            .Replace("RegressionRows=\"regression.csv\" />", "RegressionRows=\"regression.csv\" Layer=\"layers.0.relu\" FeatureBox=\"0:1000\" />", StringComparison.Ordinal);
        StringAssert.Contains(project, "Layer=\"layers.0.relu\"");
        File.WriteAllText(f.PathOf("GateFixture.csproj"), project);
        var (code, log) = DotnetBuild.Run(f.Folder, "-p:ReassureMaxAccuracyDrop=100");
        Assert.AreEqual(0, code, log);
        StringAssert.Contains(log, "Reassure: classifier.onnx: fixed 5/5 buggy rows");
        var metadata = Metadata(f.PathOf("obj/Debug/net10.0/reassure/classifier.repaired.onnx"));
        Assert.AreEqual("layers.0.relu", metadata[FeatureOnnxExporter.LayerKey]);
        // The feature box given (0:1000 on every feature) is the domain stored with the patches.
        var meta = System.Text.Json.Nodes.JsonNode.Parse(metadata["reassure.repair"])!;
        Assert.AreEqual(1000.0, meta["domain"]!["upper"]!.AsArray()[0]!.GetValue<double>());

        // A bad name fails the build with its code.
        File.WriteAllText(f.PathOf("GateFixture.csproj"), project.Replace("Layer=\"layers.0.relu\"", "Layer=\"nope\"", StringComparison.Ordinal));
        (code, log) = DotnetBuild.Run(f.Folder, "-p:ReassureMaxAccuracyDrop=100");
        Assert.AreNotEqual(0, code, log);
        StringAssert.Contains(log, "RSR1053");
    }

    private static Dictionary<string, string> Metadata(string path)
    {
        using var session = new InferenceSession(path);
        return new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap);
    }
}
