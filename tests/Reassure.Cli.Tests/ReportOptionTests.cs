using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

/// <summary>`--report` of `repair` (with and without `--eval-rows`) and of `area`, on the tiny 2 -> 4 -> 3 network.</summary>
[TestClass]
public sealed class ReportOptionTests
{
    private static Network Tiny() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ]);

    private static int Count(string html, string what) => html.Split(what).Length - 1;

    [TestMethod]
    public void Repair_Report_OnTheBuggyRowsOrOnEvalRows()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var model = Path.Combine(dir.FullName, "tiny.onnx");
            OnnxExporter.Save(Tiny(), model);
            var rows = Path.Combine(dir.FullName, "buggy.csv");
            RowsCsv.Write(rows, new RowSet([[0.6, 0.1], [-0.5, -0.6]], [2, 2], "buggy"));
            var eval = Path.Combine(dir.FullName, "eval.csv");
            var grid = Enumerable.Range(0, 49).Select(k => new[] { -0.9 + 0.3 * (k / 7), -0.9 + 0.3 * (k % 7) }).ToArray();
            RowsCsv.Write(eval, new RowSet(grid, grid.Select(_ => 2).ToArray(), "eval"));
            var repaired = Path.Combine(dir.FullName, "r.onnx");

            var report = Path.Combine(dir.FullName, "out", "report.html");
            var (code, _, error) = CliRunner.Run(["repair", "--model", model, "--rows", rows, "--out", repaired, "--report", report]);
            Assert.AreEqual(0, code, error);
            var html = File.ReadAllText(report);
            Assert.Contains("<span class=\"ok\">2 / 2</span>", html);
            Assert.Contains("2 rows from <code>buggy.csv</code>", html);
            Assert.Contains("<tr><td>accuracy before &rarr; after</td><td>0.00 % &rarr; 100.00 % on 2 evaluation rows</td></tr>", html);
            Assert.AreEqual(4, Count(html, "<svg"));

            (code, _, error) = CliRunner.Run(["repair", "--model", model, "--rows", rows, "--out", repaired, "--report", report, "--eval-rows", eval]);
            Assert.AreEqual(0, code, error);
            html = File.ReadAllText(report);
            Assert.Contains("49 rows from <code>eval.csv</code>", html);
            Assert.AreEqual(4, Count(html, "<svg"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void Area_Report_RegionsAndVerdict()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var model = Path.Combine(dir.FullName, "tiny.onnx");
            OnnxExporter.Save(Tiny(), model);
            var prop = Path.Combine(dir.FullName, "p.vnnlib");
            File.WriteAllText(prop, "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n" +
                "(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 -1))\n(assert (<= X_1 1))\n(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))\n");
            var report = Path.Combine(dir.FullName, "area.html");
            var (code, _, error) = CliRunner.Run(["area", "--model", model, "--vnnlib", prop, "--out", Path.Combine(dir.FullName, "r.onnx"), "--report", report]);
            Assert.AreEqual(0, code, error);
            var html = File.ReadAllText(report);
            Assert.Contains("<h2>Area repair</h2>", html);
            Assert.Contains("<tr><td>proof on the repaired network</td><td><span class=\"ok\">holds</span></td></tr>", html);
            Assert.Contains("<tr><td>property on the original</td><td><span class=\"bad\">violated</span></td></tr>", html);
            Assert.AreEqual(2, Count(html, "<svg"), "patches and time; no evaluation rows");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
