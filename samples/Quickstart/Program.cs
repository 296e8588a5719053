using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.MLNet;

var mlContext = new MLContext(seed: 1);

// One row per image: 784 pixel values, then the digit (the rows CSV that `reassure` reads too).
IDataView data = mlContext.Data.LoadFromTextFile<DigitRow>("digits.csv", separatorChar: ',');

// Features -> repair. Fit finds the rows the model gets wrong and patches their linear regions, each patch proved by LP.
var pipeline = mlContext.Transforms.Concatenate("Features", nameof(DigitRow.Pixels))
    .Append(mlContext.Repair(new RepairEstimatorOptions
    {
        ModelPath = "mnist.onnx",   // a feed-forward ReLU classifier: input [N, 784], output [N, 10]
        FeatureColumnName = "Features",
        LabelColumnName = nameof(DigitRow.Label),
    }));
var model = pipeline.Fit(data);
RepairFitReport report = model.LastTransformer.Report;
Console.WriteLine(report);   // rows, buggy, fixed, patches, gammas, seconds, accuracy before/after

// The saved model holds standard ML.NET transformers only: Load needs no registration.
mlContext.Model.Save(model, data.Schema, "repaired.zip");
ITransformer loaded = mlContext.Model.Load("repaired.zip", out _);

var engine = mlContext.Model.CreatePredictionEngine<DigitRow, DigitPrediction>(loaded);
foreach (int row in report.BuggyRows)
{
    DigitRow input = mlContext.Data.CreateEnumerable<DigitRow>(data, reuseRowObject: false).ElementAt(row);
    DigitPrediction output = engine.Predict(input);
    Console.WriteLine($"row {row}: label {input.Label}, repaired model predicts {output.PredictedLabel[0]}");
}

public sealed class DigitRow
{
    [LoadColumn(0, 783), VectorType(784)]   // a known-size vector: without VectorType, Fit throws
    public float[] Pixels { get; set; } = [];

    [LoadColumn(784)]
    public long Label { get; set; }         // the class index (or a key column, e.g. from MapValueToKey)
}

public sealed class DigitPrediction
{
    public float[] Score { get; set; } = [];            // one score per model output
    public long[] PredictedLabel { get; set; } = [];    // argmax, typed like the label; one element (ML.NET's OnnxTransformer has no scalar outputs)
}
