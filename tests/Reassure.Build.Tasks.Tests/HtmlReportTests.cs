using Reassure.Formats.Rows;

namespace Reassure.Build.Tasks.Tests;

/// <summary>The task writes report.html (Reassure.Reports) beside report.md.</summary>
[TestClass]
public sealed class HtmlReportTests
{
    [TestMethod]
    public void Task_WritesHtmlReportBesideMarkdown_OnTheRegressionRows()
    {
        using var f = new Fixture();
        var (task, engine) = f.Task();
        Assert.IsTrue(task.Execute(), engine.Describe());

        var path = Path.ChangeExtension(f.Report, ".html");
        Assert.AreEqual(f.PathOf("out/classifier.repaired.report.html"), path);
        var html = File.ReadAllText(path);
        Assert.Contains("Reassure repair report: classifier.onnx", html);
        Assert.Contains("<span class=\"ok\">5 / 5</span>", html);
        int rows = RowsCsv.Read(f.Regression, 2).Count;
        Assert.Contains($"{rows} rows from <code>regression.csv</code>", html);
        Assert.AreEqual(4, html.Split("<svg").Length - 1, "accuracy, output change, patches, time");
        Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(f.Output)!, "*.tmp"), "no temporary files are left");
    }
}
