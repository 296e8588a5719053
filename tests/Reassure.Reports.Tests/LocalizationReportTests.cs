using Reassure.Causality;
using Reassure.Networks;

namespace Reassure.Reports.Tests;

/// <summary><see cref="LocalizationReport"/>: self-contained page, one effect chart and one curve chart per layer, names escaped.</summary>
[TestClass]
public sealed class LocalizationReportTests
{
    [TestMethod]
    public void ReportHasChartsPerLayerAndEscapesLayerNames()
    {
        var net = new Network(
        [
            new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, -1, 0], [0, 0, 0, 0], relu: true, new LayerNames(null, null, "z0", "<script>alert(1)</script>")),
            new DenseLayer(4, 3, [1, 1, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0.5], [0, 0, 0], relu: false),
        ]);
        var x = Tiny.Grid(5).Select(p => new[] { 0.1 + 0.4 * (p[0] + 1), 0.1 + 0.4 * (p[1] + 1) }).ToArray();
        var result = CausalLocalizer.Localize(net, x, new int[x.Length]);
        var html = LocalizationReport.From(result, new LocalizationReportOptions { Model = "m.onnx", Top = 3, Notes = ["note <b>"] }).ToHtml();
        HtmlAssert.SelfContained(html);
        Assert.AreEqual(2, HtmlAssert.Count(html, "<svg"));
        Assert.AreEqual(0, HtmlAssert.Count(html, "<script>"));
        StringAssert.Contains(html, "&lt;script&gt;");
        StringAssert.Contains(html, "note &lt;b&gt;");
        StringAssert.Contains(html, "Reassure causal localization: m.onnx");
        Assert.AreEqual(0, LocalizationReport.Best(result.Layers[0].Neurons[2]), "the margin h0 + h1 - 5 h2 is largest at the smallest h2");
    }
}
