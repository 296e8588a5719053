using Microsoft.ML;
using Microsoft.ML.Data;

namespace Reassure.MLNet.Tests;

/// <summary>Every integer label type binds: PredictedLabel comes back as a one-slot vector of the label's own type.</summary>
[TestClass]
public sealed class LabelTypeTests
{
    private sealed class Row<T>
    {
        [VectorType(784)]
        public float[] Features { get; set; } = [];

        public T Label { get; set; } = default!;
    }

    private sealed class Prediction<T>
    {
        public T[] PredictedLabel { get; set; } = [];
    }

    private static void FitAndPredict<T>(Func<int, T> convert)
    {
        var ml = new MLContext(seed: 1);
        var (images, labels) = TestData.Mnist;
        var rows = Enumerable.Range(0, 120).Select(i => new Row<T> { Features = images[i], Label = convert(labels[i]) }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Repair(TestData.MnistModel, "Features", "Label").Fit(data);
        var predicted = ml.Data.CreateEnumerable<Prediction<T>>(model.Transform(data), reuseRowObject: false).ToList();
        Assert.AreEqual(rows.Count, predicted.Count);
        // After repair every fit row gets its label, in the label's own type.
        for (int i = 0; i < rows.Count; i++) Assert.AreEqual(rows[i].Label, predicted[i].PredictedLabel.Single(), $"row {i}");
    }

    [TestMethod]
    public void UInt32Label() => FitAndPredict(d => (uint)d);

    [TestMethod]
    public void Int32Label() => FitAndPredict(d => d);

    [TestMethod]
    public void UInt16Label() => FitAndPredict(d => (ushort)d);

    [TestMethod]
    public void Int64Label() => FitAndPredict(d => (long)d);
}
