using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.Formats.Onnx;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.MLNet.Tests;

/// <summary>The estimator accepts a model repaired before (by the CLI, the MSBuild task or the engine) and repairs it incrementally.</summary>
[TestClass]
public sealed class RepairedModelInputTests
{
    [TestMethod]
    public void FitOnARepairedFile_KeepsItsPatches_AndAddsPatchesForTheNewMistakes()
    {
        var (images, labels) = TestData.Mnist;
        var source = OnnxImporter.Load(TestData.MnistModel);
        var net = source.Network;
        var wrong = Enumerable.Range(0, 1000).Where(i => Prediction.Of(net.Evaluate(images[i].Select(v => (double)v).ToArray())) != labels[i]).Take(6).ToList();
        Assert.AreEqual(6, wrong.Count);
        // The first three mistakes repaired before (as `reassure repair` would), in float32 inputs as ML.NET reads them.
        var first = wrong.Take(3).Select(i => new BuggyInput(images[i].Select(v => (double)v).ToArray(), new ClassificationSpecification(labels[i]), $"img {i}")).ToList();
        var before = Repairer.Repair(net, first, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(source) });
        Assert.IsTrue(before.AllFixed);
        var repairedFile = RepairedOnnxExporter.ToBytes(before.Network, source, before.Specs);

        // Fit on rows holding all six mistakes and some right rows: only the three new ones are buggy for the repaired file.
        var ids = wrong.Concat(Enumerable.Range(0, 60)).Distinct().ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(ids.Select(i => new MnistRow { Features = images[i], Label = labels[i] }).ToList());
        var model = ml.Repair(new RepairEstimatorOptions { ModelBytes = repairedFile }).Fit(data);

        var buggy = model.Report.BuggyRows.Select(r => ids[r]).ToList();
        CollectionAssert.AreEquivalent(wrong.Skip(3).ToList(), buggy, "the earlier patches already fix the first three");
        Assert.IsTrue(model.Report.AllFixed);
        Assert.AreEqual(before.Network.Patches.Count + 3, model.Result.Network.Patches.Count, "earlier patches kept, one per new region");
        var predicted = ml.Data.CreateEnumerable<LongPrediction>(model.Transform(data), reuseRowObject: false).ToList();
        for (int k = 0; k < ids.Count; k++) Assert.AreEqual(labels[ids[k]], predicted[k].PredictedLabel.Single(), $"image {ids[k]}");

        // A tampered repaired file is refused with RSR1006, never read as the patches it claims.
        var tampered = (byte[])repairedFile.Clone();
        var back = RepairedOnnxImporter.TryLoad(tampered, "t.onnx")!;
        var plain = OnnxExporter.ToBytes(back.Original.Network);
        var proto = Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(plain);
        proto.MetadataProps.Add(Reassure.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(repairedFile).MetadataProps.Single(p => p.Key == "reassure.repair"));
        var e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(new RepairEstimatorOptions { ModelBytes = Google.Protobuf.MessageExtensions.ToByteArray(proto) }).Fit(data));
        Assert.AreEqual(ErrorCodes.RepairedGraphMismatch, e.Code);
    }
}
