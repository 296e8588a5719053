using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.MLNet.Tests;

/// <summary>
/// The screened export (ScreenedGate: the If with the original's last layer in its branches, one level and two nested
/// levels) loads in ML.NET's OnnxTransformer and scores every row bit for bit as the unscreened export does there.
/// </summary>
[TestClass]
public sealed class ScreenedGateOnnxTransformerTests
{
    [TestMethod]
    public void ScreenedExport_OneAndTwoNestedLevels_ScoresAsTheUnscreenedExport_InOnnxTransformer()
    {
        var (images, labels) = TestData.Mnist;
        var source = OnnxImporter.Load(TestData.MnistModel);
        var net = source.Network;
        var wrong = Enumerable.Range(0, images.Length).Where(i => Prediction.Of(net.Evaluate(images[i].Select(v => (double)v).ToArray())) != labels[i]).Take(6).ToList();
        Assert.HasCount(6, wrong);
        var buggy = wrong.Select(i => new BuggyInput(images[i].Select(v => (double)v).ToArray(), new ClassificationSpecification(labels[i]), $"img {i}")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(source) });
        Assert.IsTrue(result.AllFixed);

        // The repaired images and 400 others: most rows take the closed branch, the repaired ones the patch network.
        var rows = wrong.Concat(Enumerable.Range(0, 400)).Distinct().Select(i => new PixelRow { Input = images[i] }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        float[][] Scores(byte[] onnx) =>
            ml.Data.CreateEnumerable<ScoreRow>(ml.Transforms.ApplyOnnxModel("output", "input", new MemoryStream(onnx)).Fit(data).Transform(data), reuseRowObject: false)
                .Select(r => r.Output).ToArray();

        var plain = Scores(RepairedOnnxExporter.ToBytes(result.Network, source, null, screened: false));
        foreach (var (levels, name) in new[] { (ScreenLevels.One, "one level"), (ScreenLevels.Two, "two nested levels") })
        {
            var bytes = RepairedOnnxExporter.ToBytes(result.Network, source, null, screened: true, levels);
            Assert.IsTrue(Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph.Node.Any(n => n.OpType == "If"), name);
            var screened = Scores(bytes);
            Assert.HasCount(rows.Count, screened, name);
            for (int r = 0; r < rows.Count; r++)
                for (int o = 0; o < 10; o++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(plain[r][o]), BitConverter.SingleToInt32Bits(screened[r][o]), $"{name}, row {r}, output {o}");
            for (int k = 0; k < wrong.Count; k++)
                Assert.AreEqual(labels[wrong[k]], ArgMax(screened[k]), $"{name}: repaired image {wrong[k]} takes its label");
        }
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private sealed class PixelRow
    {
        [VectorType(784)]
        [ColumnName("input")]
        public float[] Input { get; set; } = [];
    }

    private sealed class ScoreRow
    {
        [ColumnName("output")]
        public float[] Output { get; set; } = [];
    }
}
