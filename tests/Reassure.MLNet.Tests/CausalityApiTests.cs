using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.Causality;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.MLNet.Tests;

/// <summary>The causality-driven repairs through ML.NET: the avoid specification in Fit, localization on the catalog.</summary>
[TestClass]
public sealed class CausalityApiTests
{
    [TestMethod]
    public void Avoid_RemovesTheWatermarkLabel_FromEveryFitRow()
    {
        var model = TestData.File("models", "reassure-watermark-150.onnx");
        var set = RowsCsv.Read(TestData.File("models", "watermark.csv"), 784);
        var rows = Enumerable.Range(0, 12).Select(i => new MnistRow { Features = set.Inputs[i].Select(v => (float)v).ToArray(), Label = set.Labels[i] }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var fitted = ml.Repair(new RepairEstimatorOptions { ModelPath = model, Avoid = true, AvoidTarget = AvoidTargetRule.Previous }).Fit(data);

        Assert.AreEqual(0.0, fitted.Report.AccuracyBefore, "the watermark network predicts every watermark label");
        Assert.AreEqual(rows.Count, fitted.Report.BuggyRows.Count);
        Assert.IsTrue(fitted.Report.AllFixed);
        Assert.AreEqual(1.0, fitted.Report.AccuracyAfter, "every row avoids its label after repair");
        var predicted = ml.Data.CreateEnumerable<LongPrediction>(fitted.Transform(data), reuseRowObject: false).ToList();
        for (int i = 0; i < rows.Count; i++)
            Assert.AreEqual((rows[i].Label + 9) % 10, predicted[i].PredictedLabel.Single(), $"row {i}: the previous label wins");
    }

    [TestMethod]
    public void LocalizeFaults_OnTheCatalog_EqualsTheEngine()
    {
        var (images, labels) = TestData.Mnist;
        var net = OnnxImporter.Load(TestData.MnistModel).Network;
        var wrong = Enumerable.Range(0, 1500).Where(i => Prediction.Of(net.Evaluate(images[i].Select(v => (double)v).ToArray())) != labels[i]).Take(20).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(wrong.Select(i => new MnistRow { Features = images[i], Label = labels[i] }).ToList());

        var viaMl = ml.LocalizeFaults(TestData.MnistModel, data);
        var direct = CausalLocalizer.Localize(net, wrong.Select(i => images[i].Select(v => (double)v).ToArray()).ToList(), wrong.Select(i => labels[i]).ToList());

        Assert.AreEqual(direct.Ranked.Count, viaMl.Ranked.Count);
        for (int k = 0; k < 10; k++)
        {
            Assert.AreEqual(direct.Ranked[k].Layer, viaMl.Ranked[k].Layer);
            Assert.AreEqual(direct.Ranked[k].Neuron, viaMl.Ranked[k].Neuron);
            Assert.AreEqual(direct.Ranked[k].Effect, viaMl.Ranked[k].Effect);
        }
    }
}

/// <summary>Counterfactual-fairness repair through <c>mlContext.Repair(options)</c> with <see cref="RepairEstimatorOptions.SensitiveFeatures"/>.</summary>
[TestClass]
public sealed class FairnessApiTests
{
    private sealed class CreditRow
    {
        [VectorType(61)]
        public float[] Features { get; set; } = [];

        public long Label { get; set; }
    }

    [TestMethod]
    public void SensitiveFeatures_RepairsTheUnfairRows_AndProvesThemFair()
    {
        var model = TestData.File("tabular", "german-credit-mlp.onnx");
        var set = RowsCsv.Read(TestData.File("tabular", "german-credit-test.csv"), 61);
        // The rows as ML.NET reads them (float32), and the engine's own count of unfair rows on them.
        var inputs = Enumerable.Range(0, 40).Select(i => set.Inputs[i].Select(v => (double)(float)v).ToArray()).ToArray();
        var labels = set.Labels.Take(40).ToArray();
        var net = OnnxImporter.Load(model).Network;
        var options = new FairnessOptions { Sensitive = [4] };
        var expected = FairnessRepairer.Measure(net, new RowSet(inputs, labels, "rows"), options);
        Assert.IsTrue(expected.Unfair > 0, "some of the 40 rows are unfair in Age");

        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new CreditRow { Features = inputs[i].Select(v => (float)v).ToArray(), Label = labels[i] }).ToList());
        var fitted = ml.Repair(new RepairEstimatorOptions { ModelPath = model, SensitiveFeatures = [4] }).Fit(data);

        CollectionAssert.AreEquivalent(expected.UnfairRows.ToList(), fitted.Report.BuggyRows.ToList(), "the unfair rows are the buggy rows");
        Assert.IsTrue(fitted.Report.AllFixed, string.Join("; ", fitted.Report.Unfixed.Select(u => u.Message)));
        Assert.AreEqual(0, FairnessRepairer.Measure(fitted.Result.Network, new RowSet(inputs, labels, "rows"), options).Unfair, "fair after repair, on every row");
    }
}
