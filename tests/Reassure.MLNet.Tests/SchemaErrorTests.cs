using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Reassure.MLNet.Tests;

/// <summary>Schema errors name the column, the expected and the actual type (no repair runs).</summary>
[TestClass]
public sealed class SchemaErrorTests
{
    private sealed class DoubleRow
    {
        [VectorType(784)]
        public double[] Features { get; set; } = new double[784];

        public uint Label { get; set; }
    }

    private sealed class ShortRow
    {
        [VectorType(100)]
        public float[] Features { get; set; } = new float[100];

        public uint Label { get; set; }
    }

    private sealed class NoLabelRow
    {
        [VectorType(784)]
        public float[] Features { get; set; } = new float[784];

        public uint Digit { get; set; }
    }

    private sealed class FloatLabelRow
    {
        [VectorType(784)]
        public float[] Features { get; set; } = new float[784];

        public float Label { get; set; }
    }

    private static readonly MLContext Ml = new(seed: 1);

    // SchemaShape.Create is internal in ML.NET 5.
    private static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(null, [schema])!;

    private static IDataView Data<T>() where T : class, new() => Ml.Data.LoadFromEnumerable(new[] { new T(), new T() });

    [TestMethod]
    public void WrongFeatureTypeNamesColumnExpectedAndActual()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).Fit(Data<DoubleRow>()));
        StringAssert.Contains(ex.Message, "'Features'");
        StringAssert.Contains(ex.Message, "expected Vector<Single, 784>");
        StringAssert.Contains(ex.Message, "got Vector<Double, 784>");

        // The estimator's schema propagation rejects it too (SchemaShape carries no size, but the item type).
        var shape = ShapeOf(Data<DoubleRow>().Schema);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).GetOutputSchema(shape));
        StringAssert.Contains(ex2.Message, "'Features'");
        StringAssert.Contains(ex2.Message, "Double");
    }

    [TestMethod]
    public void WrongVectorSizeNamesColumnExpectedAndActual()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).Fit(Data<ShortRow>()));
        StringAssert.Contains(ex.Message, "'Features'");
        StringAssert.Contains(ex.Message, "expected Vector<Single, 784>");
        StringAssert.Contains(ex.Message, "got Vector<Single, 100>");
    }

    [TestMethod]
    public void MissingLabelColumnIsNamed()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).Fit(Data<NoLabelRow>()));
        StringAssert.Contains(ex.Message, "label column 'Label'");

        var shape = ShapeOf(Data<NoLabelRow>().Schema);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).GetOutputSchema(shape));
        StringAssert.Contains(ex2.Message, "label column 'Label'");
    }

    [TestMethod]
    public void NonIntegerLabelIsRejectedWithItsType()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Repair(TestData.MnistModel).Fit(Data<FloatLabelRow>()));
        StringAssert.Contains(ex.Message, "label column 'Label'");
        StringAssert.Contains(ex.Message, "got Single");
    }

    [TestMethod]
    public void KeyLabelInOccurrenceOrderWithAMissingClassMapsByValue()
    {
        // MapValueToKey's default ordinality is by occurrence (first label 7 becomes key 1), and rows 0..39 hold no 8:
        // classes must come from the key values, not the key indices, or nearly every row would look buggy.
        var data = Ml.Data.LoadFromEnumerable(TestData.Halves(0, 40));
        var model = Ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(Ml.Transforms.Conversion.MapValueToKey("Label", "Digit"))
            .Append(Ml.Repair(new RepairEstimatorOptions { ModelPath = TestData.MnistModel, MaxPatches = 0 }))
            .Fit(data);
        var report = model.LastTransformer.Report;
        Assert.AreEqual(40, report.LabelledRows);
        Assert.IsGreaterThan(0.9, report.AccuracyBefore, report.ToString());

        // PredictedLabel has the label's key type: MapKeyToValue gives the digit of the score's argmax.
        var scored = model.Transform(data);
        Assert.AreEqual(scored.Schema["Label"].Type, ((VectorDataViewType)scored.Schema["PredictedLabel"].Type).ItemType);
        var digits = Ml.Transforms.Conversion.MapKeyToValue("Digit2", "PredictedLabel").Fit(scored).Transform(scored)
            .GetColumn<uint[]>("Digit2").Select(v => v.Single()).ToArray();
        var scores = RepairPipelineTests.Scores(scored);
        for (int i = 0; i < 40; i++)
            Assert.AreEqual((uint)RepairPipelineTests.ArgMax(scores[i]), digits[i], $"row {i}");

        // The transformer checks the feature column of the data it scores.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(Data<ShortRow>()));
        StringAssert.Contains(ex.Message, "'Features'");
        StringAssert.Contains(ex.Message, "got Vector<Single, 100>");
    }
}
