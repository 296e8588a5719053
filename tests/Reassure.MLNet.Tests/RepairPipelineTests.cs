using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Reassure.MLNet.Tests;

/// <summary>
/// Acceptance: Concatenate -> MapValueToKey -> Repair on MNIST test rows. Fit on rows 0..599 (the model's mistakes
/// there are the buggy rows), evaluate on rows 1000..1999, which the repair never saw.
/// </summary>
[TestClass]
public sealed class RepairPipelineTests
{
    private const int FitStart = 0, FitCount = 600, EvalStart = 1000, EvalCount = 1000;

    private static MLContext _ml = null!;
    private static TransformerChain<RepairTransformer> _model = null!;
    private static IDataView _fit = null!;
    private static IDataView _eval = null!;

    [ClassInitialize]
    public static void Fit(TestContext _)
    {
        _ml = new MLContext(seed: 1);
        _fit = _ml.Data.LoadFromEnumerable(TestData.Halves(FitStart, FitCount));
        _eval = _ml.Data.LoadFromEnumerable(TestData.Halves(EvalStart, EvalCount));
        var pipeline = _ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(_ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(_ml.Repair(TestData.MnistModel, "Features", "Label"));
        _model = pipeline.Fit(_fit);
        Console.WriteLine(_model.LastTransformer.Report);
    }

    private static RepairFitReport Report => _model.LastTransformer.Report;

    [TestMethod]
    public void AllBuggyFitRowsAreFixed()
    {
        Assert.IsGreaterThan(0, Report.BuggyRows.Count, "the model gets some of the fit rows wrong");
        Assert.AreEqual(Report.BuggyRows.Count, Report.Fixed, Report.ToString());
        Assert.IsEmpty(Report.Unfixed);

        // Independently of the engine's claim: the transformer's own scores put the label first on every buggy row.
        var scores = Scores(_model.Transform(_fit));
        var labels = TestData.Mnist.Labels;
        foreach (int r in Report.BuggyRows)
            Assert.AreEqual(labels[FitStart + r], ArgMax(scores[r]), $"fit row {r}");
    }

    [TestMethod]
    public void AccuracyOnOtherRowsIsNotLower()
    {
        var labels = TestData.Mnist.Labels;
        var repaired = Scores(_model.Transform(_eval));
        // The original model through ML.NET's OnnxTransformer (its graph input is 'input', its output 'output').
        var original = _ml.Transforms.Concatenate("input", "Top", "Bottom")
            .Append(_ml.Transforms.ApplyOnnxModel("output", "input", TestData.MnistModel))
            .Fit(_eval).Transform(_eval);
        var before = Scores(original, "output");
        int right0 = 0, right1 = 0;
        for (int i = 0; i < EvalCount; i++)
        {
            if (ArgMax(before[i]) == labels[EvalStart + i]) right0++;
            if (ArgMax(repaired[i]) == labels[EvalStart + i]) right1++;
        }
        Console.WriteLine($"held-out accuracy {right0 / (double)EvalCount:P2} -> {right1 / (double)EvalCount:P2}");
        Assert.IsGreaterThanOrEqualTo(right0, right1);
        Assert.IsGreaterThan(0.95 * EvalCount, right1, "sanity: the repaired model still classifies MNIST");
        Assert.IsGreaterThan(Report.AccuracyBefore, Report.AccuracyAfter, "fit-row accuracy rises when buggy rows are fixed");
    }

    [TestMethod]
    public void SaveAndLoadGiveIdenticalScoresOn1000Rows()
    {
        string path = Path.Combine(Path.GetTempPath(), $"reassure-mlnet-{Guid.NewGuid():N}.zip");
        try
        {
            _ml.Model.Save(_model, _fit.Schema, path);
            var loaded = _ml.Model.Load(path, out var schema);
            Assert.AreEqual(_fit.Schema.Count, schema.Count);
            var a = Scores(_model.Transform(_eval));
            var b = Scores(loaded.Transform(_eval));
            Assert.HasCount(EvalCount, b);
            for (int i = 0; i < EvalCount; i++)
                CollectionAssert.AreEqual(a[i], b[i], $"row {i}");
            CollectionAssert.AreEqual(PredictedDigits(_model.Transform(_eval)), PredictedDigits(loaded.Transform(_eval)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void PredictedLabelIsTheKeyOfTheScoreArgMax()
    {
        var scored = _model.Transform(_eval);
        // A vector (one value per row, checked below by Single()) of the label's key type: ML.NET 5.0.1's
        // OnnxTransformer has no scalar outputs.
        var type = (VectorDataViewType)scored.Schema["PredictedLabel"].Type;
        Assert.AreEqual(scored.Schema["Label"].Type, type.ItemType);
        var scores = Scores(scored);
        var digits = PredictedDigits(scored);
        for (int i = 0; i < EvalCount; i++)
            Assert.AreEqual((uint)ArgMax(scores[i]), digits[i], $"row {i}");
    }

    /// <summary>
    /// The check option reaches the engine: the default proves every row from the build (no check LP), while
    /// <c>Layered</c> solves every row of every patch again, so the fit's LP count grows by 9 a patch (MNIST rows).
    /// </summary>
    [TestMethod]
    public void CheckOptionReachesTheEngine()
    {
        var options = new RepairEstimatorOptions
        {
            ModelPath = TestData.MnistModel, FeatureColumnName = "Features", LabelColumnName = "Label",
            Check = Reassure.Patching.PatchVerifier.CheckFormulation.Layered,
        };
        var pipeline = _ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(_ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(_ml.Repair(options));
        var layered = pipeline.Fit(_fit).LastTransformer.Report;
        Assert.AreEqual(Report.Fixed, layered.Fixed);
        Assert.AreEqual(Report.Patches, layered.Patches);
        Assert.AreEqual(Report.LinearPrograms + 9 * Report.Patches, layered.LinearPrograms, $"default {Report.LinearPrograms} LPs, layered {layered.LinearPrograms}");
    }

    /// <summary>
    /// The LP solver option reaches the engine: by default the input-space simplex settles every build LP of these MNIST
    /// rows; with <c>Glop</c> none, and the fit fixes the same rows with the same number of patches and LPs.
    /// </summary>
    [TestMethod]
    public void LpEngineOptionReachesTheEngine()
    {
        Assert.AreEqual(Report.LinearPrograms, Report.SimplexLinearPrograms, "the default fit's build LPs are all the simplex's");
        var options = new RepairEstimatorOptions
        {
            ModelPath = TestData.MnistModel, FeatureColumnName = "Features", LabelColumnName = "Label",
            LpEngine = Reassure.Lp.RegionLpEngine.Glop,
        };
        var pipeline = _ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(_ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(_ml.Repair(options));
        var glop = pipeline.Fit(_fit).LastTransformer.Report;
        Assert.AreEqual(0, glop.SimplexLinearPrograms);
        Assert.AreEqual(Report.Fixed, glop.Fixed);
        Assert.AreEqual(Report.Patches, glop.Patches);
        Assert.AreEqual(Report.LinearPrograms, glop.LinearPrograms);
    }

    [TestMethod]
    public void ReportDescribesTheFit()
    {
        Assert.AreEqual(FitCount, Report.Rows);
        Assert.AreEqual(Report.Patches, Report.Gammas.Count);
        Assert.IsGreaterThan(0, Report.Patches);
        Assert.IsGreaterThan(0.0, Report.EngineSeconds);
        Assert.AreEqual(1.0, Report.AccuracyAfter, "every fit row is right after repair (the buggy ones are fixed, the others kept)");
        StringAssert.Contains(Report.ToString(), "fixed");
    }

    [TestMethod]
    public void ReportSavesHtml_WithTheFitRowsAsEvaluation()
    {
        var folder = Directory.CreateTempSubdirectory("reassure-mlnet-");
        try
        {
            var path = Path.Combine(folder.FullName, "fit.html");
            Report.SaveHtml(path);
            var html = File.ReadAllText(path);
            Assert.Contains($"<span class=\"ok\">{Report.Fixed} / {Report.BuggyRows.Count}</span>", html);
            Assert.Contains($"{FitCount} rows from <code>fit rows</code>, {FitCount} with a label that is an output", html);
            Assert.Contains($"&rarr; 100.00 % on {FitCount} evaluation rows", html, "every fit row is right after repair, in double too");
            Assert.AreEqual(4, html.Split("<svg").Length - 1);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    internal static List<float[]> Scores(IDataView data, string column = "Score") =>
        data.GetColumn<VBuffer<float>>(column).Select(v => v.DenseValues().ToArray()).ToList();

    private static uint[] PredictedDigits(IDataView scored) =>
        _ml.Transforms.Conversion.MapKeyToValue("Digit2", "PredictedLabel").Fit(scored).Transform(scored)
            .GetColumn<uint[]>("Digit2").Select(v => v.Single()).ToArray();

    internal static int ArgMax(float[] y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }
}
