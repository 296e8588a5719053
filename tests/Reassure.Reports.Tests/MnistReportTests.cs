using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Reports.Tests;

/// <summary>The report of a real repair: the first ten misclassified MNIST test images of the REASSURE network, evaluated on the first 2000 test images.</summary>
[TestClass]
public sealed class MnistReportTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DoNotParallelize]
    public void FirstTenMisclassified_ReportMatchesAnIndependentCount()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var net = model.Network;
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 2000);
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), 2000);
        var wrong = Enumerable.Range(0, xs.Length).Where(i => Tiny.ArgMax(net.Evaluate(xs[i])) != ys[i]).Take(10).ToList();
        var buggy = wrong.Select(i => new BuggyInput(xs[i], new ClassificationSpecification(ys[i], 1e-3), $"test[{i}]")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model), MaxDegreeOfParallelism = 2 });
        Assert.IsTrue(result.AllFixed);

        var eval = new RowSet(xs, ys, "t10k (first 2000)");
        var report = RepairReport.FromRepair(result, new RepairReportOptions { Model = "reassure-mnist-256x256.onnx", Evaluation = eval });
        var html = report.ToHtml();

        Assert.Contains("<span class=\"ok\">10 / 10</span>", html);
        Assert.Contains("10 fixed, 0 not fixed, of 10 buggy rows.", html);
        foreach (int i in wrong) Assert.Contains($"<td>test[{i}]</td>", html);
        Assert.AreEqual(4, HtmlAssert.Count(html, "<svg"));
        HtmlAssert.SelfContained(html);
        var (zero, correct0, correct1, labelled) = HtmlAssert.Evaluation(html, result.Network, eval);
        Assert.AreEqual(2000, labelled);
        Assert.IsGreaterThanOrEqualTo(10, report.Evaluation!.BecameRight, "the ten repaired images are among the evaluation rows");
        Assert.AreEqual(correct0 + report.Evaluation.BecameRight - report.Evaluation.BecameWrong, correct1);
        Assert.IsTrue(zero > 1000, $"most test images lie outside every support ({zero})");
        TestContext.WriteLine($"accuracy {correct0}/2000 -> {correct1}/2000, {zero} outputs bit-identical, {result.Patches.Count} patches, {html.Length} characters");
    }
}
