using Microsoft.ML;
using Microsoft.ML.Transforms;

namespace Reassure.MLNet.Tests;

/// <summary>RepairEstimatorOptions.Layer (feature-space repair, method.md §13) through Fit, and its option checks.</summary>
[TestClass]
public sealed class FeatureLayerTests
{
    [TestMethod]
    public void Layer_FitRepairsEveryBuggyRowInFeatureSpace_TheTransformerScoresThemRight()
    {
        var ml = new MLContext(seed: 1);
        var fit = ml.Data.LoadFromEnumerable(TestData.Halves(0, 300));
        var pipeline = ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, Layer = "relu_0", FeatureBoxLower = 0, FeatureBoxUpper = 1000 }));
        var model = pipeline.Fit(fit);
        var report = model.LastTransformer.Report;
        Assert.IsGreaterThan(0, report.BuggyRows.Count);
        Assert.AreEqual(report.BuggyRows.Count, report.Fixed, report.ToString());
        // The feature box given is the domain the suffix repair holds on.
        Assert.AreEqual(1000.0, model.LastTransformer.Result.Network.Domain.Upper[0]);
        Assert.AreEqual(256, model.LastTransformer.Result.Network.Original.InputSize, "the repaired network is the suffix after relu_0");
        var scores = RepairPipelineTests.Scores(model.Transform(fit));
        var labels = TestData.Mnist.Labels;
        foreach (int r in report.BuggyRows)
            Assert.AreEqual(labels[r], RepairPipelineTests.ArgMax(scores[r]), $"fit row {r}");
        StringAssert.Contains(report.ToHtml(), "<svg", "the HTML report measures the rows' features");
    }

    [TestMethod]
    public void BadLayerOptions_ThrowTheirCodes()
    {
        var ml = new MLContext(seed: 1);
        var e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, FeatureBoxLower = 0, FeatureBoxUpper = 1 }));
        Assert.AreEqual(ErrorCodes.InvalidOption, e.Code);
        e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, Layer = "relu_0", FeatureBoxLower = 0 }));
        Assert.AreEqual(ErrorCodes.InvalidOption, e.Code);
        e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, Layer = "relu_0", SensitiveFeatures = [0] }));
        Assert.AreEqual(ErrorCodes.InvalidOption, e.Code);
        var fit = ml.Data.LoadFromEnumerable(TestData.Halves(0, 50));
        var pipeline = ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, Layer = "no_such_tensor" }));
        e = Assert.ThrowsExactly<ReassureException>(() => pipeline.Fit(fit));
        Assert.AreEqual(ErrorCodes.UnknownLayer, e.Code);
        StringAssert.Contains(e.Message, "relu_0");
    }
}
