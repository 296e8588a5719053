using Reassure.Formats.Rows;
using Reassure.Formats.VnnLib;
using Reassure.Repair;
using Reassure.Formats.Onnx;
using Reassure.Specifications;

namespace Reassure.Reports.Tests;

[TestClass]
public sealed class RepairReportTests
{
    private static readonly Lazy<RepairResult> TinyResult = new(() => Repairer.Repair(Tiny.Network(), Tiny.Buggy(), new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance }));

    [TestMethod]
    public void TinyRepair_CountsFourChartsPerClassAccuracyAndExactZeros()
    {
        var result = TinyResult.Value;
        Assert.AreEqual(2, result.FixedCount, "the tiny repair fixes both points");
        var eval = Tiny.Evaluation();
        var report = RepairReport.FromRepair(result, new RepairReportOptions { Model = "/models/tiny.onnx", Evaluation = eval });
        var html = report.ToHtml();

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("Reassure repair report: tiny.onnx", html);
        Assert.Contains($"<span class=\"ok\">2 / 2</span>", html);
        Assert.Contains("2 fixed, 0 not fixed, of 2 buggy rows.", html);
        Assert.Contains($"<tr><td>patches</td><td>{result.Patches.Count}</td></tr>", html);
        Assert.AreEqual(4, HtmlAssert.Count(html, "<svg"), "accuracy, output change, patches, time");
        Assert.AreEqual(4, HtmlAssert.Count(html, "</svg>"));
        HtmlAssert.SelfContained(html);

        var (zero, _, _, labelled) = HtmlAssert.Evaluation(html, result.Network, eval);
        Assert.AreEqual(225, labelled);
        Assert.IsTrue(zero > 0 && zero < 225, $"some grid points lie outside every support ({zero})");
        Assert.AreEqual(zero, report.Evaluation!.Unchanged);
        foreach (var p in result.Patches) Assert.Contains($"<code>{p.PatternHash}</code>", html);
    }

    [TestMethod]
    public void TinyRepair_NoEvaluationRows_TwoChartsAndANote()
    {
        var html = RepairReport.FromRepair(TinyResult.Value).ToHtml();
        Assert.AreEqual(2, HtmlAssert.Count(html, "<svg"), "patches and time");
        Assert.Contains("No evaluation rows given", html);
        Assert.Contains("<h1>Reassure repair report</h1>", html);
        HtmlAssert.SelfContained(html);
    }

    [TestMethod]
    public void HostileStrings_AreEscaped()
    {
        const string hostile = "<script>alert('x')</script>";
        var result = Repairer.Repair(Tiny.Network(), Tiny.Buggy(hostile), new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance });
        var eval = Tiny.Evaluation("<img src=x onerror=alert(1)>.csv");
        var html = RepairReport.FromRepair(result, new RepairReportOptions
        {
            Model = "m<b>.onnx",
            Evaluation = eval,
            Notes = ["note & <i>"],
        }).ToHtml();
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>.onnx", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;.csv", html);
        Assert.Contains("m&lt;b&gt;.onnx", html);
        Assert.Contains("note &amp; &lt;i&gt;", html);
        HtmlAssert.SelfContained(html);
    }

    [TestMethod]
    public void TinyArea_RegionsFoundPatchedAndTheProofsVerdict()
    {
        string text = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)" +
            "(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= X_1 -1)) (assert (<= X_1 1))" +
            "(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))";
        var r = AreaRepairer.Repair(Tiny.Network(), VnnLibReader.Parse(text, "tiny"));
        Assert.AreEqual(Verification.VerificationStatus.Holds, r.After.Status, r.After.Detail);
        var eval = new RowSet(Tiny.Grid(11).ToArray(), Enumerable.Repeat(2, 121).ToArray(), "all-two.csv");
        var report = RepairReport.FromArea(r, new RepairReportOptions { Model = "tiny.onnx", Evaluation = eval });
        var html = report.ToHtml();

        Assert.Contains("<h2>Area repair</h2>", html);
        Assert.Contains($"<tr><td>violating regions found</td><td>{r.RegionsFound}</td></tr>", html);
        Assert.Contains($"<tr><td>patched</td><td>{r.Patched}</td></tr>", html);
        Assert.Contains("<tr><td>proof on the repaired network</td><td><span class=\"ok\">holds</span></td></tr>", html);
        Assert.Contains($"<tr><td>property on the original</td><td><span class=\"bad\">{r.Before.StatusText}</span></td></tr>", html);
        Assert.AreEqual(r.Repaired.Patches.Count, report.Patches.Count);
        Assert.AreEqual(4, HtmlAssert.Count(html, "<svg"));
        var (_, _, correctAfter, _) = HtmlAssert.Evaluation(html, r.Repaired, eval);
        Assert.AreEqual(121, correctAfter, "after the area repair, class 2 wins everywhere in the box");
        HtmlAssert.SelfContained(html);
    }

    [TestMethod]
    public void SaveHtml_WritesTheWholePageAndNoTemporaryFile()
    {
        var folder = Directory.CreateTempSubdirectory("reassure-report-");
        try
        {
            var path = Path.Combine(folder.FullName, "report.html");
            var report = RepairReport.FromRepair(TinyResult.Value, new RepairReportOptions { Evaluation = Tiny.Evaluation() });
            report.SaveHtml(path);
            Assert.AreEqual(report.ToHtml(), File.ReadAllText(path));
            CollectionAssert.AreEqual(new[] { "report.html" }, folder.GetFiles().Select(f => f.Name).ToArray());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
