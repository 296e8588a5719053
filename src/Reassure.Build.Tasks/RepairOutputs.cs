using Reassure.Formats;
using Reassure.Repair;
using Reassure.Reports;

namespace Reassure.Build.Tasks;

/// <summary>
/// The task's files, each written atomically (temporary file, then File.Move over the target) so that an
/// interrupted build never leaves a half-written model that looks up to date.
/// </summary>
internal static class RepairOutputs
{
    /// <summary>All files as one commit, renamed in list order (see <see cref="AtomicFile.WriteAll"/>).</summary>
    public static void WriteAll(IReadOnlyList<(string Path, byte[] Bytes)> files) => AtomicFile.WriteAll(files);

    /// <summary>The HTML report beside report.md: accuracy and output change on the regression rows, else on the buggy rows.</summary>
    public static string HtmlReport(string model, RepairResult result, Specifications.RowSet? evaluation) =>
        RepairReport.FromRepair(result, new RepairReportOptions { Model = model, Evaluation = evaluation }).ToHtml();

    /// <summary>Removes a model left by an earlier build, so that a failed gate leaves no model that looks current.</summary>
    public static void DeleteStale(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>The path beside <paramref name="model"/> with another suffix: "m.repaired.onnx" -> "m.repaired" + suffix.</summary>
    public static string Beside(string model, string suffix) =>
        Path.Combine(Path.GetDirectoryName(model) ?? "", Path.GetFileNameWithoutExtension(model) + suffix);
}
